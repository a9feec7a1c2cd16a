"""Tests for scripts/check_json.py on small hand-made result files."""
from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import check_json  # scripts/ is on the path (pytest.ini)

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "check_json.py"

CONTEXT = {"git_commit": "abc123-dirty", "cpu_model": "Fake CPU", "cpu_cores": "2",
           "l1d_bytes": "49152", "l2_bytes": "2097152", "l3_bytes": "33554432",
           "mem_bytes": "8589934592", "compiler": "GNU 12.2.0", "compiler_flags": "-O3",
           "build_type": "Release", "gpu_available": "0"}
NAME = "layout/colsum_naive/dtype:f32/order:C/n:4096/threads:2/real_time"


def entry(name: str = NAME, aggregate: str | None = "median", **extra: Any) -> dict[str, Any]:
    e: dict[str, Any] = {"name": f"{name}_{aggregate}" if aggregate else name, "run_name": name,
                         "run_type": "aggregate" if aggregate else "iteration",
                         "real_time": 10.0, "time_unit": "us", "bytes": 1e9, "verified": 1.0}
    if aggregate:
        e["aggregate_name"] = aggregate
    e.update(extra)
    return e


GOOD = {"context": CONTEXT, "benchmarks": [
    entry(), entry(aggregate="mean"), entry(aggregate="stddev", verified=0.0),
    entry(aggregate="cv", verified=0.0),
    entry("baseline/triad/dtype:f64/level:DRAM/threads:2", aggregate=None),
    {"name": "layout/breakeven/dtype:f64/level:DRAM", "run_name":
     "layout/breakeven/dtype:f64/level:DRAM", "run_type": "iteration", "label": "derived",
     "passes": 3.5},
    {"name": "baseline/gpu_copy/level:DRAM/manual_time", "run_name":
     "baseline/gpu_copy/level:DRAM/manual_time", "run_type": "iteration", "error_occurred": True,
     "error_message": "skip: no CUDA device: CUDA driver version is insufficient"},
]}


def write(tmp_path: Path, doc: Any) -> Path:
    p = tmp_path / "result.json"
    p.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return p


def problems_of(tmp_path: Path, doc: Any, required: list[str] | None = None) -> list[str]:
    problems, _, _ = check_json.check_file(str(write(tmp_path, doc)),
                                           required or check_json.DEFAULT_CONTEXT_KEYS)
    return problems


def test_a_good_file_passes(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert check_json.main([str(write(tmp_path, GOOD))]) == 0
    out = capsys.readouterr().out
    assert "ok (7 entries" in out
    assert "note: 1 benchmark(s) skipped" in out


def test_malformed_json_is_one_clear_line(tmp_path: Path) -> None:
    p = write(tmp_path, '{"context": {}, "benchmarks": [')
    proc = subprocess.run([sys.executable, str(SCRIPT), str(p)], capture_output=True, text=True)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "not valid JSON" in lines[0] and "line 1" in lines[0]


def test_missing_file(tmp_path: Path) -> None:
    assert check_json.main([str(tmp_path / "nope.json")]) == 2  # not a result: could not start


def test_missing_context_keys_are_named(tmp_path: Path) -> None:
    doc = copy.deepcopy(GOOD)
    del doc["context"]["git_commit"]
    del doc["context"]["gpu_available"]
    assert problems_of(tmp_path, doc) == ["context lacks key(s): git_commit, gpu_available"]
    doc["context"] = []
    assert problems_of(tmp_path, doc) == ['no "context" object']


def test_context_values_are_checked(tmp_path: Path) -> None:
    doc = copy.deepcopy(GOOD)
    doc["context"]["cpu_cores"] = "0"
    doc["context"]["l2_bytes"] = "2M"
    doc["context"]["gpu_available"] = "yes"
    problems = problems_of(tmp_path, doc)
    assert len(problems) == 3
    assert any("cpu_cores" in p for p in problems) and any("l2_bytes" in p for p in problems)


def test_require_context_replaces_the_default(tmp_path: Path) -> None:
    p = write(tmp_path, GOOD)
    assert check_json.main([str(p), "--require-context", "cpu_model,gpu_name"]) == 1
    assert check_json.main([str(p), "--require-context", "cpu_model,hostless"]) == 1
    assert check_json.main([str(p), "--require-context", "cpu_model"]) == 0


def test_benchmarks_must_be_a_non_empty_list(tmp_path: Path) -> None:
    assert problems_of(tmp_path, {"context": CONTEXT, "benchmarks": []}) == [
        'the "benchmarks" list is empty']
    assert problems_of(tmp_path, {"context": CONTEXT}) == ['no "benchmarks" list']
    assert problems_of(tmp_path, [1, 2]) == ["top level is not a JSON object"]


def test_unverified_results_fail(tmp_path: Path) -> None:
    doc = copy.deepcopy(GOOD)
    doc["benchmarks"][0]["verified"] = 0.0
    doc["benchmarks"][4]["verified"] = 1234.5  # e.g. reported as a rate by mistake
    problems = problems_of(tmp_path, doc)
    assert len(problems) == 2
    assert problems[0] == f"{NAME}_median: verified = 0.0, not 1"


def test_failed_entries_are_problems(tmp_path: Path) -> None:
    doc = copy.deepcopy(GOOD)
    doc["benchmarks"].append({"name": "layout/x/n:3", "run_name": "layout/x/n:3",
                              "run_type": "iteration", "error_occurred": True, "verified": 0,
                              "error_message": "error: mismatch"})
    problems, notes, _ = check_json.check_file(str(write(tmp_path, doc)),
                                               check_json.DEFAULT_CONTEXT_KEYS)
    # a run whose check failed is not a good run
    assert problems == ["1 benchmark(s) failed, first: layout/x/n:3: error: mismatch"]


@pytest.mark.parametrize("name", ["layout", "layout/", "Layout/colsum", "layout/colsum/dtype f32",
                                  "layout/colsum/dtype", "layout/colsum/n:4096/bogus_time",
                                  "layout//n:4"])
def test_bad_names_are_rejected(tmp_path: Path, name: str) -> None:
    doc = {"context": CONTEXT, "benchmarks": [entry(name, aggregate=None)]}
    problems = problems_of(tmp_path, doc)
    assert len(problems) == 1 and "does not read family/variant" in problems[0]


@pytest.mark.parametrize("name", ["layout/colsum", "baseline/fma/dtype:bf16/threads:all",
                                  "layout/transpose_tiled/n:4096/manual_time",
                                  "baseline/copy/level:DRAM/threads:2/iterations:10/repeats:3"])
def test_good_names_pass(tmp_path: Path, name: str) -> None:
    assert problems_of(tmp_path, {"context": CONTEXT, "benchmarks": [entry(name)]}) == []


def test_aggregate_name_must_match_run_name(tmp_path: Path) -> None:
    e = entry()
    e["name"] = "layout/other/n:1_median"
    problems = problems_of(tmp_path, {"context": CONTEXT, "benchmarks": [e]})
    assert len(problems) == 1 and "is not its run name" in problems[0]


def test_families_not_run_are_reported(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    doc = copy.deepcopy(GOOD)
    doc["context"]["families_not_run"] = [{"family": "layout", "reason": "crashed (signal 11)"}]
    assert check_json.main([str(write(tmp_path, doc))]) == 0
    assert "family layout not run: crashed (signal 11)" in capsys.readouterr().out


def test_many_problems_are_capped(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    doc = {"context": CONTEXT, "benchmarks": [entry(f"bad name {i}", None) for i in range(50)]}
    assert check_json.main([str(write(tmp_path, doc))]) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == check_json.MAX_PROBLEMS_SHOWN + 1 and "30 more problems" in err[-1]


@pytest.mark.parametrize("key", ["real_time", "bytes", "cpu_time", "flops"])
def test_nan_and_infinity_in_a_time_or_a_rate_fail(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture,
                                                   key: str) -> None:
    doc = copy.deepcopy(GOOD)
    doc["benchmarks"][0][key] = float("nan")  # json.dumps writes NaN and Infinity as Python does
    doc["benchmarks"][4][key] = float("inf")
    assert check_json.main([str(write(tmp_path, doc))]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err == [f"{tmp_path / 'result.json'}: {NAME}_median: {key} = nan, not a finite number",
                   f"{tmp_path / 'result.json'}: baseline/triad/dtype:f64/level:DRAM/threads:2: "
                   f"{key} = inf, not a finite number"]
