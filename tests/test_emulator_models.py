"""The emulator agrees with the definitions and with Amazon's models: routes, usage plans, parameter rules."""

from __future__ import annotations

import pytest
import spapi_models as sm

from sqlspapi.definitions.loader import load_all
from sqlspapi.emulator.routes import ENDPOINTS, build_routes, template_regex

ROUTES = build_routes()
RULED = [r for r in ROUTES if r.endpoint.rules is not None]
_MODEL_TYPES = {"array": "string[]", "integer": "integer", "boolean": "boolean"}


def _model_file(section: str, version: str) -> str:
    return next(s.model for s in load_all() if s.section == section and s.version == version and s.model)


def test_every_defined_operation_is_served() -> None:
    served = {(r.spec.section, r.spec.version, r.spec.name) for r in ROUTES}
    defined = {(op.section, op.version, op.name) for s in load_all() for op in s.operations.values()}
    assert defined <= served, f"operations defined but not emulated: {sorted(defined - served)}"
    assert len(ROUTES) == len(ENDPOINTS)


def test_usage_plans_come_from_the_definitions() -> None:
    defined = {(op.method, op.path): (op.rate, op.burst) for s in load_all() for op in s.operations.values()}
    for route in ROUTES:
        if route.name == "createRestrictedDataToken":
            assert (route.plan.rate, route.plan.burst) == (1.0, 10)
            continue
        assert (route.plan.rate, route.plan.burst) == defined[(route.spec.method, route.spec.path)], route.name


def test_template_regex() -> None:
    rx = template_regex("/orders/v0/orders/{orderId}/orderItems")
    assert rx.match("/orders/v0/orders/111-2222222-3333333/orderItems").groupdict() == {
        "orderId": "111-2222222-3333333"}
    assert rx.match("/orders/v0/orders/a/b/orderItems") is None


@pytest.mark.parametrize("route", RULED, ids=[f"{r.spec.version}:{r.name}" for r in RULED])
def test_rules_equal_the_model(route, models_dir) -> None:
    model = sm.load(models_dir, _model_file(route.spec.section, route.spec.version))
    params = {k: v for k, v in sm.parameters(model, route.spec.method, route.spec.path).items() if v["in"] == "query"}
    declared = route.endpoint.rules
    assert set(declared) == set(params), f"{route.name}: declared {sorted(declared)}, model {sorted(params)}"
    for name, p in declared.items():
        raw = params[name]
        kind = "date-time" if raw.get("format") == "date-time" else _MODEL_TYPES.get(raw["type"], "string")
        assert p.type == kind, f"{route.name}.{name}: type {p.type}, model {kind}"
        assert p.required == bool(raw.get("required")), f"{route.name}.{name}: required"
        enum = raw.get("items", {}).get("enum") or raw.get("enum")
        assert p.enum == (tuple(enum) if enum else None), f"{route.name}.{name}: enum"
        assert p.max_items == raw.get("maxItems"), f"{route.name}.{name}: maxItems"
        assert p.maximum == raw.get("maximum"), f"{route.name}.{name}: maximum"
        if "minimum" in raw:
            assert p.minimum == raw["minimum"], f"{route.name}.{name}: minimum"
        default = raw.get("default")
        if raw["type"] == "array" and isinstance(default, str):
            default = [default]
        assert p.default == default, f"{route.name}.{name}: default {p.default!r}, model {default!r}"


@pytest.mark.parametrize("route", ROUTES, ids=[f"{r.spec.version}:{r.name}" for r in ROUTES])
def test_usage_plans_equal_the_model(route, models_dir) -> None:
    name = "tokens-2021-03-01.json" if route.spec.section == "tokens" else _model_file(route.spec.section,
                                                                                        route.spec.version)
    raw = sm.operation(sm.load(models_dir, name), route.spec.method, route.spec.path)
    assert raw["operationId"] == route.spec.name
    assert (route.plan.rate, route.plan.burst) == sm.usage_plan(raw)
