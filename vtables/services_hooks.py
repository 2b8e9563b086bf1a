"""Named hooks of the Services API v1 tables: a service job's appointments and associated items as child rows.

Each child row carries its job's ``serviceJobId``, ``orderId`` (the service order), ``marketplaceId`` and
``createTime``, so the child tables join ``service_jobs`` and the job filters and date window apply to them. An
associated item's own order id is ``itemOrderId``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any


def _children(job: Mapping[str, Any], array: str) -> Iterator[tuple[Mapping[str, Any], dict[str, Any]]]:
    """(element, element with the job's keys) for each object of the job's ``array``."""
    parent = {"serviceJobId": job.get("serviceJobId"), "orderId": job.get("serviceOrderId"),
              "marketplaceId": job.get("marketplaceId"), "createTime": job.get("createTime")}
    for child in job.get(array) or ():
        if isinstance(child, Mapping):
            yield child, {**child, **parent}


def appointments(job: Mapping[str, Any], request: Any) -> Iterator[Mapping[str, Any]]:
    """One row per appointment of a service job."""
    return (row for _child, row in _children(job, "appointments"))


def items(job: Mapping[str, Any], request: Any) -> Iterator[Mapping[str, Any]]:
    """One row per associated item (product) of a service job; the item's own order id is ``itemOrderId``."""
    return ({**row, "itemOrderId": child.get("orderId")} for child, row in _children(job, "associatedItems"))
