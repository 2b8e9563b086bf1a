"""Short-lived paging tokens (FBA's nextToken lives 30 s) survive a slow reader, end to end on the emulator.

The emulator refuses a token older than 30 s of its clock (``advance_clock`` ages it without waiting); the list
route then restarts the chain with fresh calls and skips the rows it already produced.
"""

from __future__ import annotations

from collections import Counter

from sqlspapi.emulator import start
from sqlspapi.engine import open_database

US = "ATVPDKIKX0DER"


def test_a_slow_reader_gets_every_fba_row_once() -> None:
    with start(time_scale=1e6) as emu:
        expected = sorted(row["sellerSku"] for row, query, _ in emu.export("getInventorySummaries")
                          if query["marketplaceIds"] == [US])
        db = open_database(emu.connection_string(MarketplaceIds="US"))
        try:
            got = []
            cursor = db.connection.execute("SELECT sellerSku FROM fba_inventory_summaries")
            for (sku,) in cursor:
                got.append(sku)
                if len(got) % 50 == 1:
                    emu.advance_clock(31)  # the reader dawdles on the first row of each page
            calls = [c.params.get("nextToken") is None for c in db.last_calls()]
        finally:
            db.close()
    assert sorted(got) == expected and len(expected) > 50  # every row, once, across several pages
    assert Counter(calls)[True] > 1, "the stale token should have restarted the chain"
