"""Fetch strategies as plug-ins: a registry of routes by kind, each owning its choose / bind / fetch steps.

=========  ==========================================================================================
kind       what it does
=========  ==========================================================================================
get        one call per key value (``key = v``; ``key IN (…)`` when no list parameter takes the list)
list       a paged list call: filters, IN lists batched (the multiget case), windows, marketplaces, LIMIT
window     a list whose date range is split into consecutive calls no longer than the API allows
nested     child arrays of a parent entity: from the statement's entity cache, else the parent's get
batch      one POST carrying up to N sub-requests (pricing and fees batches)
document   create → poll → download → decode (Data Kiosk)
report     a report type as a table: reuse or request reports per marketplace (per region for order reports) and window
bulk       orders (and their items) from the order report instead of paging, when the Route key allows it
python     a table or route written in Python (``module:function`` in ``sqlspapi.vtables``)
=========  ==========================================================================================

:func:`register` adds a route kind; the loader's schema (:data:`sqlspapi.definitions.loader.KEYS`) says which
definition keys each kind takes.
"""

from __future__ import annotations

from sqlspapi.sql.routes.base import Route
from sqlspapi.sql.routes.batch import BatchRoute
from sqlspapi.sql.routes.bulk import BulkRoute
from sqlspapi.sql.routes.document import DocumentRoute
from sqlspapi.sql.routes.get import GetRoute
from sqlspapi.sql.routes.listing import ListRoute, WindowRoute
from sqlspapi.sql.routes.nested import NestedRoute
from sqlspapi.sql.routes.python import PythonRoute
from sqlspapi.sql.routes.report import ReportRoute

#: Route behaviour by kind (read-only after import; :func:`register` is for extensions at start-up).
REGISTRY: dict[str, Route] = {
    route.kind: route
    for route in (GetRoute(), ListRoute(), WindowRoute(), NestedRoute(), BatchRoute(), DocumentRoute(), ReportRoute(),
                  BulkRoute(), PythonRoute())
}


def register(route: Route) -> None:
    """Add (or replace) the behaviour of a route kind."""
    REGISTRY[route.kind] = route


def route_for(kind: str) -> Route:
    """The behaviour of a route kind."""
    return REGISTRY[kind]


__all__ = ["REGISTRY", "Route", "register", "route_for"]
