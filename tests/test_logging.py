"""The product's logging, as `flowdeck` configures it: no secret in a URL reaches the logs."""

from __future__ import annotations

import io
import logging

import httpx
from pytest_httpserver import HTTPServer


def test_an_outgoing_request_leaves_its_url_out_of_the_logs(
    product_logs: io.StringIO, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/rest/1/s3cr3t-token/crm.lead.update.json").respond_with_json({})
    url = httpserver.url_for("/rest/1/s3cr3t-token/crm.lead.update.json") + "?api_key=k3y"
    httpx.post(url, json={"id": 1}, timeout=5)
    logging.getLogger("flowdeck.test").info("after the request")
    # What the test's own HTTP server logs of the request is not Flowdeck's.
    logged = "\n".join(
        line for line in product_logs.getvalue().splitlines() if "[werkzeug]" not in line
    )
    assert "after the request" in logged  # the logs do flow
    assert "s3cr3t-token" not in logged and "k3y" not in logged
