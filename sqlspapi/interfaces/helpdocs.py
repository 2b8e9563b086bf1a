"""``sqlspapi docs`` (write the generated table reference) and ``sqlspapi help`` (print the installed documentation):
the command line's two documentation commands, and where the documentation lives (:func:`docs_root`,
:func:`doc_topics`)."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

__all__ = ["run_docs", "run_help", "docs_root", "doc_topics"]


# ---------------------------------------------------------------- docs


def run_docs(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Write the generated table reference (docs/tables), or with --check list the stale pages (status 1)."""
    from sqlspapi.definitions import docgen

    if args.check:
        stale = docgen.check_all(args.out)
        for name in stale:
            err.write(f"stale: {name}\n")
        if stale:
            err.write(docgen.STALE_MESSAGE + "\n")
        return 1 if stale else 0
    for path in docgen.write_all(args.out):
        out.write(f"{path}\n")
    return 0


# ---------------------------------------------------------------- help


def docs_root() -> Any:
    """The installed documentation (the ``sqlspapi.docs`` package data), else a checkout's ``docs/`` folder."""
    from importlib import resources
    from pathlib import Path

    try:
        root = resources.files("sqlspapi.docs")
        if (root / "getting-started.md").is_file():
            return root
    except (ModuleNotFoundError, TypeError):
        pass
    return Path(__file__).resolve().parents[2] / "docs"


def doc_topics() -> dict[str, Any]:
    """``{topic: file}`` of the documentation: ``getting-started``, ``connection-string``, ``tables`` (the
    index), ``tables/orders-2026-01-01`` ..."""
    root = docs_root()
    topics: dict[str, Any] = {}
    folders = [("", root)]
    while folders:
        prefix, folder = folders.pop()
        if not folder.is_dir():
            continue
        for entry in folder.iterdir():
            if entry.is_dir():
                folders.append((f"{prefix}{entry.name}/", entry))
            elif entry.name.endswith(".md"):
                name = entry.name[:-3]
                topics[prefix.rstrip("/") if name == "README" and prefix else prefix + name] = entry
    return dict(sorted(topics.items()))


def _title(text: str) -> str:
    return next((line.lstrip("# ").strip() for line in text.splitlines() if line.startswith("#")), "")


def run_help(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Print a documentation topic, or list the topics (status 1 when the topic is unknown or ambiguous)."""
    topics = doc_topics()
    if not topics:
        err.write("error: the documentation is not installed with this copy of sqlspapi\n")
        return 1
    wanted = (args.topic or "").strip().strip("/").removesuffix(".md").lower()
    if wanted.startswith("docs/"):
        wanted = wanted[len("docs/"):]
    if not wanted:
        out.write("Topics (sqlspapi help TOPIC):\n")
        width = max(map(len, topics))
        for name, path in topics.items():
            out.write(f"  {name.ljust(width)}  {_title(path.read_text(encoding='utf-8'))}\n")
        return 0
    found = [name for name in topics if name.lower() in (wanted, f"tables/{wanted}")]
    found = found or [name for name in topics if wanted in name.lower()]
    if len(found) != 1:
        what = f"several topics match {wanted!r}: " + ", ".join(found) if found else f"no topic {wanted!r}"
        err.write(f"error: {what} (sqlspapi help lists them)\n")
        return 1
    out.write(topics[found[0]].read_text(encoding="utf-8"))
    return 0
