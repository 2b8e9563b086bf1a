"""The report lifecycle as a user meets it through SQL, against the emulator over HTTP: reports reused within
ReportMaxAgeMinutes (from this process's ledger and from getReports), documents cached on disk (0600) so a second
query downloads nothing, DisableReportCache, a query that gives up after ReportWaitSeconds and a new process that
resumes the same report (one createReport in all), FATAL with Amazon's reason, CANCELLED and DONE-without-document
as zero rows, GZIP decided by the bytes, report_rows and CREATE VIRTUAL TABLE … USING report."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest
from emu_helpers import fresh_process_state, settings_for  # noqa: F401 (fresh_process_state is autouse)

from sqlspapi.emulator import start
from sqlspapi.engine import Database
from sqlspapi.errors import OperationalError, ProgrammingError, ReportFailedError

ANCHOR = datetime(2026, 1, 1, tzinfo=UTC)
LISTINGS = "GET_MERCHANT_LISTINGS_ALL_DATA"
ORDERS = "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL"
COUNT = "SELECT count(*), min(seller_sku) FROM merchant_listings_all_data WHERE marketplaceId = 'US'"


@pytest.fixture(scope="module")
def emu():
    with start(orders=300, time_scale=200.0, anchor=ANCHOR) as e:  # a report is DONE ~0.5 s after it is created
        yield e


@pytest.fixture(autouse=True)
def _fresh(emu):
    emu.reset_limits()
    timing = emu.reports.timing
    yield
    emu.reports.timing = timing


def _db(emu, **keys) -> Database:
    return Database(settings_for(emu, MarketplaceIds="US", **keys), poll_scale=1 / emu.time_scale)


def _run(db: Database, sql: str) -> list[tuple]:
    with db.statement():
        return list(db.connection.execute(sql))


def test_a_second_query_reuses_the_report_and_its_document(emu, private_report_cache: Path) -> None:
    creates, downloads = emu.calls.count("createReport"), emu.calls.count("reportDocumentDownload")
    with _db(emu) as db:
        first = _run(db, COUNT)
        assert first[0][0] > 0
        assert emu.calls.count("createReport") == creates + 1
        assert _run(db, COUNT) == first
        assert [c.operation for c in db.last_calls()] == ["getReport"]  # the ledger's report, still DONE
    with _db(emu) as db:  # a new connection (and account state) with the same cache directory
        assert _run(db, COUNT) == first
    assert emu.calls.count("createReport") == creates + 1
    assert emu.calls.count("reportDocumentDownload") == downloads + 1  # the document came from the disk cache
    files = [p for p in private_report_cache.rglob("*") if p.is_file() and not p.name.endswith(".lock")]
    assert files and all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in files)
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o700 for p in private_report_cache.iterdir() if p.is_dir())


def test_a_recent_report_made_elsewhere_is_reused(emu, monkeypatch, tmp_path: Path) -> None:
    with _db(emu) as db:
        _run(db, COUNT)
    creates = emu.calls.count("createReport")
    monkeypatch.setenv("SQLSPAPI_CACHE_DIR", str(tmp_path))  # another machine: no ledger, only getReports finds it
    with _db(emu) as db:
        _run(db, COUNT)
        assert [c.operation for c in db.last_calls()][:2] == ["getReports", "getReport"]
    assert emu.calls.count("createReport") == creates


def test_disable_report_cache_and_max_age_zero_request_new_reports(emu) -> None:
    with _db(emu, DisableReportCache="true") as db:
        creates = emu.calls.count("createReport")
        _run(db, COUNT)
        _run(db, COUNT)
        assert emu.calls.count("createReport") == creates + 2
    with _db(emu, ReportMaxAgeMinutes=0) as db:
        _run(db, COUNT)
        assert "getReports" not in [c.operation for c in db.last_calls()]
        assert emu.calls.count("createReport") == creates + 3


def test_report_cache_mb_zero_keeps_no_document(emu, private_report_cache: Path) -> None:
    with _db(emu, ReportCacheMB=0) as db:
        assert _run(db, COUNT)[0][0] > 0
    documents = private_report_cache / "documents"
    assert not [p for p in documents.iterdir() if not p.name.startswith(".")] if documents.exists() else True


def test_timeout_names_the_report_and_a_new_process_resumes_it(emu, private_report_cache: Path) -> None:
    emu.reports.timing = (600.0, 600.0)  # 20 minutes of Amazon time: 6 s here
    creates = emu.calls.count("createReport")
    sql = COUNT + " AND reportOptions = '{\"custom\": \"true\"}'"  # a report no earlier test requested
    with _db(emu, ReportWaitSeconds=0.4) as db, pytest.raises(OperationalError) as caught:
        _run(db, sql)
    message = str(caught.value)
    report_id = message.split("report ", 1)[1].split(" ", 1)[0]
    assert report_id.isdigit() and "still IN_QUEUE" in message and "resumes this report" in message
    assert "ReportWaitSeconds" in message
    emu.advance_clock(1300)
    script = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from emu_helpers import settings_for
        from sqlspapi.engine import Database

        class Emu:
            token_url = {emu.token_url!r}
            url = {emu.url!r}

        db = Database(settings_for(Emu, MarketplaceIds="US"), poll_scale=0.01)
        print(list(db.connection.execute({sql!r}))[0][0])
        print(",".join(c.operation for c in db.last_calls()))
    """)
    env = {**os.environ, "SQLSPAPI_CACHE_DIR": str(private_report_cache)}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    count, calls = done.stdout.split()
    assert int(count) > 0 and "createReport" not in calls and "getReport" in calls
    assert emu.calls.count("createReport") == creates + 1


def test_fatal_says_why_and_the_next_query_requests_anew(emu) -> None:
    emu.report_outcome_next(LISTINGS, "FATAL", reason="The seller has no listings in this marketplace.")
    sql = COUNT + " AND reportOptions = '{\"why\": \"fatal\"}'"  # options: no report of others is reused
    with _db(emu) as db:
        with pytest.raises(ReportFailedError) as caught:
            _run(db, sql)
        message = str(caught.value)
        assert "ended FATAL: Amazon says: The seller has no listings in this marketplace. Check" in message
        assert 'GET_MERCHANT_LISTINGS_ALL_DATA for ATVPDKIKX0DER, options {"why": "fatal"}' in message
        creates = emu.calls.count("createReport")
        assert _run(db, sql)[0][0] > 0  # the FATAL report is not reused
        assert emu.calls.count("createReport") == creates + 1
        emu.report_outcome_next(LISTINGS, "FATAL_NO_DOCUMENT")
        with pytest.raises(ReportFailedError, match="gave no reason"):
            _run(db, COUNT + " AND reportOptions = '{\"why\": \"no reason\"}'")


@pytest.mark.parametrize("outcome", ["CANCELLED", "DONE_NO_DOCUMENT"])
def test_no_data_is_zero_rows(emu, outcome: str) -> None:
    emu.report_outcome_next(LISTINGS, outcome)
    with _db(emu, DisableReportCache="true") as db:
        assert _run(db, COUNT) == [(0, None)]


def test_gzip_is_decided_by_the_bytes(emu) -> None:
    sql = ("SELECT amazon_order_id, sku, quantity FROM flat_file_all_orders_data_by_last_update_general "
           "WHERE dataStartTime >= '2025-12-01' AND dataStartTime < '2025-12-20' ORDER BY 1, 2")
    with _db(emu, DisableReportCache="true") as db:
        try:
            compressed = _run(db, sql)
            emu.reports.quirks.not_gzip = True  # labelled GZIP, sent plain
            assert _run(db, sql) == compressed and compressed
        finally:
            emu.reports.quirks.not_gzip = False


def test_explain_names_the_report_and_calls_nothing(emu) -> None:
    with _db(emu) as db:
        before = len(emu.calls)
        plan = db.explain(COUNT)
        assert "GET_MERCHANT_LISTINGS_ALL_DATA(marketplaceId='US')" in plan[0]
        assert "reuse a report" in plan[0] and len(emu.calls) == before


def test_report_rows_reads_any_type(emu) -> None:
    with _db(emu) as db:
        rows = _run(db, "SELECT json_extract(record, '$.seller_sku'), json_extract(record, '$.price'), reportType "
                        "FROM report_rows('GET_MERCHANT_LISTINGS_DATA') ORDER BY 1 LIMIT 2")
        assert rows and rows[0][0].startswith("SKU-") and rows[0][2] == "GET_MERCHANT_LISTINGS_DATA"
        assert isinstance(rows[0][1], str)  # cells as written
        with pytest.raises(Exception, match="needs one of reportType"):
            _run(db, "SELECT * FROM report_rows")
        with pytest.raises(Exception, match="IncludeRestrictedData=true"):
            _run(db, "SELECT * FROM report_rows('GET_FLAT_FILE_ORDER_REPORT_DATA_SHIPPING')")


def test_create_virtual_table_using_report_takes_the_header(emu) -> None:
    with _db(emu) as db:
        _run(db, "CREATE VIRTUAL TABLE inv USING report('GET_FBA_MYI_UNSUPPRESSED_INVENTORY_DATA', "
                 "marketplaceId='US')")
        creates = emu.calls.count("createReport")
        columns = [row[1] for row in _run(db, "PRAGMA table_info(inv)")]
        assert columns[:3] == ["sku", "fnsku", "asin"] and "afn_fulfillable_quantity" in columns
        rows = _run(db, "SELECT sku, afn_fulfillable_quantity FROM inv ORDER BY sku LIMIT 3")
        assert rows and all(isinstance(q, str) for _sku, q in rows)
        assert emu.calls.count("createReport") == creates  # the report obtained for the header is reused
        with pytest.raises(Exception, match="report type first"):
            _run(db, "CREATE VIRTUAL TABLE empty_one USING report()")
        with pytest.raises(Exception, match="JSON report"):
            _run(db, "CREATE VIRTUAL TABLE st USING report('GET_SALES_AND_TRAFFIC_REPORT', '2025-12-01', "
                     "'2025-12-05')")


def test_report_id_reads_one_existing_report(emu) -> None:
    with _db(emu) as db:
        ids = _run(db, "SELECT reportId FROM reports WHERE reportType = 'GET_MERCHANT_LISTINGS_ALL_DATA' "
                       "AND processingStatus = 'DONE' AND reportDocumentId IS NOT NULL")
        assert ids
        rows = _run(db, "SELECT count(*), min(reportId) FROM merchant_listings_all_data "
                        f"WHERE reportId = '{ids[0][0]}'")
        assert rows[0][0] > 0 and rows[0][1] == ids[0][0]
        assert "createReport" not in [c.operation for c in db.last_calls()]
        with pytest.raises(ProgrammingError, match="report_rows"):
            _run(db, f"SELECT * FROM fba_myi_unsuppressed_inventory_data WHERE reportId = '{ids[0][0]}'")


def test_a_restricted_report_document_is_read_with_a_restricted_data_token(emu) -> None:
    tokens = emu.calls.count("createRestrictedDataToken")
    with _db(emu, IncludeRestrictedData="true") as db:
        rows = _run(db, "SELECT json_extract(record, '$.buyer_email') FROM report_rows("
                        "'GET_AMAZON_FULFILLED_SHIPMENTS_DATA_GENERAL', '2025-12-01', '2025-12-31') LIMIT 3")
        assert rows and all(r[0] for r in rows)
        assert [c.operation for c in db.last_calls()][-2:] == ["createRestrictedDataToken", "getReportDocument"]
    assert emu.calls.count("createRestrictedDataToken") == tokens + 1
    assert emu.calls.count("getReportDocument", 200) >= 1


def test_explain_counts_the_reports_a_window_needs(emu) -> None:
    with _db(emu) as db:
        plan = db.explain("SELECT * FROM flat_file_all_orders_data_by_order_date_general WHERE marketplaceId = 'US' "
                          "AND dataStartTime >= '2025-09-01' AND dataStartTime < '2025-11-15'")
        assert "[est. ~3 reports," in plan[0] and "unless a report of the last ReportMaxAgeMinutes is reused" in plan[0]
        by_id = db.explain("SELECT * FROM merchant_listings_all_data WHERE reportId = '1'")
        assert "[est. ~1 call," in by_id[0] and "getReport of that report" in by_id[0]
