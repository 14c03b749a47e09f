"""End-to-end tests reuse the API tests' tenants and the workflow tests' runners."""

from tests.api.conftest import make_tenant
from tests.workflows.conftest import runner, skipping_runner, tenant_id

__all__ = ["make_tenant", "runner", "skipping_runner", "tenant_id"]
