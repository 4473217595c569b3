"""Provider metadata Airflow reads: schema-valid, and the hook agrees with it."""

from __future__ import annotations

import json
import sys
import types
from importlib.metadata import entry_points
from pathlib import Path

import airflow
import jsonschema

from airflow_provider_rh.core.fields import EXTRA_LABELS, STANDARD_LABELS
from airflow_provider_rh.get_provider_info import CONN_FIELDS, UI_FIELD_BEHAVIOUR, get_provider_info
from airflow_provider_rh.hooks.regionhalland import RegionHallandHook

AIRFLOW_DIR = Path(airflow.__file__).parent


def test_entry_point_points_at_get_provider_info():
    (ep,) = [
        ep
        for ep in entry_points(group="apache_airflow_provider")
        if ep.value.startswith("airflow_provider_rh")
    ]
    assert ep.load() is get_provider_info


def test_provider_info_is_valid_for_airflow():
    schema = json.loads((AIRFLOW_DIR / "provider_info.schema.json").read_text())
    jsonschema.validate(get_provider_info(), schema)


def test_hook_form_behaviour_matches_the_declaration_and_airflow_schema():
    behaviour = RegionHallandHook.get_ui_field_behaviour()
    schema = json.loads((AIRFLOW_DIR / "customized_form_field_behaviours.schema.json").read_text())
    jsonschema.validate(behaviour, schema)
    assert "password" in behaviour["relabeling"]
    info = get_provider_info()["connection-types"][0]
    assert info["hook-class-name"] == f"{RegionHallandHook.__module__}.{RegionHallandHook.__qualname__}"
    assert info["connection-type"] == RegionHallandHook.conn_type


def test_secret_fields_carry_airflow_sensitive_words():
    from airflow.sdk._shared.secrets_masker import should_hide_value_for_key

    for name, spec in CONN_FIELDS.items():
        if spec["schema"].get("format") == "password" or name == "private_key":
            assert should_hide_value_for_key(name), name


def test_form_labels_come_from_the_shared_table_and_every_extra_has_help():
    assert list(CONN_FIELDS) == list(EXTRA_LABELS)
    for name, spec in CONN_FIELDS.items():
        assert spec["label"] == EXTRA_LABELS[name], name
        assert len(spec["description"]) > 20, name
    assert "token_url" not in CONN_FIELDS  # the deprecated alias is read, not offered
    assert CONN_FIELDS["allow_insecure_http"]["schema"]["type"] == ["boolean", "null"]


def test_standard_fields_have_labels_placeholders_and_required_marks():
    behaviour = UI_FIELD_BEHAVIOUR
    assert "port" not in behaviour["hidden-fields"]  # Test on Airflow 3.3.1-3.3.2 needs a port
    for name, label in STANDARD_LABELS.items():
        assert behaviour["relabeling"][name].startswith(label), name
        assert behaviour["placeholders"][name], name
    for name in ("host", "login", "password"):
        assert behaviour["relabeling"][name].endswith("(required)")
    assert "443" in behaviour["placeholders"]["port"]


def test_help_points_away_from_pasting_the_private_key():
    help_text = CONN_FIELDS["private_key"]["description"]
    assert EXTRA_LABELS["certificate_path"] in help_text
    assert "secrets backend" in help_text


def test_only_secret_extras_are_redacted_by_airflow():
    from airflow.sdk._shared.secrets_masker import should_hide_value_for_key

    hidden = {name for name in CONN_FIELDS if should_hide_value_for_key(name)}
    # A proxy URL may carry credentials, so Airflow hides it too; the token endpoint stays readable.
    assert hidden == {
        "private_key",
        "private_key_passphrase",
        "proxy",
        "next_private_key",  # a rotation's next certificate (docs/rotation.md)
        "next_private_key_passphrase",
    }
    assert should_hide_value_for_key("token_url")


def test_airflow_serves_the_form_as_declared(airflow_db):
    """What Airflow 3.3's api-server hands the UI for our connection type."""
    from airflow.api_fastapi.core_api.services.ui.connections import HookMetaService

    (meta,) = [m for m in HookMetaService.hook_meta_data() if m.connection_type == "regionhalland"]
    assert meta.standard_fields is not None
    assert meta.standard_fields.login is not None
    assert meta.standard_fields.login.title == "Client id (required)"
    assert meta.standard_fields.port is not None
    assert not meta.standard_fields.port.hidden
    assert meta.extra_fields is not None
    assert meta.extra_fields["auth_url"]["schema"]["title"] == EXTRA_LABELS["auth_url"]
    assert meta.extra_fields["auth_url"]["description"] == CONN_FIELDS["auth_url"]["description"]


def test_airflow_3_0_and_3_1_build_the_same_form_from_the_hook(monkeypatch):
    """Without FAB, Airflow 3.0/3.1's api-server calls the hook with its stand-in wtforms classes."""
    from airflow.api_fastapi.core_api.services.ui.connections import HookMetaService as meta

    wtforms = types.ModuleType("wtforms")
    wtforms.StringField = meta.MockStringField  # type: ignore[attr-defined]
    wtforms.PasswordField = meta.MockPasswordField  # type: ignore[attr-defined]
    wtforms.BooleanField = meta.MockBooleanField  # type: ignore[attr-defined]
    babel = types.ModuleType("flask_babel")
    babel.lazy_gettext = str  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "wtforms", wtforms)
    monkeypatch.setitem(sys.modules, "flask_babel", babel)
    monkeypatch.setitem(sys.modules, "flask_appbuilder", None)
    monkeypatch.setitem(sys.modules, "flask_appbuilder.fieldwidgets", None)

    widgets = RegionHallandHook.get_connection_form_widgets()
    assert list(widgets) == list(CONN_FIELDS)
    for name, field in widgets.items():
        dumped = field.param.dump()
        assert dumped["schema"]["title"] == CONN_FIELDS[name]["label"], name
        assert dumped["description"] == CONN_FIELDS[name]["description"], name
    assert widgets["private_key_passphrase"].param.dump()["schema"]["format"] == "password"
    assert widgets["allow_insecure_http"].param.dump()["schema"]["type"] == ["boolean", "null"]


def test_no_form_default_is_a_string_airflows_masker_warns_about():
    """Airflow passes every string of a connection's extra to its secrets masker, which logs
    "Skipping masking for a secret as it's too short" for one under its minimum length; a form
    default lands in every saved connection, so none may be such a string."""
    from airflow.sdk._shared.secrets_masker.secrets_masker import SecretsMasker

    minimum = SecretsMasker().min_length_to_mask
    short = {
        name: field["schema"]["default"]
        for name, field in CONN_FIELDS.items()
        if isinstance(field["schema"].get("default"), str) and len(field["schema"]["default"]) < minimum
    }
    assert short == {}
