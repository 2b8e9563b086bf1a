"""The Notifications v1 tables against the emulator: answers shaped as Amazon's model says, the fan-out over the
notification types (one getSubscriptions call per type), a type without subscriptions as no row, and the
destinations a subscription points at."""

from __future__ import annotations

from collections import Counter

import pytest
import spapi_models as sm
from emu_helpers import api_get as get
from emu_helpers import lwa_token as token

from sqlspapi.definitions.loader import load_all
from sqlspapi.emulator import DEMO_REFRESH_TOKEN
from sqlspapi.errors import SPAPIError

MODEL = "notifications-v1.json"
DESTINATIONS, SUBSCRIPTIONS = "/notifications/v1/destinations", "/notifications/v1/subscriptions"
SCOPE = "sellingpartnerapi::notifications"


def known_types() -> tuple[str, ...]:
    """The notification types the definition fans out over."""
    section = next(s for s in load_all() if s.section == "notifications")
    route = section.tables["notification_subscriptions"].list
    assert route is not None
    return next(f.values for f in route.filters if f.column == "notificationType")


def calls(db, operation: str) -> list[dict]:
    return [dict(r.params) for r in db.last_calls() if r.operation == operation]


# -- answers validate against Amazon's model ---------------------------------------------------------------------
def test_answers_validate_against_the_model(emu, models_dir):
    app = token(emu, grant_type="client_credentials", scope=SCOPE)
    seller = token(emu, grant_type="refresh_token", refresh_token=DEMO_REFRESH_TOKEN)
    listed = get(emu, app, DESTINATIONS)
    sm.check_response(models_dir, MODEL, "GET", DESTINATIONS, 200, listed.json())
    one = listed.json()["payload"][1]["destinationId"]
    sm.check_response(models_dir, MODEL, "GET", DESTINATIONS + "/{destinationId}", 200,
                      get(emu, app, f"{DESTINATIONS}/{one}").json())
    missing = get(emu, app, f"{DESTINATIONS}/nope")
    assert missing.status_code == 404
    sm.check_response(models_dir, MODEL, "GET", DESTINATIONS + "/{destinationId}", 404, missing.json())
    for kind in ("ORDER_CHANGE", "ANY_OFFER_CHANGED", "LISTINGS_ITEM_STATUS_CHANGE", "PRICING_HEALTH"):
        answer = get(emu, seller, SUBSCRIPTIONS, notificationTypes=kind)
        assert answer.status_code == 200
        sm.check_response(models_dir, MODEL, "GET", SUBSCRIPTIONS, 200, answer.json())
    for bad in ({"notificationTypes": "ORDER_CHANGE,ANY_OFFER_CHANGED"}, {"notificationTypes": "NOPE"},
                {"notificationTypes": "ORDER_CHANGE", "pageSize": 10}, {}):
        refused = get(emu, seller, SUBSCRIPTIONS, **bad)
        assert refused.status_code == 400, bad
        sm.check_response(models_dir, MODEL, "GET", SUBSCRIPTIONS, 400, refused.json())


# -- the tables ---------------------------------------------------------------------------------------------------
def test_no_type_filter_reads_every_known_type_once(db):
    rows = db.connection.execute("SELECT notificationType, subscriptionId, payloadVersion "
                                 "FROM notification_subscriptions").fetchall()
    sent = [c["notificationTypes"] for c in calls(db, "getSubscriptions")]
    assert sorted(sent) == sorted(known_types()) and len(sent) == len(known_types()) == 22
    assert all(c["pageSize"] == "100" for c in calls(db, "getSubscriptions"))
    per_type = Counter(kind for kind, _id, _version in rows)
    assert per_type == {"ORDER_CHANGE": 1, "ANY_OFFER_CHANGED": 1, "REPORT_PROCESSING_FINISHED": 1,
                        "FEED_PROCESSING_FINISHED": 1, "FBA_INVENTORY_AVAILABILITY_CHANGES": 1,
                        "LISTINGS_ITEM_STATUS_CHANGE": 2}
    assert len({sub for _kind, sub, _version in rows}) == len(rows)
    text = "\n".join(db.explain("SELECT * FROM notification_subscriptions"))
    assert "notificationTypes=<each of 22 known notificationType values>" in text


def test_type_filters_make_one_call_per_type_and_a_type_without_subscription_is_no_row(db):
    rows = db.connection.execute("SELECT notificationType, payloadVersion FROM notification_subscriptions WHERE "
                                 "notificationType IN ('LISTINGS_ITEM_STATUS_CHANGE', 'PRICING_HEALTH') "
                                 "ORDER BY payloadVersion").fetchall()
    assert rows == [("LISTINGS_ITEM_STATUS_CHANGE", "1.0"), ("LISTINGS_ITEM_STATUS_CHANGE", "2023-12-13")]
    assert sorted(c["notificationTypes"] for c in calls(db, "getSubscriptions")) == [
        "LISTINGS_ITEM_STATUS_CHANGE", "PRICING_HEALTH"]
    assert db.connection.execute("SELECT count(*) FROM notification_subscriptions "
                                 "WHERE notificationType = 'PRICING_HEALTH'").fetchone() == (0,)
    assert len(calls(db, "getSubscriptions")) == 1


def test_processing_directives_are_columns(db):
    row = db.connection.execute(
        "SELECT processingDirective_eventFilter_eventFilterType, processingDirective_eventFilter_marketplaceIds, "
        "processingDirective_eventFilter_aggregationTimePeriod FROM notification_subscriptions "
        "WHERE notificationType = 'ANY_OFFER_CHANGED'").fetchone()
    assert row == ("ANY_OFFER_CHANGED", '["ATVPDKIKX0DER","A2EUQ1WTGCTBG2"]', "FiveMinutes")
    expressions = db.connection.execute(
        "SELECT payloadVersion, processingDirective_filterExpression FROM notification_subscriptions "
        "WHERE notificationType = 'LISTINGS_ITEM_STATUS_CHANGE' AND payloadVersion = '2023-12-13'").fetchall()
    assert expressions == [("2023-12-13", "ListingsItemStatusChangeNotification.Status == `BUYABLE`")]
    assert calls(db, "getSubscriptions") == [{"notificationTypes": "LISTINGS_ITEM_STATUS_CHANGE",
                                              "payloadVersion": "2023-12-13", "pageSize": "100"}]


def test_every_subscription_points_at_a_destination(db):
    rows = db.connection.execute(
        "SELECT s.notificationType, d.name, coalesce(d.resource_sqs_arn, d.resource_eventBridge_name) "
        "FROM notification_subscriptions AS s JOIN notification_destinations AS d "
        "ON d.destinationId = s.destinationId").fetchall()
    assert len(rows) == 7
    assert {name for _kind, name, _where in rows} == {"sqlspapi-demo-queue", "sqlspapi-demo-events"}
    assert all(where for _kind, _name, where in rows)


def test_an_unknown_type_is_amazons_error(db):
    with pytest.raises(SPAPIError) as err:
        db.connection.execute("SELECT * FROM notification_subscriptions WHERE notificationType = 'NOPE'").fetchall()
    assert err.value.status == 400 and 'Invalid value "NOPE" for notificationTypes' in str(err.value)
