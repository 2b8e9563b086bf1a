"""Named hooks: Python functions in ``sqlspapi.vtables`` that definitions refer to as ``module:function``.

Used for a table's row processor (``hook = "name"``) and for Python routes (``[python] function = …``).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from functools import cache
from typing import Any

from sqlspapi.errors import InternalError


@cache
def load_function(reference: str) -> Callable[..., Any]:
    """``module:name`` in ``sqlspapi.vtables`` → the function (imported once)."""
    module, _, name = reference.partition(":")
    try:
        return getattr(importlib.import_module(f"sqlspapi.vtables.{module}"), name)  # type: ignore[no-any-return]
    except (ImportError, AttributeError) as exc:
        raise InternalError(f"hook {reference!r} cannot be loaded from sqlspapi.vtables: {exc}") from None
