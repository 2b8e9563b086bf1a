"""Report schedules of the emulated Reports API 2021-06-30: createReportSchedule, getReportSchedule(s),
cancelReportSchedule.

createReportSchedule checks the request as createReport does (:mod:`sqlspapi.emulator.reports_checks`) and the
``period`` against the model's enum, and replaces the account's schedule of the same type and marketplaces. Every
operation first lets the account's schedules make the reports they were due to make
(:meth:`~sqlspapi.emulator.reports_store.ReportStore.run_schedules`), so ``nextReportCreationTime`` is the next
report's time.
"""

from __future__ import annotations

from typing import Any

from sqlspapi.emulator.common import Request, Response, get_date, invalid, iso_or_none, not_found
from sqlspapi.emulator.faults import RawAnswer
from sqlspapi.emulator.reports_checks import account_store, body, marketplaces, options, report_kind
from sqlspapi.emulator.reports_store import PERIOD_LENGTHS, ReportStore

#: createReportSchedule's periods, as the model lists them.
PERIODS = tuple(PERIOD_LENGTHS)


def _schedule_body(req: Request) -> dict[str, Any]:
    request = body(req)
    kind = report_kind(request.get("reportType"))
    schedule: dict[str, Any] = {"reportType": kind.name,
                                "marketplaceIds": list(marketplaces(request.get("marketplaceIds"), kind))}
    chosen = options(request.get("reportOptions"), kind)
    if chosen:
        schedule["reportOptions"] = chosen
    if request.get("period") not in PERIODS:
        raise invalid(f"Invalid period: {request.get('period')!r} is not one of {', '.join(PERIODS)}.")
    schedule["period"] = request["period"]
    raw = request.get("nextReportCreationTime")
    if raw is not None:
        if not isinstance(raw, str):
            raise invalid("Invalid nextReportCreationTime: an ISO 8601 date-time is required.")
        schedule["nextReportCreationTime"] = iso_or_none(get_date(request, "nextReportCreationTime"))
    return schedule


def create_report_schedule(req: Request) -> Response:
    """POST /reports/2021-06-30/schedules → 201; replaces a schedule of the same type and marketplaces."""
    st = account_store(req)
    sid = st.add_schedule(req.grant.account, _schedule_body(req))
    return Response(201, {"reportScheduleId": sid})


def _schedule(req: Request) -> tuple[ReportStore, str]:
    st = account_store(req)
    st.run_schedules(req.grant.account)
    sid = req.path_args["reportScheduleId"]
    found = st.schedules.get(sid)
    if found is None or found[0] != req.grant.account:
        raise not_found(f"Report schedule {sid} was not found.")
    return st, sid


def get_report_schedule(req: Request) -> Response:
    """GET /reports/2021-06-30/schedules/{reportScheduleId}."""
    st, sid = _schedule(req)
    return Response(200, dict(st.schedules[sid][1]))


def cancel_report_schedule(req: Request) -> Response:
    """DELETE /reports/2021-06-30/schedules/{reportScheduleId}: the reports it made stay."""
    st, sid = _schedule(req)
    with st._lock:
        st.schedules.pop(sid, None)
    return Response(200, RawAnswer(b""))


def get_report_schedules(req: Request) -> Response:
    """GET /reports/2021-06-30/schedules?reportTypes=…"""
    st = account_store(req)
    st.run_schedules(req.grant.account)
    types = set(req.params["reportTypes"])
    with st._lock:
        found = [dict(s) for owner, s in st.schedules.values()
                 if owner == req.grant.account and s["reportType"] in types]
    return Response(200, {"reportSchedules": found})
