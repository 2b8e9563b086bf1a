"""The Shipping v1 and Services v1 tables against the emulator: answers shaped as Amazon's models say, Amazon's rules,
one call per id, and data that agrees with the orders (a shipment's items are the order's shipped items at the
order's prices; a package's tracking number is a tracking id; a service job's order is an order of the dataset)."""

from __future__ import annotations

from typing import Any

import pytest
import requests
import spapi_models as sm
from emu_helpers import api_get as get

from sqlspapi.emulator.services import services
from sqlspapi.emulator.shipping import shipments
from sqlspapi.errors import MissingFilterError, SPAPIError

SHIPPING, SERVICES = "shipping-v1.json", "services-v1.json"
SHIPMENT, TRACKING = "/shipping/v1/shipments/{shipmentId}", "/shipping/v1/tracking/{trackingId}"
JOBS, JOB = "/service/v1/serviceJobs", "/service/v1/serviceJobs/{serviceJobId}"
JOB_SLOTS, SLOTS = JOB + "/appointmentSlots", "/service/v1/appointmentSlots"
US = "ATVPDKIKX0DER"
EMULATOR, MARKETPLACES = {"orders": 600}, "US,DE"  # for the ``emu`` and ``db`` fixtures of conftest.py


def calls(db, operation: str) -> list[Any]:
    return [r for r in db.last_calls() if r.operation == operation]


def error(r: requests.Response, status: int) -> str:
    assert r.status_code == status, r.text
    return r.json()["errors"][0]["message"]


# -- Shipping -----------------------------------------------------------------------------------------------------
def test_shipping_answers_validate_against_the_model(emu, tok, models_dir):
    state = shipments(emu.dataset)
    for shipment_id in list(state.shipments)[:20]:
        sm.check_response(models_dir, SHIPPING, "GET", SHIPMENT, 200,
                          get(emu, tok, f"/shipping/v1/shipments/{shipment_id}").json())
    for tracking_id in list(state.trackings)[-20:]:
        sm.check_response(models_dir, SHIPPING, "GET", TRACKING, 200,
                          get(emu, tok, f"/shipping/v1/tracking/{tracking_id}").json())
    missing = get(emu, tok, "/shipping/v1/shipments/123")
    assert error(missing, 404) == "Shipment 123 was not found."
    sm.check_response(models_dir, SHIPPING, "GET", SHIPMENT, 404, missing.json())
    sm.check_response(models_dir, SHIPPING, "GET", TRACKING, 404, get(emu, tok, "/shipping/v1/tracking/TBA1").json())


def test_a_shipment_holds_its_orders_shipped_items_at_the_orders_prices(emu, db):
    order = next(o for o in emu.orders if o.channel == "MFN" and o.status == "Shipped" and len(o.items) > 1)
    shipment_id = order.order_id.replace("-", "")
    rows = db.connection.execute(
        "SELECT s.clientReferenceId, i.value ->> '$.title', i.value ->> '$.quantity', "
        "i.value ->> '$.unitPrice.value', c.value_currencyCode "
        "FROM shipping_shipments AS s JOIN shipping_shipment_containers AS c ON c.shipmentId = s.shipmentId, "
        "json_each(c.items) AS i WHERE s.shipmentId = ?", (shipment_id,)).fetchall()
    assert [r[0] for r in rows] == [order.order_id] * len(order.items)
    items = db.connection.execute(
        "SELECT substr(product_title, 1, 30), quantityOrdered, product_price_unitPrice_amount, "
        "product_price_unitPrice_currencyCode FROM order_items WHERE orderId = ?", (order.order_id,)).fetchall()
    assert sorted(r[1:] for r in rows) == sorted(items)
    assert len(calls(db, "getShipment")) == 0  # the second statement read the order, not the shipment


def test_orders_packages_join_their_tracking(emu, db):
    orders = [o.order_id for o in emu.orders if o.channel == "MFN" and o.status == "Shipped"][:3]
    marks = ", ".join("?" * len(orders))
    rows = db.connection.execute(
        "SELECT o.orderId, t.trackingId, t.summary_status, count(e.eventCode) "
        "FROM orders AS o, json_each(o.packages) AS p "
        "JOIN shipping_tracking AS t ON t.trackingId = p.value ->> '$.trackingNumber' "
        "JOIN shipping_tracking_events AS e ON e.trackingId = t.trackingId "
        f"WHERE o.orderId IN ({marks}) GROUP BY o.orderId", orders).fetchall()
    assert sorted(r[0] for r in rows) == sorted(orders)
    assert all(tracking == "TBA" + order.replace("-", "")[:12] and events > 0 for order, tracking, _s, events in rows)
    assert len(calls(db, "getTrackingInformation")) == len(orders)  # the tracking and its events share one call


def test_shipping_tables_need_their_id(db):
    for table, column in (("shipping_shipments", "shipmentId"), ("shipping_tracking_events", "trackingId")):
        with pytest.raises(MissingFilterError) as err:
            db.connection.execute(f"SELECT * FROM {table}").fetchall()
        assert str(err.value).startswith(f"{table} needs {column}: filter it with = or IN")
    assert db.last_calls() == []
    assert db.connection.execute("SELECT * FROM shipping_tracking WHERE trackingId = 'TBA0'").fetchall() == []


# -- Services -----------------------------------------------------------------------------------------------------
def test_services_answers_validate_against_the_model(emu, tok, models_dir):
    since = "2020-01-01T00:00:00Z"
    for params in ({"createdAfter": since}, {"lastUpdatedAfter": since, "pageSize": 3},
                   {"createdAfter": since, "serviceJobStatus": "COMPLETED,CANCELLED", "sortOrder": "DESC"}):
        answer = get(emu, tok, JOBS, marketplaceIds=US, **params)
        assert answer.status_code == 200, answer.text
        sm.check_response(models_dir, SERVICES, "GET", JOBS, 200, answer.json())
    job = services(emu.dataset).jobs[0]
    job_id = job.obj["serviceJobId"]
    sm.check_response(models_dir, SERVICES, "GET", JOB, 200, get(emu, tok, f"{JOBS}/{job_id}").json())
    sm.check_response(models_dir, SERVICES, "GET", JOB, 404, get(emu, tok, f"{JOBS}/nope").json())
    slots = get(emu, tok, f"{JOBS}/{job_id}/appointmentSlots", marketplaceIds=job.market_id)
    sm.check_response(models_dir, SERVICES, "GET", JOB_SLOTS, 200, slots.json())
    assert len(slots.json()["payload"]["appointmentSlots"]) == 35  # 7 days × 5 two-hour windows
    other = get(emu, tok, f"{JOBS}/{job_id}/appointmentSlots", marketplaceIds="A1VC38T7YXB528" if
                job.market_id != "A1VC38T7YXB528" else US)
    sm.check_response(models_dir, SERVICES, "GET", JOB_SLOTS, 404, other.json())
    scope = job.obj["scopeOfWork"]["asin"]
    by_asin = get(emu, tok, SLOTS, asin=scope, storeId=job.obj["storeId"], marketplaceIds=job.market_id,
                  startTime="2026-12-01T00:00:00Z", endTime="2026-12-02T00:00:00Z")
    sm.check_response(models_dir, SERVICES, "GET", SLOTS, 200, by_asin.json())
    assert len(by_asin.json()["payload"]["appointmentSlots"]) == 5
    sm.check_response(models_dir, SERVICES, "GET", SLOTS, 400,
                      get(emu, tok, SLOTS, asin="B0NOTASERV", storeId="x", marketplaceIds=US).json())


def test_service_job_rules_are_amazons(emu, tok):
    since = "2020-01-01T00:00:00Z"
    assert error(get(emu, tok, JOBS, marketplaceIds=US), 400) == \
        "Exactly one of createdAfter and lastUpdatedAfter is required."
    assert error(get(emu, tok, JOBS, marketplaceIds=US, createdAfter=since, lastUpdatedAfter=since), 400) == \
        "Exactly one of createdAfter and lastUpdatedAfter is required."
    assert "maximum 20" in error(get(emu, tok, JOBS, marketplaceIds=US, createdAfter=since, pageSize=21), 400)
    assert "at most 1" in error(get(emu, tok, JOBS, marketplaceIds=f"{US},A1PA6795UKMFR9", createdAfter=since), 400)
    first = get(emu, tok, JOBS, marketplaceIds=US, createdAfter=since, pageSize=5).json()["payload"]
    token = first["nextPageToken"]
    assert "same parameters" in error(get(emu, tok, JOBS, marketplaceIds=US, createdAfter="2021-01-01T00:00:00Z",
                                          pageSize=5, pageToken=token), 400)
    second = get(emu, tok, JOBS, marketplaceIds=US, createdAfter=since, pageSize=5, pageToken=token).json()["payload"]
    assert second["previousPageToken"] and second["totalResultSize"] == first["totalResultSize"]
    assert not {j["serviceJobId"] for j in first["jobs"]} & {j["serviceJobId"] for j in second["jobs"]}


def test_service_jobs_agree_with_their_orders(emu, db):
    rows = db.connection.execute(
        "SELECT serviceJobId, orderId, marketplaceId, serviceJobStatus FROM service_jobs "
        "WHERE createTime >= '2020-01-01'").fetchall()
    expected = [j for j in services(emu.dataset).jobs if j.market_id in (US, "A1PA6795UKMFR9")]
    assert sorted(r[0] for r in rows) == sorted(j.obj["serviceJobId"] for j in expected)
    by_id = emu.dataset.by_id
    for _job, order_id, marketplace, status in rows:
        order = by_id[order_id]
        assert order.market.id == marketplace
        assert (status == "CANCELLED") == (order.status == "Canceled")
        assert status != "COMPLETED" or order.status in ("Shipped", "InvoiceUnconfirmed")
    pages = calls(db, "getServiceJobs")
    assert {r.params["marketplaceIds"] for r in pages} == {US, "A1PA6795UKMFR9"}
    assert all(r.params["pageSize"] == "20" for r in pages)
    assert len(pages) == sum(-(-len([j for j in expected if j.market_id == m]) // 20) for m in (US, "A1PA6795UKMFR9"))


def test_service_job_children_carry_their_job(emu, db):
    job = next(j for j in services(emu.dataset).jobs if len(j.obj.get("appointments", ())) == 2)
    job_id = job.obj["serviceJobId"]
    appointments = db.connection.execute(
        "SELECT orderId, appointmentStatus, rescheduledAppointmentId IS NOT NULL, poa IS NOT NULL "
        "FROM service_job_appointments WHERE serviceJobId = ? ORDER BY appointmentTime_startTime", (job_id,)
    ).fetchall()
    order_id = job.obj["serviceOrderId"]
    assert appointments == [(order_id, "CANCELLED", 0, 0), (order_id, "COMPLETED", 1, 1)]
    items = db.connection.execute(
        "SELECT i.asin, i.itemOrderId, i.orderId, p.product_asin IS NOT NULL FROM service_job_items AS i "
        "LEFT JOIN order_items AS p ON p.orderId = i.itemOrderId AND p.product_asin = i.asin "
        "WHERE i.serviceJobId = ?", (job_id,)).fetchall()
    assert items == [(job.obj["associatedItems"][0]["asin"], order_id, order_id, 1)]


def test_job_appointment_slots(emu, db):
    job = services(emu.dataset).jobs[-1]
    job_id = job.obj["serviceJobId"]
    rows = db.connection.execute("SELECT marketplaceId, startTime, endTime, capacity "
                                 "FROM service_job_appointment_slots WHERE serviceJobId = ?", (job_id,)).fetchall()
    assert len(rows) == 35 and {r[0] for r in rows} == {job.market_id}
    assert len(calls(db, "getAppointmmentSlotsByJobId")) == 2  # one per marketplace; the other answers 404: no rows
    ranged = db.connection.execute(
        "SELECT startTime FROM service_job_appointment_slots WHERE serviceJobId = ? AND marketplaceId = ? "
        "AND rangeStart = '2027-01-04T00:00:00Z' AND rangeEnd = '2027-01-05T00:00:00Z'",
        (job_id, job.market_id)).fetchall()
    assert [r[0] for r in ranged] == [f"2027-01-04T{h:02d}:00:00Z" for h in (8, 10, 12, 14, 16)]
    with pytest.raises(SPAPIError) as err:
        db.connection.execute("SELECT * FROM service_job_appointment_slots WHERE serviceJobId = ? AND "
                              "marketplaceId = ? AND rangeStart = '2027-01-04T00:00:00Z'",
                              (job_id, job.market_id)).fetchall()
    assert err.value.status == 400 and "endTime should also be provided" in str(err.value)
