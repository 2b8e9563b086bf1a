"""Request checks of the emulated Reports API, shared by createReport and createReportSchedule: a known report type
(:data:`~sqlspapi.emulator.reports_kinds.KINDS`) that can be requested, known marketplaces (one for
single-marketplace types), ``reportOptions`` as strings with enumerated values checked, and the data window (the
type's longest window and how far back it may start). Each failure is Amazon's 400 InvalidInput."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlspapi.emulator.common import Request, get_date, invalid
from sqlspapi.emulator.pools import KNOWN_MARKETPLACE_IDS
from sqlspapi.emulator.reports_files import ReportKind
from sqlspapi.emulator.reports_kinds import KINDS
from sqlspapi.emulator.reports_store import ReportStore, store


def account_store(req: Request) -> ReportStore:
    """The store, with the caller's account history in it."""
    st = store(req.data)
    st.seed_history(req.grant.account)
    return st


def body(req: Request) -> dict[str, Any]:
    """The request body: a JSON object."""
    value = req.json_body()
    if not isinstance(value, dict):
        raise invalid("Invalid request body: a JSON object is required.")
    return value


def report_kind(value: Any) -> ReportKind:
    """The ``reportType`` of a request: a type the emulator builds and Amazon lets a seller request."""
    if not isinstance(value, str) or not value:
        raise invalid("Invalid reportType: reportType is required.")
    kind = KINDS.get(value)
    if kind is None:
        raise invalid(f"Invalid reportType: {value!r} is not a supported report type.")
    if not kind.requestable:
        raise invalid(f"Invalid reportType: {value} cannot be requested or scheduled; Amazon generates it. "
                      "Find its reports with getReports.")
    return kind


def marketplaces(value: Any, kind: ReportKind) -> tuple[str, ...]:
    """The ``marketplaceIds`` of a request: 1 to 25 known ids, one for a single-marketplace type."""
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise invalid("Invalid marketplaceIds: a list of 1 to 25 marketplace IDs is required.")
    if len(value) > 25:
        raise invalid(f"Invalid marketplaceIds: at most 25 values are allowed, got {len(value)}.")
    bad = [v for v in value if v not in KNOWN_MARKETPLACE_IDS]
    if bad:
        raise invalid(f"Invalid marketplaceIds: {bad[0]!r} is not a valid marketplace ID.")
    if kind.single_marketplace and len(value) > 1:
        raise invalid(f"Invalid marketplaceIds: {kind.name} takes only one marketplace per report.")
    return tuple(value)


def options(value: Any, kind: ReportKind) -> dict[str, str]:
    """The ``reportOptions`` of a request: string values, enumerated ones checked."""
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise invalid("Invalid reportOptions: an object of string values is required.")
    for name, allowed in kind.options.items():
        if name in value and value[name] not in allowed:
            raise invalid(f"Invalid reportOptions: {name} must be one of {', '.join(allowed)}.")
    return dict(value)


def data_window(request: Mapping[str, Any], kind: ReportKind, now: datetime) -> tuple[datetime, datetime]:
    """(dataStartTime, dataEndTime) of a createReport body (defaults: now), checked against the type's rules."""
    dates = {}
    for name in ("dataStartTime", "dataEndTime"):
        raw = request.get(name)
        if raw is not None and not isinstance(raw, str):
            raise invalid(f"Invalid {name}: an ISO 8601 date-time is required.")
        dates[name] = get_date({name: raw}, name) if raw is not None else None
    end = dates["dataEndTime"] or now
    start = dates["dataStartTime"] or (end if dates["dataEndTime"] else now)
    if start > now:
        raise invalid("Invalid dataStartTime: it must be prior to or equal to the current date and time.")
    if start > end:
        raise invalid("Invalid dataStartTime: dataStartTime must be before dataEndTime.")
    if kind.max_days is not None and end - start > timedelta(days=kind.max_days):
        raise invalid(f"Invalid dataEndTime: {kind.name} covers at most {kind.max_days} days per report.")
    if kind.max_age_days is not None and now - start > timedelta(days=kind.max_age_days):
        raise invalid(f"Invalid dataStartTime: {kind.name} covers only the last {kind.max_age_days} days.")
    return start, end
