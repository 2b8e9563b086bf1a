"""What the loader tests share (``test_loader.py``, ``test_loader_namespace.py``): a small valid definition
(:data:`VALID`), writing it to ``tmp_path``, editing it once, and the error loading it gives."""

from __future__ import annotations

from pathlib import Path

import pytest

from sqlspapi.definitions.loader import DefinitionError, load_file

#: A valid definition of a fictional Things API: the base every test edits once.
VALID = '''
section = "things"
version = "v1"
version_key = "ThingsApiVersion"
title = "Things"

[operations.listThings]
method = "GET"
path = "/things/v1/things"
rate = 1
burst = 5

[operations.getThing]
method = "GET"
path = "/things/v1/things/{thingId}"
rate = 0.5
burst = 10

[tables.things]
description = "Things."
entity = "thing"
key = "thingId"
columns = """
thingId                 TEXT     The id
createdAt               TIME     When it was made
marketplaceId=?marketplaceIds TEXT  The marketplace of the call
"""

[tables.things.get]
operation = "getThing"
column = "thingId"
path_param = "thingId"
row = "payload"

[tables.things.list]
operation = "listThings"
rows = "payload.things"
page_size_param = "pageSize"
derived = { granularityId = "?marketplaceIds" }

[[tables.things.list.filters]]
column = "thingId"
param = "thingIds"
ops = ["=", "IN"]

[[tables.things.list.windows]]
column = "createdAt"
after = "createdAfter"
before = "createdBefore"
'''


def write(tmp_path: Path, text: str, name: str = "things-v1.toml") -> Path:
    """A definition file in tmp_path."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def changed(old: str, new: str, text: str = VALID) -> str:
    """The valid definition with one edit (the edit must apply)."""
    assert old in text, old
    return text.replace(old, new, 1)


def error_of(tmp_path: Path, text: str) -> str:
    """The DefinitionError message loading ``text`` gives."""
    with pytest.raises(DefinitionError) as err:
        load_file(write(tmp_path, text))
    return str(err.value)
