"""Provider metadata Airflow reads: schema-valid, and the hook agrees with it."""

from __future__ import annotations

import json
from importlib.metadata import entry_points
from pathlib import Path

import airflow
import jsonschema

from airflow_provider_rh.get_provider_info import CONN_FIELDS, get_provider_info
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
