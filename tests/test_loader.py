"""The strict definition loader: every mistake in a ``vtables/*.toml`` file is an error naming file, table and key.

Each test writes a small definition to ``tmp_path`` (a valid one, then one mistake; ``loader_helpers.py``) and loads
it with :func:`sqlspapi.definitions.loader.load_file`. The namespace rules across files: ``test_loader_namespace.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from loader_helpers import VALID, changed, error_of, write

from sqlspapi.definitions.loader import KEYS, DefinitionError, load_file, parse_columns
from sqlspapi.definitions.schema import ListSpec


def test_the_valid_definition_loads(tmp_path: Path) -> None:
    section = load_file(write(tmp_path, VALID))
    things = section.tables["things"]
    assert [c.name for c in things.columns] == ["thingId", "createdAt", "marketplaceId"]
    assert things.columns[2].source == "query_param"
    assert isinstance(things.list, ListSpec) and things.list.page_size_param == "pageSize"
    assert things.list.derived == {"granularityId": "?marketplaceIds"}
    assert section.operations["getThing"].rate == 0.5 and things.source == "vtables/things-v1.toml"


# ------------------------------------------------------------------------------------------------ unknown keys
def test_unknown_route_key_suggests_the_closest(tmp_path: Path) -> None:
    message = error_of(tmp_path, changed('page_size_param = "pageSize"', 'page_size_parm = "pageSize"'))
    assert message == ("vtables/things-v1.toml: table things [list]: unknown key 'page_size_parm'; "
                       "did you mean 'page_size_param'?")


@pytest.mark.parametrize(("old", "new", "expected"), [
    ('title = "Things"', 'title = "Things"\nversoin_key = "x"',
     "vtables/things-v1.toml: unknown key 'versoin_key'; did you mean 'version_key'?"),
    ("rate = 0.5", "rate = 0.5\nbrust = 3",
     "vtables/things-v1.toml: operation getThing: unknown key 'brust'; did you mean 'burst'?"),
    ('description = "Things."', 'description = "Things."\ndescripton = "x"',
     "vtables/things-v1.toml: table things: unknown key 'descripton'; did you mean 'description'?"),
    ('row = "payload"', 'row = "payload"\nnot_found_emtpy = false',
     "vtables/things-v1.toml: table things [get]: unknown key 'not_found_emtpy'; did you mean 'not_found_empty'?"),
    ('ops = ["=", "IN"]', 'ops = ["=", "IN"]\nbatchh = 5',
     "vtables/things-v1.toml: table things [list]: filters[0]: unknown key 'batchh'; did you mean 'batch'?"),
    ('before = "createdBefore"', 'before = "createdBefore"\nmax_span_day = 10',
     "vtables/things-v1.toml: table things [list] windows[0]: unknown key 'max_span_day'; "
     "did you mean 'max_span_days'?"),
])
def test_unknown_keys_everywhere_name_their_place(tmp_path: Path, old: str, new: str, expected: str) -> None:
    assert error_of(tmp_path, changed(old, new)) == expected


def test_unknown_key_with_no_close_match_lists_the_allowed_keys(tmp_path: Path) -> None:
    message = error_of(tmp_path, changed('row = "payload"', 'row = "payload"\nzzz = 1'))
    assert message.startswith("vtables/things-v1.toml: table things [get]: unknown key 'zzz'; allowed: ")
    assert all(key in message for key in KEYS["get"])


def test_an_unknown_route_kind_is_an_unknown_table_key(tmp_path: Path) -> None:
    message = error_of(tmp_path, VALID.replace("[tables.things.get]", "[tables.things.gett]"))
    assert message == "vtables/things-v1.toml: table things: unknown key 'gett'; did you mean 'get'?"


# ------------------------------------------------------------------------------------------------ missing keys
@pytest.mark.parametrize(("old", "expected"), [
    ('title = "Things"\n', "vtables/things-v1.toml: missing required key 'title'"),
    ("burst = 10\n", "vtables/things-v1.toml: operation getThing: missing required key 'burst'"),
    ('description = "Things."\n', "vtables/things-v1.toml: table things: missing required key 'description'"),
    ('rows = "payload.things"\n', "vtables/things-v1.toml: table things [list]: missing required key 'rows'"),
    ('path_param = "thingId"\n', "vtables/things-v1.toml: table things [get]: missing required key 'path_param'"),
    ('param = "thingIds"\nops = ["=", "IN"]\n',
     "vtables/things-v1.toml: table things [list]: filters[0]: missing required key 'ops'"),
])
def test_missing_required_keys(tmp_path: Path, old: str, expected: str) -> None:
    keep = 'param = "thingIds"\n' if "ops" in expected else ""
    assert error_of(tmp_path, changed(old, keep)) == expected


def test_a_table_without_a_route(tmp_path: Path) -> None:
    text = VALID.split("[tables.things.get]")[0].replace('entity = "thing"\nkey = "thingId"\n', "")
    assert "vtables/things-v1.toml: table things: a table needs at least one route" in error_of(tmp_path, text)


# ------------------------------------------------------------------------------------------------ operations
def test_unknown_operation_suggests_the_closest(tmp_path: Path) -> None:
    message = error_of(tmp_path, changed('operation = "listThings"', 'operation = "listThing"'))
    assert message == ("vtables/things-v1.toml: table things [list]: operation 'listThing' is not declared in "
                       "[operations]; did you mean 'listThings'?")


# ------------------------------------------------------------------------------------------------ columns
@pytest.mark.parametrize(("old", "new", "named"), [
    ('column = "thingId"\nparam', 'column = "thingIdd"\nparam', "'thingIdd' is named but not declared in columns; "
                                                               "did you mean 'thingId'?"),
    ('column = "createdAt"', 'column = "created"', "'created' is named but not declared in columns; "
                                                   "did you mean 'createdAt'?"),
    ('key = "thingId"', 'key = "id"', "'id' is named but not declared in columns"),
    ('column = "thingId"\npath_param', 'column = "thing"\npath_param', "'thing' is named but not declared"),
    ('entity = "thing"', 'entity = "thing"\none_of = [["thingId", "color"]]', "'color' is named but not declared"),
])
def test_named_columns_must_be_declared(tmp_path: Path, old: str, new: str, named: str) -> None:
    message = error_of(tmp_path, changed(old, new))
    assert message.startswith("vtables/things-v1.toml: table things: column ")
    assert named in message


@pytest.mark.parametrize("line", ["thingId   TXT   The id", "thingId", "thing id TEXT The id", "=x TEXT y"])
def test_a_bad_column_line_is_quoted(tmp_path: Path, line: str) -> None:
    message = error_of(tmp_path, changed("thingId                 TEXT     The id", line))
    assert message.startswith(f"vtables/things-v1.toml: table things: cannot read column line {line!r}")
    assert "TEXT, INTEGER, REAL, BOOLEAN, JSON, TIME" in message


def test_a_duplicate_column_is_an_error_whatever_its_case(tmp_path: Path) -> None:
    message = error_of(tmp_path, changed("createdAt               TIME", "ThingID=createdAt TIME"))
    assert message == "vtables/things-v1.toml: table things: column ThingID is declared twice"


def test_a_constant_column_needs_a_name() -> None:
    with pytest.raises(DefinitionError, match="constant column 'x' needs a name"):
        parse_columns("'x' TEXT a constant", "vtables/t.toml: table t")
    (column,) = parse_columns("kind='x' TEXT a constant", "vtables/t.toml: table t")
    assert (column.name, column.source, column.path) == ("kind", "const", ("x",))


def test_column_sources_and_hidden_inputs() -> None:
    columns = parse_columns("""
        a.0.b              TEXT           a numeric step
        seller=$sellerId   TEXT           the connection
        order=@orderId     TEXT           a path parameter
        parent=^id         TEXT           the parent
        keywords           TEXT HIDDEN    an input
    """, "vtables/t.toml: table t")
    assert [(c.name, c.source, c.hidden) for c in columns] == [
        ("a_0_b", "row", False), ("seller", "connection", False), ("order", "path_param", False),
        ("parent", "parent", False), ("keywords", "row", True)]


def test_table_names_are_lower_snake_case(tmp_path: Path) -> None:
    text = VALID.replace("[tables.things", "[tables.Things")
    assert error_of(tmp_path, text) == "vtables/things-v1.toml: table Things: table names are lower_snake_case"


# ------------------------------------------------------------------------------------------------ filters, windows
def test_a_filter_needs_exactly_one_of_param_and_path_param(tmp_path: Path) -> None:
    message = error_of(tmp_path, changed('param = "thingIds"', 'param = "thingIds"\npath_param = "thingId"'))
    assert message == ("vtables/things-v1.toml: table things [list]: filter on thingId needs ops within "
                       "['=', 'IN'] and exactly one of param/path_param")


def test_a_filter_op_must_be_known(tmp_path: Path) -> None:
    assert "filter on thingId needs ops within" in error_of(tmp_path, changed('ops = ["=", "IN"]', 'ops = [">"]'))


def test_a_window_needs_a_bound(tmp_path: Path) -> None:
    text = changed('after = "createdAfter"\nbefore = "createdBefore"\n', "")
    assert error_of(tmp_path, text) == ("vtables/things-v1.toml: table things [list]: window on createdAt needs "
                                        "after, before or both")


def test_a_one_sided_window_loads(tmp_path: Path) -> None:
    section = load_file(write(tmp_path, changed('before = "createdBefore"\n', "")))
    lst = section.tables["things"].list
    assert lst is not None and (lst.windows[0].after, lst.windows[0].before) == ("createdAfter", None)


def test_a_window_route_needs_max_span_days(tmp_path: Path) -> None:
    text = VALID.replace("[tables.things.list]", "[tables.things.window]").replace(
        "[[tables.things.list.", "[[tables.things.window.")
    assert error_of(tmp_path, text) == ("vtables/things-v1.toml: table things [window]: a [window] route needs a "
                                        "window with max_span_days")
    section = load_file(write(tmp_path, changed('before = "createdBefore"', 'before = "createdBefore"\n'
                                                'max_span_days = 180', text)))
    assert section.tables["things"].list is not None
    assert section.tables["things"].list.windows[0].max_span_days == 180


# ------------------------------------------------------------------------------------------------ derived
@pytest.mark.parametrize("expr", ['"ATVPDKIKX0DER"', '"marketplaceIds"', "3", '"@orderId"'])
def test_derived_parameters_are_query_or_connection_references(tmp_path: Path, expr: str) -> None:
    message = error_of(tmp_path, changed('granularityId = "?marketplaceIds"', f"granularityId = {expr}"))
    assert message.startswith("vtables/things-v1.toml: table things [list]: derived granularityId = ")
    assert message.endswith("want '?queryParam' or '$connectionValue'")


def test_derived_connection_value_loads(tmp_path: Path) -> None:
    section = load_file(write(tmp_path, changed('"?marketplaceIds"', '"$marketplaces"')))
    assert section.tables["things"].list.derived == {"granularityId": "$marketplaces"}  # type: ignore[union-attr]


# ------------------------------------------------------------------------------------------------ hooks
def test_a_hook_that_does_not_exist(tmp_path: Path) -> None:
    text = changed('title = "Things"', 'title = "Things"\nhooks = "generic"')
    text = changed('entity = "thing"', 'entity = "thing"\nhook = "no_such_hook"', text)
    assert error_of(tmp_path, text) == ("vtables/things-v1.toml: table things: hook 'no_such_hook' is not defined "
                                        "in vtables/generic.py")


def test_a_hook_module_that_does_not_exist(tmp_path: Path) -> None:
    text = changed('title = "Things"', 'title = "Things"\nhooks = "no_such_module"')
    text = changed('entity = "thing"', 'entity = "thing"\nhook = "shape"', text)
    assert error_of(tmp_path, text).startswith("vtables/things-v1.toml: table things: hook module "
                                               "'no_such_module' cannot be imported")


def test_a_hook_needs_the_hooks_file_key(tmp_path: Path) -> None:
    message = error_of(tmp_path, changed('entity = "thing"', 'entity = "thing"\nhook = "shape"'))
    assert message == ("vtables/things-v1.toml: table things: hook 'shape' needs the file key "
                       'hooks = "<module in vtables/>"')


def test_an_existing_hook_loads(tmp_path: Path) -> None:
    text = changed('title = "Things"', 'title = "Things"\nhooks = "generic"')
    section = load_file(write(tmp_path, changed('entity = "thing"', 'entity = "thing"\nhook = "select"', text)))
    assert section.tables["things"].hook == "generic:select"


# ------------------------------------------------------------------------------------------------ files
def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    assert error_of(tmp_path, VALID + "\n[[[").startswith("vtables/things-v1.toml: not valid TOML: ")


def test_nested_table_needs_a_parent_entity_with_a_get(tmp_path: Path) -> None:
    text = VALID + '''
[tables.thing_parts]
description = "Parts."
columns = """
thingId=^thingId   TEXT  The thing
"""
[tables.thing_parts.nested]
entity = "widget"
column = "thingId"
items = "parts"
'''
    assert error_of(tmp_path, text) == ("vtables/things-v1.toml: table thing_parts nests in entity 'widget', "
                                        "which no table with a [get] route declares")
    assert load_file(write(tmp_path, text.replace('entity = "widget"', 'entity = "thing"'))).tables["thing_parts"]


# ------------------------------------------------------------------------------------------------ route arrays
def test_several_routes_of_one_kind_load_in_order(tmp_path: Path) -> None:
    """``[[tables.X.list]]`` declares several list routes (Finances v0: by order, by group, by date); the planner
    tries them in the file's order, and an error in the second names it by its position."""
    text = VALID.replace("[tables.things.list]", "[[tables.things.list]]").replace(
        "[[tables.things.list.", "[[tables.things.list.") + (
        '\n[[tables.things.list]]\noperation = "listThings"\nrows = "payload.others"\n')
    routes = load_file(write(tmp_path, text)).tables["things"].routes
    assert [(r.kind, getattr(r, "rows", None)) for r in routes] == [
        ("get", None), ("list", "payload.things"), ("list", "payload.others")]
    bad = text.replace('rows = "payload.others"', 'rowz = "payload.others"')
    assert error_of(tmp_path, bad).startswith("vtables/things-v1.toml: table things[1] [list]: unknown key 'rowz'")


def test_a_grantless_operation_keeps_its_scope(tmp_path: Path) -> None:
    text = changed('rate = 1\nburst = 5\n', 'rate = 1\nburst = 5\ngrantless = "sellingpartnerapi::notifications"\n')
    operations = load_file(write(tmp_path, text)).operations
    assert operations["listThings"].grantless == "sellingpartnerapi::notifications"
    assert operations["getThing"].grantless is None
