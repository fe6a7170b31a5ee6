"""docs/events.schema.json, to hold an event as a subscriber receives it to its documented
shape: the schema of its `detail-type`."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jsonschema

SCHEMA: dict[str, Any] = json.loads(
    (Path(__file__).resolve().parent.parent / "docs" / "events.schema.json").read_text()
)
_DEFS = {
    "Exception Closed": "change",
    "Exception Member Deleted": "change",
    "Reconciliation Finished": "finished",
}


def check_documented(event: Mapping[str, Any]) -> None:
    """Fail unless ``event`` (``source``, ``detail-type``, ``detail``) is one ELM documents."""
    assert event["source"] == "elm", event
    assert event["detail-type"] in _DEFS, f"undocumented detail-type {event['detail-type']!r}"
    kind_schema = {**SCHEMA, "$ref": f"#/$defs/{_DEFS[event['detail-type']]}"}
    kind_schema.pop("oneOf", None)
    jsonschema.validate(event["detail"], kind_schema, format_checker=jsonschema.FormatChecker())
