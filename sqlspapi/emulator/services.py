"""Services API v1 (reads): the demo seller's service jobs and their appointment slots.

Some products need installation (about one in eight, fixed per ASIN): each has a service ASIN (``B0S…``) and a
required skill. About half the orders (not Pending) with such a product bought the service with it: one service
job per such item, bought in the same order (``serviceOrderId`` and the associated item's ``orderId`` are the order
id, ``productOrderIds`` holds it, ``trackingIds`` the package's tracking id, Shipping's ``TBA`` + 12 digits, once
shipped). The job was created 30 minutes after the purchase; its status follows the order: Canceled → CANCELLED,
Unfulfillable → NOT_FULFILLABLE, not yet (wholly) shipped → PENDING_SCHEDULE (a few HOLD or PAYMENT_DECLINED; no
appointment), shipped → an appointment two days after the latest delivery date: COMPLETED (with a proof of
appointment; about one in five after a cancelled first appointment) when it ended before the dataset's anchor,
else NOT_SERVICED with an ACTIVE appointment. Each marketplace has two stores; a job's store is fixed by its order.
Every id of a job is drawn from a generator of its own (seed and order item), so ids do not depend on the anchor.

``getServiceJobs`` as the model has it: one ``marketplaceIds``; ``createdAfter`` or ``lastUpdatedAfter`` (exactly
one of them; ISO 8601), ``createdBefore``/``lastUpdatedBefore``; ``serviceOrderIds``, ``productOrderIds``,
``trackingIds``, ``asins`` (the service ASIN), ``requiredSkills``, ``storeIds``, ``serviceJobStatus``;
``scheduleStartDate``/``scheduleEndDate`` (an appointment starting in the range); sorted by ``sortField`` (JOB_DATE
= createTime, default; JOB_STATUS) and ``sortOrder``; pages of ``pageSize`` (1–20, default 20) with
``nextPageToken``/``previousPageToken`` (the follow-up repeats the filters) and ``totalResultSize``. An unknown
``serviceJobId`` is 404.

Appointment slots: two-hour windows from 08:00 to 18:00 UTC each day of the range, capacity 0–4 fixed per (service,
store, window). The range is ``startTime``/``endTime`` (both or neither, end after start, at most 90 days), by
default the seven days from the dataset's anchor. ``getAppointmentSlots`` needs a service ASIN and a store of the
marketplace (else 400); ``getAppointmmentSlotsByJobId`` answers 404 for a job unknown in that marketplace.
"""

from __future__ import annotations

import random
import uuid
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlspapi.emulator.common import Request, Response, get_date, invalid, not_found
from sqlspapi.emulator.data import Dataset, OrderRecord, Product, iso
from sqlspapi.emulator.generic import Endpoint, Paging, Row, rules
from sqlspapi.emulator.pools import KNOWN_MARKETPLACE_IDS, MARKETS
from sqlspapi.emulator.sellers import SELLER_ID
from sqlspapi.emulator.shipping import tracking_id

SECTION, VERSION = "services", "v1"
STATUSES = ("NOT_SERVICED", "CANCELLED", "COMPLETED", "PENDING_SCHEDULE", "NOT_FULFILLABLE", "HOLD",
            "PAYMENT_DECLINED")
JOBS = rules(f"""
serviceOrderIds    string[]  max_items=20
productOrderIds    string[]  max_items=20
trackingIds        string[]  max_items=20
serviceJobStatus   string[]  enum={','.join(STATUSES)}
pageToken          string
pageSize           integer   maximum=20 minimum=1 default=20
sortField          string    enum=JOB_DATE,JOB_STATUS
sortOrder          string    enum=ASC,DESC
createdAfter       string
createdBefore      string
lastUpdatedAfter   string
lastUpdatedBefore  string
scheduleStartDate  string
scheduleEndDate    string
marketplaceIds     string[]  required max_items=1
asins              string[]  max_items=20
requiredSkills     string[]  max_items=20
storeIds           string[]  max_items=50
""")
SLOTS = rules("""
asin            string    required
storeId         string    required
marketplaceIds  string[]  required max_items=1
startTime       string
endTime         string
""")
JOB_SLOTS = rules("""
marketplaceIds  string[]  required max_items=1
startTime       string
endTime         string
""")
NO_PARAMS = rules("")
PAGING = Paging("service-jobs", "pageToken", previous=True)
SKILLS = ("INSTALLATION", "ASSEMBLY", "MOUNTING")
TECHNICIANS = ("Alex Chen", "Maria Lopez", "Jonas Weber", "Priya Patel", "Tom Brown", "Yuki Sato")
SLOT_HOURS = (8, 10, 12, 14, 16)
DEFAULT_DAYS = 7
MAX_RANGE = timedelta(days=90)
_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def _crc(text: str) -> int:
    return zlib.crc32(text.encode())


def needs_service(product: Product) -> bool:
    """Whether the product is sold with an installation service (about one in eight, fixed per ASIN)."""
    return _crc(f"service:{product.asin}") % 8 == 0


def service_asin(product: Product) -> str:
    """The service ASIN of an installable product."""
    n = _crc(f"service-asin:{product.asin}")
    return "B0S" + "".join(_ALNUM[(n >> (5 * k)) % len(_ALNUM)] for k in range(7))


@dataclass
class Job:
    """One service job: its rendered object, and what the filters compare."""

    obj: dict[str, Any]
    created: datetime
    updated: datetime
    starts: list[datetime] = field(default_factory=list)  # appointment starts

    @property
    def market_id(self) -> str:
        """The job's marketplace."""
        return str(self.obj["marketplaceId"])


@dataclass(frozen=True)
class Services:
    """Service jobs (by creation), stores per marketplace, service ASINs."""

    jobs: tuple[Job, ...]
    by_id: dict[str, Job]
    stores: dict[str, tuple[str, ...]]
    asins: frozenset[str]


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _appointment(rng: random.Random, start: datetime, status: str, done: bool) -> dict[str, Any]:
    tech = {"technicianId": f"TECH{_crc(start.isoformat()) % 1000:03d}", "name": rng.choice(TECHNICIANS)}
    out: dict[str, Any] = {"appointmentId": _uuid(rng), "appointmentStatus": status,
                           "appointmentTime": {"startTime": iso(start), "durationInMinutes": 120},
                           "assignedTechnicians": [tech]}
    if done:
        out["poa"] = {"appointmentTime": {"startTime": iso(start), "durationInMinutes": 120}, "technicians": [tech],
                      "uploadingTechnician": tech["technicianId"], "uploadTime": iso(start + timedelta(hours=2)),
                      "poaType": "CUSTOMER_SIGNATURE"}
    return out


def _job(rng: random.Random, order: OrderRecord, item: Any, store: str, anchor: datetime) -> Job:
    created = order.purchase + timedelta(minutes=30)
    obj: dict[str, Any] = {"serviceJobId": _uuid(rng), "createTime": iso(created), "serviceOrderId": order.order_id,
                           "marketplaceId": order.market.id, "storeId": store,
                           "productOrderIds": [order.order_id]}
    shipped = order.status in ("Shipped", "InvoiceUnconfirmed", "PartiallyShipped") and item.shipped
    delivery = order.latest_delivery or order.purchase + timedelta(days=5)
    appointments: list[dict[str, Any]] = []
    starts: list[datetime] = []
    if order.status == "Canceled":
        status = "CANCELLED"
    elif order.status == "Unfulfillable":
        status = "NOT_FULFILLABLE"
    elif not shipped or order.status == "PartiallyShipped":
        status = rng.choices(("PENDING_SCHEDULE", "HOLD", "PAYMENT_DECLINED"), (90, 6, 4))[0]
    else:
        obj["trackingIds"] = [tracking_id(order.order_id)]
        start = (delivery + timedelta(days=2)).replace(hour=rng.choice(SLOT_HOURS), minute=0, second=0,
                                                       microsecond=0)
        done = start + timedelta(hours=2) <= anchor
        if done and rng.random() < 0.2:
            first = start - timedelta(days=1)
            appointments.append(_appointment(rng, first, "CANCELLED", False))
            starts.append(first)
        appointments.append(_appointment(rng, start, "COMPLETED" if done else "ACTIVE", done))
        if len(appointments) == 2:
            appointments[1]["rescheduledAppointmentId"] = appointments[0]["appointmentId"]
        starts.append(start)
        status = "COMPLETED" if done else "NOT_SERVICED"
    product = item.product
    delivered = shipped and delivery <= anchor
    obj.update({
        "serviceJobStatus": status,
        "scopeOfWork": {"asin": service_asin(product), "title": f"Expert installation: {item.title}",
                        "quantity": item.quantity, "requiredSkills": [SKILLS[_crc(product.asin) % len(SKILLS)]]},
        "seller": {"sellerId": SELLER_ID},
        "serviceJobProvider": {"serviceJobProviderId": f"SJP{order.market.key}01"},
        "buyer": {"buyerId": f"BUYER{_crc(order.order_id) % 10**8:08d}", "name": order.buyer_name,
                  **({"phone": order.address.phone} if order.address.phone else {}), "isPrimeMember": order.is_prime},
        "associatedItems": [{"asin": product.asin, "title": item.title, "quantity": item.quantity,
                             "orderId": order.order_id, "brandName": "Emulator Demo",
                             "itemStatus": "CANCELLED" if status == "CANCELLED" else "DELIVERED" if delivered
                             else "SHIPPED" if shipped else "ACTIVE",
                             "itemDelivery": {"estimatedDeliveryDate": iso(delivery)}}],
        "serviceLocation": {"serviceLocationType": "IN_HOME", "address": {
            "name": order.address.name, "addressLine1": order.address.line1, "city": order.address.city,
            "stateOrRegion": order.address.state, "postalCode": order.address.postal,
            "countryCode": order.address.country}},
    })
    if appointments:
        obj["appointments"] = appointments
    past = [s + timedelta(hours=2) for s in starts if s + timedelta(hours=2) <= anchor]
    updated = min(anchor, max([created, order.last_update, *past]))
    return Job(obj, created, updated, starts)


def build(data: Dataset) -> Services:
    """Every service job of the dataset, deterministic in the seed."""
    rng = random.Random(f"services-{data.seed}")
    stores = {m.id: (_uuid(rng), _uuid(rng)) for m in MARKETS}
    jobs: list[Job] = []
    asins: set[str] = set()
    for order in data.orders:
        if order.status == "Pending":
            continue
        for item in order.items:
            if needs_service(item.product) and _crc(f"buys-service:{item.item_id}") % 2 == 0:
                store = stores[order.market.id][_crc(order.order_id) % 2]
                # one generator per job: its ids do not depend on the other jobs or on the anchor
                job_rng = random.Random(f"services-{data.seed}-{item.item_id}")
                jobs.append(_job(job_rng, order, item, store, data.anchor))
                asins.add(service_asin(item.product))
    jobs.sort(key=lambda j: (j.created, j.obj["serviceJobId"]))
    return Services(tuple(jobs), {j.obj["serviceJobId"]: j for j in jobs}, stores, frozenset(asins))


def services(data: Dataset) -> Services:
    """The dataset's service jobs (built on first use)."""
    return data.derived("services", build)


def _market(p: dict[str, Any]) -> str:
    mp = p["marketplaceIds"][0]
    if mp not in KNOWN_MARKETPLACE_IDS:
        raise invalid(f"Invalid marketplaceIds: {mp!r} is not a valid marketplace ID.")
    return mp


def _selected(req: Request) -> list[Job]:
    """The jobs getServiceJobs' filters select, sorted."""
    p, q = req.params, req.query
    mp = _market(p)
    if bool(q.get("createdAfter")) == bool(q.get("lastUpdatedAfter")):
        raise invalid("Exactly one of createdAfter and lastUpdatedAfter is required.")
    bounds = {name: get_date(q, name) for name in ("createdAfter", "createdBefore", "lastUpdatedAfter",
                                                "lastUpdatedBefore", "scheduleStartDate", "scheduleEndDate")}
    if bounds["scheduleStartDate"] and bounds["scheduleEndDate"] and \
            bounds["scheduleEndDate"] < bounds["scheduleStartDate"]:
        raise invalid("Invalid scheduleEndDate: it must not be earlier than scheduleStartDate.")
    sets = {name: set(p[name]) if p[name] else None for name in ("serviceOrderIds", "productOrderIds", "trackingIds",
                                                                 "serviceJobStatus", "asins", "requiredSkills",
                                                                 "storeIds")}

    def keep(job: Job) -> bool:
        o = job.obj
        checks = ((bounds["createdAfter"], job.created, 1), (bounds["createdBefore"], job.created, -1),
                  (bounds["lastUpdatedAfter"], job.updated, 1), (bounds["lastUpdatedBefore"], job.updated, -1))
        if any(b is not None and (value < b if sign > 0 else value > b) for b, value, sign in checks):
            return False
        wanted = ((sets["serviceOrderIds"], {o["serviceOrderId"]}), (sets["productOrderIds"], o["productOrderIds"]),
                  (sets["trackingIds"], o.get("trackingIds", ())), (sets["serviceJobStatus"], {o["serviceJobStatus"]}),
                  (sets["asins"], {o["scopeOfWork"]["asin"]}),
                  (sets["requiredSkills"], o["scopeOfWork"]["requiredSkills"]), (sets["storeIds"], {o["storeId"]}))
        if any(s is not None and not s & set(have) for s, have in wanted):
            return False
        lo, hi = bounds["scheduleStartDate"], bounds["scheduleEndDate"]
        if lo or hi:
            return any((lo is None or s >= lo) and (hi is None or s <= hi) for s in job.starts)
        return True

    jobs = [j for j in services(req.data).jobs if j.market_id == mp and keep(j)]
    if p["sortField"] == "JOB_STATUS":
        jobs.sort(key=lambda j: (j.obj["serviceJobStatus"], j.created, j.obj["serviceJobId"]))
    if p["sortOrder"] == "DESC":
        jobs.reverse()
    return jobs


def get_service_jobs(req: Request) -> Response:
    """GET /service/v1/serviceJobs."""
    jobs = _selected(req)
    filters = {k: v for k, v in req.query.items() if k not in ("pageToken", "pageSize")}
    size, now = req.params["pageSize"], req.config.now()
    start, stop = PAGING.window(PAGING.offset(req.query, filters, now), size, len(jobs))
    tokens = PAGING.pagination(start, size, len(jobs), filters, now)
    payload: dict[str, Any] = {"totalResultSize": len(jobs), "jobs": [j.obj for j in jobs[start:stop]]}
    payload.update({k.replace("Token", "PageToken"): t for k, t in tokens.items()})
    return Response(200, {"payload": payload})


def get_service_job(req: Request) -> Response:
    """GET /service/v1/serviceJobs/{serviceJobId}."""
    wanted = req.path_args["serviceJobId"]
    job = services(req.data).by_id.get(wanted)
    if job is None:
        raise not_found(f"Service job {wanted} was not found.")
    return Response(200, {"payload": job.obj})


def _range(query: dict[str, str], anchor: datetime) -> tuple[datetime, datetime]:
    """The slot range asked for (both bounds or neither), else the default seven days from the anchor."""
    start, end = get_date(query, "startTime"), get_date(query, "endTime")
    if (start is None) != (end is None):
        raise invalid("If startTime is provided, endTime should also be provided (and the other way round).")
    if start is None or end is None:
        return anchor, anchor + timedelta(days=DEFAULT_DAYS)
    if end <= start:
        raise invalid("Range End Time should be after Range Start Time")
    if end - start > MAX_RANGE:
        raise invalid("The range of appointment slots can be at most 90 days.")
    return start, end


def slots(asin: str, store: str, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """The two-hour windows between ``start`` and ``end`` with their capacity."""
    out = []
    day = start.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    while day < end:
        for hour in SLOT_HOURS:
            begin = day.replace(hour=hour)
            if begin >= start and begin + timedelta(hours=2) <= end:
                out.append({"startTime": iso(begin), "endTime": iso(begin + timedelta(hours=2)),
                            "capacity": _crc(f"{asin}|{store}|{iso(begin)}") % 5})
        day += timedelta(days=1)
    return out


def _slot_answer(asin: str, store: str, start: datetime, end: datetime) -> Response:
    return Response(200, {"payload": {"startTime": iso(start), "endTime": iso(end),
                                      "schedulingType": "REAL_TIME_SCHEDULING",
                                      "appointmentSlots": slots(asin, store, start, end)}})


def get_appointment_slots(req: Request) -> Response:
    """GET /service/v1/appointmentSlots."""
    p, state = req.params, services(req.data)
    mp = _market(p)
    if p["asin"] not in state.asins:
        raise invalid("Missing or invalid request parameters: [asin]")
    if p["storeId"] not in state.stores.get(mp, ()):
        raise invalid("Missing or invalid request parameters: [storeId]")
    return _slot_answer(p["asin"], p["storeId"], *_range(req.query, req.data.anchor))


def get_job_appointment_slots(req: Request) -> Response:
    """GET /service/v1/serviceJobs/{serviceJobId}/appointmentSlots."""
    wanted, mp = req.path_args["serviceJobId"], _market(req.params)
    job = services(req.data).by_id.get(wanted)
    if job is None or job.market_id != mp:
        raise not_found(f"Service job {wanted} was not found in marketplace {mp}.")
    scope = job.obj["scopeOfWork"]
    return _slot_answer(scope["asin"], job.obj["storeId"], *_range(req.query, req.data.anchor))


def _default_range(data: Dataset) -> tuple[datetime, datetime]:
    return data.anchor, data.anchor + timedelta(days=DEFAULT_DAYS)


def _export_jobs(data: Dataset) -> Iterator[Row]:
    for job in services(data).jobs:
        yield job.obj, {"marketplaceIds": [job.market_id]}, {}


def _export_job(data: Dataset) -> Iterator[Row]:
    for job in services(data).jobs:
        yield job.obj, {}, {"serviceJobId": job.obj["serviceJobId"]}


def _export_slots(data: Dataset) -> Iterator[Row]:
    state = services(data)
    for mp, stores in state.stores.items():
        for store in stores:
            for asin in sorted(state.asins):
                for slot in slots(asin, store, *_default_range(data)):
                    yield slot, {"asin": asin, "storeId": store, "marketplaceIds": [mp]}, {}


def _export_job_slots(data: Dataset) -> Iterator[Row]:
    for job in services(data).jobs:
        for slot in slots(job.obj["scopeOfWork"]["asin"], job.obj["storeId"], *_default_range(data)):
            yield slot, {"marketplaceIds": [job.market_id]}, {"serviceJobId": job.obj["serviceJobId"]}


#: The operations this module serves.
ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(SECTION, VERSION, "getServiceJobs", get_service_jobs, JOBS, _export_jobs),
    Endpoint(SECTION, VERSION, "getServiceJobByServiceJobId", get_service_job, NO_PARAMS, _export_job),
    Endpoint(SECTION, VERSION, "getAppointmentSlots", get_appointment_slots, SLOTS, _export_slots),
    Endpoint(SECTION, VERSION, "getAppointmmentSlotsByJobId", get_job_appointment_slots, JOB_SLOTS,
             _export_job_slots),
)
