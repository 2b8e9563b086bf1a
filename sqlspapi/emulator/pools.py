"""Static word pools and marketplace facts the emulator's data generator draws from."""

from __future__ import annotations

from dataclasses import dataclass

#: The demo seller's merchant token (``sellerId`` of Catalog SKU searches; the Sellers API does not return it; LWA's
#: authorization-code grant names it as ``selling_partner_id``).
SELLER_ID = "A1EMULATORDEMO"


@dataclass(frozen=True)
class Market:
    """A marketplace the demo seller sells in."""

    key: str  # US, CA, DE, UK, JP
    id: str
    name: str
    country_code: str  # ISO 3166-1 alpha-2 (UK -> GB)
    currency: str
    decimals: int
    language: str
    domain: str
    sales_channel: str
    email_domain: str
    tax_inclusive: bool
    price_factor: float  # USD -> local currency


MARKETS: tuple[Market, ...] = (
    Market("US", "ATVPDKIKX0DER", "Amazon.com", "US", "USD", 2, "en_US", "www.amazon.com", "Amazon.com",
           "marketplace.amazon.com", False, 1.0),
    Market("CA", "A2EUQ1WTGCTBG2", "Amazon.ca", "CA", "CAD", 2, "en_CA", "www.amazon.ca", "Amazon.ca",
           "marketplace.amazon.ca", False, 1.36),
    Market("DE", "A1PA6795UKMFR9", "Amazon.de", "DE", "EUR", 2, "de_DE", "www.amazon.de", "Amazon.de",
           "marketplace.amazon.de", True, 0.93),
    Market("UK", "A1F83G8C2ARO7P", "Amazon.co.uk", "GB", "GBP", 2, "en_GB", "www.amazon.co.uk", "Amazon.co.uk",
           "marketplace.amazon.co.uk", True, 0.79),
    Market("JP", "A1VC38T7YXB528", "Amazon.co.jp", "JP", "JPY", 0, "ja_JP", "www.amazon.co.jp", "Amazon.co.jp",
           "marketplace.amazon.co.jp", True, 150.0),
)
MARKET_WEIGHTS = (50, 10, 15, 15, 10)
MARKETS_BY_ID = {m.id: m for m in MARKETS}

#: Every marketplace ID Amazon publishes (a getOrders request naming anything else is rejected).
KNOWN_MARKETPLACE_IDS = frozenset({
    "A2EUQ1WTGCTBG2", "ATVPDKIKX0DER", "A1AM78C64UM0Y8", "A2Q3Y263D00KWC", "A28R8C7NBKEWEA", "A1RKKUPIHCS9HS",
    "A1F83G8C2ARO7P", "A13V1IB3VIYZZH", "AMEN7PMS3EDWL", "A1805IZSGTT6HS", "A1PA6795UKMFR9", "APJ6JRA9NG5V4",
    "A2NODRKZP88ZB9", "AE08WJ6YKNBMC", "A1C3SOZRARQ6R3", "ARBP9OOSHTCHU", "A33AVAJ2PDY3EV", "A17E79C6D8DWNP",
    "A2VIGQ35RCS4UG", "A21TJRUUN4KGV", "A19VAU5U5O7RUS", "A39IBJ37TRP1C6", "A1VC38T7YXB528",
})

#: Order id prefixes by marketplace (3-7-7 format).
ORDER_PREFIXES = {"US": (111, 112, 113, 114), "CA": (701, 702), "DE": (302, 303, 304, 305, 306),
                  "UK": (202, 203, 204, 205, 206), "JP": (249, 250, 503)}

#: (English title, German title, Japanese title, USD price in cents)
PRODUCTS: tuple[tuple[str, str, str, int], ...] = (
    ("Stainless Steel Water Bottle", "Edelstahl-Trinkflasche", "ステンレス水筒", 1999),
    ("Café Espresso Cups, set of 4", "Espressotassen für Café, 4er-Set", "エスプレッソカップ 4個セット", 2450),
    ("Crème Brûlée Torch", "Crème-brûlée-Brenner", "クレームブリュレ用バーナー", 2899),
    ("Kitchen Scale, digital", "Digitale Küchenwaage", "デジタルキッチンスケール", 1599),
    ("USB-C Charging Cable 2 m", "USB-C-Ladekabel 2 m, geflochten", "USB-C 充電ケーブル 2m", 899),
    ("Wireless Mouse, silent", "Kabellose Maus, geräuschlos", "ワイヤレスマウス 静音", 1799),
    ("Yoga Mat, non-slip", "Yogamatte, rutschfest (Größe L)", "ヨガマット 滑り止め", 2999),
    ("Garden Hose Nozzle", "Gartenschlauch-Düse aus Messing", "ガーデンホース ノズル", 1299),
    ("LED Desk Lamp", "LED-Schreibtischlampe, dimmbar", "LEDデスクライト", 3499),
    ("Notebook A5, dotted", "Notizbuch A5, gepunktet — Ökopapier", "A5 ドット方眼ノート", 749),
    ("Fountain Pen, fine nib", "Füllfederhalter, feine Feder", "万年筆 細字", 4200),
    ("Matcha Whisk (Chasen)", "Matcha-Besen (Chasen)", "茶筅 抹茶用", 1650),
    ("Cast Iron Skillet 26 cm", "Gusseisenpfanne 26 cm", "鋳鉄スキレット 26cm", 3999),
    ("Bluetooth Speaker, waterproof", "Bluetooth-Lautsprecher, wasserdicht", "防水 Bluetooth スピーカー", 4999),
    ("Piñata Party Set", "Piñata-Partyset für Kinder", "ピニャータ パーティーセット", 2199),
    ("Noise-cancelling Headphones", "Kopfhörer mit Geräuschunterdrückung", "ノイズキャンセリング ヘッドホン", 12999),
    ("Phone Stand, aluminium", "Handyständer aus Aluminium", "スマホスタンド アルミ", 1399),
    ("Backpack 20 L", "Rucksack 20 l, für Damen & Herren", "リュックサック 20L", 5499),
    ("Tea Kettle, 1.7 L", "Wasserkocher 1,7 l, Edelstahl", "電気ケトル 1.7L", 3299),
    ("Puzzle 1000 pieces — Zürich", "Puzzle 1000 Teile – Zürich", "ジグソーパズル 1000ピース 日本の風景", 1899),
)
VARIANTS = (("Black", "Schwarz", "ブラック"), ("White", "Weiß", "ホワイト"), ("Blue", "Blau", "ブルー"))

FIRST_LAST: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "US": (("James", "Mary", "José", "Chloé", "Zoë", "Michael", "Aisha", "Renée"),
           ("Smith", "García", "Johnson", "O'Brien", "Nguyen", "Müller", "Šimon", "Brown")),
    "CA": (("Émilie", "Liam", "François", "Olivia", "Noah", "Hélène"),
           ("Tremblay", "Gagnon", "Roy", "Côté", "Wilson", "Bouchard")),
    "DE": (("Jürgen", "Anna", "Lukas", "Sophie", "Björn", "Zoë", "Tomáš"),
           ("Müller", "Schmidt", "Schäfer", "Weiß", "Großmann", "Šimon", "Köhler")),
    "UK": (("Oliver", "Amelia", "Siân", "Harry", "Ciarán", "Isla"),
           ("Smith", "Jones", "Williams", "Taylor", "Ó Súilleabháin", "Davies")),
}
JP_NAMES = ("山田 太郎", "佐藤 花子", "鈴木 一郎", "高橋 美咲", "田中 健", "渡辺 さくら", "伊藤 翔")

#: (city, state/region, postal code template: # = random digit, @ = random capital letter)
PLACES: dict[str, tuple[tuple[str, str, str], ...]] = {
    "US": (("Seattle", "WA", "981##"), ("New York", "NY", "100##"), ("Austin", "TX", "787##"),
           ("San José", "CA", "951##"), ("Miami", "FL", "331##"), ("Chicago", "IL", "606##")),
    "CA": (("Montréal", "QC", "H#@ #@#"), ("Toronto", "ON", "M#@ #@#"), ("Vancouver", "BC", "V#@ #@#"),
           ("Québec", "QC", "G#@ #@#")),
    "DE": (("München", "Bayern", "80###"), ("Berlin", "Berlin", "10###"),
           ("Köln", "Nordrhein-Westfalen", "50###"), ("Düsseldorf", "Nordrhein-Westfalen", "40###")),
    "UK": (("London", "Greater London", "SW# #@@"), ("Manchester", "Greater Manchester", "M# #@@"),
           ("Edinburgh", "City of Edinburgh", "EH# #@@"), ("Cardiff", "Cardiff", "CF## #@@")),
    "JP": (("千代田区", "東京都", "100-####"), ("大阪市", "大阪府", "530-####"), ("札幌市", "北海道", "060-####"),
           ("京都市", "京都府", "600-####")),
}
STREETS: dict[str, tuple[str, ...]] = {
    "US": ("{n} Main St", "{n} Pine Street", "{n} Peña Blvd", "{n} Oak Avenue Apt {m}"),
    "CA": ("{n} rue Sainte-Catherine", "{n} Queen St W", "{n} chemin de la Côte"),
    "DE": ("Hauptstraße {n}", "Königsallee {n}", "Schloßgasse {n}", "Am Bürgerpark {n}"),
    "UK": ("{n} High Street", "{n} King's Road", "Flat {m}, {n} Church Lane"),
    "JP": ("丸の内{m}-{n}-1", "梅田{m}丁目{n}", "北{m}条西{n}丁目"),
}
PHONE_FORMATS = {"US": "+1 206-555-{n:04d}", "CA": "+1 514-555-{n:04d}", "DE": "+49 30 {n:07d}",
                 "UK": "+44 20 7946 {n:04d}", "JP": "+81 3-{n:04d}-{m:04d}"}


@dataclass(frozen=True)
class Category:
    """A browse node of the catalog: id, name, ancestors (nearest first), product type and display group."""

    id: str
    name: str
    ancestors: tuple[tuple[str, str], ...]
    product_type: str
    display_group: str
    display_group_name: str


_ELECTRONICS = (("172456", "Computer Accessories & Peripherals"), ("172282", "Electronics"))
CATEGORIES: tuple[Category, ...] = (
    Category("289668", "Kitchen Utensils & Gadgets", (("284507", "Kitchen & Dining"),), "KITCHEN",
             "kitchen_display_on_website", "Kitchen"),
    Category("464394", "USB Cables", _ELECTRONICS, "ELECTRONIC_CABLE", "pc_display_on_website", "PC"),
    Category("11036491", "Mice", _ELECTRONICS, "COMPUTER_INPUT_DEVICE", "pc_display_on_website", "PC"),
    Category("3407731", "Yoga Mats", (("3375301", "Sports & Outdoors"),), "EXERCISE_MAT",
             "sporting_goods_display_on_website", "Sports"),
    Category("3480721", "Hose Nozzles", (("2972638", "Patio, Lawn & Garden"),), "WATERING_DEVICE",
             "lawn_and_garden_display_on_website", "Lawn & Patio"),
    Category("1063292", "Desk Lamps", (("1055398", "Home & Kitchen"),), "LAMP", "home_display_on_website", "Home"),
    Category("1069554", "Notebooks & Writing Pads", (("1064954", "Office Products"),), "NOTEBOOK",
             "office_product_display_on_website", "Office Product"),
    Category("172541", "Headphones", (("172282", "Electronics"),), "HEADPHONES", "ce_display_on_website",
             "Electronics"),
    Category("2475899011", "Backpacks", (("7141123011", "Clothing, Shoes & Jewelry"),), "BACKPACK",
             "luggage_display_on_website", "Luggage"),
    Category("166359011", "Jigsaw Puzzles", (("165793011", "Toys & Games"),), "PUZZLES", "toy_display_on_website",
             "Toy"),
    Category("516866", "USB Hubs", _ELECTRONICS, "COMPUTER_ADD_ON", "pc_display_on_website", "PC"),
    Category("3151491", "USB Flash Drives", _ELECTRONICS, "FLASH_DRIVE", "pc_display_on_website", "PC"),
    Category("2407761011", "Wall Chargers", (("2811119011", "Cell Phones & Accessories"),), "CHARGING_ADAPTER",
             "wireless_display_on_website", "Wireless"),
)
#: CATEGORIES index of each PRODUCTS family, in PRODUCTS order.
PRODUCT_CATEGORIES = (0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 6, 0, 0, 7, 9, 7, 12, 8, 0, 9)
#: Brands of the catalog (product family n has BRANDS[n % len(BRANDS)]).
BRANDS = ("Emulator Basics", "Küchenwerk", "Sakura Home", "Trailhead", "Voltix", "Brightline")
#: Catalog-only items: (English noun, CATEGORIES index, model code); most mention USB so that a keyword search
#: for "usb" exceeds Amazon's 1,000-result ceiling.
CATALOG_NOUNS: tuple[tuple[str, int, str], ...] = (
    ("USB-C Hub 7-in-1", 10, "HUB"),
    ("USB Flash Drive 64 GB", 11, "FD64"),
    ("USB Wall Charger 30 W", 12, "WC30"),
    ("Laptop Sleeve 14 inch", 8, "LS14"),
)
#: How many catalog-only items the emulator's catalog holds (beside the seller's products and their parents).
CATALOG_EXTRA_ITEMS = 1440
