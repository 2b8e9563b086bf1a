"""The report benchmark (``benchmarks/bench_reports.py``) still runs: its generated listings documents are what the
report table reads, ``--quick`` at a tiny size prints every section with every row read, and APSW's shell ``.import``
(the fallback when no ``sqlite3`` binary is installed) loads the same TSV. No timings are asserted."""

from __future__ import annotations

import gzip
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


@pytest.fixture
def bench(monkeypatch):
    """The benchmark script as a module (its directory on sys.path, as when it runs)."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    import bench_reports

    return bench_reports


def test_generated_documents_are_prefixes_with_29_fields(bench, tmp_path) -> None:
    paths = bench.write_documents(tmp_path, [3, 40], plain_rows=40)
    small = gzip.decompress(paths[3].read_bytes()).decode().splitlines()
    large = gzip.decompress(paths[40].read_bytes()).decode().splitlines()
    plain = (tmp_path / "listings-40.tsv").read_text(encoding="utf-8").splitlines()
    assert large == plain and small == large[:4]  # header + 3 rows
    assert small[0].split("\t") == list(bench.HEADER) and len(bench.HEADER) == 29
    fields = [line.split("\t") for line in large[1:]]
    assert all(len(f) == 29 for f in fields)
    assert all(f[6].endswith((" PST", " PDT")) and f[16].startswith("B0") for f in fields)


def test_apsw_shell_import_reads_every_row(bench, tmp_path) -> None:
    bench.write_documents(tmp_path, [25], plain_rows=25)
    assert bench.apsw_import(str(tmp_path / "listings-25.tsv"))["rows"] == 25


def test_quick_run_prints_every_section() -> None:
    done = subprocess.run([sys.executable, str(BENCHMARKS / "bench_reports.py"), "--quick", "--rows", "300",
                           "--sizes", "300"], capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout
    for expected in ("(a) decode throughput: 300-row", "first query (download + decode)",
                     "second query (document from the disk cache)", ".import (:memory:)", "target >= 0.5x",
                     "Where a cached SELECT * over 300 rows", "+ typed cells (report route)", "cProfile",
                     "(b) peak RSS", "target < 150 MB"):
        assert expected in out, out
    assert "expected" not in out and "FAILED" not in out, out  # every reader read every row
    assert '"price": ["float"' in out and '"quantity": ["int"' in out  # the cells were typed
