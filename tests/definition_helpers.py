"""What the definition-versus-model checks share (``test_definitions.py``, ``test_definition_columns.py``,
``test_definition_requests.py``): the shipped definitions that name a model, test ids, and readers of a model's
parameters and bodies."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import spapi_models as sm

from sqlspapi.definitions.loader import SectionSpec, TableSpec, load_all
from sqlspapi.definitions.schema import OperationSpec

#: The shipped definitions checked against a model, and their tables.
SECTIONS = [s for s in load_all() if s.model]
TABLES = [(s, t) for s in SECTIONS for t in s.tables.values()]


def section_ids(items: Sequence[SectionSpec]) -> list[str]:
    """Test ids of sections: their file names."""
    return [s.source for s in items]


def table_ids(items: Sequence[tuple[SectionSpec, TableSpec]]) -> list[str]:
    """Test ids of tables: ``file:table``."""
    return [f"{s.source}:{t.name}" for s, t in items]


def model_params(model: dict[str, Any], op: OperationSpec) -> dict[str, dict[str, Any]]:
    """The model's parameters of an operation, by name."""
    return sm.parameters(model, op.method, op.path)


def enum_of(param: Mapping[str, Any]) -> list[Any] | None:
    """The values a parameter (or its items) may take, when the model lists them."""
    return param.get("items", {}).get("enum") or param.get("enum")


def body_fields(model: dict[str, Any], op: OperationSpec) -> set[str]:
    """The top-level fields of an operation's JSON body."""
    body = next((p for p in model_params(model, op).values() if p["in"] == "body"), None)
    schema = sm.resolve(model, body["schema"]) if body else {}
    return set(schema.get("properties", {}))

