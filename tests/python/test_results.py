"""Tests for scripts/dtypebench_results (load, names, dispositions, picking rows, rates) on
hand-made rows and on the committed reports."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from result_rows import agg, it

import dtypebench_results as results
from dtypebench_results import ResultsError, disposition, representative
from dtypebench_results.rows import parse_name

ROOT = Path(__file__).resolve().parents[2]
REPORTS = ROOT / "reports"


# ---- names -------------------------------------------------------------------------------------


def test_parse_name_reads_family_variant_and_keys() -> None:
    family, variant, keys = parse_name(
        "layout/colsum_naive/dtype:f32/order:C/n:4096/threads:2/real_time")
    assert (family, variant) == ("layout", "colsum_naive")
    assert keys == {"dtype": "f32", "order": "C", "n": "4096", "threads": "2"}  # no real_time


def test_parse_name_keeps_google_benchmark_suffixes_as_today() -> None:
    name = parse_name("baseline/gpu/repeats:1/manual_time")
    assert name.family == "baseline" and name.variant == "gpu"
    assert name.keys == {"repeats": "1"}  # has a colon, so it reads as a key; manual_time does not
    assert parse_name("layout/x/min_time:0.200/manual_time").keys == {"min_time": "0.200"}
    assert parse_name("f/v/expr:i32*f32+f32/k:a:b").keys == {"expr": "i32*f32+f32", "k": "a:b"}
    assert parse_name("layout") == ("layout", "", {})
    assert parse_name("layout/copy/n:1/n:2").keys == {"n": "2"}


def test_run_name_prefers_run_name() -> None:
    assert results.run_name(agg("f/a/n:1", "median", 1.0)) == "f/a/n:1"
    assert results.run_name({"name": "f/b"}) == "f/b"
    assert results.Bench(agg("f/a/n:1", "median", 1.0)).keys == {"n": "1"}


# ---- which row stands for a run ----------------------------------------------------------------


def test_representative_prefers_median_then_middle_iteration() -> None:
    rows = [agg("f/a/level:DRAM", "mean", 10.0), agg("f/a/level:DRAM", "median", 9.0),
            agg("f/a/level:DRAM", "stddev", 1.0),
            it("f/b/level:DRAM", 30.0), it("f/b/level:DRAM", 10.0), it("f/b/level:DRAM", 20.0),
            it("f/c/level:DRAM", 0.0, error_occurred=True, error_message="skip: x"),
            it("f/d/level:DRAM", 5.0, label="failed: mismatch at [2]"),
            it("f/e/level:DRAM", 7.0, label="verified")]
    reps = representative(rows)
    assert [(b["run_name"], b["real_time"]) for b in reps] == [
        ("f/a/level:DRAM", 9.0), ("f/b/level:DRAM", 20.0), ("f/e/level:DRAM", 7.0)]


def test_select_picks_by_family_variant_and_keys() -> None:
    rows = [it("baseline/copy/dtype:f64/level:DRAM/threads:2", 1.0),
            it("baseline/copy/dtype:f32/level:DRAM/threads:2", 1.0),
            it("baseline/triad/dtype:f64/level:DRAM/threads:1", 1.0),
            it("layout/copy/dtype:f64/level:DRAM/threads:2", 1.0)]
    names = [b["name"] for b in results.select(rows, "baseline", dtype="f64", level="DRAM")]
    assert names == [rows[0]["name"], rows[2]["name"]]
    assert results.select(rows, variant="copy", threads="2") == [rows[0], rows[1], rows[3]]
    assert results.select(rows, "baseline", order="C") == []  # a key given must be present


# ---- dispositions ------------------------------------------------------------------------------


@pytest.mark.parametrize("row, expected", [
    ({"label": "verified", "verified": 1.0}, ("verified", "")),
    ({"label": "skipped: no CUDA device: driver missing", "error_occurred": True,
      "error_message": "skip: no CUDA device: driver missing"},
     ("skipped", "no CUDA device: driver missing")),
    ({"label": "failed: 3 of 64 elements wrong", "error_occurred": True,
      "error_message": "error: 3 of 64 elements wrong"}, ("failed", "3 of 64 elements wrong")),
    ({"label": "derived", "ratio": 2.0}, ("derived", "")),
    # the label decides, even over a verified counter that says otherwise
    ({"label": "failed: checksum", "verified": 1.0}, ("failed", "checksum")),
    ({"label": "skipped", "error_occurred": True, "error_message": "skip: "}, ("skipped", "")),
])
def test_disposition_reads_the_label(row: dict[str, Any], expected: tuple[str, str]) -> None:
    assert disposition(row) == expected


@pytest.mark.parametrize("row, expected", [
    ({"error_occurred": True, "error_message": "skip: does not fit: 8 GiB"},
     ("skipped", "does not fit: 8 GiB")),
    ({"error_occurred": True, "error_message": "error: mismatch at [3]"},
     ("failed", "mismatch at [3]")),
    ({"error_occurred": True, "error_message": "std::bad_alloc"}, ("failed", "std::bad_alloc")),
    ({"skipped": True, "skip_message": "not here"}, ("skipped", "not here")),
    ({"verified": 1.0}, ("verified", "")),
    ({"verified": 0.0}, ("unchecked", "")),
    ({"bytes": 1e9}, ("unchecked", "")),
    ({"label": "casting=unsafe", "verified": 1.0}, ("verified", "")),  # numpy_ref's labels
])
def test_disposition_of_older_rows(row: dict[str, Any], expected: tuple[str, str]) -> None:
    assert disposition(row) == expected


def test_is_error_and_is_skip_follow_the_disposition() -> None:
    skip = {"label": "skipped: no GPU"}
    fail = {"error_occurred": True, "error_message": "error: x"}
    ok = {"label": "verified"}
    assert results.is_error(skip) and results.is_skip(skip)
    assert results.is_error(fail) and not results.is_skip(fail)
    assert not results.is_error(ok) and not results.is_derived(ok)
    assert results.is_derived({"label": "derived"})


@pytest.mark.parametrize("report", ["vm-2026-11-26-4.json", "vm-2026-11-26-3.json"])
def test_dispositions_of_a_committed_run(report: str) -> None:
    rows = results.load(REPORTS / report)["benchmarks"]
    kinds = [disposition(b)[0] for b in rows]
    errored = sum(1 for b in rows if b.get("error_occurred"))
    assert kinds.count("skipped") == errored > 0 and kinds.count("failed") == 0
    assert kinds.count("derived") == sum(1 for b in rows if b.get("label") == "derived") > 0
    assert all(disposition(b)[1] for b in rows if disposition(b)[0] == "skipped")  # a reason


# ---- counters, rates, time ---------------------------------------------------------------------


def test_counters_rates_and_seconds() -> None:
    row = agg("baseline/triad/dtype:f64/level:DRAM/n:10/threads:2", "median", 2.0, bytes=1.5e10,
              flops=0.0, elements=float("inf"), verified=1.0, threads=2, iterations=7,
              family_index=3, error_occurred=False)
    row["time_unit"] = "ms"
    assert results.counters(row) == {"bytes": 1.5e10, "flops": 0.0,
                                     "elements": float("inf"), "verified": 1.0}
    assert results.rates(row) == {"bytes": 1.5e10}  # 0 and inf are not usable rates
    assert results.rate(row, "flops") is None and results.rate(row) == 1.5e10
    assert results.seconds(row) == pytest.approx(2e-3)
    assert results.seconds({"real_time": 5.0, "time_unit": "us"}) == pytest.approx(5e-6)
    assert results.seconds({"time_unit": "us"}) is None


def test_dtype_order_comes_from_the_context() -> None:
    assert results.dtype_order({"dtype_names": "f64,f32,tf32,f16,bf16,e4m3,e5m2,i32,i8,u8"})[-3:] \
        == ["i32", "i8", "u8"]
    assert results.dtype_order({"dtype_names": " bf16 , f64 ,"}) == ["bf16", "f64"]
    assert results.dtype_order({}) == results.DEFAULT_DTYPE_ORDER
    assert results.dtype_order({"dtype_names": ""}) == results.DEFAULT_DTYPE_ORDER


# ---- loading -----------------------------------------------------------------------------------


@pytest.mark.parametrize("content, reason", [
    (b"\xff\xfe{}", "not UTF-8 text (byte 0xff at offset 0)"),
    (b'{"benchmarks": ["\xe9"]}', "not UTF-8 text (byte 0xe9 at offset 17)"),
    (b"[]", 'not a result file (no "benchmarks" list)'),
    (b"null", 'not a result file (no "benchmarks" list)'),
    (b'{"benchmarks": 5}', 'not a result file ("benchmarks" is not a list)'),
    (b'{"benchmarks": [1]}', 'a "benchmarks" item is not an object'),
    (b'{"benchmarks": [', "not valid JSON: Expecting value at line 1 column 17"),
    (b"", "not valid JSON: Expecting value at line 1 column 1"),
    (b"[" * 100000, "not valid JSON: nested too deeply"),
])
def test_load_refuses_what_is_not_a_result(tmp_path: Path, content: bytes, reason: str) -> None:
    p = tmp_path / "r.json"
    p.write_bytes(content)
    with pytest.raises(ResultsError) as e:
        results.load(p)
    assert e.value.reason == reason and e.value.path == str(p)
    assert str(e.value) == f"{p}: {reason}" and "\n" not in str(e.value)


def test_load_of_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ResultsError, match=r"nope\.json: cannot read: No such file"):
        results.load(tmp_path / "nope.json")


def test_load_and_save_round_trip(tmp_path: Path) -> None:
    doc = {"context": {"k": "v"}, "benchmarks": [it("f/a", 1.0)]}
    p = tmp_path / "sub" / "r.json"
    results.save(p, doc)
    assert results.load(p) == doc and not list(p.parent.glob("*.partial.json"))
    assert results.context_of(doc) == {"k": "v"}
    assert results.context_of({"context": [], "benchmarks": []}) == {}
    assert results.read_json(p) == doc


@pytest.mark.parametrize("script", ["derive", "check_json.py", "stream_check.py",
                                    "compare_numpy.py"])
def test_scripts_print_one_line_for_a_bad_file(tmp_path: Path, script: str) -> None:
    bad = tmp_path / "bad.json"
    bad.write_bytes(b"\x80\x81 not text")
    args = [str(bad)] + ([str(bad)] if script == "compare_numpy.py" else [])
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / script), *args],
                          capture_output=True, text=True)
    assert proc.returncode in (1, 2) and "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "bad.json: not UTF-8 text (byte 0x80 at offset 0)" in lines[0]


def test_committed_runs_load() -> None:
    for path in sorted(REPORTS.glob("*.json")):
        doc = results.load(path)
        assert doc["benchmarks"], path
        json.dumps(doc)  # plain data
