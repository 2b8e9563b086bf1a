"""Generated GET_MERCHANT_LISTINGS_ALL_DATA documents for the report benchmark (``bench_reports.py``).

:func:`listing_lines` makes realistic listings rows (the 29 documented columns: titles, SKUs, prices, quantities, US
dates like ``2019-06-17 14:24:11 PDT``, ASINs, UPCs), deterministic for a seed; :func:`write_documents` writes every
document size in one pass: the smaller documents are the first rows of the larger ones, gzip streams written chunk by
chunk, plus one gunzipped TSV for the importers it is compared with.
"""

from __future__ import annotations

import gzip
import random
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlspapi.emulator.reports_listings import LISTING_COLUMNS

__all__ = ["HEADER", "listing_lines", "write_documents"]

BATCH_ROWS = 5000  # rows generated, joined and compressed per write

HEADER = LISTING_COLUMNS  # the 29 documented GET_MERCHANT_LISTINGS_ALL_DATA columns, as the emulator writes them

BRANDS = ("Anker", "Amazon Basics", "Hamilton Beach", "OXO Good Grips", "Lodge", "Cuisinart", "JBL", "Logitech",
          "Crocs", "Hanes", "Carhartt", "Pyrex", "Rubbermaid", "Coleman", "Stanley", "Hydro Flask", "Ninja",
          "KitchenAid", "YETI", "Mueller", "Etekcity", "TP-Link", "Scotch", "Sharpie", "Gildan", "Champion",
          "Osprey", "Nalgene", "Brita", "Dyson", "Philips Sonicare", "Fire-King", "Contigo", "Zojirushi")
PRODUCTS = ("Stainless Steel Water Bottle", "Cast Iron Skillet", "Wireless Earbuds", "USB-C to USB-C Cable",
            "Portable Bluetooth Speaker", "Men's Cotton Crew T-Shirt", "Non-Stick Frying Pan", "Wireless Mouse",
            "Insulated Tumbler with Lid", "Hiking Backpack", "Electric Kettle", "Glass Food Storage Containers",
            "LED Desk Lamp", "Memory Foam Pillow", "Resistance Bands Set", "Digital Kitchen Scale",
            "Mechanical Keyboard", "Water Filter Pitcher", "Camping Lantern", "Dry Erase Markers",
            "Rice Cooker and Warmer", "Replacement Brush Heads", "Work Jacket", "Packing Tape Refill")
FEATURES = ("Leak Proof", "BPA Free", "Dishwasher Safe", "Pre-Seasoned", "Noise Cancelling", "Fast Charging",
            "Heavy Duty", "Pack of 2", "Pack of 6", "Rechargeable", "Ergonomic Design", "Double Wall Vacuum",
            "Lightweight", "Water Resistant", "Fine Point", "Cordless", "Adjustable", "Family Size")
SIZES = ('12"', '10.25"', "32 oz", "40 oz", "6 ft", "10 ft", "Large", "Medium", "X-Large", "1.5 Quart",
         "5.5 Cup", "24 Count", "Twin", "Queen", "1 Pound")
COLORS = ("Black", "White", "Navy Blue", "Stone", "Charcoal Heather", "Red", "Sage Green", "Graphite",
          "Pacific Blue", "Clear", "Stainless", "Matte Black", "Lavender", "Assorted Colors")
SENTENCES = ("Built to last with premium materials and backed by a 1-year manufacturer warranty.",
             "Keeps drinks cold for 24 hours and hot for 12 hours.",
             "Compatible with most standard accessories; see the size chart before ordering.",
             "Easy to clean: hand wash or top rack dishwasher safe.",
             "Ships in certified frustration-free packaging.",
             "Includes a quick start guide and everything you need to get going in minutes.",
             "Designed in Seattle; made with at least 30% recycled content.")
NOTES = ("", "", "", "", "", "", "", "", "New in original packaging", "Ships from our US warehouse within 1 day")
SHIPPING_GROUPS = ("Migrated Template", "Migrated Template", "Default Amazon template", "Free Shipping 2-Day")
B36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
PACIFIC = ZoneInfo("America/Los_Angeles")
OPENED_FROM = int(datetime(2012, 1, 1, tzinfo=UTC).timestamp())
OPENED_UNTIL = int(datetime(2025, 12, 31, tzinfo=UTC).timestamp())


def listing_lines(count: int, seed: int = 7) -> Iterator[str]:
    """``count`` realistic listings rows as TSV lines (no line end), deterministic for ``seed``.

    Each row's choices come from one random integer (``getrandbits``) taken apart by ``divmod``: drawing every field
    with ``random.choice`` made generation the slowest part of a run."""
    rng = random.Random(seed)
    pairs = [a + b for a in B36 for b in B36]  # 1296 two-character base-36 strings
    span = OPENED_UNTIL - OPENED_FROM
    for n in range(count):
        x = rng.getrandbits(256)
        x, brand = divmod(x, len(BRANDS))
        x, product = divmod(x, len(PRODUCTS))
        x, feature = divmod(x, len(FEATURES))
        x, size = divmod(x, len(SIZES))
        x, color = divmod(x, len(COLORS))
        x, first = divmod(x, len(SENTENCES))
        x, second = divmod(x, len(SENTENCES))
        x, note = divmod(x, len(NOTES))
        x, group = divmod(x, len(SHIPPING_GROUPS))
        x, roll = divmod(x, 100)
        x, kind = divmod(x, 10)
        x, opened_at = divmod(x, span)
        x, cents = divmod(x, 4)
        x, dollars = divmod(x, 398)
        x, quantity = divmod(x, 500)
        x, suffix = divmod(x, 36 ** 2)
        x, image = divmod(x, 10 ** 10)
        x, upc = divmod(x, 9 * 10 ** 11)
        x, a1 = divmod(x, 1296)
        x, a2 = divmod(x, 1296)
        x, a3 = divmod(x, 1296)
        x, a4 = divmod(x, 1296)
        x, l1 = divmod(x, 1296)
        x, l2 = divmod(x, 1296)
        x, l3 = divmod(x, 1296)
        brand_name = BRANDS[brand]
        name = f"{brand_name} {PRODUCTS[product]}, {FEATURES[feature]}, {SIZES[size]}, {COLORS[color]}"
        asin = f"B0{pairs[a1]}{pairs[a2]}{pairs[a3]}{pairs[a4]}"
        by_upc, fba = kind < 3, kind >= 6
        opened = datetime.fromtimestamp(OPENED_FROM + opened_at, PACIFIC)
        yield "\t".join((
            name, f"{name}. {SENTENCES[first]} {SENTENCES[second]}", f"{opened:%m%d}Z{pairs[l1]}{pairs[l2]}{pairs[l3]}",
            f"{brand_name[:2].upper()}-{n:07d}-{suffix:03X}", f"{2 + dollars}.{('99', '95', '49', '00')[cents]}",
            "" if fba else str(quantity), opened.strftime("%Y-%m-%d %H:%M:%S %Z"),
            f"https://m.media-amazon.com/images/I/{image:010d}L.jpg" if roll < 80 else "",
            "y", "4" if by_upc else "1", "", NOTES[note], "11" if roll < 95 else str(roll % 4 + 1), "", "", "", asin,
            "", "", "", "", "", f"{10 ** 11 + upc:012d}" if by_upc else asin, "", "",
            "0" if roll < 90 else str(roll % 3 + 1), "AMAZON_NA" if fba else "DEFAULT", SHIPPING_GROUPS[group],
            "Active" if roll < 85 else "Inactive" if roll < 97 else "Incomplete"))


def write_documents(directory: Path, sizes: Iterable[int], plain_rows: int, seed: int = 7) -> dict[int, Path]:
    """One generation pass: a GZIP TSV document per size (the first rows of the largest), plus the gunzipped TSV
    of ``plain_rows`` rows (``listings-N.tsv``). Returns size → ``.tsv.gz`` path; files are written in batches."""
    sizes = sorted(set(sizes))
    paths = {size: directory / f"listings-{size}.tsv.gz" for size in sizes}
    outputs: list[tuple[int, Any]] = [(size, gzip.open(paths[size], "wb", compresslevel=6)) for size in sizes]
    outputs.append((plain_rows, open(directory / f"listings-{plain_rows}.tsv", "wb")))  # noqa: SIM115
    try:
        header = ("\t".join(HEADER) + "\n").encode()
        for _size, out in outputs:
            out.write(header)
        lines = listing_lines(max(sizes + [plain_rows]), seed)
        done = 0
        while batch := [line for _, line in zip(range(BATCH_ROWS), lines, strict=False)]:
            data = ("\n".join(batch) + "\n").encode()
            for size, out in outputs:
                if done < size:
                    upto = min(len(batch), size - done)
                    out.write(data if upto == len(batch) else ("\n".join(batch[:upto]) + "\n").encode())
            done += len(batch)
    finally:
        for _size, out in outputs:
            out.close()
    return paths
