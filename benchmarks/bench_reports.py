"""Benchmark: report decode throughput and peak client RSS of ``SELECT *`` over generated GZIP TSV listings reports.

A generated GET_MERCHANT_LISTINGS_ALL_DATA document (the 29 columns with realistic values: titles, SKUs, prices,
quantities, US dates like ``2019-06-17 14:24:11 PDT``, ASINs, UPCs) is served by the emulator (in its own process,
``emuproc.py --put-document``) as a DONE GZIP report and read with
``SELECT * FROM merchant_listings_all_data WHERE reportId = '…'`` in fresh client processes, every row iterated
(raw APSW cursor, typed values). Every document size is generated in one pass (``listings_documents.py``): the
smaller documents are the first rows of the larger ones, gzip streams written chunk by chunk. Printed (issue 9,
"Done means"):

(a) decode throughput of the ``--rows`` document (default 1,000,000; ``--quick``: 20,000): the first query (download
    + decode) and the second (the document from the disk cache), against the ``sqlite3`` CLI's ``.mode tabs`` /
    ``.import`` of the same gunzipped TSV into an in-memory database (APSW's shell ``.import`` when no ``sqlite3``
    binary is installed, labelled so) — target ours/theirs >= 0.5x — and against
    ``pandas.read_csv(path, sep="\\t", compression="gzip", dtype=str)`` — target >= 1x. Each runs in a fresh
    process; the verdicts compare rows per wall-clock second, and rows per CPU second are printed beside them (on
    a loaded machine those ratios are the steadier ones). Then where the time goes, in a fresh client over the
    ``--profile-rows`` document (default 100,000; ``--quick``: the smallest size), measured directly on the cached
    document in process CPU time: gunzip + charset decoding, row dicts (``RowReader``), typing the cells (the report
    route's reader), the vtable without column reads (``SELECT count(*)``: building each SQL row), and the full
    ``SELECT *`` (the rest: APSW's ``Column`` calls); and a cProfile of one ``SELECT *``.
(b) peak RSS (``VmHWM``) of the client process for ``SELECT *`` over 10k, 100k, 1M and 2M-row documents, each in a
    fresh client process (download included) — target: flat, < 150 MB.

The report cache (``ReportCacheDir``) and the generated files live in a temporary directory deleted afterwards.

Run: ``python benchmarks/bench_reports.py [--quick] [--rows N] [--sizes 10000,100000,1000000,2000000]
[--profile-rows N] [--importer auto|sqlite3|apsw]``.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from emuproc import EmulatorProcess, run_child, vm_status_kb
from listings_documents import HEADER, write_documents

__all__ = ["HEADER", "apsw_import", "main", "write_documents"]  # the generated documents' columns, as tests read them

REPORT_TYPE = "GET_MERCHANT_LISTINGS_ALL_DATA"
TABLE = "merchant_listings_all_data"
SQL = "SELECT * FROM merchant_listings_all_data WHERE reportId = '{}'"
COUNT_SQL = "SELECT count(*) FROM merchant_listings_all_data WHERE reportId = '{}'"
#: Emulator time scale: its bursts cover every call, and a document URL (5 Amazon minutes) outlives the download.
TIME_SCALE = 10.0
SQLITE_TARGET = 0.5
PANDAS_TARGET = 1.0
RSS_TARGET_MB = 150
FLAT_FACTOR = 1.25  # "flat": the largest document's peak within this factor of the smallest's


# ---------------------------------------------------------------------------------------------------- client children
def drain(rows: Iterable[Any]) -> int:
    """Iterate and discard; the number of rows."""
    n = 0
    for _ in rows:
        n += 1
    return n


def timed(fn: Callable[[], int]) -> dict[str, float]:
    """Run ``fn`` (it returns a row count): wall seconds, process CPU seconds, rows."""
    c0, w0 = time.process_time(), time.perf_counter()
    rows = fn()
    return {"seconds": time.perf_counter() - w0, "cpu": time.process_time() - c0, "rows": rows}


def scan(connection_string: str, report_id: str, passes: int, breakdown: bool) -> dict[str, Any]:
    """In this (fresh) process: ``SELECT *`` over the report ``passes`` times (the first downloads, the others read
    the disk cache); the peak RSS after the first; with ``breakdown``, the layered timings and a cProfile."""
    from sqlspapi.engine import open_database

    sql = SQL.format(report_id)
    result: dict[str, Any] = {"passes": []}
    with warnings.catch_warnings(record=True) as caught, open_database(connection_string) as db:
        warnings.simplefilter("always")
        db.marketplace_ids()
        result["before_mb"] = vm_status_kb("VmHWM") / 1024
        for n in range(passes):
            result["passes"].append(timed(lambda: drain(db.connection.execute(sql))))
            if n == 0:
                result["peak_mb"] = vm_status_kb("VmHWM") / 1024
        cursor = db.connection.execute(sql + " LIMIT 1")
        row, names = next(cursor), [d[0] for d in cursor.getdescription()]
        cursor.close()
        result["sample"] = {k: [type(v).__name__, v] for k, v in zip(names, row, strict=False)
                            if k in ("seller_sku", "price", "quantity", "open_date", "item_is_marketplace")}
        if breakdown:
            result["layers"] = layered(db, report_id)
            result["profile"] = profiled(lambda: drain(db.connection.execute(sql)))
        result["notices"] = list(dict.fromkeys([*db.notices(), *(str(w.message) for w in caught)]))
    return result


def layered(db: Any, report_id: str) -> dict[str, dict[str, float]]:
    """Where a cached ``SELECT *`` spends its time, each layer measured alone over the cached document."""
    from sqlspapi.documents import open_document
    from sqlspapi.documents.headers import RowReader
    from sqlspapi.reports.state import CachedDocument, cache_root
    from sqlspapi.sql.routes.report_cells import Cells

    table = next(t for t in db.tables() if t.name == TABLE)
    spec = table.route("report")
    known = [c.path[0] for c in table.columns if c.source == "row" and not c.hidden and c.name != "extra"]
    folder = cache_root(db.settings.reports.cache_dir) / "documents"
    files = [p for p in folder.iterdir() if p.is_file() and not p.suffix]
    document = CachedDocument(max(files, key=lambda p: p.stat().st_size), "text/plain;charset=UTF-8", "GZIP")

    def lines() -> Any:
        return open_document(document.chunks(), content_type=document.content_type, marketplace_id="ATVPDKIKX0DER",
                             report_type=REPORT_TYPE)

    return {
        "gunzip + decode lines": timed(lambda: drain(lines())),
        "+ row dicts (RowReader)": timed(lambda: drain(RowReader(lines(), known=known))),
        "+ typed cells (report route)": timed(lambda: drain(Cells(table, spec).rows(lines(), "ATVPDKIKX0DER"))),
        "+ vtable, no column reads (count(*))": timed(
            lambda: next(iter(db.connection.execute(COUNT_SQL.format(report_id))))[0]),
    }


def profiled(fn: Callable[[], int]) -> dict[str, Any]:
    """cProfile of ``fn``: the top functions by self time, and the cumulative time of the pipeline's stages."""
    profile = cProfile.Profile(time.process_time)
    profile.runcall(fn)
    stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    whole = sum(entry[2] for entry in stats.values()) or 1.0
    selfs, stages = [], []
    for (filename, lineno, name), (_cc, calls, tottime, cumtime, _callers) in stats.items():
        short = filename.split("site-packages/")[-1].split("/main/")[-1].split("python3.11/")[-1]
        label = f"{short}:{lineno}({name})" if lineno else name
        selfs.append((tottime / whole, calls, label))
        stages.append((cumtime / whole, calls, label))
    wanted = ("decode.py", "headers.py", "values.py", "report.py", "vtable.py", "rows.py", "state.py")
    stages = [s for s in stages if any(w in s[2] for w in wanted)]
    return {"total_s": whole, "self": sorted(selfs, reverse=True)[:14], "cumulative": sorted(stages, reverse=True)[:14]}


def read_pandas(path: str) -> dict[str, Any]:
    """In this (fresh) process: ``pandas.read_csv`` of the gzip TSV, every cell as text (``{}`` without pandas)."""
    try:
        import pandas
    except ImportError:
        return {}

    result = timed(lambda: len(pandas.read_csv(path, sep="\t", compression="gzip", dtype=str)))
    return {**result, "version": pandas.__version__, "peak_mb": vm_status_kb("VmHWM") / 1024}


def apsw_import(path: str) -> dict[str, Any]:
    """In this (fresh) process: APSW's shell ``.mode tabs`` + ``.import`` of the TSV into an in-memory table."""
    import io

    import apsw
    import apsw.shell

    with open(path, encoding="utf-8") as f:
        columns = f.readline().rstrip("\n").split("\t")
    connection = apsw.Connection(":memory:")
    shell = apsw.shell.Shell(db=connection, stdout=io.StringIO(), stderr=io.StringIO())

    def load() -> int:
        connection.execute("CREATE TABLE listings(" + ", ".join(f'"{c}" TEXT' for c in columns) + ")")
        shell.process_command(".mode tabs")
        shell.process_command(f".import '{path}' listings")
        return int(connection.execute("SELECT count(*) - 1 FROM listings").fetchall()[0][0])  # the header is a row

    return {**timed(load), "version": f"APSW {apsw.apsw_version()} shell"}


# ---------------------------------------------------------------------------------------------------- the parent
def sqlite_import(path: Path, importer: str) -> dict[str, Any]:
    """The ``sqlite3`` CLI's ``.mode tabs`` + ``.import`` of the TSV into an in-memory database (timed from outside,
    process start included), or APSW's shell in a fresh process."""
    binary = shutil.which("sqlite3") if importer in ("auto", "sqlite3") else None
    if binary is None:
        if importer == "sqlite3":
            raise RuntimeError("no sqlite3 binary on PATH")
        note = "no sqlite3 binary installed: " if importer == "auto" else ""
        result = run_child(__file__, "--apsw-import", str(path))
        result["label"] = f"{note}{result['version']} .mode tabs + .import (:memory:)"
        return result
    version = subprocess.run([binary, "--version"], capture_output=True, text=True, check=True).stdout.split()[0]
    script = f".mode tabs\n.import '{path}' listings\nSELECT count(*) FROM listings;\n"
    cpu0, started = _children_cpu(), time.perf_counter()
    done = subprocess.run([binary, ":memory:"], input=script, capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "cpu": _children_cpu() - cpu0, "rows": int(done.stdout.split()[-1]),
            "label": f"sqlite3 {version} CLI .mode tabs + .import (:memory:)"}


def _children_cpu() -> float:
    """CPU seconds of this process's finished (waited-for) children."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def rate_line(label: str, result: dict[str, Any], expected: int) -> str:
    """``label  N rows/s (S s)  M rows per CPU second`` with a warning when the row count is off."""
    off = "" if result["rows"] == expected else f"  (read {result['rows']:,} rows, expected {expected:,}!)"
    return (f"    {label:64s} {result['rows'] / result['seconds']:>9,.0f} rows/s ({result['seconds']:6.2f} s)  "
            f"{result['rows'] / max(result['cpu'], 1e-9):>9,.0f} rows/CPU-s{off}")


def verdict(ours: dict[str, Any], theirs: dict[str, Any], target: float) -> str:
    """``0.42x (CPU 0.51x), target >= 0.5x: NOT MET``: speed ratios (rows/s, then rows per CPU second); the verdict
    is the wall-clock one."""
    ratio = (ours["rows"] / ours["seconds"]) / (theirs["rows"] / theirs["seconds"])
    cpu = (ours["rows"] / max(ours["cpu"], 1e-9)) / (theirs["rows"] / max(theirs["cpu"], 1e-9))
    return f"{ratio:5.2f}x (CPU {cpu:5.2f}x), target >= {target:g}x: {'met' if ratio >= target else 'NOT MET'}"


def part_a(emu: EmulatorProcess, report_id: str, rows: int, files: Path, importer: str) -> None:
    """(a): our two queries (one fresh client), sqlite3 .import, pandas.read_csv — rows/s and the ratios."""
    gz, tsv = files / f"listings-{rows}.tsv.gz", files / f"listings-{rows}.tsv"
    print(f"(a) decode throughput: {rows:,}-row GZIP TSV listings report, 29 columns ({gz.stat().st_size / 2**20:.1f} "
          f"MB gzip, {tsv.stat().st_size / 2**20:.1f} MB TSV); every row iterated; each reader in a fresh process")
    ours = run_child(__file__, "--scan", report_id, "--passes", "2", "--connection-string", _client(emu, files))
    download, cached = ours["passes"]
    sqlite = sqlite_import(tsv, importer)
    pandas = run_child(__file__, "--pandas", str(gz))
    print(rate_line("sqlspapi SELECT *, first query (download + decode)", download, rows))
    print(rate_line("sqlspapi SELECT *, second query (document from the disk cache)", cached, rows))
    print(rate_line(sqlite["label"], sqlite, rows))
    if pandas:
        print(rate_line(f"pandas {pandas['version']} read_csv(gzip, sep='\\t', dtype=str)", pandas, rows))
    print("    speed ratios, ours / theirs (rows/s; in brackets rows per CPU second, our client process only):")
    for name, theirs, target in [(f"{'sqlite3' if 'CLI' in sqlite['label'] else 'APSW shell'} .import", sqlite,
                                  SQLITE_TARGET), *([("pandas.read_csv", pandas, PANDAS_TARGET)] if pandas else [])]:
        print(f"        vs {name:18s} with download {verdict(download, theirs, target)};  "
              f"from cache {verdict(cached, theirs, target)}")
    if not pandas:
        print("    pandas is not installed (pip install -e '.[pandas]'): no pandas.read_csv comparison")
    print(f"    (ours yields typed values, e.g. {json.dumps(ours['sample'])}; theirs are text. Peak RSS: ours "
          f"{ours['peak_mb']:.0f} MB" + (f", pandas {pandas['peak_mb']:.0f} MB)" if pandas else ")"))
    for notice in ours["notices"]:
        print(f"    notice: {notice[:300]}")


def part_breakdown(emu: EmulatorProcess, report_id: str, rows: int, files: Path) -> None:
    """Where a cached ``SELECT *`` spends its time: each layer alone, then a cProfile (one fresh client)."""
    result = run_child(__file__, "--scan", report_id, "--passes", "2", "--breakdown",
                       "--connection-string", _client(emu, files))
    cached = result["passes"][1]
    print(f"\nWhere a cached SELECT * over {rows:,} rows spends its time ({cached['rows'] / cached['seconds']:,.0f} "
          "rows/s): each layer alone over the cached document, cumulative, in process CPU time")
    before = 0.0
    for label, layer in [*result["layers"].items(), ("+ SQLite rows via APSW Column calls (SELECT *)", cached)]:
        print(f"    {label:50s} {layer['cpu']:7.2f} s ({layer['cpu'] / cached['cpu']:6.1%});  this layer "
              f"{(layer['cpu'] - before) / rows * 1e6:6.2f} us/row")
        before = layer["cpu"]
    prof = result["profile"]
    print(f"  cProfile of the same query (process CPU {prof['total_s']:.1f} s under the profiler, which inflates "
          "small Python calls)")
    print("    cumulative time of the pipeline's functions:")
    for share, calls, label in prof["cumulative"]:
        print(f"        {share:6.1%} {calls:>11,} calls  {label}")
    print("    top functions by self time:")
    for share, calls, label in prof["self"]:
        print(f"        {share:6.1%} {calls:>11,} calls  {label}")


def _client(emu: EmulatorProcess, files: Path) -> str:
    """A connection string with a report cache of its own under ``files`` (removed with it)."""
    return emu.connection_string(ReportCacheDir=tempfile.mkdtemp(prefix="cache-", dir=files), ReportCacheMB=100000)


def part_b(emu: EmulatorProcess, sizes: list[int], report_ids: dict[int, str], files: Path) -> None:
    """(b): peak client RSS per document size, each a fresh client process (download included)."""
    print("\n(b) peak RSS (VmHWM) of the client process for SELECT * (fresh client per size, emulator in its own "
          "process, download included)")
    print(f"    {'rows':>10}  {'gzip MB':>8}  {'peak MB':>8}  {'before':>7}  {'rows/s':>9}")
    peaks = []
    for size in sizes:
        try:
            result = run_child(__file__, "--scan", report_ids[size], "--passes", "1", "--connection-string",
                               _client(emu, files))
        except RuntimeError as exc:
            print(f"    {size:>10,}  FAILED  {exc}")
            peaks.append(float("inf"))
            continue
        first = result["passes"][0]
        peaks.append(result["peak_mb"])
        print(f"    {size:>10,}  {(files / f'listings-{size}.tsv.gz').stat().st_size / 2**20:8.1f}  "
              f"{result['peak_mb']:8.1f}  {result['before_mb']:7.1f}  {first['rows'] / first['seconds']:9,.0f}"
              + ("" if first["rows"] == size else f"  (read {first['rows']:,} rows!)"))
    worst = max(peaks)
    flat = worst <= peaks[0] * FLAT_FACTOR
    print(f"    worst {worst:.1f} MB: target < {RSS_TARGET_MB} MB {'met' if worst < RSS_TARGET_MB else 'NOT MET'}; "
          f"flat (largest within {FLAT_FACTOR:g}x of the smallest): {'met' if flat else 'NOT MET'}")


def main(argv: list[str] | None = None) -> int:
    """Generate the documents, serve them from an emulator process, and print (a) and (b)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="20k rows for (a), 2k and 20k for (b), the breakdown over 2k")
    parser.add_argument("--rows", type=int, help="rows of the (a) document (default 1000000; --quick: 20000)")
    parser.add_argument("--sizes", help="comma-separated (b) sizes (default 10000,100000,1000000,2000000)")
    parser.add_argument("--profile-rows", type=int,
                        help="rows of the time breakdown and cProfile (default 100000; --quick: the smallest size)")
    parser.add_argument("--importer", choices=("auto", "sqlite3", "apsw"), default="auto",
                        help="what .imports the TSV (auto: the sqlite3 CLI when installed, else APSW's shell)")
    parser.add_argument("--scan", help=argparse.SUPPRESS)
    parser.add_argument("--passes", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--breakdown", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--connection-string", help=argparse.SUPPRESS)
    parser.add_argument("--pandas", help=argparse.SUPPRESS)
    parser.add_argument("--apsw-import", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.scan:  # client children
        print(json.dumps(scan(args.connection_string, args.scan, args.passes, args.breakdown)))
        return 0
    if args.pandas:
        print(json.dumps(read_pandas(args.pandas)))
        return 0
    if args.apsw_import:
        print(json.dumps(apsw_import(args.apsw_import)))
        return 0

    rows = args.rows or (20_000 if args.quick else 1_000_000)
    default = "2000,20000" if args.quick else "10000,100000,1000000,2000000"
    sizes = [int(s) for s in (args.sizes or default).split(",")]
    profile_rows = args.profile_rows or (min(sizes) if args.quick else 100_000)
    every = sorted({rows, profile_rows, *sizes})
    with tempfile.TemporaryDirectory(prefix="bench-reports-") as tmp:
        files = Path(tmp)
        t0 = time.perf_counter()
        paths = write_documents(files, every, rows)
        generated = time.perf_counter() - t0
        with EmulatorProcess(orders=50, time_scale=TIME_SCALE,
                             documents=[(REPORT_TYPE, paths[size]) for size in every]) as emu:
            report_ids = dict(zip(every, emu.report_ids, strict=True))
            print(f"Report decode benchmark: {', '.join(f'{s:,}' for s in every)}-row {REPORT_TYPE} documents "
                  f"generated in {generated:.1f} s (one pass); emulator in its own process, time scale "
                  f"{TIME_SCALE:g}\n")
            part_a(emu, report_ids[rows], rows, files, args.importer)
            part_breakdown(emu, report_ids[profile_rows], profile_rows, files)
            part_b(emu, sizes, report_ids, files)
    return 0


if __name__ == "__main__":
    sys.exit(main())
