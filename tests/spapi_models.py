"""Helpers for reading Amazon's Swagger 2.0 models in tests: operations, parameters, schemas, usage plans."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

_PLAN = re.compile(
    r"\|\s*Rate \(requests per second\)\s*\|\s*Burst\s*\|\s*\n\|[-\s|]+\|\s*\n\|\s*([\d.]+)\s*\|\s*(\d+)\s*\|")


@cache
def load(models_dir: Path, name: str) -> dict[str, Any]:
    return json.loads((models_dir / name).read_text(encoding="utf-8"))


def operation(model: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    return model["paths"][path][method.lower()]


def parameters(model: dict[str, Any], method: str, path: str) -> dict[str, dict[str, Any]]:
    """Parameter name → definition (path-level and operation-level)."""
    item = model["paths"][path]
    params = list(item.get("parameters", [])) + list(item[method.lower()].get("parameters", []))
    out = {}
    for p in params:
        if "$ref" in p:
            p = model["parameters"][p["$ref"].split("/")[-1]]
        out[p["name"]] = p
    return out


def usage_plan(op: dict[str, Any]) -> tuple[float, int] | None:
    m = _PLAN.search(op.get("description", ""))
    return (float(m[1]), int(m[2])) if m else None


def resolve(model: dict[str, Any], schema: dict[str, Any] | None) -> dict[str, Any]:
    """Follow $ref (and a single allOf) to the schema object."""
    seen = 0
    while schema is not None and "$ref" in schema and seen < 50:
        schema = model["definitions"][schema["$ref"].split("/")[-1]]
        seen += 1
    if schema and "allOf" in schema:
        merged: dict[str, Any] = {"type": "object", "properties": {}}
        for part in schema["allOf"]:
            merged["properties"].update(resolve(model, part).get("properties", {}))
        return merged
    return schema or {}


def walk(model: dict[str, Any], schema: dict[str, Any], path: list[str] | tuple[str, ...]) -> dict[str, Any] | None:
    """The schema at a dotted path (arrays are stepped through to their items); None if a step is missing."""
    schema = resolve(model, schema)
    for part in path:
        if schema.get("type") == "array":
            schema = resolve(model, schema.get("items"))
        props = schema.get("properties", {})
        if part not in props:
            return None
        schema = resolve(model, props[part])
    return schema


def row_schema(model: dict[str, Any], schema: dict[str, Any] | None) -> dict[str, Any] | None:
    """The schema of one row: the items of an array, or the object itself."""
    if schema is None:
        return None
    schema = resolve(model, schema)
    if schema.get("type") == "array":
        return resolve(model, schema.get("items"))
    return schema


def success_schema(model: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    responses = operation(model, method, path)["responses"]
    for status in ("200", "201", "202"):
        if status in responses:
            return responses[status]["schema"]
    raise KeyError(f"{method} {path} has no success response")


def sandbox_cases(model: dict[str, Any]):
    """Yield (method, path, operationId, status, request parameters, response) for every static example."""
    for path, item in model["paths"].items():
        for method, op in item.items():
            if not isinstance(op, dict) or "responses" not in op:
                continue
            for status, resp in op["responses"].items():
                for case in resp.get("x-amzn-api-sandbox", {}).get("static", []):
                    params = {k: v.get("value") for k, v in case.get("request", {}).get("parameters", {}).items()}
                    yield method.upper(), path, op["operationId"], int(status), params, case.get("response")


def _strip_extensions(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _strip_extensions(v) for k, v in node.items() if not k.startswith("x-")}
    if isinstance(node, list):
        return [_strip_extensions(v) for v in node]
    return node


@cache
def _validator(models_dir: Path, name: str, method: str, template: str, status: int) -> Any:
    from urllib.parse import quote

    from jsonschema import Draft4Validator

    root = dict(_strip_extensions(load(models_dir, name)))
    responses = root["paths"][template][method.lower()]["responses"]
    assert str(status) in responses, f"{name}: {method} {template} declares no {status} response"
    pointer = "/".join(quote(p.replace("~", "~0").replace("/", "~1"), safe="~")
                       for p in ("paths", template, method.lower(), "responses", str(status), "schema"))
    root["$ref"] = "#/" + pointer
    return Draft4Validator(root)


def check_response(models_dir: Path, name: str, method: str, template: str, status: int, body: Any) -> None:
    """Assert that ``body`` (an answer with ``status``) validates against model ``name``'s schema for that status of
    ``method template`` (draft 4, the whole model as the root so ``#/definitions/X`` resolves)."""
    validator = _validator(models_dir, name, method.upper(), template, int(status))
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:10])
