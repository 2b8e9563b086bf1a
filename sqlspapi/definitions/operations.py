"""An SP-API operation as a definition declares it (:class:`OperationSpec`: path, method, usage plan, grantless scope,
whether it writes), the resources a Restricted Data Token is asked for, and the rule for path-parameter values.

Re-exported by :mod:`sqlspapi.definitions.schema`; the route specs (:mod:`sqlspapi.definitions.routespecs`) name the
operations they call.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["OperationSpec", "RestrictedResource", "usable_path_value"]


@dataclass(frozen=True)
class OperationSpec:
    """One SP-API operation, as declared in a ``vtables/*.toml`` definition (values from Amazon's model).

    ``rate`` (requests per second) and ``burst`` are the published usage plan; the client seeds its token bucket
    with them and adjusts the rate when a response carries ``x-amzn-RateLimit-Limit``. ``grantless`` is the LWA
    scope of a grantless operation (``sellingpartnerapi::notifications``): it is called with a client-credentials
    token for that scope instead of the seller's refresh-token grant. ``writes``: calling it changes the seller's
    account (a schedule created, a report cancelled), so a ``ReadOnly`` account may not (PUT, PATCH and DELETE by
    default; a definition says ``writes = true`` for such a POST).
    """

    name: str
    section: str
    version: str
    method: str
    path: str
    rate: float
    burst: int
    restricted: bool = False
    rdt_data_elements: tuple[str, ...] = ()
    grantless: str | None = None
    writes: bool = False

    def format_path(self, path_params: Mapping[str, Any] | None = None) -> str:
        """The path with ``{name}`` placeholders replaced by percent-encoded values: every character but letters,
        digits and ``._-~``; a value of dots alone is encoded too, so ``.`` and ``..`` never walk the path to another
        endpoint (the routes do not send such values at all: :func:`usable_path_value`)."""
        from urllib.parse import quote

        out = self.path
        for key, value in (path_params or {}).items():
            text = str(value)
            encoded = "%2E" * len(text) if text and not text.strip(".") else quote(text, safe="")
            out = out.replace("{" + key + "}", encoded)
        return out


def usable_path_value(value: Any) -> bool:
    """Whether ``value`` can be a path parameter (an id): not empty, not blank, not ``.``/``..``. A value that cannot
    be an id matches no row, so it never leaves the process."""
    text = str(value)
    return bool(text.strip()) and text.strip(".") != ""


@dataclass(frozen=True)
class RestrictedResource:
    """A resource for which a Restricted Data Token is requested (Tokens API ``restrictedResources`` item)."""

    method: str
    path: str
    data_elements: tuple[str, ...] = ()
