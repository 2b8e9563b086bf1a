"""``python -m sqlspapi``: the ``sqlspapi`` command line (see :mod:`sqlspapi.interfaces.cli`)."""

from __future__ import annotations

from sqlspapi.interfaces.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
