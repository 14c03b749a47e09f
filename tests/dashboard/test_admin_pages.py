"""The pages a user touches besides flows and runs, in a real browser against the real stack:
contacts (search, tags, do-not-call, create, edit, delete), templates (edit with a live
preview that names a missing variable), the sandbox outbox (a call simulated to its outcome
and the execution moving on), API keys (shown once, working, revoked) and campaigns (with
the flows their numbers run). Every change is checked through the API; a viewer sees each
page and no edit control; a manager is told why Keys is not theirs."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest
from playwright.async_api import Locator, Page, expect

from tests.dashboard.conftest import Browsing
from tests.processes import REPO

pytestmark = pytest.mark.timeout(300)

CALL_FLOW: dict[str, Any] = {
    "name": "Call new leads",
    "trigger": {"type": "manual"},
    "definition": {
        "start": "call",
        "nodes": [
            {
                "id": "call",
                "type": "ai_call",
                "config": {"agent_id": "sales-bot", "ring_timeout_s": 30},
                "transitions": {
                    "answered": "done",
                    "missed": "wa",
                    "busy": "wa",
                    "failed": "wa",
                    "voicemail": "wa",
                },
            },
            {
                "id": "wa",
                "type": "whatsapp",
                "config": {"template": "lead_followup", "params": {"1": "{{ contact.name }}"}},
                "transitions": {"sent": "done"},
            },
            {"id": "done", "type": "end"},
        ],
    },
}
ASK_FLOW: dict[str, Any] = {
    "name": "Ask by SMS",
    "trigger": {"type": "manual"},
    "definition": {
        "start": "ask",
        "nodes": [
            {
                "id": "ask",
                "type": "send_and_wait",
                "config": {"channel": "sms", "body": "Shall we call you, {{ contact.name }}?"},
                "transitions": {"reply": "thanks", "timeout": "done"},
            },
            {
                "id": "thanks",
                "type": "sms",
                "config": {"body": "You said: {{ steps.ask.reply }}"},
                "transitions": {"sent": "done"},
            },
            {"id": "done", "type": "end"},
        ],
    },
}
WEB_LEADS = {
    "type": "lead_created",
    "conditions": [{"field": "lead_source", "op": "eq", "value": "Web"}],
}
CONTACTS = [
    {"name": "Asha Patel", "phone": "+919812345601", "email": "asha@example.com", "tags": ["vip"]},
    {"name": "Ravi Kumar", "phone": "+919812345602", "tags": ["trade-show"]},
    {"name": "Meera Shah", "email": "meera@example.com", "custom": {"city": "Pune"}},
]


def _ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def _published(http: httpx.Client, body: dict[str, Any]) -> str:
    flow_id = str(_ok(http.post("/api/flows", json=body), 201)["id"])
    _ok(http.post(f"/api/flows/{flow_id}/versions/1/publish"))
    return flow_id


def _execution(http: httpx.Client, execution_id: str) -> dict[str, Any]:
    return dict(_ok(http.get(f"/api/executions/{execution_id}")))


def _until(http: httpx.Client, execution_id: str, status: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while (execution := _execution(http, execution_id))["status"] != status:
        assert time.monotonic() < deadline, f"execution {execution_id}: {execution['status']}"
        time.sleep(0.2)
    return execution


def _contacts(http: httpx.Client, q: str) -> list[dict[str, Any]]:
    return list(_ok(http.get("/api/contacts", params={"q": q}))["items"])


def _contact_row(page: Page, name: str) -> Locator:
    return page.locator("tr.contact-row").filter(has=page.get_by_role("rowheader", name=name))


async def test_contacts_are_searched_tagged_marked_do_not_call_and_edited(
    browsing: Browsing,
) -> None:
    page, stack = browsing.page, browsing.stack
    with stack.client() as http:
        # Asha is a web lead: posting her starts the lead flow, an execution of hers.
        _published(http, {**ASK_FLOW, "name": "Ask web leads", "trigger": WEB_LEADS})
        asha, *others = CONTACTS
        engaged = _ok(http.post("/api/contacts", json={**asha, "lead_source": "Web"}), 201)
        assert engaged["engagement"]["status"] == "started", engaged
        asha_id, run_id = engaged["id"], engaged["engagement"]["execution_id"]
        for contact in others:
            _ok(http.post("/api/contacts", json=contact), 201)
    await browsing.sign_in(stack.admin_key)
    await page.get_by_role("link", name="Contacts").click()
    await expect(page.get_by_role("heading", name="Contacts")).to_be_visible()
    await expect(page.locator("tr.contact-row")).to_have_count(3)
    asha = _contact_row(page, "Asha Patel")
    await expect(asha).to_contain_text("+919812345601")
    await expect(asha.locator(".chip")).to_have_text(["vip"])
    await browsing.shoot("01-contacts")

    # Search as the API searches: name, phone or email; a miss says so.
    await page.get_by_label("Search contacts").fill("meera@")
    await expect(page.locator("tr.contact-row")).to_have_count(1)
    await expect(_contact_row(page, "Meera Shah")).to_be_visible()
    await page.get_by_label("Search contacts").fill("nobody-like-this")
    await expect(page.get_by_text('No contact matches "nobody-like-this"')).to_be_visible()
    await browsing.shoot("02-search-empty")
    await page.get_by_label("Search contacts").fill("98123456")
    await expect(page.locator("tr.contact-row")).to_have_count(2)
    assert "q=98123456" in page.url

    # Do not call: the switch marks the row, and the API has the DNC tag.
    dnc = asha.get_by_role("switch", name="Asha Patel: do not call")
    await expect(dnc).to_have_attribute("aria-checked", "false")
    await dnc.click()
    await expect(dnc).to_have_attribute("aria-checked", "true")
    await expect(page.get_by_text("Asha Patel is marked Do not call")).to_be_visible()
    await expect(asha).to_have_class("contact-row row-flagged")
    with stack.client() as http:
        assert _contacts(http, "Asha")[0]["tags"] == ["vip", "DNC"]
    await browsing.shoot("03-marked-do-not-call")
    await dnc.click()
    await expect(dnc).to_have_attribute("aria-checked", "false")
    with stack.client() as http:
        assert _contacts(http, "Asha")[0]["tags"] == ["vip"]

    # Edit: a tag removed and one added as chips, a custom field, DNC from the form.
    await asha.get_by_role("button", name="Edit Asha Patel").click()
    dialog = page.get_by_role("dialog", name="Edit Asha Patel")
    await dialog.get_by_role("button", name="Remove tag vip").click()
    await dialog.get_by_label("New tag").fill("hot lead")
    await dialog.get_by_label("New tag").press("Enter")
    await dialog.get_by_role("button", name="Add a custom field").click()
    await dialog.get_by_label("Custom field 1 name").fill("budget")
    await dialog.get_by_label("Custom field 1 value").fill("250000")
    await dialog.get_by_label("Do not call").check()
    # Its executions are listed, with the way to all of them on the Executions page.
    await expect(dialog.locator(".execution-list li")).to_have_count(1)
    await expect(
        dialog.get_by_role("link", name="All executions of this contact")
    ).to_have_attribute("href", f"/executions?contact_id={asha_id}")
    await expect(dialog.get_by_role("link").first).to_have_attribute(
        "href", f"/executions/{run_id}"
    )
    await browsing.shoot("04-edit-contact")
    await dialog.get_by_role("button", name="Save contact").click()
    await expect(page.get_by_text("Saved Asha Patel.")).to_be_visible()
    await expect(asha.locator(".chip")).to_have_text(["hot lead"])
    await expect(dnc).to_have_attribute("aria-checked", "true")
    with stack.client() as http:
        saved = _contacts(http, "Asha")[0]
    assert saved["tags"] == ["hot lead", "DNC"]
    assert saved["custom"] == {"budget": 250000}

    # Create one through the dialog; a refused phone says why first.
    await page.get_by_label("Search contacts").fill("")
    await page.get_by_role("button", name="New contact").click()
    dialog = page.get_by_role("dialog", name="New contact")
    await dialog.get_by_label("Name").fill("Kiran Rao")
    await dialog.get_by_label("Phone").fill("98123")
    await dialog.get_by_role("button", name="Create contact").click()
    await expect(dialog.get_by_role("alert")).to_contain_text("$.phone")
    browsing.console.take(r"status of 422")
    await browsing.shoot("05-new-contact-refused")
    await dialog.get_by_label("Phone").fill("+919812345609")
    await dialog.get_by_label("New tag").fill("referral")
    await dialog.get_by_role("button", name="Add tag").click()
    await dialog.get_by_role("button", name="Create contact").click()
    await expect(page.get_by_text("Created Kiran Rao.")).to_be_visible()
    await expect(page.locator("tr.contact-row")).to_have_count(4)
    with stack.client() as http:
        kiran = _contacts(http, "Kiran")[0]
    assert (kiran["phone"], kiran["tags"]) == ("+919812345609", ["referral"])

    # Delete, after the confirmation.
    await _contact_row(page, "Ravi Kumar").get_by_role("button", name="Delete Ravi Kumar").click()
    confirm = page.get_by_role("dialog", name="Delete Ravi Kumar?")
    await browsing.shoot("06-delete-contact")
    await confirm.get_by_role("button", name="Delete contact").click()
    await expect(page.get_by_text("Deleted Ravi Kumar.")).to_be_visible()
    await expect(page.locator("tr.contact-row")).to_have_count(3)
    with stack.client() as http:
        assert _contacts(http, "Ravi") == []
    await browsing.shoot("07-contacts-after")


async def test_a_template_is_edited_with_a_live_preview_that_names_a_missing_variable(
    browsing: Browsing,
) -> None:
    page, stack = browsing.page, browsing.stack
    await browsing.sign_in(stack.admin_key)
    await page.get_by_role("link", name="Templates").click()
    await expect(page.get_by_text("No templates yet")).to_be_visible()
    await browsing.shoot("01-templates-empty")

    # A new SMS template, created in the editor.
    await page.get_by_role("button", name="New template").click()
    await page.get_by_label("Name", exact=True).fill("welcome_sms")
    await page.get_by_role("textbox", name="Message").fill(
        "Hi {{ contact.name }}, thanks for asking about {{ vars.product }}."
    )
    await expect(page.get_by_text("Create the template to preview it")).to_be_visible()
    await page.get_by_role("button", name="Create template").click()
    await expect(page.get_by_text('Created the template "welcome_sms".')).to_be_visible()
    with stack.client() as http:
        [stored] = _ok(http.get("/api/templates"))
    assert (stored["channel"], stored["name"]) == ("sms", "welcome_sms")
    template_url = f"/api/templates/{stored['id']}"

    # The sample has no product yet: the preview names the missing variable.
    preview = page.get_by_test_id("preview")
    await expect(preview.get_by_role("alert")).to_contain_text("missing variable vars.product")
    browsing.console.take(r"status of 422")
    await browsing.shoot("02-preview-missing-variable")
    await preview.get_by_role("button", name="Add vars.product to the sample").click()
    await page.get_by_label("Sample variables (JSON, as vars.*)").fill('{"product": "pumps"}')
    body = page.get_by_test_id("preview-body")
    await expect(body).to_have_text("Hi Asha Patel, thanks for asking about pumps.")
    await browsing.shoot("03-preview")

    # Typing changes the preview before anything is saved.
    await page.get_by_role("textbox", name="Message").fill(
        "Hello {{ contact.name | upper }}: {{ vars.product }} are in stock."
    )
    await expect(body).to_have_text("Hello ASHA PATEL: pumps are in stock.")
    with stack.client() as http:
        assert "thanks for asking" in _ok(http.get(template_url))["body"]
    # The sample contact is editable too.
    await page.get_by_label("Sample contact (JSON)").fill('{"name": "Ravi"}')
    await expect(body).to_have_text("Hello RAVI: pumps are in stock.")

    # A variable the sample lacks: the API's error, naming it, in place of the preview.
    await page.get_by_role("textbox", name="Message").fill(
        "Hello {{ contact.name }}, see you in {{ vars.city }}."
    )
    await expect(preview.get_by_role("alert")).to_contain_text("missing variable vars.city")
    await expect(preview.locator("code")).to_have_text("$.body")
    browsing.console.take(r"status of 422")
    await browsing.shoot("04-preview-error")
    await page.get_by_label("Sample variables (JSON, as vars.*)").fill(
        '{"product": "pumps", "city": "Pune"}'
    )
    await expect(body).to_have_text("Hello Ravi, see you in Pune.")

    # Saved: the API has the new text.
    await page.get_by_role("button", name="Save template").click()
    await expect(page.get_by_text('Saved "welcome_sms".')).to_be_visible()
    with stack.client() as http:
        assert (
            _ok(http.get(template_url))["body"]
            == "Hello {{ contact.name }}, see you in {{ vars.city }}."
        )
    await browsing.shoot("05-template-saved")

    # An email template shows subject, text and HTML, rendered.
    with stack.client() as http:
        _ok(
            http.post(
                "/api/templates",
                json={
                    "name": "welcome_email",
                    "channel": "email",
                    "subject": "Welcome, {{ contact.name }}",
                    "body": "Hi {{ contact.name }}",
                    "html": "<h1>Hi {{ contact.name }}</h1>",
                },
            ),
            201,
        )
    await page.reload()
    await page.get_by_role("button", name="welcome_email").click()
    await expect(page.get_by_test_id("preview-subject")).to_have_text(
        "Subject: Welcome, Asha Patel"
    )
    await expect(page.frame_locator("iframe.preview-html").locator("h1")).to_have_text(
        "Hi Asha Patel"
    )
    await browsing.shoot("06-email-template")

    # Delete, after the confirmation.
    await page.get_by_role("button", name="Delete", exact=True).click()
    await page.get_by_role("dialog").get_by_role("button", name="Delete template").click()
    await expect(page.get_by_text('Deleted the template "welcome_email".')).to_be_visible()
    with stack.client() as http:
        assert [t["name"] for t in _ok(http.get("/api/templates"))] == ["welcome_sms"]


async def test_the_outbox_shows_sandbox_sends_and_simulates_their_outcome(
    browsing: Browsing,
) -> None:
    page, stack = browsing.page, browsing.stack
    with stack.client() as http:
        call_flow = _published(http, CALL_FLOW)
        ask_flow = _published(http, ASK_FLOW)
        called = _ok(
            http.post(
                f"/api/flows/{call_flow}/executions",
                json={"contact": {"name": "Asha", "phone": "+919812345611"}},
            ),
            201,
        )["id"]
        asked = _ok(
            http.post(
                f"/api/flows/{ask_flow}/executions",
                json={"contact": {"name": "Ravi", "phone": "+919812345612"}},
            ),
            201,
        )["id"]
        _until(http, called, "waiting")
        _until(http, asked, "waiting")

    await browsing.sign_in(stack.admin_key)
    await page.get_by_role("link", name="Outbox").click()
    entries = page.locator("li.outbox-entry")
    await expect(entries).to_have_count(2)
    call = page.locator("li.outbox-voice").filter(has_text="+919812345611")
    await expect(call).to_contain_text("AI call with the agent sales-bot")
    await expect(call).to_contain_text("waiting on its outcome")
    await expect(call.get_by_role("link", name=f"Execution {called}")).to_have_attribute(
        "href", f"/executions/{called}"
    )
    question = page.locator("li.outbox-sms").filter(has_text="Shall we call you")
    await expect(question).to_contain_text("Shall we call you, Ravi?")
    await browsing.shoot("01-outbox-waiting")

    # The call was missed: the execution goes down "missed" to a WhatsApp message.
    await call.get_by_role("button", name="Missed").click()
    await expect(page.get_by_text(f"Told execution {called} about a missed call")).to_be_visible()
    with stack.client() as http:
        done = _until(http, called, "completed")
    assert [(s["node_id"], s["port"]) for s in done["steps"]] == [
        ("call", "missed"),
        ("wa", "sent"),
        ("done", None),
    ]
    await expect(entries).to_have_count(3)  # the page refreshes by itself
    await expect(entries.first).to_contain_text("Template lead_followup ({{1}} = Asha)")
    await expect(call.get_by_test_id("outbox-status")).to_have_text("no-answer")
    await expect(call.get_by_role("button", name="Missed")).to_have_count(0)
    await browsing.shoot("02-call-simulated")

    # The question gets a reply: the flow thanks the contact.
    await question.get_by_label("Simulate a reply:").fill("Yes please")
    await question.get_by_role("button", name="Send reply").click()
    with stack.client() as http:
        replied = _until(http, asked, "completed")
    assert [(s["node_id"], s["port"]) for s in replied["steps"]][:2] == [
        ("ask", "reply"),
        ("thanks", "sent"),
    ]
    await expect(entries.first).to_contain_text("You said: Yes please")
    await expect(question.get_by_role("button", name="Send reply")).to_have_count(0)

    # Filtered by channel.
    await page.get_by_label("Channel").select_option("whatsapp")
    await expect(entries).to_have_count(1)
    await expect(entries.first).to_contain_text("WhatsApp")
    await browsing.shoot("03-outbox-whatsapp")
    await page.get_by_label("Channel").select_option("email")
    await expect(page.get_by_text("Nothing sent by Email yet")).to_be_visible()


async def test_an_admin_creates_a_key_shown_once_and_revokes_it(browsing: Browsing) -> None:
    page, stack = browsing.page, browsing.stack
    with stack.client() as http:
        renewals = _ok(http.post("/api/campaigns", json={"name": "Renewals"}), 201)
        _ok(http.post("/api/campaigns", json={"name": "Spring push"}), 201)
    await page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=stack.url)
    await browsing.sign_in(stack.admin_key)
    await page.get_by_role("link", name="Keys").click()
    rows = page.locator("tr.key-row")
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text("operator")
    await expect(rows.first).to_contain_text("you")

    await page.get_by_role("button", name="New key").click()
    dialog = page.get_by_role("dialog", name="New API key")
    await dialog.get_by_label("Name").fill("CRM sync")
    await dialog.get_by_label("Role").select_option("manager")
    await dialog.get_by_label("Only these campaigns'").check()
    await dialog.get_by_label("Renewals").check()
    await browsing.shoot("01-new-key")
    await dialog.get_by_role("button", name="Create key").click()
    shown = page.get_by_role("dialog", name='Key "CRM sync" created')
    await expect(shown).to_contain_text("It is shown only this once")
    secret = (await shown.get_by_test_id("key-secret").text_content() or "").strip()
    assert secret.startswith("fd_")
    await shown.get_by_role("button", name="Copy").click()
    await expect(shown.get_by_text("Copied to the clipboard.")).to_be_visible()
    assert await page.evaluate("navigator.clipboard.readText()") == secret
    await browsing.shoot("02-secret-shown-once")
    await shown.get_by_role("button", name="I have copied it").click()
    await expect(page.get_by_test_id("key-secret")).to_have_count(0)
    crm = rows.filter(has_text="CRM sync")
    await expect(crm).to_contain_text("Manager")
    await expect(crm).to_contain_text(secret[:12])
    await expect(crm).to_contain_text("Renewals")
    with stack.client() as http:
        [issued] = [k for k in _ok(http.get("/api/keys")) if k["name"] == "CRM sync"]
    assert (issued["role"], issued["campaigns"]) == ("manager", [renewals["id"]])
    assert secret not in (await page.content())

    # The key works against the API with its role.
    with stack.client(secret) as http:
        assert http.get("/api/flows").status_code == 200
        assert http.get("/api/keys").status_code == 403
    await page.reload()
    await expect(crm).to_contain_text("CRM sync")
    await browsing.shoot("03-keys")

    await crm.get_by_role("button", name="Revoke CRM sync").click()
    confirm = page.get_by_role("dialog", name='Revoke "CRM sync"?')
    await browsing.shoot("04-revoke-confirmation")
    await confirm.get_by_role("button", name="Revoke key").click()
    await expect(page.get_by_text('Revoked "CRM sync"')).to_be_visible()
    await expect(rows).to_have_count(1)
    with stack.client(secret) as http:
        refused = http.get("/api/flows")
    assert refused.status_code == 401
    assert refused.json()["error"]["message"] == "unknown or revoked API key"


async def test_campaigns_are_created_edited_and_show_the_flows_they_run(
    browsing: Browsing,
) -> None:
    page, stack = browsing.page, browsing.stack
    script = json.loads((REPO / "examples" / "campaign_script.json").read_text())
    menu = {
        "name": "Renewals line",
        "trigger": {"type": "call_incoming"},
        "definition": {"start": "done", "nodes": [{"id": "done", "type": "end"}]},
    }
    with stack.client() as http:
        _ok(http.post("/api/flows", json=script), 201)
        menu_id = _published(http, menu)
        _ok(http.post("/api/phone-numbers", json={"number": "+15550100021"}), 201)
    await browsing.sign_in(stack.admin_key)
    await page.get_by_role("link", name="Campaigns").click()
    await expect(page.get_by_text("No campaigns yet")).to_be_visible()
    await expect(page.get_by_text("flows can then be assigned to its triggers")).to_be_visible()
    await browsing.shoot("01-campaigns-empty")

    await page.get_by_role("button", name="New campaign").click()
    dialog = page.get_by_role("dialog", name="New campaign")
    await dialog.get_by_label("Name").fill("Renewals Q1")
    await dialog.get_by_label("Description (optional)").fill("Annual plan renewals")
    await dialog.get_by_role("button", name="Create campaign").click()
    await expect(page.get_by_text('Created the campaign "Renewals Q1".')).to_be_visible()
    # Its triggers start nothing until a flow is assigned (test_campaign_flows_page.py).
    assigned = page.get_by_role("region", name="Renewals Q1", exact=True)
    await expect(assigned).to_contain_text("No flow assigned")
    with stack.client() as http:
        [campaign] = _ok(http.get("/api/campaigns"))
        assert campaign["description"] == "Annual plan renewals"
        # Its number runs the menu flow.
        deployed = http.post(
            f"/api/flows/{menu_id}/deploy",
            json={"phone_numbers": ["+15550100021"], "campaign_id": campaign["id"]},
        )
        assert deployed.status_code in (200, 201), deployed.text
    await page.reload()
    row = page.locator("tr.campaign-row")
    await expect(row).to_contain_text("Calls to +15550100021 (production) run")
    await expect(row.get_by_role("link", name=menu["name"])).to_have_attribute(
        "href", f"/flows/{menu_id}"
    )

    await row.get_by_role("button", name="Edit Renewals Q1").click()
    dialog = page.get_by_role("dialog", name='Edit "Renewals Q1"')
    await dialog.get_by_label("Name").fill("Renewals 2027")
    await dialog.get_by_role("button", name="Save campaign").click()
    await expect(page.get_by_text('Saved "Renewals 2027".')).to_be_visible()
    with stack.client() as http:
        assert _ok(http.get(f"/api/campaigns/{campaign['id']}"))["name"] == "Renewals 2027"
    await browsing.shoot("02-campaigns")

    # In use by a deployment: the API keeps it and the dialog says why.
    await row.get_by_role("button", name="Delete Renewals 2027").click()
    confirm = page.get_by_role("dialog", name='Delete the campaign "Renewals 2027"?')
    await confirm.get_by_role("button", name="Delete campaign").click()
    await expect(confirm.get_by_role("alert")).to_contain_text("deployments")
    browsing.console.take(r"status of 409")
    await browsing.shoot("03-delete-refused")
    await confirm.get_by_role("button", name="Cancel").click()

    # An unused one goes.
    with stack.client() as http:
        _ok(http.post("/api/campaigns", json={"name": "Spring push"}), 201)
    await page.reload()
    await expect(row).to_have_count(2)
    await row.get_by_role("button", name="Delete Spring push").click()
    confirm = page.get_by_role("dialog", name='Delete the campaign "Spring push"?')
    await confirm.get_by_role("button", name="Delete campaign").click()
    await expect(page.get_by_text('Deleted the campaign "Spring push".')).to_be_visible()
    await expect(row).to_have_count(1)
    with stack.client() as http:
        assert [c["name"] for c in _ok(http.get("/api/campaigns"))] == ["Renewals 2027"]


async def test_a_viewer_reads_every_page_and_changes_nothing(browsing: Browsing) -> None:
    page, stack = browsing.page, browsing.stack
    with stack.client() as http:
        for contact in CONTACTS:
            _ok(http.post("/api/contacts", json=contact), 201)
        _ok(
            http.post(
                "/api/templates",
                json={"name": "hello", "channel": "sms", "body": "Hi {{ contact.name }}"},
            ),
            201,
        )
        _ok(http.post("/api/campaigns", json={"name": "Spring push"}), 201)
        flow_id = _published(http, CALL_FLOW)
        run = _ok(
            http.post(
                f"/api/flows/{flow_id}/executions",
                json={"contact": {"name": "Asha", "phone": "+919812345621"}},
            ),
            201,
        )["id"]
        _until(http, run, "waiting")
    await browsing.sign_in(stack.issue_key("viewer"))

    await page.get_by_role("link", name="Contacts").click()
    await expect(page.locator("tr.contact-row")).to_have_count(3)
    await expect(page.get_by_role("switch")).to_have_count(0)
    for control in ("New contact", "Edit Asha Patel", "Delete Asha Patel"):
        await expect(page.get_by_role("button", name=control)).to_have_count(0)
    await page.get_by_role("button", name="Asha Patel").click()
    dialog = page.get_by_role("dialog", name="Asha Patel")
    await expect(dialog).to_contain_text("asha@example.com")
    await expect(dialog.get_by_role("textbox")).to_have_count(0)
    await browsing.shoot("01-viewer-contact")
    await dialog.get_by_role("button", name="Close").click()

    await page.get_by_role("link", name="Templates").click()
    await page.get_by_role("button", name="hello").click()
    await expect(page.get_by_test_id("preview-body")).to_have_text("Hi Asha Patel")
    await expect(page.get_by_role("textbox", name="Message")).to_have_attribute("readonly", "")
    for control in ("New template", "Save template", "Delete"):
        await expect(page.get_by_role("button", name=control, exact=True)).to_have_count(0)
    await browsing.shoot("02-viewer-template")

    await page.get_by_role("link", name="Outbox").click()
    await expect(page.locator("li.outbox-entry")).to_contain_text("waiting on its outcome")
    await expect(page.get_by_role("button", name="Missed")).to_have_count(0)
    await browsing.shoot("03-viewer-outbox")

    await page.get_by_role("link", name="Campaigns").click()
    await expect(page.locator("tr.campaign-row")).to_contain_text("Spring push")
    for control in ("New campaign", "Edit Spring push", "Delete Spring push"):
        await expect(page.get_by_role("button", name=control)).to_have_count(0)
    await browsing.shoot("04-viewer-campaigns")

    await page.get_by_role("link", name="Keys").click()
    await expect(page.get_by_text("Only an admin manages API keys")).to_be_visible()
    await expect(page.get_by_role("button", name="New key")).to_have_count(0)
    await browsing.shoot("05-viewer-keys")

    # Forced through the browser's own session, the API refuses the viewer's change.
    forced = await page.request.post(
        f"{stack.url}/api/executions/{run}/simulate",
        data={"call": "answered"},
        headers={"Origin": stack.url},
    )
    assert forced.status == 403

    # The API gone: the page says it cannot reach it, and offers to try again.
    stack.api.kill()
    await page.get_by_role("link", name="Contacts").click()
    error = page.get_by_role("alert").filter(has_text="The contacts could not be loaded")
    await expect(error).to_contain_text("Cannot reach the Flowdeck API")
    await expect(error.get_by_role("button", name="Try again")).to_be_visible()
    browsing.console.take(r"ERR_CONNECTION_REFUSED")
    await browsing.shoot("06-api-unreachable")
