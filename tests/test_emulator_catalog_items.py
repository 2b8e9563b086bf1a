"""The emulator's Catalog Items API (2022-04-01 and 2020-12-01) over real HTTP — keyword and identifier searches,
paging, includedData, brand and classification filters, getCatalogItem, variation families — and
``Emulator.export`` agreeing with what paging through the API returns."""

from __future__ import annotations

import pytest
from emu_helpers import api_bad as bad
from emu_helpers import api_get as get
from emu_helpers import api_ok as ok
from emulator_http import ANCHOR, DE, JP, UK, US

from sqlspapi.emulator.catalog import PARTS_2020_GET, PARTS_2020_SEARCH, PARTS_2022
from sqlspapi.emulator.pools import BRANDS, MARKETS

#: The emulator the module's ``emu`` fixture (tests/conftest.py) starts: 500 orders anchored at :data:`ANCHOR`.
EMULATOR = {"orders": 500, "anchor": ANCHOR}
C22, C20 = "/catalog/2022-04-01/items", "/catalog/2020-12-01/items"


def scan_catalog(emu, tok, path, **params) -> tuple[list[dict], dict]:
    first = body = ok(get(emu, tok, path, **params))
    items = list(body["items"])
    while body.get("pagination", {}).get("nextToken"):
        body = ok(get(emu, tok, path, pageToken=body["pagination"]["nextToken"], **params))
        items.extend(body["items"])
    return items, first


# -- Catalog Items 2022-04-01 --------------------------------------------------------------------------------------
def test_keyword_search_stops_at_1000_with_the_true_total(emu, tok):
    items, first = scan_catalog(emu, tok, C22, keywords="usb", marketplaceIds=US, pageSize=20)
    assert first["numberOfResults"] > 1000
    assert len(items) == 1000
    assert len({i["asin"] for i in items}) == 1000
    assert all("usb" in i["summaries"][0]["itemName"].lower() for i in items)
    assert {b["brandName"] for b in first["refinements"]["brands"]} == set(BRANDS)
    assert sum(b["numberOfResults"] for b in first["refinements"]["brands"]) == first["numberOfResults"]


def test_page_size_default_max_and_previous_token(emu, tok):
    body = ok(get(emu, tok, C22, keywords="usb", marketplaceIds=US))
    assert len(body["items"]) == 10 and "previousToken" not in body["pagination"]
    second = ok(get(emu, tok, C22, keywords="usb", marketplaceIds=US, pageToken=body["pagination"]["nextToken"]))
    back = ok(get(emu, tok, C22, keywords="usb", marketplaceIds=US,
                  pageToken=second["pagination"]["previousToken"]))
    assert back["items"] == body["items"]
    bad(get(emu, tok, C22, keywords="usb", marketplaceIds=US, pageSize=21), "pageSize", "20")
    bad(get(emu, tok, C22, keywords="usb", marketplaceIds=US, pageSize="ten"), "pageSize", "integer")
    bad(get(emu, tok, C22, keywords="usb", marketplaceIds=DE, pageToken=body["pagination"]["nextToken"]),
        "pageToken", "same parameters")


def test_included_data_only_the_parts_asked(emu, tok):
    (item,) = ok(get(emu, tok, C22, keywords="mouse", marketplaceIds=US, brandNames="Brightline", pageSize=1))["items"]
    assert set(item) == {"asin", "summaries"}
    (item,) = ok(get(emu, tok, C22, keywords="mouse", marketplaceIds=US, pageSize=1,
                     includedData="images,salesRanks"))["items"]
    assert set(item) == {"asin", "images", "salesRanks"}
    (item,) = ok(get(emu, tok, C22, keywords="マウス", marketplaceIds=JP, pageSize=1,
                     includedData=",".join(PARTS_2022)))["items"]
    assert set(item) == {"asin", *PARTS_2022}
    assert item["summaries"][0]["marketplaceId"] == JP and item["attributes"]["item_name"][0]["marketplace_id"] == JP
    bad(get(emu, tok, C22, keywords="mouse", marketplaceIds=US, includedData="everything"), "includedData")


def test_identifier_searches_join_the_products(emu, tok):
    products = emu.dataset.products
    asins = [p.asin for p in products[:20]]
    body = ok(get(emu, tok, C22, identifiers=",".join(asins), identifiersType="ASIN", marketplaceIds=US,
                  pageSize=20, includedData="identifiers,summaries"))
    assert [i["asin"] for i in body["items"]] == asins
    ean = next(x["identifier"] for x in body["items"][3]["identifiers"][0]["identifiers"]
               if x["identifierType"] == "EAN")
    by_ean = ok(get(emu, tok, C22, identifiers=ean, identifiersType="EAN", marketplaceIds=US))
    assert [i["asin"] for i in by_ean["items"]] == [asins[3]]
    skus = ok(get(emu, tok, C22, identifiers=f"{products[5].sku},NOPE", identifiersType="SKU",
                  sellerId=emu.seller_id, marketplaceIds=DE))
    assert [i["asin"] for i in skus["items"]] == [products[5].asin]
    assert ok(get(emu, tok, C22, identifiers=products[5].sku, identifiersType="SKU", sellerId="OTHER",
                  marketplaceIds=DE))["numberOfResults"] == 0
    bad(get(emu, tok, C22, identifiers=products[5].sku, identifiersType="SKU", marketplaceIds=DE), "sellerId")
    bad(get(emu, tok, C22, identifiers=asins[0], marketplaceIds=US), "identifiersType")
    bad(get(emu, tok, C22, identifiers=asins[0], identifiersType="ASIN", keywords="usb", marketplaceIds=US))
    bad(get(emu, tok, C22, identifiers=asins[0], identifiersType="ASIN", brandNames="Voltix", marketplaceIds=US),
        "brandNames")
    bad(get(emu, tok, C22, marketplaceIds=US), "keywords")
    bad(get(emu, tok, C22, identifiers=",".join(f"B0{n:08d}" for n in range(21)), identifiersType="ASIN",
            marketplaceIds=US), "identifiers", "20")
    bad(get(emu, tok, C22, keywords="usb", marketplaceIds=f"{US},{DE}"), "marketplaceIds", "1")
    bad(get(emu, tok, C22, keywords="usb", marketplaceIds="XX"), "marketplaceIds")


def test_brand_and_classification_filters(emu, tok):
    items, first = scan_catalog(emu, tok, C22, keywords="usb", brandNames="voltix,Trailhead", marketplaceIds=UK,
                                pageSize=20)
    assert {i["summaries"][0]["brand"] for i in items} == {"Voltix", "Trailhead"}
    assert len(items) == first["numberOfResults"] < 1000
    hubs, _ = scan_catalog(emu, tok, C22, keywords="usb", classificationIds="516866", marketplaceIds=UK, pageSize=20)
    assert hubs and all(i["summaries"][0]["browseClassification"]["classificationId"] == "516866" for i in hubs)
    electronics, _ = scan_catalog(emu, tok, C22, keywords="usb", classificationIds="172282", marketplaceIds=UK,
                                  pageSize=20)
    assert len(electronics) > len(hubs)  # ancestors match too


def test_get_catalog_item(emu, tok):
    product = emu.dataset.products[7]
    body = ok(get(emu, tok, f"{C22}/{product.asin}", marketplaceIds=f"{US},{DE}", includedData="summaries"))
    assert body["asin"] == product.asin
    assert [s["marketplaceId"] for s in body["summaries"]] == [US, DE]
    assert [s["itemName"] for s in body["summaries"]] == [product.titles["en"], product.titles["de"]]
    r = get(emu, tok, f"{C22}/B000000000", marketplaceIds=US)
    assert r.status_code == 404 and r.json()["errors"][0]["code"] == "NotFound"
    bad(get(emu, tok, f"{C22}/{product.asin}"), "marketplaceIds")


def test_variation_family(emu, tok):
    child = emu.dataset.products[0]
    body = ok(get(emu, tok, f"{C22}/{child.asin}", marketplaceIds=US, includedData="relationships,summaries"))
    (rel,) = body["relationships"][0]["relationships"]
    parent = ok(get(emu, tok, f"{C22}/{rel['parentAsins'][0]}", marketplaceIds=US,
                    includedData="relationships,summaries"))
    assert parent["summaries"][0]["itemClassification"] == "VARIATION_PARENT"
    assert parent["relationships"][0]["relationships"][0]["childAsins"] == [p.asin for p in emu.dataset.products[:3]]


# -- Catalog Items 2020-12-01 --------------------------------------------------------------------------------------
def test_catalog_2020_shape_and_rules(emu, tok):
    body = ok(get(emu, tok, C20, keywords="ヘッドホン", marketplaceIds=JP, includedData=",".join(PARTS_2020_SEARCH)))
    assert body["pagination"] == {} and body["refinements"]["brands"]
    item = body["items"][0]
    assert set(item) == {"asin", *PARTS_2020_SEARCH}
    summary = item["summaries"][0]
    assert {"brandName", "browseNode", "itemName"} <= set(summary) and "brand" not in summary
    assert item["variations"][0]["variationType"] == "CHILD"
    full = ok(get(emu, tok, f"{C20}/{item['asin']}", marketplaceIds=JP, includedData=",".join(PARTS_2020_GET)))
    assert set(full) == {"asin", *PARTS_2020_GET}
    bad(get(emu, tok, C20, marketplaceIds=JP), "keywords")
    bad(get(emu, tok, C20, keywords="usb", marketplaceIds=JP, includedData="attributes"), "includedData")
    assert emu.calls.count("searchCatalogItems2020") >= 3 and emu.calls.count("getCatalogItem2020") == 1


def test_catalog_export_agrees_with_the_api(emu, tok):
    for version, path, parts in (("2022-04-01", C22, PARTS_2022), ("2020-12-01", C20, PARTS_2020_SEARCH)):
        exported = emu.export("searchCatalogItems", version)
        assert len(exported) % len(MARKETS) == 0
        mine = {row["asin"]: row for row, query, path_params in exported if query == {"marketplaceIds": [JP]}}
        assert all(path_params == {} for _, _, path_params in exported)
        seen: dict[str, dict] = {}
        brands = BRANDS if version == "2022-04-01" else BRANDS[:1]
        for brand in brands:  # every item's brand is searchable: the brands partition the catalog
            items, first = scan_catalog(emu, tok, path, keywords=brand, marketplaceIds=JP, pageSize=20,
                                        includedData=",".join(parts))
            assert len(items) == first["numberOfResults"] < 1000
            seen.update((i["asin"], i) for i in items)
        assert seen == (mine if brands == BRANDS else {a: mine[a] for a in seen})
    got = emu.export("getCatalogItem", "2022-04-01")
    row, query, path_params = got[0]
    assert set(row) == {"asin", *PARTS_2022} and path_params == {"asin": row["asin"]}
    assert ok(get(emu, tok, f"{C22}/{row['asin']}", includedData=",".join(PARTS_2022), **query)) == row
    with pytest.raises(ValueError, match="version"):
        emu.export("searchCatalogItems")

