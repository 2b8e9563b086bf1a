"""Notifications API v1 (reads): the demo app's destinations (grantless) and the demo seller's subscriptions.

Destinations belong to the app: ``getDestinations``/``getDestination`` are grantless (the server lets only a
client_credentials token of scope ``sellingpartnerapi::notifications`` call them, :meth:`Auth.refusal
<sqlspapi.emulator.lwa.Auth.refusal>`). The demo app has two: an SQS queue and an EventBridge event source.
Subscriptions belong to the seller (a seller's token): a few notification types are subscribed, one of them twice
(two payload versions, the second with a filter expression), every other known type has none.

``getSubscriptions`` as Amazon's model has it: exactly one ``notificationTypes`` value (``maxItems`` 1), every
subscription of that type across payload versions unless ``payloadVersion`` narrows it, ``pageSize`` 30–100
(default 30), the next page by ``payload.nextToken`` (the same parameters again). A type with no subscription is an
empty list; a type Amazon does not know (not one of the definition's known values,
``vtables/notifications-v1.toml``) is 400 InvalidInput. ``getDestination`` of an unknown id is 404 NotFound.
Everything is deterministic in the dataset's seed.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlspapi.emulator.common import Request, Response, invalid, not_found
from sqlspapi.emulator.data import Dataset
from sqlspapi.emulator.generic import Endpoint, Paging, Row, rules
from sqlspapi.emulator.pools import MARKETS

SECTION, VERSION = "notifications", "v1"
PAGING = Paging("notifications-subscriptions", "nextToken")
SUBSCRIPTIONS = rules("""
notificationTypes  string[]  required max_items=1
payloadVersion     string
pageSize           integer   maximum=100 minimum=30 default=30
nextToken          string
""")
NO_PARAMS = rules("")
#: The demo seller's subscriptions: (notificationType, payloadVersion, destination index, processingDirective).
_SUBSCRIBED: tuple[tuple[str, str, int, dict[str, Any] | None], ...] = (
    ("ORDER_CHANGE", "1.0", 0, {"eventFilter": {"eventFilterType": "ORDER_CHANGE",
                                                "orderChangeTypes": ["OrderStatusChange", "BuyerRequestedChange"]}}),
    ("ANY_OFFER_CHANGED", "1.0", 0, {"eventFilter": {"eventFilterType": "ANY_OFFER_CHANGED",
                                                     "marketplaceIds": [MARKETS[0].id, MARKETS[1].id],
                                                     "aggregationSettings": {"aggregationTimePeriod": "FiveMinutes"}}}),
    ("REPORT_PROCESSING_FINISHED", "2020-09-04", 0, None),
    ("FEED_PROCESSING_FINISHED", "2020-09-04", 0, None),
    ("FBA_INVENTORY_AVAILABILITY_CHANGES", "1.0", 1, None),
    ("LISTINGS_ITEM_STATUS_CHANGE", "1.0", 0, None),
    ("LISTINGS_ITEM_STATUS_CHANGE", "2023-12-13", 1,
     {"filterExpression": "ListingsItemStatusChangeNotification.Status == `BUYABLE`"}),
)


def known_types() -> tuple[str, ...]:
    """The notification types Amazon knows: the ``values`` of the table definition's notificationType filter."""
    from sqlspapi.definitions.loader import load_all

    section = next(s for s in load_all() if s.section == SECTION and s.version == VERSION)
    route = section.tables["notification_subscriptions"].list
    assert route is not None
    return next(f.values for f in route.filters if f.column == "notificationType")


@dataclass(frozen=True)
class Notifications:
    """The demo app's destinations and the demo seller's subscriptions (type, subscription object), in order."""

    destinations: tuple[dict[str, Any], ...]
    subscriptions: tuple[tuple[str, dict[str, Any]], ...]


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def build(data: Dataset) -> Notifications:
    """Destinations and subscriptions, deterministic in the seed."""
    rng = random.Random(f"notifications-{data.seed}")
    destinations = (
        {"name": "sqlspapi-demo-queue", "destinationId": _uuid(rng),
         "resource": {"sqs": {"arn": "arn:aws:sqs:us-east-1:444455556666:sqlspapi-demo-queue"}}},
        {"name": "sqlspapi-demo-events", "destinationId": _uuid(rng),
         "resource": {"eventBridge": {"name": "aws.partner/sellingpartnerapi.amazon.com/444455556666/sqlspapi-demo",
                                      "region": "us-east-1", "accountId": "444455556666"}}},
    )
    subscriptions = []
    for kind, version, dest, directive in _SUBSCRIBED:
        sub: dict[str, Any] = {"subscriptionId": _uuid(rng), "payloadVersion": version,
                               "destinationId": destinations[dest]["destinationId"]}
        if directive is not None:
            sub["processingDirective"] = directive
        subscriptions.append((kind, sub))
    return Notifications(destinations, tuple(subscriptions))


def notifications(data: Dataset) -> Notifications:
    """The dataset's notification state (built on first use)."""
    return data.derived("notifications", build)


def get_destinations(req: Request) -> Response:
    """GET /notifications/v1/destinations (grantless)."""
    return Response(200, {"payload": list(notifications(req.data).destinations)})


def get_destination(req: Request) -> Response:
    """GET /notifications/v1/destinations/{destinationId} (grantless)."""
    wanted = req.path_args["destinationId"]
    for dest in notifications(req.data).destinations:
        if dest["destinationId"] == wanted:
            return Response(200, {"payload": dest})
    raise not_found(f"Destination {wanted} was not found for this application.")


def get_subscriptions(req: Request) -> Response:
    """GET /notifications/v1/subscriptions: one notification type, paged."""
    p = req.params
    kind = p["notificationTypes"][0]
    if kind not in known_types():
        raise invalid(f'Invalid value "{kind}" for notificationTypes.')
    subs = [s for k, s in notifications(req.data).subscriptions
            if k == kind and p["payloadVersion"] in (None, s["payloadVersion"])]
    filters = {"notificationTypes": kind, "payloadVersion": p["payloadVersion"]}
    now = req.config.now()
    start, stop = PAGING.window(PAGING.offset(req.query, filters, now), p["pageSize"], len(subs))
    payload: dict[str, Any] = {"subscriptions": subs[start:stop]}
    payload.update(PAGING.pagination(start, p["pageSize"], len(subs), filters, now))
    return Response(200, {"payload": payload})


def _export_destinations(data: Dataset) -> Iterator[Row]:
    for dest in notifications(data).destinations:
        yield dest, {}, {}


def _export_subscriptions(data: Dataset) -> Iterator[Row]:
    for kind, sub in notifications(data).subscriptions:
        yield sub, {"notificationTypes": [kind]}, {}


#: The operations this module serves.
ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(SECTION, VERSION, "getDestinations", get_destinations, NO_PARAMS, _export_destinations),
    Endpoint(SECTION, VERSION, "getDestination", get_destination, NO_PARAMS, _export_destinations),
    Endpoint(SECTION, VERSION, "getSubscriptions", get_subscriptions, SUBSCRIPTIONS, _export_subscriptions),
)
