"""Report schedules of the emulator over real HTTP: kept, replaced and cancelled; each makes a report of its type
every period of scaled Amazon time (lazily, when reports or schedules are read) with ``reportScheduleId`` set and the
previous period as its data window; only the last 90 days of scheduled reports exist; the seeded orders schedule has
run for the last 90 days. Every JSON answer validates against Amazon's model."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import requests
from test_emulator_reports import ANCHOR, MYI, ORDERS, US, Api, _bad, _fresh, emu  # noqa: F401 - fixtures
from test_emulator_schema import check, models  # noqa: F401 - fixtures

from sqlspapi.emulator import start

AFN = "GET_AFN_INVENTORY_DATA"
DE = "A1PA6795UKMFR9"


@pytest.fixture(scope="module")
def api(emu, check):  # noqa: F811 - the imported fixture
    return Api(emu, check)


def _when(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def _made_by(api: Api, report_type: str, sid: str) -> list[dict]:
    """The reports schedule ``sid`` made, oldest first."""
    reports = api.call("GET", "/reports", params={"reportTypes": report_type, "pageSize": 100,
                                                  "createdSince": "2000-01-01T00:00:00Z"}).json()["reports"]
    return sorted((r for r in reports if r.get("reportScheduleId") == sid), key=lambda r: r["createdTime"])


def _schedule(api: Api, sid: str) -> dict:
    r = api.call("GET", "/schedules/{reportScheduleId}", f"/schedules/{sid}")
    assert r.status_code == 200, r.text
    return r.json()


def test_schedules_are_kept_replaced_and_cancelled(api) -> None:
    spec = {"reportType": MYI, "marketplaceIds": [US], "period": "P1D"}
    r = api.call("POST", "/schedules", json=spec)
    assert r.status_code == 201, r.text
    sid = r.json()["reportScheduleId"]
    got = _schedule(api, sid)
    assert (got["reportType"], got["period"], got["marketplaceIds"]) == (MYI, "P1D", [US])
    replaced = api.call("POST", "/schedules", json={**spec, "period": "PT4H"}).json()["reportScheduleId"]
    listed = api.call("GET", "/schedules", params={"reportTypes": MYI}).json()["reportSchedules"]
    assert [(s["reportScheduleId"], s["period"]) for s in listed] == [(replaced, "PT4H")]
    assert api.call("GET", "/schedules/{reportScheduleId}", f"/schedules/{sid}").status_code == 404
    _bad(api.call("POST", "/schedules", json={**spec, "period": "P2W"}), "period")
    _bad(api.call("POST", "/schedules", json={**spec, "reportType": "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2"}),
         "cannot be requested")
    _bad(api.call("GET", "/schedules"), "reportTypes")
    assert api.call("DELETE", "/schedules/{reportScheduleId}", f"/schedules/{replaced}").status_code == 200
    assert api.call("GET", "/schedules", params={"reportTypes": MYI}).json()["reportSchedules"] == []


def test_a_schedule_makes_a_report_each_period(api) -> None:
    r = api.call("POST", "/schedules", json={"reportType": MYI, "marketplaceIds": [US], "period": "PT1H"})
    sid = r.json()["reportScheduleId"]
    first = _made_by(api, MYI, sid)  # no nextReportCreationTime: the first report is made at once
    assert len(first) == 1 and first[0]["processingStatus"] == "DONE"
    start_time = _when(first[0]["createdTime"])
    assert _when(_schedule(api, sid)["nextReportCreationTime"]) == start_time + timedelta(hours=1)
    api.emu.advance_clock(3 * 3600)
    made = _made_by(api, MYI, sid)
    assert [_when(m["createdTime"]) for m in made] == [start_time + timedelta(hours=n) for n in range(4)]
    for m in made:
        assert _when(m["dataEndTime"]) == _when(m["createdTime"]) == _when(m["dataStartTime"]) + timedelta(hours=1)
        assert m["processingStatus"] == "DONE" and m["marketplaceIds"] == [US]
    last = api.report(made[-1]["reportId"])
    assert last["reportScheduleId"] == sid
    got = requests.get(api.document(last["reportDocumentId"])["url"], timeout=10)
    assert got.status_code == 200 and got.content.startswith(b"sku\tfnsku\tasin")
    assert _when(_schedule(api, sid)["nextReportCreationTime"]) == start_time + timedelta(hours=4)
    api.call("DELETE", "/schedules/{reportScheduleId}", f"/schedules/{sid}")
    api.emu.advance_clock(2 * 3600)
    assert len(_made_by(api, MYI, sid)) == 4  # a cancelled schedule makes no more; its reports stay


def test_only_the_last_90_days_of_scheduled_reports_exist(api) -> None:
    now = api.emu.reports.wall()
    since = now - timedelta(days=200) + timedelta(hours=1)
    r = api.call("POST", "/schedules", json={"reportType": AFN, "marketplaceIds": [US], "period": "P1D",
                                             "nextReportCreationTime": since.strftime("%Y-%m-%dT%H:%M:%SZ")})
    made = _made_by(api, AFN, r.json()["reportScheduleId"])
    assert len(made) == 90
    assert _when(made[0]["createdTime"]) > now - timedelta(days=90) >= _when(made[0]["createdTime"]) - timedelta(1)


def test_a_monthly_schedule_covers_calendar_months(api) -> None:
    now = api.emu.reports.wall()
    base = (now - timedelta(days=100)).replace(day=10, hour=0, minute=0, second=0, microsecond=0)
    r = api.call("POST", "/schedules", json={"reportType": AFN, "marketplaceIds": [DE], "period": "P1M",
                                             "nextReportCreationTime": base.strftime("%Y-%m-%dT%H:%M:%SZ")})
    made = _made_by(api, AFN, r.json()["reportScheduleId"])
    months = [base.replace(year=base.year + (base.month - 1 + n) // 12, month=(base.month - 1 + n) % 12 + 1)
              for n in range(6)]
    assert [_when(m["createdTime"]) for m in made] == [t for t in months if now - timedelta(days=90) <= t <= now]
    assert all(_when(m["dataStartTime"]) == months[months.index(_when(m["createdTime"])) - 1] for m in made)


def test_the_seeded_orders_schedule_has_run_for_90_days(check) -> None:  # noqa: F811 - the imported fixture
    with start(orders=300) as fresh:  # anchored today: the scheduled reports hold orders
        api = Api(fresh, check)
        sid = api.call("GET", "/schedules", params={"reportTypes": ORDERS}).json()["reportSchedules"][0][
            "reportScheduleId"]
        made = _made_by(api, ORDERS, sid)
        anchor = fresh.dataset.anchor
        assert len(made) == 90 and _when(made[-1]["createdTime"]) == anchor
        assert all(_when(m["dataEndTime"]) - _when(m["dataStartTime"]) == timedelta(days=1) for m in made)
        assert made[-1]["processingStatus"] == "DONE" and {m["processingStatus"] for m in made} <= {"DONE",
                                                                                                  "CANCELLED"}
        assert _when(_schedule(api, sid)["nextReportCreationTime"]) == anchor + timedelta(days=1)


def test_scheduled_reports_of_windows_without_orders_are_cancelled(api) -> None:
    sid = api.call("GET", "/schedules", params={"reportTypes": ORDERS}).json()["reportSchedules"][0][
        "reportScheduleId"]
    after = [m for m in _made_by(api, ORDERS, sid) if _when(m["dataStartTime"]) >= ANCHOR]  # the orders end there
    assert after and all(m["processingStatus"] == "CANCELLED" and "reportDocumentId" not in m for m in after)
