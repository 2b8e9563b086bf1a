"""Vendor Retail Procurement Orders API v1: served by the emulator (being built for issue 10)."""

from __future__ import annotations

from sqlspapi.emulator.generic import Endpoint

#: The operations this module serves.
ENDPOINTS: tuple[Endpoint, ...] = ()
