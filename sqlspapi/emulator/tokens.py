"""Tokens API 2021-03-01: createRestrictedDataToken.

A report document (``GET /reports/2021-06-30/documents/<reportDocumentId>``, no dataElements) is a restricted
resource only as a specific path naming the caller's document of a restricted report type; anything else there (the
generic ``{reportDocumentId}``, an unknown document, a document that is not restricted) is Amazon's 400 "Invalid or
unsupported document ID found".
"""

from __future__ import annotations

import re
from typing import Any

from sqlspapi.emulator.common import ApiError, Request, Response
from sqlspapi.emulator.generic import Endpoint
from sqlspapi.emulator.reports_store import restricted_document

METHODS = ("GET", "PUT", "POST", "DELETE")
DATA_ELEMENTS = ("buyerInfo", "shippingAddress", "buyerTaxInformation")
_ID = r"(?:\{[A-Za-z]+\}|[^/{}]+)"
#: getReportDocument's path: a restricted resource for the documents of restricted report types.
REPORT_DOCUMENT = re.compile(rf"^/reports/2021-06-30/documents/({_ID})$")
#: Restricted resources the emulator grants: (path regex, whether dataElements are allowed).
RESOURCES: tuple[tuple[re.Pattern[str], bool], ...] = (
    (re.compile(r"^/orders/v0/orders$"), True),
    (re.compile(rf"^/orders/v0/orders/{_ID}$"), True),
    (re.compile(rf"^/orders/v0/orders/{_ID}/orderItems$"), True),
    (re.compile(rf"^/orders/v0/orders/{_ID}/address$"), False),
    (re.compile(rf"^/orders/v0/orders/{_ID}/buyerInfo$"), False),
    (re.compile(rf"^/orders/v0/orders/{_ID}/orderItems/buyerInfo$"), False),
    (re.compile(rf"^/orders/v0/orders/{_ID}/regulatedInfo$"), False),
    (REPORT_DOCUMENT, False),
)


def _bad(message: str, details: str | None = None) -> ApiError:
    return ApiError(400, "InvalidInput", message, details)


def _check_resource(n: int, res: Any) -> dict[str, Any]:
    if not isinstance(res, dict):
        raise _bad(f"Invalid restrictedResources[{n}]: each restricted resource must be an object.")
    method, path, elements = res.get("method"), res.get("path"), res.get("dataElements")
    if method not in METHODS:
        raise _bad(f"Invalid restrictedResources[{n}].method: {method!r} is not one of {', '.join(METHODS)}.")
    if not isinstance(path, str) or not path.startswith("/"):
        raise _bad(f"Invalid restrictedResources[{n}].path: a path starting with '/' is required.")
    match = next((allow for regex, allow in RESOURCES if regex.match(path)), None)
    if match is None:
        raise _bad(f"Invalid restrictedResources[{n}].path: {path} is not a restricted resource.")
    if elements is not None:
        if not isinstance(elements, list) or not all(isinstance(e, str) for e in elements):
            raise _bad(f"Invalid restrictedResources[{n}].dataElements: a list of strings is required.")
        if elements and not match:
            raise _bad(f"Invalid restrictedResources[{n}].dataElements: {path} does not take dataElements.")
        bad = [e for e in elements if e not in DATA_ELEMENTS]
        if bad:
            raise _bad(f"Invalid restrictedResources[{n}].dataElements: {bad[0]!r} is not one of "
                       f"{', '.join(DATA_ELEMENTS)}.")
    if method != "GET":
        raise _bad(f"Invalid restrictedResources[{n}].method: {method} {path} is not a restricted operation.")
    return {"method": method, "path": path, "dataElements": list(elements or [])}


def create_restricted_data_token(req: Request) -> Response:
    """POST /tokens/2021-03-01/restrictedDataToken."""
    if req.grant.rdt:
        raise ApiError(403, "Unauthorized", "Access to requested resource is denied.",
                       "A restricted data token cannot be used to create another one.")
    body = req.json_body()
    if not isinstance(body, dict):
        raise _bad("Invalid request body: a JSON object with restrictedResources is required.")
    resources = body.get("restrictedResources")
    if resources is None:
        raise _bad("Invalid restrictedResources: restrictedResources is required.", "Resource not provided.")
    if not isinstance(resources, list) or not resources:
        raise _bad("Invalid restrictedResources: a non-empty list is required.", "Resource not provided.")
    if len(resources) > 50:
        raise _bad(f"Invalid restrictedResources: at most 50 resources are allowed, got {len(resources)}.")
    target = body.get("targetApplication")
    if target is not None and not isinstance(target, str):
        raise _bad("Invalid targetApplication: a string is required.")
    checked = [_check_resource(n, r) for n, r in enumerate(resources)]
    for res in checked:
        document = REPORT_DOCUMENT.match(res["path"])
        if document and not restricted_document(req.data, req.grant.account, document.group(1)):
            raise _bad("Invalid or unsupported document ID found", "")
    grant = req.auth.issue_rdt(req.grant.account, checked)
    return Response(200, {"restrictedDataToken": grant.token, "expiresIn": req.auth.expires_in()})


ENDPOINTS = (Endpoint("tokens", "2021-03-01", "createRestrictedDataToken", create_restricted_data_token),)
