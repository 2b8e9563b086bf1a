"""``python -m sqlspapi``: the ``sqlspapi`` command line (see :mod:`sqlspapi.cli`)."""

from __future__ import annotations

from sqlspapi.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
