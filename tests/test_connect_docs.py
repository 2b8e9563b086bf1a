"""docs/connect-your-account.md says what a user can paste and write; these tests hold it to that.

- every file the docs show (a plain block marked ``<!-- file: name.ext -->``) is read by sqlspapi's own reader,
  :func:`sqlspapi.settings.sources.read_credentials_file`, on a copy named as the marker says (its extension picks
  JSON, HJSON or YAML), and every account of it makes valid settings; its secrets are obviously fake;
- the tables mapping the seed systems' field names to ours are true: a field name the docs show as accepted is one
  of our keys' names or aliases (:func:`sqlspapi.settings.keys.lookup_key`), and one they tell to "write" another way
  is not, while the name they tell to write is; every field name the seed systems document is in those tables;
- the anchors other pages link to (``connect-your-account.md#many-accounts`` …) exist.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from test_doc_examples import EXAMPLES, ROOT, Example

from sqlspapi.errors import ConnectionStringError
from sqlspapi.settings.connstr import parse
from sqlspapi.settings.keys import KEYS, lookup_key
from sqlspapi.settings.sources import ENVIRONMENT, account_names, read_credentials_file

DOC = "docs/connect-your-account.md"
SECRET_KEYS = {spec.name for spec in KEYS if spec.secret}
#: The field names each seed system documents (/work/shared/seeds; issue 11), all of which the tables must map.
SEED_FIELDS = {
    "API2Cart": ("amazon_seller_id", "amazon_sp_client_id", "amazon_sp_client_secret", "amazon_sp_refresh_token",
                 "amazon_sp_aws_user_key_id", "amazon_sp_aws_user_secret", "amazon_sp_aws_region",
                 "amazon_sp_aws_role_arn", "disable_report_cache"),
    "Zuar Runner": ("region", "role_arn", "aws_access_key_id", "aws_secret_access_key", "client_id", "client_secret",
                    "refresh_token"),
    "Hemi": ("application_id", "client_id", "client_secret", "arn", "access_key", "secret_key"),
    "ZappySys": ("ClientId", "ClientSecret", "TokenUrl", "RefreshToken", "TokenUIMode", "AuthUrl", "OrdersApiVersion",
                 "RetryMode", "RetryStatusCodeList", "RetryCountMax", "RetryMultiplyWaitTime"),
    "Celigo (Vendor Central)": ("Base URI", "Client ID", "Client secret"),
}
BACKTICKED = re.compile(r"`([^`]+)`")
WRITE = re.compile(r"\bwrite ((?:`[^`]+`(?: or )?)+)")


def shown_files() -> list[Example]:
    """The blocks of the docs that show a file."""
    return [example for example in EXAMPLES if "file" in example.markers]


def test_the_page_shows_files() -> None:
    assert {e.markers["file"] for e in shown_files() if e.doc == DOC} >= {"zuar.hjson", "credentials.yml",
                                                                         "api2cart.json"}


@pytest.mark.parametrize("example", shown_files(), ids=lambda e: f"{e.name}:{e.markers['file']}")
def test_every_file_shown_is_read_by_sqlspapi(example: Example, tmp_path: Path) -> None:
    path = tmp_path / example.markers["file"]
    path.write_text(example.body, encoding="utf-8")
    path.chmod(0o600)
    try:
        names: tuple[str | None, ...] = account_names({"CredentialsFile": str(path)})
    except ConnectionStringError as exc:  # one flat set of fields
        assert "holds one set of fields" in str(exc), f"{example.name}: {exc}"
        names = (None,)
    for name in names:
        source = read_credentials_file(path, name)
        assert not source.notices, source.notices
        assert {"ClientId", "ClientSecret", "RefreshToken"} <= set(source.values), (example.name, name)
        for key in SECRET_KEYS & set(source.values):
            assert "FAKE" in source.values[key], f"{example.name}: {key} of account {name!r} is not obviously fake"
        account = f";Account={name}" if name else ""
        settings = parse(f"CredentialsFile={path}{account}")  # every field's value is valid
        assert settings.client_id == source.values["ClientId"]


def mapping_tables() -> dict[str, list[tuple[str, str, str]]]:
    """Seed system → the rows (their field, our key, notes) of its table under "Field names of other tools"."""
    text = (ROOT / DOC).read_text(encoding="utf-8")
    part = text.split("\n## Field names of other tools\n", 1)[1]
    tables: dict[str, list[tuple[str, str, str]]] = {}
    for section in part.split("\n### ")[1:]:
        title, _, body = section.partition("\n")
        rows = [tuple(cell.strip() for cell in line.strip().strip("|").split("|"))
                for line in body.splitlines() if line.startswith("| ")]
        assert rows and rows[0] == ("their field", "our key", "notes"), title
        assert all(len(row) == 3 for row in rows), title
        tables[title.strip()] = rows[1:]  # type: ignore[assignment]
    return tables


def test_every_seed_field_name_shown_as_accepted_is_accepted() -> None:
    checked = 0
    for system, rows in mapping_tables().items():
        for theirs, ours, notes in rows:
            their_name, our_name = BACKTICKED.fullmatch(theirs), BACKTICKED.fullmatch(ours)
            if ours != "—":
                assert our_name and lookup_key(our_name[1]) and lookup_key(our_name[1]).name == our_name[1], \
                    f"{system}: {ours} is not one of our keys"
            if not our_name:
                continue  # no counterpart: the notes say what to do
            write = WRITE.search(notes)
            for name in BACKTICKED.findall(write[1]) if write else ():
                assert lookup_key(name).name == our_name[1], f"{system}: write {name} does not set {ours}"
            for variable in re.findall(r"`([A-Z][A-Z_]+)`", notes):
                assert ENVIRONMENT[variable] == our_name[1], f"{system}: {variable} does not set {ours}"
            if their_name:  # a field name (not a label of their form): accepted as written, unless told to write
                spec = lookup_key(their_name[1])
                accepted = spec is not None and spec.name == our_name[1]
                assert accepted != bool(write), f"{system}: {theirs} {'is' if accepted else 'is not'} accepted"
                checked += 1
    assert checked >= 40


def test_every_field_the_seed_systems_document_is_mapped() -> None:
    tables = mapping_tables()
    for system, fields in SEED_FIELDS.items():
        shown = {BACKTICKED.fullmatch(theirs)[1] for theirs, _, _ in tables[system] if BACKTICKED.fullmatch(theirs)}
        assert set(fields) <= shown, f"{system}: {sorted(set(fields) - shown)} missing from its table"


def test_no_counterpart_rows_say_what_to_do_instead() -> None:
    for system, rows in mapping_tables().items():
        for theirs, ours, notes in rows:
            if ours == "—":
                assert notes, f"{system}: {theirs} has no counterpart and no note"


def anchors(page: Path) -> set[str]:
    """The anchors of a Markdown page's headings, as GitHub makes them."""
    headings = re.findall(r"^#+ (.+)$", page.read_text(encoding="utf-8"), re.M)
    return {re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-") for heading in headings}


def test_links_to_the_page_reach_its_sections() -> None:
    targets = anchors(ROOT / DOC)
    assert {"many-accounts", "rotating-the-client-secret"} <= targets
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for anchor in re.findall(r"connect-your-account\.md#([\w-]+)", page.read_text(encoding="utf-8")):
            assert anchor in targets, f"{page.name} links to {DOC}#{anchor}, which is no heading"


def test_the_pages_links_reach_existing_pages_and_sections() -> None:
    page = ROOT / DOC
    links = re.findall(r"\]\(([\w./-]*)(?:#([\w-]+))?\)", page.read_text(encoding="utf-8"))
    assert links
    for target, anchor in links:
        linked = page.parent / target if target else page
        assert linked.is_file(), f"{DOC} links to {target}, which does not exist"
        if anchor:
            assert anchor in anchors(linked), f"{DOC} links to {target}#{anchor}, which is no heading"
