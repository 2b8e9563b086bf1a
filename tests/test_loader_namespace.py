"""The definition loader's namespace rules across files: table names are one namespace across APIs, versions of one
API may share them with exactly one default, a file without a version key is always on, and ``columns_from`` takes
an earlier table's columns.

Each test writes small definitions to ``tmp_path`` (``loader_helpers.py``) and loads them with
:func:`sqlspapi.definitions.loader.load_file`; the rules across files go through ``_check_namespace``, the check
:func:`~sqlspapi.definitions.loader.load_all` runs over every shipped file.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from loader_helpers import VALID, changed, error_of, write

from sqlspapi.definitions.loader import DefinitionError, _check_namespace, load_file


# ------------------------------------------------------------------------------------------------ namespace
def _other_api(tmp_path: Path, *, version_key: str, version: str, default: bool = False,
               name: str = "others-v2.toml") -> Path:
    text = changed('version_key = "ThingsApiVersion"', f'version_key = "{version_key}"')
    text = changed('version = "v1"', f'version = "{version}"' + ("\ndefault = true" if default else ""), text)
    return write(tmp_path, text, name)


def test_table_name_collision_across_apis_names_both_files(tmp_path: Path) -> None:
    first = load_file(write(tmp_path, VALID))
    second = load_file(_other_api(tmp_path, version_key="OthersApiVersion", version="v2"))
    with pytest.raises(DefinitionError) as err:
        _check_namespace((first, second))
    message = str(err.value)
    assert message.startswith("vtables/others-v2.toml: table things is also defined by vtables/things-v1.toml")
    assert "one namespace" in message


def test_two_versions_of_one_api_may_share_table_names(tmp_path: Path) -> None:
    first = load_file(write(tmp_path, VALID))
    second = load_file(_other_api(tmp_path, version_key="ThingsApiVersion", version="v2", default=True))
    _check_namespace((first, second))


def test_two_versions_without_a_default(tmp_path: Path) -> None:
    first = load_file(write(tmp_path, VALID))
    second = load_file(_other_api(tmp_path, version_key="ThingsApiVersion", version="v2"))
    with pytest.raises(DefinitionError) as err:
        _check_namespace((first, second))
    assert str(err.value) == ("ThingsApiVersion: exactly one of vtables/things-v1.toml, vtables/others-v2.toml "
                              "must say default = true")


def test_two_versions_both_default(tmp_path: Path) -> None:
    first = load_file(write(tmp_path, changed('version = "v1"', 'version = "v1"\ndefault = true')))
    second = load_file(_other_api(tmp_path, version_key="ThingsApiVersion", version="v2", default=True))
    with pytest.raises(DefinitionError, match="exactly one of .* must say default = true"):
        _check_namespace((first, second))


def test_a_file_without_a_version_key_is_always_on() -> None:
    from sqlspapi.definitions.loader import load_all, operation, select_sections, version_keys

    tokens = next(s for s in load_all() if s.section == "tokens")
    assert tokens.version_key == "" and tokens in select_sections({k: d for k, (_v, d, _t) in version_keys().items()})
    assert "" not in version_keys()
    assert operation("tokens", "createRestrictedDataToken").path == "/tokens/2021-03-01/restrictedDataToken"


def test_columns_from_takes_an_earlier_tables_columns(tmp_path: Path) -> None:
    """``columns_from``: the columns of a table declared earlier, then the table's own block; never a later one."""
    child = '''
[tables.more_things]
description = "More things."
columns_from = "things"
columns = """
colour                  TEXT     Its colour
"""

[tables.more_things.list]
operation = "listThings"
rows = "payload.things"
'''
    section = load_file(write(tmp_path, VALID + child))
    assert [c.name for c in section.tables["more_things"].columns] == ["thingId", "createdAt", "marketplaceId",
                                                                       "colour"]
    assert section.tables["more_things"].columns[2].source == "query_param"
    later = child.replace('columns_from = "things"', 'columns_from = "nothing_yet"')
    assert "columns_from names a table declared earlier in this file (things)" in error_of(tmp_path, VALID + later)
    bare = child.replace('columns_from = "things"\n', "").split('columns = """', 1)[0] + child.split('"""\n', 2)[2]
    assert error_of(tmp_path, VALID + bare) == "vtables/things-v1.toml: table more_things: missing required key " \
                                               "'columns'"
