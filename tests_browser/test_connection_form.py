"""A data engineer meets the provider in Airflow's connection form, in a real browser.

Admin -> Connections -> Add, "Region Halland API": every field shows with its label and help;
the sandbox's connection is typed in as a user pastes it; Test in the list succeeds (the port is
filled in, see docs/troubleshooting.md); a wrong subscriber key makes Test name the failing stage;
the edit form shows the secrets redacted and the token endpoint readable.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from airflow_provider_rh.core.fields import EXTRA_LABELS
from airflow_provider_rh.get_provider_info import CONN_FIELDS, HOOK_NAME, UI_FIELD_BEHAVIOUR
from tests_browser.ui import AirflowUI, squash

CONN_ID = "regionhalland_default"
DIALOG = "//*[@role='dialog']"
REDACTED = "***"


def _row_button(conn_id: str, label: str) -> str:
    return (
        f"//tr[td[@data-testid='table-cell-connection_id' and normalize-space(.)='{conn_id}']]"
        f"//button[@aria-label='{label}']"
    )


def _test_from_the_list(ui: AirflowUI, shot: str) -> tuple[str, str]:
    """Click Test in the list; the result's title and message, screenshot once it is in full view."""
    ui.no_toasts()  # the "saved" notice fades first, so the result is alone on the screenshot
    before = ui.toast_ids()
    ui.click(_row_button(CONN_ID, "Test Connection"))
    toast_id, title, message = ui.next_toast(before, title_starts="Test Connection")
    ui.settled(f"//*[@id='{toast_id}']")
    ui.shot(shot)
    return title, message


def _open_section(ui: AirflowUI, title: str) -> None:
    """Open one of the form's folding sections (one is open at a time)."""
    trigger = f"{DIALOG}//button[@data-part='item-trigger'][normalize-space(.)='{title}']"
    if ui.find(trigger).get_attribute("aria-expanded") != "true":
        ui.click(trigger)
    ui.field("host" if title == "Standard Fields" else f"element_{next(iter(CONN_FIELDS))}")


def _save(ui: AirflowUI) -> None:
    ui.click(f"{DIALOG}//footer//button[normalize-space(.)='Save']")
    ui.wait(lambda d: not d.find_elements("xpath", DIALOG), "the dialog to close after Save")


@pytest.mark.timeout(900)
def test_a_user_adds_tests_and_edits_the_connection(
    api_server: str, sandbox: dict[str, Any], driver: Any, artifacts: Path
) -> None:
    ui = AirflowUI(driver, api_server, artifacts)
    extra = sandbox["extra"]
    auth_url = extra.get("auth_url") or extra["token_url"]
    port = str(urlsplit(sandbox["host"]).port)

    # Admin -> Connections -> Add Connection -> "Region Halland API"
    driver.get(f"{api_server}/")
    ui.click("//button[normalize-space(.)='Admin']")
    ui.click("//*[@role='menuitem'][normalize-space(.)='Connections']")
    ui.click("//button[normalize-space(.)='Add Connection']")
    ui.type_into("connection_id", CONN_ID)
    kind = ui.find(f"{DIALOG}//input[@role='combobox']")
    kind.send_keys(HOOK_NAME)
    ui.click(f"//*[@role='option'][normalize-space(.)='{HOOK_NAME}']")

    # Standard fields: our labels (required ones marked) and placeholders; Port shown, schema hidden.
    _open_section(ui, "Standard Fields")
    for name, label in UI_FIELD_BEHAVIOUR["relabeling"].items():
        row = ui.label_row(label)
        placeholder = row.find_element("xpath", f".//input[@name='{name}']").get_attribute("placeholder")
        assert placeholder == UI_FIELD_BEHAVIOUR["placeholders"][name], name
    assert not driver.find_elements("xpath", f"{DIALOG}//input[@name='schema']")
    ui.shot("connection-form-standard", DIALOG)

    # Extra fields: every one with its label and its help line.
    _open_section(ui, "Extra Fields")
    for name, spec in CONN_FIELDS.items():
        row = ui.label_row(spec["label"])
        assert row.find_elements("xpath", f".//*[@name='element_{name}']"), name
        helper = row.find_element("xpath", ".//*[@data-part='helper-text']")
        assert squash(helper.text) == squash(spec["description"]), name
    ui.shot("connection-form-extra", DIALOG)

    # Fill it in as a user pastes the sandbox's connection, port included (3.3.1-3.3.2 Test bug).
    _open_section(ui, "Standard Fields")
    ui.type_into("host", sandbox["host"])
    ui.type_into("port", port)
    ui.type_into("login", sandbox["login"])
    ui.type_into("password", sandbox["password"])
    _open_section(ui, "Extra Fields")
    ui.type_into("element_auth_url", auth_url)
    ui.type_into("element_certificate", extra["certificate"])
    ui.type_into("element_private_key", extra["private_key"])
    ui.type_into("element_resource", extra["resource"])
    ui.type_into("element_scopes", extra["scopes"])
    ui.type_into("element_test_path", extra.get("test_path", "/health"))
    _save(ui)
    ui.find(_row_button(CONN_ID, "Test Connection"))

    # Test from the list: every stage passes.
    title, message = _test_from_the_list(ui, "test-succeeded")
    assert title == "Test Connection Successful", message
    assert message.startswith("Connection OK"), message
    assert extra["resource"] in message

    # A wrong subscriber key: Test fails and names the stage.
    ui.click(_row_button(CONN_ID, "Edit Connection"))
    _open_section(ui, "Standard Fields")
    ui.type_into("password", "not-the-subscriber-key")
    _save(ui)
    title, message = _test_from_the_list(ui, "test-failed-stage")
    assert title == "Test Connection Failed", message
    assert message.startswith("API call check failed"), message
    assert "401" in message
    assert "not-the-subscriber-key" not in message

    # The edit form: secrets redacted, the token endpoint readable.
    ui.no_toasts()
    ui.click(_row_button(CONN_ID, "Edit Connection"))
    _open_section(ui, "Standard Fields")
    assert ui.field("password").get_attribute("value") in (REDACTED, "")
    assert ui.field("host").get_attribute("value") == sandbox["host"]
    _open_section(ui, "Extra Fields")
    assert ui.field("element_auth_url").get_attribute("value") == auth_url
    assert ui.field("element_private_key").get_attribute("value") == REDACTED
    assert ui.field("element_resource").get_attribute("value") == extra["resource"]
    assert EXTRA_LABELS["auth_url"] in ui.find(DIALOG).text
    ui.shot("edit-form-redacted", DIALOG)

    # The REST API agrees, and the form stored only extras the provider knows.
    stored = _rest_connection(api_server)
    assert json.loads(stored["extra"])["auth_url"] == auth_url
    assert json.loads(stored["extra"])["private_key"] == REDACTED
    assert set(json.loads(stored["extra"])) <= set(CONN_FIELDS)
    assert stored["port"] == int(port)


def _rest_connection(api_server: str) -> dict[str, Any]:
    """The connection as Airflow's REST API serves it (every user is an admin here)."""
    token = httpx.get(f"{api_server}/auth/token", timeout=30).json()["access_token"]
    response = httpx.get(
        f"{api_server}/api/v2/connections/{CONN_ID}", headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    response.raise_for_status()
    connection: dict[str, Any] = response.json()
    return connection
