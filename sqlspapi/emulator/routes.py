"""The emulator's routes, generated from the table definitions.

Each API module lists its :class:`~sqlspapi.emulator.generic.Endpoint` values; an endpoint names its operation by
(section, version, operationId) and takes method, path template and usage plan from ``vtables/*.toml``
(:func:`sqlspapi.definitions.loader.load_all`; createRestrictedDataToken from ``vtables/tokens-2021-03-01.toml``).
Nothing here repeats a path or a rate. A route may be used with a
Restricted Data Token when the Tokens emulation grants its path (:data:`sqlspapi.emulator.tokens.RESOURCES`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from sqlspapi.definitions.loader import load_all
from sqlspapi.definitions.schema import OperationSpec
from sqlspapi.emulator import (
    appmgmt,
    catalog,
    datakiosk,
    fba_inventory,
    fees,
    finances,
    finances_v0,
    listings_items,
    notifications,
    orders_2026,
    orders_v0,
    pricing_2022,
    pricing_v0,
    reports,
    sales,
    sellers,
    services,
    shipping,
    tokens,
    vendor_orders,
)
from sqlspapi.emulator.generic import Endpoint
from sqlspapi.emulator.ratelimit import UsagePlan


@dataclass(frozen=True)
class Route:
    """An endpoint bound to its definition: the compiled path template and the usage plan."""

    endpoint: Endpoint
    spec: OperationSpec
    regex: re.Pattern[str]
    restricted: bool  # an RDT may be presented for this path

    @property
    def name(self) -> str:
        """The emulator's operation name (call log, faults, rate-limit buckets)."""
        return self.endpoint.name

    @property
    def plan(self) -> UsagePlan:
        """The published usage plan from the definition."""
        return UsagePlan(self.spec.rate, self.spec.burst)


def template_regex(template: str) -> re.Pattern[str]:
    """``/a/{id}/b`` → ``^/a/(?P<id>[^/]+)/b$``."""
    parts = re.split(r"\{([A-Za-z_][A-Za-z0-9_]*)\}", template)
    pattern = "".join(re.escape(p) if n % 2 == 0 else f"(?P<{p}>[^/]+)" for n, p in enumerate(parts))
    return re.compile(f"^{pattern}$")


def operation_specs() -> dict[tuple[str, str, str], OperationSpec]:
    """(section, version, operationId) → OperationSpec for every defined operation."""
    return {(op.section, op.version, op.name): op for s in load_all() for op in s.operations.values()}


#: Every operation the emulator serves (each defined in ``vtables/*.toml``).
ENDPOINTS: tuple[Endpoint, ...] = (*orders_v0.ENDPOINTS, *orders_2026.ENDPOINTS, *tokens.ENDPOINTS,
                                   *sellers.ENDPOINTS, *catalog.ENDPOINTS, *fba_inventory.ENDPOINTS,
                                   *sales.ENDPOINTS, *reports.ENDPOINTS, *finances.ENDPOINTS, *finances_v0.ENDPOINTS,
                                   *pricing_v0.ENDPOINTS, *pricing_2022.ENDPOINTS, *fees.ENDPOINTS,
                                   *listings_items.ENDPOINTS, *vendor_orders.ENDPOINTS, *datakiosk.ENDPOINTS,
                                   *notifications.ENDPOINTS, *shipping.ENDPOINTS, *services.ENDPOINTS,
                                   *appmgmt.ENDPOINTS)
#: Empty: operations served before ``vtables/*.toml`` defined them (there are none left). Kept while
#: ``Emulator.__init__`` still passes it to :func:`build_routes` with ``reports.SPECS``.
PROVISIONAL: tuple[Endpoint, ...] = ()


def build_routes(endpoints: Iterable[Endpoint] = ENDPOINTS,
                 fallback: Iterable[OperationSpec] = ()) -> tuple[Route, ...]:
    """Bind every endpoint to its definition, else to its ``fallback`` spec (RuntimeError naming the endpoint when
    it has neither)."""
    specs = {**{(s.section, s.version, s.name): s for s in fallback}, **operation_specs()}
    routes: list[Route] = []
    names: set[str] = set()
    for ep in endpoints:
        spec = specs.get((ep.section, ep.version, ep.operation))
        if spec is None:
            raise RuntimeError(f"emulator endpoint {ep.operation} ({ep.section} {ep.version}) has no definition in "
                               "vtables/*.toml")
        if ep.name in names:
            raise RuntimeError(f"emulator endpoint name {ep.name} is used twice; give one a log_name")
        names.add(ep.name)
        restricted = any(regex.match(spec.path) for regex, _ in tokens.RESOURCES)
        routes.append(Route(ep, spec, template_regex(spec.path), restricted))
    return tuple(routes)


class Router:
    """Finds the route of a request and the endpoint of an operation name."""

    def __init__(self, routes: tuple[Route, ...]) -> None:
        self.routes = routes
        self.plans: dict[str, UsagePlan] = {r.name: r.plan for r in routes}

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        """The route serving ``method path`` and its path parameters, or None."""
        for route in self.routes:
            if route.spec.method == method:
                m = route.regex.match(path)
                if m:
                    return route, m.groupdict()
        return None

    def find(self, operation: str, version: str | None = None) -> Route:
        """The route of an operation by emulator name (``getOrder2026``) or operationId (+ version when ambiguous)."""
        found = [r for r in self.routes if r.spec.name == operation and version in (None, r.spec.version)]
        found = found or [r for r in self.routes if r.name == operation and version in (None, r.spec.version)]
        if len(found) == 1:
            return found[0]
        if not found:
            raise ValueError(f"the emulator serves no operation {operation!r}"
                             + (f" in version {version}" if version else ""))
        versions = ", ".join(sorted(r.spec.version for r in found))
        raise ValueError(f"{operation} exists in versions {versions}: pass version=")
