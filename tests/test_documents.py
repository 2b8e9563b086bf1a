"""Report documents: decoding real-world bytes, reading ragged rows, and values in local formats (issue 9 §2-§3)."""

from __future__ import annotations

import gzip
import tracemalloc
import zlib
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sqlspapi.documents import (
    EXTRA,
    RowReader,
    coerce,
    column_name,
    open_document,
    parse_bool,
    parse_decimal,
    parse_int,
    parse_timestamp,
    sql_name,
)

US, UK, DE, JP, IN = "ATVPDKIKX0DER", "A1F83G8C2ARO7P", "A1PA6795UKMFR9", "A1VC38T7YXB528", "A21TJRUUN4KGV"


def read(raw, **kwargs) -> tuple[list[str], object]:
    doc = open_document(raw, **kwargs)
    return list(doc), doc


# --- decoding ---------------------------------------------------------------------------------------------------

def test_gzip_is_decided_by_the_bytes_not_the_label():
    text = "seller-sku\tprice\nA-1\t9.99\n"
    lines, doc = read(gzip.compress(text.encode()), compression=None)  # unlabelled but gzip
    assert lines == ["seller-sku\tprice", "A-1\t9.99"] and doc.gzip
    lines, doc = read(text.encode(), compression="GZIP")  # labelled GZIP, plain text
    assert lines == ["seller-sku\tprice", "A-1\t9.99"] and not doc.gzip and not doc.truncated


def test_gzip_members_chunk_boundaries_and_damage():
    data = gzip.compress(b"a\nb\n") + gzip.compress(b"c\n") + b"\0\0\0"
    chunks = [data[i:i + 1] for i in range(len(data))]  # one byte at a time: magic split over chunks
    lines, doc = read(chunks)
    assert lines == ["a", "b", "c"] and not doc.truncated
    full = gzip.compress(b"x\ty\n" * 1000)
    lines, doc = read(full[: len(full) // 2])
    assert doc.truncated and "ended early" in doc.notice()
    lines, doc = read(full[:10] + b"\xff" * 50)
    assert doc.truncated and lines == []


def test_already_decompressed_download_is_not_decompressed_twice():
    # Content-Encoding: gzip was undone by the HTTP library; compressionAlgorithm still says GZIP
    lines, doc = read([b"item-name\n", b"caf\xc3\xa9\n"], compression="GZIP", content_type="text/plain;charset=UTF-8")
    assert lines == ["item-name", "café"] and not doc.gzip


@pytest.mark.parametrize(("charset", "codec"), [
    ("Cp1252", "cp1252"), ("Windows-31J", "cp932"), ("Shift_JIS", "cp932"), ("x-sjis", "cp932"), ("UTF8", "utf-8"),
    ("ISO8859_1", "iso8859-1"), ("\"UTF-8\"", "utf-8"), ("EUC-JP", "euc_jp"),
])
def test_java_charset_names(charset, codec):
    doc = open_document(b"x", content_type=f"text/plain; charset={charset}")
    assert (doc.encoding, doc.encoding_source, doc.declared_charset) == (codec, "content-type", charset.strip('"'))


def test_cp932_only_characters_in_a_japanese_listing():
    raw = "商品名\t出品者SKU\n①髙～テスト\tSKU-1\n".encode("cp932")
    for content_type in ("text/plain;charset=Shift_JIS", "text/plain;charset=Windows-31J", None):
        lines, doc = read(raw, content_type=content_type, marketplace_id=JP)
        assert lines[1] == "①髙～テスト\tSKU-1" and doc.replacements == 0 and doc.notice() is None


def test_cp1252_text_mislabelled_and_unlabelled():
    raw = "item-name\nCaf\u00e9 \u20ac5 \u2013 \u201cquoted\u201d\n".encode("cp1252")
    lines, _ = read(raw, content_type="text/plain;charset=Cp1252")
    assert lines[1] == "Café €5 – “quoted”"
    lines, doc = read(raw, marketplace_id=DE, report_type="GET_MERCHANT_LISTINGS_ALL_DATA")  # EU listings fallback
    assert lines[1] == "Café €5 – “quoted”" and doc.encoding == "cp1252" and doc.encoding_source == "fallback"
    lines, doc = read(raw, content_type="text/plain;charset=UTF-8")  # mislabelled: replaced and counted, no crash
    assert lines[1] == "Caf\ufffd \ufffd5 \ufffd \ufffdquoted\ufffd" and doc.replacements == 5
    assert "5 byte sequence(s)" in doc.notice() and "utf-8" in doc.notice()


def test_fallbacks_bom_and_unknown_charset():
    assert open_document(b"x", marketplace_id=JP).encoding == "cp932"
    assert open_document(b"x", marketplace_id=US, report_type="GET_MERCHANT_LISTINGS_ALL_DATA").encoding == "utf-8"
    assert open_document(b"x", marketplace_id=DE, report_type="GET_FLAT_FILE_ALL_ORDERS_DATA").encoding == "utf-8"
    lines, doc = read(b"\xef\xbb\xbfseller-sku\r\nA\r\n", content_type="text/plain;charset=Cp1252")
    assert lines == ["seller-sku", "A"] and (doc.encoding, doc.encoding_source) == ("utf-8", "bom")
    lines, doc = read("\ufeffa\tb\r\nc\td\n".encode("utf-16-le"))
    assert lines == ["a\tb", "c\td"] and doc.encoding == "utf-16-le"
    lines, doc = read("é\n".encode(), content_type="text/plain; charset=x-no-such-charset", marketplace_id=US)
    assert lines == ["é"] and doc.encoding_source == "fallback"
    lines, doc = read("a\nb".encode("utf-16-be"), content_type="text/plain; charset=UTF-16")  # no BOM: big-endian
    assert lines == ["a", "b"] and doc.encoding == "utf-16-be"


def test_a_document_reads_once():
    doc = open_document(b"a\n")
    assert list(doc) == ["a"]
    with pytest.raises(RuntimeError):
        list(doc)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300), st.sampled_from([None, "text/plain;charset=UTF-8", "text/plain;charset=Cp1252",
                                                 "text/plain;charset=Shift_JIS", "text/plain;charset=UTF-16"]),
       st.integers(1, 7), st.booleans())
def test_decoding_never_raises_on_random_bytes(raw, content_type, step, compress):
    data = gzip.compress(raw) if compress else raw
    lines, doc = read([data[i:i + step] for i in range(0, len(data), step)], content_type=content_type,
                      marketplace_id=JP)
    assert all("\n" not in line for line in lines) and doc.replacements >= 0


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(alphabet=st.characters(exclude_characters="\r\n", exclude_categories=("Cs",))), max_size=8),
       st.integers(1, 9))
def test_utf8_lines_round_trip_over_any_chunking(lines, step):
    data = "".join(line + "\n" for line in lines).encode()
    decoded, doc = read([data[i:i + step] for i in range(0, len(data), step)])
    if lines and lines[0].startswith("\ufeff"):
        lines = [lines[0][1:], *lines[1:]]
    assert decoded == lines and doc.replacements == 0


def test_a_large_gzip_document_streams_in_bounded_memory():
    row = "Some item name that is long enough\tSKU-{:07d}\t19,99\t5\t29/09/2025 16:19:39 BST\ty\n"
    rows, per_chunk = 200_000, 2_000
    size = 0

    def download():
        nonlocal size
        compressor = zlib.compressobj(6, zlib.DEFLATED, 31)
        yield compressor.compress(b"item-name\tseller-sku\tprice\tquantity\topen-date\tflag\n")
        for start in range(0, rows, per_chunk):
            block = "".join(row.format(n) for n in range(start, start + per_chunk)).encode()
            size += len(block)
            yield compressor.compress(block)
        yield compressor.flush()

    tracemalloc.start()
    try:
        count = sum(1 for _ in RowReader(open_document(download(), marketplace_id=UK)))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert count == rows and size > 15_000_000
    assert peak < 2_000_000, f"peak {peak} bytes for a {size}-byte document"


# --- headers and rows ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("header", "name"), [
    ("seller-sku", "seller_sku"), ("item-name", "item_name"), ("Item Name", "item_name"), ("  Date ", "date"),
    ("Unreconciled Quantity", "unreconciled_quantity"), ("posted-date-time", "posted_date_time"),
    ("price (EUR) / unit", "price_eur_unit"), ("--a--b--", "a_b"), ("Händler-SKU", "händler_sku"), ("", ""),
])
def test_header_rule(header, name):
    assert sql_name(header) == name


@pytest.mark.parametrize(("header", "name"), [
    ("出品者SKU", "seller_sku"), ("商品名", "item_name"), ("フルフィルメント・チャンネル", "fulfillment_channel"),
    ("Händler-SKU", "seller_sku"), ("sku-vendeur", "seller_sku"), ("Produkt-ID", "product_id"), ("ASIN 1", "asin1"),
    ("seller-sku", "seller_sku"), ("brand-new-column", "brand_new_column"),
])
def test_localized_headers_map_to_the_english_names(header, name):
    assert column_name(header) == name


def test_ragged_rows_trailing_tabs_and_blank_lines():
    lines = ["seller-sku\tprice\tquantity\t", "", "A\t1.00\t3", "B\t2.00", "C\t3.00\t4\t\t", "D\t4.00\t5\tx\t\ty", "  "]
    reader = RowReader(lines)
    assert reader.columns == ("seller_sku", "price", "quantity")
    rows = list(reader)
    assert rows == [
        {"seller_sku": "A", "price": "1.00", "quantity": "3", EXTRA: None},
        {"seller_sku": "B", "price": "2.00", "quantity": None, EXTRA: None},
        {"seller_sku": "C", "price": "3.00", "quantity": "4", EXTRA: None},
        {"seller_sku": "D", "price": "4.00", "quantity": "5",
         EXTRA: {"column_4": "x", "column_5": "", "column_6": "y"}},
    ]
    assert (reader.short_rows, reader.long_rows) == (1, 1)


def test_header_drift_against_known_columns():
    lines = ["amazon-order-id\tcpf\tsku\tsignature-confirmation-recommended", "111-1\t123\tS1\tfalse"]
    reader = RowReader(lines, known=["amazon_order_id", "sku", "item_price"])
    assert reader.unknown == ("cpf", "signature_confirmation_recommended") and reader.missing == ("item_price",)
    assert list(reader) == [{"amazon_order_id": "111-1", "sku": "S1", "item_price": None,
                             EXTRA: {"cpf": "123", "signature_confirmation_recommended": "false"}}]


def test_tsv_quotes_are_data_and_csv_quotes_are_quoting():
    assert list(RowReader(['name\tsize', '12" pizza\t"big']))[0] == {"name": '12" pizza', "size": '"big', EXTRA: None}
    rows = list(RowReader(['name,note', '"Smith, J","line one', 'line two"', 'plain,"a ""q"""'], delimiter=","))
    assert rows == [{"name": "Smith, J", "note": "line one\nline two", EXTRA: None},
                    {"name": "plain", "note": 'a "q"', EXTRA: None}]


def test_duplicate_blank_and_reserved_headers_get_distinct_names():
    reader = RowReader(["sku\tSKU\t\textra\tprice", "a\tb\tc\td\te"])
    assert reader.columns == ("sku", "sku_2", "column_3", "extra_2", "price")
    assert list(reader)[0] == {"sku": "a", "sku_2": "b", "column_3": "c", "extra_2": "d", "price": "e", EXTRA: None}


def test_an_empty_document_has_no_columns_and_no_rows():
    reader = RowReader(open_document(b""))
    assert reader.columns == () and list(reader) == []


cell = st.text(alphabet=st.characters(exclude_characters="\t\r\n", exclude_categories=("Cs",)), max_size=5)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.text(alphabet="abcXYZ -", min_size=1, max_size=6), min_size=1, max_size=5),
       st.lists(st.lists(cell, min_size=1, max_size=8), max_size=6))
def test_the_row_reader_never_loses_a_cell(header, records):
    lines = ["\t".join(header) + "\tend", *("\t".join(record) for record in records)]
    reader = RowReader(lines)
    kept = [record for record in records if "\t".join(record).strip()]
    rows = list(reader)
    assert len(rows) == len(kept)
    for record, row in zip(kept, rows, strict=True):
        values = [row[name] for name in reader.columns] + list((row[EXTRA] or {}).values())
        non_empty = [value for value in values if value]
        assert non_empty == [value for value in record if value]


# --- values -------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "kwargs", "expected"), [
    ("29/09/2025 16:19:39 BST", {"marketplace_id": UK}, "2025-09-29T15:19:39Z"),
    ("15/01/2025 16:19:39 GMT", {}, "2025-01-15T16:19:39Z"),
    ("05/01/2025 16:19:39 GMT", {"marketplace_id": UK}, "2025-01-05T16:19:39Z"),
    ("05/01/2025 16:19:39 CET", {"marketplace_id": DE}, "2025-01-05T15:19:39Z"),
    ("05.07.2025 16:19:39 MESZ", {"marketplace_id": DE}, "2025-07-05T14:19:39Z"),
    ("2019-06-17 14:24:11 PDT", {"marketplace_id": US}, "2019-06-17T21:24:11Z"),
    ("2019-12-17 14:24:11 PST", {}, "2019-12-17T22:24:11Z"),
    ("2017-06-17T08:04:21+00:00", {}, "2017-06-17T08:04:21Z"),
    ("2017-06-17T08:04:21-07:00", {}, "2017-06-17T15:04:21Z"),
    ("2017-06-17T08:04:21+0530", {}, "2017-06-17T02:34:21Z"),
    ("2017-06-17T08:04:21.25Z", {}, "2017-06-17T08:04:21.250000Z"),
    ("2025-06-09 05:23:19 UTC", {}, "2025-06-09T05:23:19Z"),
    ("2025-06-09 05:23:19 GMT+01:00", {}, "2025-06-09T04:23:19Z"),
    ("2025/06/09 14:00:00 JST", {"marketplace_id": JP}, "2025-06-09T05:00:00Z"),
    ("2025-06-09 14:00:00 IST", {"marketplace_id": IN}, "2025-06-09T08:30:00Z"),
    ("Jun 9 2025", {}, None),
    ("06/09/2025", {"style": "mdy"}, "2025-06-09"),
    ("06/09/2025", {"marketplace_id": US}, "2025-06-09"),
    ("06/09/2025", {"marketplace_id": UK}, "2025-09-06"),
    ("09/06/25", {"style": "dmy"}, "2025-06-09"),
    ("06/2025", {}, "2025-06"),
    ("2025-06-09", {}, "2025-06-09"),
    ("6/9/2025 5:23:19 PM PT", {"marketplace_id": US}, "2025-06-10T00:23:19Z"),
    ("2025-01-09 12:00:00 AM ET", {}, "2025-01-09T05:00:00Z"),
    ("2025-07-01 10:00:00", {"marketplace_id": UK}, "2025-07-01T09:00:00Z"),  # no zone: the marketplace's zone
    ("2025-07-01 10:00:00", {}, "2025-07-01T10:00:00Z"),
])
def test_local_timestamp_formats(text, kwargs, expected):
    value, ok = coerce("timestamp", text, **kwargs)
    assert (value, ok) == ((expected, True) if expected else (text, False))


@pytest.mark.parametrize("text", [
    "2025-06-09 05:23:19 XYZ",  # unknown abbreviation: never guessed
    "2025-06-09 05:23:19 IST",  # ambiguous without an Indian or Irish marketplace
    "06/09/2025",  # ambiguous day/month without marketplace or style
    "31/31/2025", "2025-02-30 10:00:00", "13:00:00", "2025-06-09 13:00:00 PM", "2025-06-09 UTC",
])
def test_unreadable_timestamps_stay_text(text):
    assert coerce("timestamp", text) == (text, False)
    with pytest.raises(ValueError):
        parse_timestamp(text)


def test_blank_cells_are_null():
    for kind in ("integer", "decimal", "boolean", "timestamp"):
        for text in ("", "  ", None):
            assert coerce(kind, text) == (None, True)
    assert coerce("text", "") == ("", True)


instants = st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2099, 12, 31),
                        timezones=st.just(UTC)).map(lambda dt: dt.replace(microsecond=0))


@settings(max_examples=200, deadline=None)
@given(instants, st.sampled_from([("BST", 1), ("PDT", -7), ("PST", -8), ("JST", 9), ("CEST", 2), ("UTC", 0)]),
       st.sampled_from(["%d/%m/%Y %H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S"]))
def test_a_formatted_instant_round_trips(instant, zone, layout):
    abbr, hours = zone
    text = (instant + timedelta(hours=hours)).strftime(layout) + f" {abbr}"
    expected = instant.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert parse_timestamp(text, marketplace_id=UK) == expected
    assert parse_timestamp((instant + timedelta(hours=hours)).strftime("%m/%d/%Y %I:%M:%S %p") + f" {abbr}",
                           style="mdy") == expected


@pytest.mark.parametrize(("text", "marketplace", "expected"), [
    ("95,00", DE, "95.00"), ("1.234,56", DE, "1234.56"), ("1.234", DE, "1234"), ("-12,5", DE, "-12.5"),
    ("1 234,56 €", "A13V1IB3VIYZZH", "1234.56"), ("€12,50", None, "12.50"), ("R$ 1.234,56", None, "1234.56"),
    ("1,234.56", US, "1234.56"), ("1,234", US, "1234"), ("$1,234,567.89", None, "1234567.89"), ("-$3.00", US, "-3.00"),
    ("$-3.00", US, "-3.00"), ("(12.50)", US, "-12.50"), ("12.50-", None, "-12.50"), ("£0.99", UK, "0.99"),
    ("1,23,456.00", IN, "123456.00"), ("EUR 5,00", DE, "5.00"), ("19.99 USD", US, "19.99"),
    ("1'234.50", None, "1234.50"), ("￥1,500", JP, "1500"), ("0", None, "0"),
])
def test_decimals(text, marketplace, expected):
    value = parse_decimal(text, marketplace_id=marketplace)
    assert value == Decimal(expected) and str(value) == expected


@pytest.mark.parametrize("text", ["abc", "12R", "1,2,3.4.5", "1..2", "$", "--5", "1e5", "N.A."])
def test_unreadable_numbers_stay_text(text):
    assert coerce("decimal", text) == (text, False)
    assert coerce("integer", text) == (text, False)


@settings(max_examples=200, deadline=None)
@given(st.decimals(min_value=-10**9, max_value=10**9, places=2, allow_nan=False))
def test_decimal_comma_round_trips(number):
    us = f"{number:,.2f}"
    de = us.replace(",", " ").replace(".", ",").replace(" ", ".")
    assert parse_decimal(us, marketplace_id=US) == number
    assert parse_decimal(de, marketplace_id=DE) == number


def test_integers_and_booleans():
    assert [parse_int(t) for t in ("5", " 1,234 ", "5.0", "-3", "")] == [5, 1234, 5, -3, None]
    assert coerce("integer", "2.5") == ("2.5", False)
    assert [parse_bool(t) for t in ("y", "N", "true", "FALSE", "Yes", "no", "1", "0", " ")] == [
        True, False, True, False, True, False, True, False, None]
    assert coerce("boolean", "maybe") == ("maybe", False)
    with pytest.raises(KeyError):
        coerce("colour", "red")


def test_a_uk_listing_end_to_end():
    raw = gzip.compress(("item-name\tseller-sku\tprice\tquantity\topen-date\twill-ship-internationally\n"
                         "Tea \u2013 100 bags\tT-1\t4,99\t12\t29/09/2025 16:19:39 BST\ty\n"
                         "Mug\tM-1\tn/a\ta few\t01/02/2025 08:00:00 GMT\n").encode("cp1252"))
    doc = open_document(raw, content_type="text/plain;charset=Cp1252", compression=None, marketplace_id=UK)
    kinds = {"price": "decimal", "quantity": "integer", "open_date": "timestamp",
             "will_ship_internationally": "boolean"}
    typed, bad = [], 0
    for row in RowReader(doc):
        out = dict(row)
        for name, kind in kinds.items():
            out[name], ok = coerce(kind, row[name], marketplace_id=UK)
            bad += not ok
        typed.append(out)
    assert typed[0] == {"item_name": "Tea – 100 bags", "seller_sku": "T-1", "price": Decimal("4.99"), "quantity": 12,
                        "open_date": "2025-09-29T15:19:39Z", "will_ship_internationally": True, EXTRA: None}
    assert typed[1]["price"] is None and typed[1]["open_date"] == "2025-02-01T08:00:00Z"
    assert typed[1]["quantity"] == "a few" and bad == 1  # kept as text, counted
    assert typed[1]["will_ship_internationally"] is None  # a short row: padded with NULL


_CELLS = st.one_of(
    st.text(max_size=30),
    st.from_regex(r"-?\d{1,20}(\.\d{1,14})?", fullmatch=True),
    st.from_regex(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}( ?[A-Z]{2,4}|[+-]\d{2}:\d{2}|Z)?", fullmatch=True),
    st.sampled_from(["y", "N", "Yes", "no", "TRUE", "False", "t", "1", "0", "", " ", "-", "n/a", "1.234", "95,00",
                     "1.234,56", "2019-06-17 14:24:11 PDT", "2019-02-30 10:00:00 PST", "2025-09-29T16:19:39+01:00",
                     "2025-09-29T16:19:39Z", "2019-06-17 14:24:11 IST", "007", "-12", "12.50"]),
)


@settings(max_examples=400, deadline=None)
@given(kind=st.sampled_from(["integer", "decimal", "boolean", "timestamp", "text"]), text=_CELLS,
       marketplace=st.sampled_from([None, "ATVPDKIKX0DER", "A1PA6795UKMFR9", "A1F83G8C2ARO7P", "A21TJRUUN4KGV"]),
       style=st.sampled_from([None, "dmy", "mdy"]))
def test_the_cell_reader_answers_as_coerce_does(kind, text, marketplace, style):
    """The fast paths of CellReader never change an answer: value and readability equal coerce's."""
    from sqlspapi.documents.values import CellReader, coerce

    expected = coerce(kind, text, marketplace_id=marketplace, style=style)
    assert CellReader(marketplace, style).read(kind, text) == expected
    value, ok = CellReader(marketplace, style, exact=False).read(kind, text)
    assert ok == expected[1]
    assert value == (float(expected[0]) if isinstance(expected[0], Decimal) else expected[0])
