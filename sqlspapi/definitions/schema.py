"""Plain data types shared by the table loader, the planner and the HTTP client.

They describe SP-API operations and restricted resources; they hold no behaviour beyond formatting.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OperationSpec:
    """One SP-API operation, as declared in a ``vtables/*.toml`` definition (values from Amazon's model).

    ``rate`` (requests per second) and ``burst`` are the published usage plan; the client seeds its token bucket
    with them and adjusts the rate when a response carries ``x-amzn-RateLimit-Limit``.
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

    def format_path(self, path_params: dict[str, str] | None = None) -> str:
        """The path with ``{name}`` placeholders replaced by URL-quoted values."""
        from urllib.parse import quote

        out = self.path
        for key, value in (path_params or {}).items():
            out = out.replace("{" + key + "}", quote(str(value), safe=""))
        return out


@dataclass(frozen=True)
class RestrictedResource:
    """A resource for which a Restricted Data Token is requested (Tokens API ``restrictedResources`` item)."""

    method: str
    path: str
    data_elements: tuple[str, ...] = ()
