"""The table reference, generated from the definitions: ``docs/tables/<definition file>.md`` and an index.

One page per definition file (``vtables/orders-v0.toml`` → ``orders-v0.md``; the Python sections of
``vtables/generic.py`` → ``generic.md``) and ``README.md``, an index of APIs, versions and tables. For every table a
page shows its description, the connection-string key and value that choose its version, its columns (SQL type,
hidden input or not, description, and where a value comes from when not from the row object), what reaches the API
(pushdown: which operators on which columns become which parameter, batch sizes, windows, LIMIT, marketplace
fan-out, ``includedData`` parts), its required filters, the usage plans of the operations it calls and its example.

Everything is read from the specs the loader builds (:mod:`sqlspapi.definitions.schema`), so the docs cannot
disagree with the definitions; the output is deterministic (no dates, definition order) so that
``tests/test_docs_tables.py`` can fail when the committed pages are stale. ``sqlspapi docs`` writes them,
``sqlspapi docs --check`` lists the stale ones.

The pieces live beside it: :mod:`~sqlspapi.definitions.docgen_text` (markdown helpers, the columns section),
:mod:`~sqlspapi.definitions.docgen_routes` (pushdown, required filters, usage plans) and
:mod:`~sqlspapi.definitions.docgen_report` (report tables: their inputs and window rules, linking
``docs/report-tables.md`` for the lifecycle).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from sqlspapi.definitions import docgen_text as md
from sqlspapi.definitions.docgen_routes import pushdown, required, usage
from sqlspapi.definitions.loader import DefinitionError, default_version, definitions_dir, load_all
from sqlspapi.definitions.schema import SectionSpec, TableSpec

__all__ = ["INDEX", "STALE_MESSAGE", "render", "render_index", "pages", "write_all", "check_all", "default_out_dir",
           "page_name"]

#: The name of the index page.
INDEX = "README.md"

#: What to do when the committed pages differ from what the definitions give.
STALE_MESSAGE = "docs/tables is stale: run `sqlspapi docs` (or python -m sqlspapi.interfaces.cli docs)"

_GENERATED = ("<!-- Generated from the definitions by `sqlspapi docs` (sqlspapi/definitions/docgen.py): "
              "do not edit by hand. -->")

_TYPE_NOTES = ("Types: `TIME` is ISO 8601 text compared as instants (`COLLATE ISOTIME`); `JSON` is text usable "
               "with SQLite's JSON functions (`json_extract`, `json_each`); `BOOLEAN` is 0/1.")


# ------------------------------------------------------------------------------------------------ small helpers


def page_name(section: SectionSpec) -> str:
    """The page of a definition file: its stem plus ``.md`` (``vtables/orders-v0.toml`` → ``orders-v0.md``)."""
    return Path(section.source).stem + ".md"


# ------------------------------------------------------------------------------------------------------ pages


def _default_of(section: SectionSpec) -> str:
    """The default version of the section's version key (its own version when the key is unknown)."""
    try:
        return default_version(section.version_key)
    except (KeyError, DefinitionError):
        return section.version


def _version_text(section: SectionSpec) -> str:
    """How a connection chooses this section's version."""
    if not section.version_key:
        return "Always available (no version key)."
    choose = md.code(f"{section.version_key}={section.version}")
    default = _default_of(section)
    if default == section.version:
        return f"{choose} in the connection string — the default (used when the key is absent)."
    return f"{choose} in the connection string (the default is {md.code(default)})."


def _table_section(section: SectionSpec, table: TableSpec) -> list[str]:
    out = [f"## {table.name}", "", table.description, "", f"**Version:** {_version_text(section)}", ""]
    out += md.columns(table) + pushdown(section, table) + required(table) + usage(section, table)
    if table.example:
        out += ["### Example", "", "```sql", table.example.strip(), "```", ""]
    return out


def render(section: SectionSpec) -> str:
    """The markdown page of one definition file (one section at one version)."""
    title = f"{section.title or section.section} ({section.version})"
    head = f"Definition: `{section.source}`"
    if section.model:
        head += f" · Amazon's model: `{section.model}`"
    out = [_GENERATED, "", f"# {title}", "", head + ".", "", f"Version: {_version_text(section)}", "", _TYPE_NOTES,
           ""]
    if section.deprecation:
        out += [f"> **Deprecated:** {section.deprecation}", ""]
    if section.tables:
        out += ["Tables: " + ", ".join(f"[{name}](#{name})" for name in section.tables) + ".", ""]
    else:
        out += ["No tables are defined for this version yet.", ""]
    for table in section.tables.values():
        out += _table_section(section, table)
    if section.operations:
        declared = [[op.name, f"{op.method} {md.code(op.path)}", md.rate(op), str(op.burst)]
                    for op in section.operations.values()]
        out += ["## Operations", "", "Declared in the definition with Amazon's published usage plans.", ""]
        out += md.md_table(["operation", "request", "rate", "burst"], declared) + [""]
    return "\n".join(out).rstrip("\n") + "\n"


def render_index(sections: Sequence[SectionSpec]) -> str:
    """The index page: APIs with their versions and version keys, then every table with its description."""
    apis = [[f"[{s.title or s.section}]({page_name(s)})", s.version,
             md.code(s.version_key) if s.version_key else "—",
             "always on" if not s.version_key else ("yes" if _default_of(s) == s.version else "no"),
             str(len(s.tables))] for s in sections]
    tables = [[f"[{t.name}]({page_name(s)}#{t.name})", f"{s.title or s.section} {s.version}", t.description]
              for s in sections for t in s.tables.values()]
    out = [_GENERATED, "", "# Table reference", "",
           "One page per definition file in `vtables/`, generated by `sqlspapi docs` from the definitions (the "
           "language: [definition-language.md](../definition-language.md); adding an API: "
           "[adding-an-api.md](../adding-an-api.md)). A connection chooses each API's version with its version key.",
           "", "## APIs", ""]
    out += md.md_table(["API", "version", "version key", "default", "tables"], apis)
    out += ["", "## Tables", ""] + md.md_table(["table", "API", "description"], tables)
    return "\n".join(out) + "\n"


def pages(sections: Sequence[SectionSpec] | None = None) -> dict[str, str]:
    """Every page by file name: one per definition file (sections sharing a file share its page), and the index."""
    sections = tuple(load_all() if sections is None else sections)
    out: dict[str, str] = {}
    for section in sections:
        name = page_name(section)
        out[name] = out[name] + "\n" + render(section) if name in out else render(section)
    out[INDEX] = render_index(sections)
    return out


def default_out_dir() -> Path:
    """``docs/tables`` of the source checkout the definitions come from, else of the current directory."""
    root = definitions_dir().parent
    return root / "docs" / "tables" if (root / "docs").is_dir() else Path.cwd() / "docs" / "tables"


def write_all(out_dir: Path | str | None = None) -> list[Path]:
    """Write every page into ``out_dir`` (default :func:`default_out_dir`) and delete ``.md`` files no definition
    gives any more; returns the pages written, in name order."""
    out = Path(out_dir) if out_dir is not None else default_out_dir()
    out.mkdir(parents=True, exist_ok=True)
    wanted = pages()
    for old in out.glob("*.md"):
        if old.name not in wanted:
            old.unlink()
    written = []
    for name, text in sorted(wanted.items()):
        path = out / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def check_all(out_dir: Path | str | None = None) -> list[str]:
    """The names of the stale pages in ``out_dir``: missing, different, or no longer generated (empty = fresh)."""
    out = Path(out_dir) if out_dir is not None else default_out_dir()
    wanted = pages()
    stale = [name for name, text in wanted.items()
             if not (out / name).is_file() or (out / name).read_text(encoding="utf-8") != text]
    stale += [p.name for p in out.glob("*.md") if p.name not in wanted] if out.is_dir() else []
    return sorted(stale)
