"""Tests for scripts/compare_numpy.py: pairing, the preferred suite entry, ratios, bad input."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Optional

import pytest

import compare_numpy  # scripts/ is on the path (pytest.ini)

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ROOT / "scripts"
SCRIPT = SCRIPTS / "compare_numpy.py"

N = 11184810  # f64 -> f32 at a 128 MiB working set


def entries(run: str, gbps: Optional[float], time_us: float = 100.0,
            aggregates: tuple[str, ...] = ("mean", "median", "stddev", "cv")) -> list[dict[str, Any]]:
    """Google Benchmark aggregate entries for one run; only the median carries gbps (the others
    carry nonsense, so picking the wrong aggregate shows)."""
    out = []
    for agg in aggregates:
        e: dict[str, Any] = {"name": f"{run}_{agg}", "run_name": run, "run_type": "aggregate",
                             "aggregate_name": agg, "real_time": time_us if agg == "median"
                             else 1.0, "time_unit": "us", "verified": 1.0}
        if gbps is not None:
            e["bytes"] = gbps * 1e9 if agg == "median" else 1.0
        out.append(e)
    return out


def numpy_doc() -> dict[str, Any]:
    b: list[dict[str, Any]] = []
    b += entries(f"numpy/astype_prealloc/src:f64/dst:f32/n:{N}/level:DRAM/threads:1", 8.0)
    b += entries(f"numpy/astype_alloc/src:f64/dst:f32/n:{N}/level:DRAM/threads:1", 4.0)
    b += entries("numpy/cast/src:f32/dst:f16/path:numpy/n:22369621/level:DRAM/threads:1", 4.0)
    b += entries("numpy/cast/src:u8/dst:f32/path:numpy/n:26843545/level:DRAM/threads:1", 5.0)
    b += entries("numpy/byteswap/width:4/path:numpy/n:65536/level:L2/threads:1", 10.0)
    b += entries("numpy/byteswap/width:8/path:numpy/n:8388608/level:DRAM/threads:1", None,
                 time_us=3000.0)
    return {"context": {"hostname": "vm", "library": "numpy", "numpy_version": "2.4.6",
                        "cpu_model": "Fake CPU"},
            "benchmarks": b}


def suite_doc() -> dict[str, Any]:
    b: list[dict[str, Any]] = []
    pre = f"convert/astype_prealloc/src:f64/dst:f32/n:{N}/level:DRAM"
    b += entries(f"{pre}/threads:1/real_time", 10.0)
    b += entries(f"{pre}/threads:2/real_time", 20.0)
    # the same variant for another pair of dtypes and at another level must not be picked
    b += entries(f"convert/astype_prealloc/src:f32/dst:f64/n:{N}/level:DRAM/threads:2/real_time",
                 99.0)
    b += entries(f"{pre.replace('DRAM', 'L2')}/threads:2/real_time", 98.0)
    # astype_alloc only at L2: the DRAM NumPy entry stays unpaired
    b += entries(f"convert/astype_alloc/src:f64/dst:f32/n:43690/level:L2/threads:2/real_time",
                 50.0)
    cast = "convert/cast/src:f32/dst:f16/path:{}/n:22369621/level:DRAM/threads:{}/real_time"
    b += entries(cast.format("portable", 2), 30.0)  # faster, but SIMD is what we compare
    b += entries(cast.format("portable", 1), 29.0)
    b += entries(cast.format("simd", 2), 16.0)
    b += entries(cast.format("simd", 1), 9.0)
    # one repetition: iteration entries only, the median time is the representative
    for t, gbps in ((1.0, 12.0), (3.0, 11.0), (2.0, 13.0)):
        b.append({"name": "convert/byteswap/width:4/path:simd/n:65536/level:L2/threads:2",
                  "run_name": "convert/byteswap/width:4/path:simd/n:65536/level:L2/threads:2",
                  "run_type": "iteration", "real_time": t, "time_unit": "us",
                  "bytes": gbps * 1e9})
    b += entries("convert/byteswap/width:8/path:simd/n:8388608/level:DRAM/threads:2/real_time",
                 None, time_us=1.5, aggregates=("median",))  # 1.5 ms in ms below
    b[-1]["time_unit"] = "ms"
    b.append({"name": "convert/cast/src:u8/dst:f32/path:simd/n:26843545/level:DRAM/threads:2",
              "run_name": "convert/cast/src:u8/dst:f32/path:simd/n:26843545/level:DRAM/threads:2",
              "run_type": "iteration", "error_occurred": True,
              "error_message": "skip: no AVX2"})
    return {"context": {"hostname": "vm", "cpu_model": "Fake CPU", "cpu_cores": "2",
                        "git_commit": "abc123"},
            "benchmarks": b}


def write(tmp_path: Path, name: str, doc: Any) -> str:
    p = tmp_path / name
    p.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return str(p)


def run(tmp_path: Path, capsys: pytest.CaptureFixture, *extra: str,
        suite: Any = None, numpy: Any = None) -> tuple[int, str]:
    code = compare_numpy.main([write(tmp_path, "suite.json", suite or suite_doc()),
                               write(tmp_path, "numpy.json", numpy or numpy_doc()), *extra])
    return code, capsys.readouterr().out


def table_rows(out: str) -> dict[tuple[str, str], list[str]]:
    rows = {}
    for line in out.splitlines():
        if line.startswith("| ") and not line.startswith("| operation"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            rows[(cells[0], cells[1])] = cells[2:]
    return rows


def test_pairs_prefer_simd_and_the_most_threads(tmp_path: Path,
                                                capsys: pytest.CaptureFixture) -> None:
    code, out = run(tmp_path, capsys)
    assert code == 0
    rows = table_rows(out)
    assert rows[("astype_prealloc src:f64/dst:f32", "DRAM")] == [
        "8.00", "20.00 (2 thr)", "2.50", "10.00 (1 thr)", "1.25"]
    assert rows[("cast src:f32/dst:f16", "DRAM")] == [
        "4.00", "16.00 (2 thr, simd)", "4.00", "9.00 (1 thr, simd)", "2.25"]
    # no threads:1 entry: its cells say so; the median of three iterations is 13 GB/s (t = 2)
    assert rows[("byteswap width:4", "L2")] == ["10.00", "13.00 (2 thr, simd)", "1.30", "–", "–"]


def test_missing_pairs_are_listed_not_errors(tmp_path: Path,
                                             capsys: pytest.CaptureFixture) -> None:
    code, out = run(tmp_path, capsys)
    assert code == 0
    rows = table_rows(out)
    assert ("astype_alloc src:f64/dst:f32", "DRAM") not in rows
    assert ("cast src:u8/dst:f32", "DRAM") not in rows  # the suite skipped it
    missing = out.split("Not paired")[1]
    assert f"numpy/astype_alloc/src:f64/dst:f32/n:{N}/level:DRAM/threads:1" in missing
    assert "numpy/cast/src:u8/dst:f32/path:numpy/n:26843545/level:DRAM/threads:1" in missing
    assert "astype_prealloc" not in missing


def test_without_bytes_times_are_compared(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    _, out = run(tmp_path, capsys)
    # NumPy 3000 us, suite 1.5 ms: the suite is 2x faster
    assert table_rows(out)[("byteswap width:8", "DRAM")] == [
        "3000.0 µs*", "1500.0 µs* (2 thr, simd)", "2.00*", "–", "–"]
    assert "median times compared" in out


def test_level_filter(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    _, out = run(tmp_path, capsys, "--level", "L2")
    assert set(table_rows(out)) == {("byteswap width:4", "L2")}
    assert "Not paired" not in out  # the DRAM entries are not asked for


def test_rows_follow_the_level_order(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    _, out = run(tmp_path, capsys)
    levels = [level for _, level in table_rows(out)]
    assert levels == sorted(levels, key=compare_numpy.LEVELS.index) and levels[0] == "L2"


def test_other_sizes_and_machines_are_noted(tmp_path: Path,
                                            capsys: pytest.CaptureFixture) -> None:
    doc = numpy_doc()
    doc["context"]["hostname"] = "laptop"
    for b in doc["benchmarks"]:
        b["run_name"] = b["run_name"].replace(f"n:{N}/", "n:1000/")
    _, out = run(tmp_path, capsys, numpy=doc)
    assert "different machines (vm, laptop)" in out
    assert "astype_prealloc src:f64/dst:f32 DRAM n:1000 vs n:11184810" in out


@pytest.mark.parametrize("text, message", [
    ('{"context": {}, "benchmarks": [', "not valid JSON: Expecting value at line 1"),
    ("[1, 2]", 'not a result file (no "benchmarks" list)'),
    ('{"benchmarks": [1]}', 'a "benchmarks" item is not an object'),
])
def test_malformed_json_is_one_clear_line(tmp_path: Path, text: str, message: str) -> None:
    good = write(tmp_path, "numpy.json", numpy_doc())
    proc = subprocess.run([sys.executable, str(SCRIPT), write(tmp_path, "bad.json", text), good],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "bad.json" in lines[0] and message in lines[0]


def test_missing_file_and_swapped_arguments(tmp_path: Path,
                                            capsys: pytest.CaptureFixture) -> None:
    assert compare_numpy.main([str(tmp_path / "nope.json"),
                               write(tmp_path, "n.json", numpy_doc())]) == 2
    assert "nope.json: cannot read" in capsys.readouterr().err
    code = compare_numpy.main([write(tmp_path, "n.json", numpy_doc()),
                               write(tmp_path, "s.json", suite_doc())])
    assert code == 2 and "arguments swapped?" in capsys.readouterr().err


def test_bad_level_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as e:
        compare_numpy.main(["a.json", "b.json", "--level", "L5"])
    assert e.value.code == 2
