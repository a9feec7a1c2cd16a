"""Tests for scripts/run_suite.py: merging, crash/failure/interrupt handling, the summary table.

A fake dtypebench (a small Python script) stands in for the binary; FAKE_PLAN (JSON: family -> mode)
says what each family's process does: ok, fail, skip, crash, garbage, usage, hang, layout (layout
rows and a derived entry of its own, as an older binary wrote). Its rows carry their disposition as
the label, as the binary writes them.
"""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Optional

import pytest
from result_rows import agg, it, one_line

import check_json  # scripts/ is on the path (pytest.ini)
import run_suite
from dtypebench_results import representative
from dtypebench_results.families import gemm

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "run_suite.py"

CONTEXT = {"git_commit": "abc123", "cpu_model": "Fake CPU", "cpu_cores": "2", "l1d_bytes": "49152",
           "l2_bytes": "2097152", "l3_bytes": "33554432", "mem_bytes": "8589934592",
           "compiler": "GNU 12.2.0", "compiler_flags": "-O3", "build_type": "Release",
           "gpu_available": "0", "gpu_status": "no CUDA device", "working_set_DRAM": "134217728",
           "dtype_names": "f64,f32,tf32,f16,bf16,e4m3,e5m2,i32,i8,u8"}

FAKE = r'''#!{python}
import json, os, signal, sys, time
args = sys.argv[1:]
families = os.environ.get("FAKE_FAMILIES", "a,b,c").split(",")
plan = json.loads(os.environ.get("FAKE_PLAN", "{{}}"))
if "--list-families" in args:  # the binary checks the other arguments first
    if "--bogus" in args:
        print("dtypebench: unknown option '--bogus' (see --help)", file=sys.stderr)
        sys.exit(2)
    print("\n".join(families))
    sys.exit(0)
with open(os.environ["FAKE_LOG"], "a") as f:
    f.write(json.dumps(args) + "\n")
family = next(a.split("=", 1)[1] for a in args if a.startswith("--family="))
out = next(a.split("=", 1)[1] for a in args if a.startswith("--benchmark_out="))
mode = plan.get(family, "ok")
context = dict(json.loads(os.environ["FAKE_CONTEXT"]), fake_family=family)

def entry(variant, level, **extra):
    name = family + "/" + variant + "/dtype:f64/level:" + level + "/threads:2/real_time"
    e = {{"name": name + "_median", "run_name": name, "run_type": "aggregate",
          "aggregate_name": "median", "real_time": 1500.0, "cpu_time": 1500.0, "time_unit": "us",
          "bytes": 2.5e10, "verified": 1.0, "label": "verified"}}
    e.update(extra)
    return e

ok_entries = [entry("copy", "DRAM"), entry("copy", "L1", bytes=1.0e11)]
if mode == "usage":
    print("dtypebench: unknown option", file=sys.stderr)
    sys.exit(2)
if mode == "garbage":
    open(out, "w").write("this is not json {{")
    sys.exit(0)
if mode in ("crash", "hang"):
    # what Google Benchmark leaves when killed mid-run: context, finished entries, a torn one
    text = json.dumps({{"context": context, "benchmarks": [ok_entries[0]]}}, indent=2)
    text = text[: text.rstrip().rfind("]")] + ',\n    {{"name": "' + family + '/torn", "real_ti'
    with open(out, "w") as f:
        f.write(text)
    if mode == "crash":
        os.kill(os.getpid(), signal.SIGSEGV)
    with open(os.environ["FAKE_MARKER"], "w") as f:
        f.write(str(os.getpid()))
    time.sleep(60)
    sys.exit(0)
entries = list(ok_entries)
if mode == "fail":
    bad = family + "/bad/n:3/real_time"
    entries.append({{"name": bad, "run_name": bad, "run_type": "iteration", "error_occurred": True,
                    "error_message": "error: result mismatch at [1]",
                    "label": "failed: result mismatch at [1]"}})
if mode == "skip":
    entries.append({{"name": family + "/gpu/n:3/manual_time",
                    "run_name": family + "/gpu/n:3/manual_time", "run_type": "iteration",
                    "error_occurred": True, "error_message": "skip: no CUDA device: none",
                    "label": "skipped: no CUDA device: none"}})
if mode == "layout":
    def row(variant, us):
        name = family + "/" + variant + "/dtype:f64/order:C/n:10/level:DRAM/threads:2/real_time"
        return {{"name": name, "run_name": name, "run_type": "iteration", "real_time": us,
                "cpu_time": us, "time_unit": "us", "bytes": 1e9, "label": "verified"}}
    derived = family + "/derived/dtype:f64/level:DRAM/threads:2"
    entries = [row("rowsum_naive", 100.0), row("colsum_naive", 250.0),
               {{"name": derived, "run_name": derived, "run_type": "iteration", "threads": 1,
                "real_time": 0.0, "time_unit": "us", "label": "derived",
                "colsum_strided_over_rowsum_C": 99.0, "from_the_binary": 1.0}}]
with open(out, "w") as f:
    json.dump({{"context": context, "benchmarks": entries}}, f)
print(family + ": done")
sys.exit(1 if mode == "fail" else 0)
'''


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    binary = tmp_path / "dtypebench"
    binary.write_text(FAKE.format(python=sys.executable))
    binary.chmod(0o755)
    env = {"FAKE_LOG": str(tmp_path / "log.jsonl"), "FAKE_MARKER": str(tmp_path / "marker"),
           "FAKE_CONTEXT": json.dumps(CONTEXT), "FAKE_FAMILIES": "a,b,c", "FAKE_PLAN": "{}"}
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    return {"binary": binary, "out": tmp_path / "out" / "result.json", "tmp": tmp_path}


def run(fake: dict[str, Any], *args: str, plan: dict[str, str]) -> tuple[int, dict[str, Any]]:
    os.environ["FAKE_PLAN"] = json.dumps(plan)  # the fixture's monkeypatch restores it
    code = run_suite.main(["--binary", str(fake["binary"]), "--out", str(fake["out"]), *args])
    return code, json.loads(fake["out"].read_text())


def families_run(doc: dict[str, Any]) -> dict[str, str]:
    return {f["family"]: f["status"] for f in doc["context"]["families_run"]}


def families_not_run(doc: dict[str, Any]) -> dict[str, str]:
    return {f["family"]: f["reason"] for f in doc["context"]["families_not_run"]}


def families_of(doc: dict[str, Any]) -> list[str]:
    return [b["name"].split("/")[0] for b in doc["benchmarks"]]


# ---- whole runs with the fake binary ---------------------------------------------------------


def test_all_families_ok_are_merged(fake: dict[str, Any]) -> None:
    code, doc = run(fake, plan={})
    assert code == 0
    assert families_of(doc) == ["a", "a", "b", "b", "c", "c"]
    assert families_run(doc) == {"a": "ok", "b": "ok", "c": "ok"}
    assert doc["context"]["families_not_run"] == []
    assert doc["context"]["fake_family"] == "a"  # one context, from the first family
    assert doc["context"]["cpu_model"] == "Fake CPU"
    assert doc["context"]["suite_complete"] is True
    assert not list(fake["out"].parent.glob("*.partial.json"))


def test_crash_in_one_family_keeps_the_others(fake: dict[str, Any]) -> None:
    code, doc = run(fake, plan={"b": "crash"})
    assert code == 1
    assert families_run(doc) == {"a": "ok", "c": "ok"}
    reason = families_not_run(doc)["b"]
    assert reason.startswith("crashed (signal 11")
    # the finished entry before the torn one is salvaged; the torn one is not
    assert families_of(doc) == ["a", "a", "b", "c", "c"]
    assert not any(b["name"] == "b/torn" for b in doc["benchmarks"])
    assert doc["context"]["suite_complete"] is False


def test_failed_family_contributes_its_results(fake: dict[str, Any]) -> None:
    code, doc = run(fake, plan={"b": "fail"})
    assert code == 1
    assert families_run(doc)["b"] == "failed (exit 1)"
    b_names = [x["name"] for x in doc["benchmarks"] if x["name"].startswith("b/")]
    assert "b/bad/n:3/real_time" in b_names and len(b_names) == 3


def test_skips_are_not_failures(fake: dict[str, Any]) -> None:
    code, doc = run(fake, plan={"a": "skip", "b": "skip"})
    assert code == 0
    assert families_run(doc) == {"a": "ok", "b": "ok", "c": "ok"}


def test_derived_entries_are_computed_over_the_merged_run(fake: dict[str, Any]) -> None:
    os.environ["FAKE_FAMILIES"] = "a,layout"  # the fixture's monkeypatch restores it
    code, doc = run(fake, plan={"layout": "layout"})
    assert code == 0
    derived = [b for b in doc["benchmarks"] if b.get("label") == "derived"]
    assert [b["name"] for b in derived] == ["layout/derived/dtype:f64/level:DRAM/threads:2"]
    assert doc["benchmarks"][-1]["label"] == "derived"  # appended after every family
    d = derived[0]
    assert d["colsum_strided_over_rowsum_C"] == pytest.approx(2.5)  # recomputed, not the 99
    assert "from_the_binary" not in d and d["threads"] == 2
    assert families_of(doc) == ["a", "a", "layout", "layout", "layout"]
    assert check_json.check_doc(doc, [])[0] == []


def test_unreadable_json_and_usage_error_are_reported(fake: dict[str, Any]) -> None:
    code, doc = run(fake, plan={"a": "garbage", "c": "usage"})
    assert code == 1
    not_run = families_not_run(doc)
    assert not_run["a"].startswith("json unreadable")
    assert not_run["c"].startswith("usage error (exit 2)")
    assert families_run(doc) == {"b": "ok"}
    assert families_of(doc) == ["b", "b"]
    assert doc["context"]["fake_family"] == "b"  # the first family that wrote a context


def test_unknown_family_is_refused_before_anything_runs(fake: dict[str, Any],
                                                        capsys: pytest.CaptureFixture) -> None:
    code = run_suite.main(["--binary", str(fake["binary"]), "--out", str(fake["out"]),
                           "--family", "c,nope"])
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["run_suite: unknown family 'nope' (known: a, b, c)"]
    assert not fake["out"].exists()
    assert not (fake["tmp"] / "log.jsonl").exists()  # no family ran


def test_arguments_the_binary_refuses_are_refused_first(fake: dict[str, Any],
                                                        capsys: pytest.CaptureFixture) -> None:
    code = run_suite.main(["--binary", str(fake["binary"]), "--out", str(fake["out"]), "--",
                           "--bogus"])
    assert code == 2
    assert "unknown option '--bogus'" in capsys.readouterr().err
    assert not fake["out"].exists()


def test_a_filter_picks_rows_within_each_family(fake: dict[str, Any]) -> None:
    # the binary takes --family and --benchmark_filter together (rows of that family matching it)
    code, _ = run(fake, "--family", "a", "--", "--benchmark_filter=read", plan={})
    assert code == 0
    calls = [json.loads(line) for line in (fake["tmp"] / "log.jsonl").read_text().splitlines()]
    assert calls[0][0] == "--family=a" and "--benchmark_filter=read" in calls[0]


def test_a_relative_binary_is_a_path_not_a_command(fake: dict[str, Any],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(fake["tmp"])
    monkeypatch.setenv("PATH", "/nonexistent")  # "./dtypebench" must not be looked up there
    os.environ["FAKE_PLAN"] = "{}"
    code = run_suite.main(["--binary", "./dtypebench", "--out", str(fake["out"]), "--family", "a"])
    assert code == 0
    assert families_run(json.loads(fake["out"].read_text())) == {"a": "ok"}


def test_smoke_and_extra_arguments_reach_every_family(fake: dict[str, Any]) -> None:
    code, _ = run(fake, "--smoke", "--family", "a,b", "--", "--threads=1", plan={})
    assert code == 0
    calls = [json.loads(line) for line in (fake["tmp"] / "log.jsonl").read_text().splitlines()]
    assert [c[0] for c in calls] == ["--family=a", "--family=b"]
    for c in calls:
        assert "--quick" in c and "--levels=L1" in c and "--benchmark_repetitions=1" in c
        assert c.index("--threads=1") > c.index("--levels=L1")
        assert "--benchmark_out_format=json" in c


def test_extra_arguments_replace_the_smoke_ones_the_binary_takes_once(fake: dict[str, Any]) -> None:
    # the binary refuses an option given twice: --smoke's --levels=L1 gives way to the user's
    code, _ = run(fake, "--smoke", "--family", "a", "--", "--levels=L2", "--quick", plan={})
    assert code == 0
    calls = [json.loads(line) for line in (fake["tmp"] / "log.jsonl").read_text().splitlines()]
    names = [a.split("=", 1)[0] for a in calls[0]]
    assert len(names) == len(set(names)), calls[0]
    assert "--levels=L2" in calls[0] and "--levels=L1" not in calls[0]


def test_reserved_extra_arguments_are_refused(fake: dict[str, Any]) -> None:
    code = run_suite.main(["--binary", str(fake["binary"]), "--out", str(fake["out"]), "--",
                           "--benchmark_out=x.json"])
    assert code == 2
    assert not fake["out"].exists()


def test_missing_binary_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    code = run_suite.main(["--binary", str(tmp_path / "nope"), "--out", str(tmp_path / "o.json")])
    assert code == 2
    assert "not found" in capsys.readouterr().err


def start_hanging(fake: dict[str, Any], **env: str) -> tuple[subprocess.Popen, int]:
    """run_suite as its own process, its family b hanging: (the suite, b's pid) once b runs."""
    proc = subprocess.Popen([sys.executable, str(SCRIPT), "--binary", str(fake["binary"]),
                             "--out", str(fake["out"])],
                            env=dict(os.environ, FAKE_PLAN=json.dumps({"b": "hang"}), **env),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    marker = fake["tmp"] / "marker"
    deadline = time.monotonic() + 30
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert marker.exists(), "the hanging family never started"
    return proc, int(marker.read_text())


def test_interrupt_keeps_finished_families(fake: dict[str, Any]) -> None:
    proc, child = start_hanging(fake)

    # while b runs, the file already holds a's results and says what has not run yet
    doc = json.loads(fake["out"].read_text())
    assert families_run(doc) == {"a": "ok"}
    assert set(families_not_run(doc)) == {"b", "c"}

    proc.send_signal(signal.SIGINT)  # to run_suite only; it must stop the child itself
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 130, out
    doc = json.loads(fake["out"].read_text())
    assert families_run(doc) == {"a": "ok"}
    not_run = families_not_run(doc)
    assert not_run["b"].startswith("interrupted")
    assert not_run["c"] == "interrupted before it started"
    assert families_of(doc) == ["a", "a", "b"]  # b's finished entry kept
    with pytest.raises(ProcessLookupError):
        os.kill(child, 0)
    assert "[2/3] b" in out


# ---- the pieces --------------------------------------------------------------------------------


def test_salvage_reads_complete_entries_of_a_torn_file() -> None:
    text = ('{"context": {"k": "v", "nested": {"x": [1, 2]}}, "benchmarks": [\n'
            '  {"name": "f/a", "real_time": 1},\n  {"name": "f/b", "real_time": 2},\n'
            '  {"name": "f/c", "real_')
    context, benchmarks = run_suite.salvage_json(text)
    assert context == {"k": "v", "nested": {"x": [1, 2]}}
    assert [b["name"] for b in benchmarks] == ["f/a", "f/b"]
    assert run_suite.salvage_json('{"context": {"k": ') == (None, [])


def test_read_family_json_whole_and_torn(tmp_path: Path) -> None:
    p = tmp_path / "f.json"
    p.write_text(json.dumps({"context": {"k": 1}, "benchmarks": [{"name": "f/a"}]}))
    assert run_suite.read_family_json(p) == ({"k": 1}, [{"name": "f/a"}], "")
    p.write_text('{"context": {"k": 1}, "benchmarks": [{"name": "f/a"}, {"na')
    context, benchmarks, problem = run_suite.read_family_json(p)
    assert context == {"k": 1} and benchmarks == [{"name": "f/a"}]
    assert problem.startswith("json unreadable")
    assert run_suite.read_family_json(tmp_path / "missing.json")[2] == "no json written"


def test_describe_exit() -> None:
    assert run_suite.describe_exit(0) == "ok"
    assert run_suite.describe_exit(1) == "failed (exit 1)"
    assert run_suite.describe_exit(-11) == "crashed (signal 11, SIGSEGV)"
    assert run_suite.describe_exit(-6).startswith("crashed (signal 6")


def test_merge_lists_pending_and_partial_families() -> None:
    ok = run_suite.FamilyOutcome("a", "ok", True, 0, 1.0, {"k": "a"}, [{"name": "a/x"}])
    torn = run_suite.FamilyOutcome("b", "crashed (signal 11, SIGSEGV)", False, -11, 1.0,
                                   {"k": "b"}, [{"name": "b/x"}])
    doc = run_suite.merge([torn, ok], [("c", "interrupted before it started")], {"extra": 1})
    assert doc["context"]["k"] == "b" and doc["context"]["extra"] == 1
    assert [b["name"] for b in doc["benchmarks"]] == ["b/x", "a/x"]
    assert [f["family"] for f in doc["context"]["families_run"]] == ["a"]
    not_run = {f["family"]: f for f in doc["context"]["families_not_run"]}
    assert not_run["b"]["benchmarks_kept"] == 1 and "1 finished benchmarks kept" in \
        not_run["b"]["reason"]
    assert not_run["c"]["reason"] == "interrupted before it started"


def test_representative_prefers_median_then_middle_iteration() -> None:
    benchmarks = [agg("f/a/level:DRAM", "mean", 10.0), agg("f/a/level:DRAM", "median", 9.0),
                  agg("f/a/level:DRAM", "stddev", 1.0),
                  it("f/b/level:DRAM", 30.0), it("f/b/level:DRAM", 10.0),
                  it("f/b/level:DRAM", 20.0),
                  {**it("f/c/level:DRAM", 0.0), "error_occurred": True, "error_message": "skip: x"}]
    reps = run_suite.representative(benchmarks)
    assert [(b["run_name"], b["real_time"]) for b in reps] == [("f/a/level:DRAM", 9.0),
                                                              ("f/b/level:DRAM", 20.0)]


def test_summary_tabulates_the_largest_level_by_dtype() -> None:
    triad = "baseline/triad/dtype:{}/level:{}/n:{}/threads:{}/real_time"
    benchmarks = [agg(triad.format("f64", "DRAM", 100, 2), "median", 2e6, bytes=1.25e10,
                      verified=1.0),
                  agg(triad.format("f32", "DRAM", 200, 2), "median", 2e6, bytes=1.5e10,
                      verified=1.0),
                  agg(triad.format("f64", "DRAM", 100, 1), "median", 2e6, bytes=7.0e9),
                  agg(triad.format("f64", "L1", 10, 2), "median", 2e3, bytes=2e11),
                  agg("baseline/fma_peak/dtype:f32/threads:2/real_time", "median", 1e6,
                      flops=6.4e10),
                  agg("layout/colsum_naive/dtype:f32/order:C/n:64/level:DRAM/threads:2/real_time",
                      "median", 1e6, bytes=1e9, verified=0.0),
                  {**it("layout/derived/dtype:f64/level:DRAM/threads:2", 0.0), "label": "derived",
                   "family_index": 123456789, "strided_over_contiguous": 2.5},
                  {**it("layout/derived/dtype:f64/level:L1/threads:2", 0.0), "label": "derived",
                   "strided_over_contiguous": 9.75},
                  {**it("baseline/gpu/repeats:1/manual_time", 0.0), "error_occurred": True,
                   "error_message": "skip: no CUDA device: driver missing"},
                  {**it("layout/bad/level:DRAM/real_time", 0.0), "error_occurred": True,
                   "error_message": "error: mismatch at [3]"}]
    context = {"cpu_model": "Fake CPU", "cpu_cores": "2", "l3_bytes": str(32 << 20),
               "gpu_status": "no CUDA device: driver missing",
               "families_not_run": [{"family": "gemm", "reason": "crashed (signal 11, SIGSEGV)"}]}
    text = run_suite.summarize({"context": context, "benchmarks": benchmarks}, "r.json")
    lines = text.splitlines()
    assert lines[0].startswith("machine: Fake CPU, 2 cores") and "L3 32 MiB" in lines[0]
    assert lines[1].startswith("level DRAM, 2 threads")
    assert lines[2].split() == ["f64", "f32"]
    rows = {line.split()[0]: line.split()[1:] for line in lines[3:]}
    assert rows["baseline/triad"] == ["12.5", "15"]  # n follows the dtype: one row
    assert rows["baseline/fma_peak"] == ["64GF"]  # no level: shown with every level
    assert rows["layout/colsum_naive/order:C"] == ["1!"]  # not verified
    assert rows["layout/derived"] == ["f64"] and rows["strided_over_contiguous"] == ["2.5"]
    assert "9.75" not in text and "123456789" not in text and "7" not in rows["baseline/triad"]
    assert "results: 6 ran, 2 derived, 1 skipped, 1 failed, 1 NOT verified" in text
    assert "skipped 1: no CUDA device: driver missing" in text
    assert "FAILED layout/bad/level:DRAM/real_time: error: mismatch at [3]" in text
    assert "family gemm: not run: crashed (signal 11, SIGSEGV)" in text
    assert lines[-1] == "every result: r.json"


def test_summary_reads_dispositions_and_the_dtype_order() -> None:
    copy = "baseline/copy/dtype:{}/level:DRAM/threads:2/real_time"
    benchmarks = [it(copy.format(d), 1e3, bytes=1e9 * (k + 1), label="verified")
                  for k, d in enumerate(["f64", "bf16", "i8", "f32"])]
    benchmarks += [{**it("baseline/gpu_copy/level:DRAM/manual_time", 0.0),
                    "label": "skipped: no CUDA device: none", "error_occurred": True,
                    "error_message": "skip: no CUDA device: none"},
                   {**it("baseline/fma_peak/dtype:f32/threads:2/real_time", 1e3),
                    "label": "failed: 2 of 8 lanes wrong", "error_occurred": True,
                    "error_message": "error: 2 of 8 lanes wrong"}]
    context = {"dtype_names": "i8,bf16,f32,f64"}
    lines = run_suite.summarize({"context": context, "benchmarks": benchmarks}).splitlines()
    assert lines[2].split() == ["i8", "bf16", "f32", "f64"]
    assert lines[3].split() == ["baseline/copy", "3", "2", "4", "1"]
    text = "\n".join(lines)
    assert "results: 4 ran, 0 derived, 1 skipped, 1 failed" in text
    assert "skipped 1: no CUDA device: none" in text
    assert "FAILED baseline/fma_peak/dtype:f32/threads:2/real_time: error: 2 of 8 lanes" in text
    # without dtype_names: the default order, the rest as found
    lines = run_suite.summarize({"context": {}, "benchmarks": benchmarks}).splitlines()
    assert lines[2].split() == ["f64", "f32", "bf16", "i8"]


def test_summary_keeps_n_when_it_is_a_sweep() -> None:
    benchmarks = [it(f"layout/colsum/dtype:f64/n:{n}/level:L2/threads:1", 1e3, bytes=n * 1e8)
                  for n in (10, 20)]
    text = run_suite.summarize({"context": {}, "benchmarks": benchmarks})
    assert "layout/colsum/n:10" in text and "layout/colsum/n:20" in text


def test_summary_stays_short() -> None:
    benchmarks = [agg(f"baseline/copy{i}/dtype:f64/level:DRAM", "median", 1e3, bytes=1e9)
                  for i in range(200)]
    text = run_suite.summarize({"context": {}, "benchmarks": benchmarks}, max_rows=28)
    assert len(text.splitlines()) <= 40
    assert "... 172 more rows" in text


def test_summary_falls_back_to_the_largest_level_present() -> None:
    benchmarks = [it("baseline/copy/dtype:f64/level:L1", 1e3, bytes=1e9),
                  it("baseline/copy/dtype:f64/level:L2", 1e3, bytes=2e9)]
    text = run_suite.summarize({"context": {}, "benchmarks": benchmarks})
    assert "level L2" in text and "baseline/copy" in text and "1\n" not in text


def test_default_output_does_not_replace_an_earlier_run(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(run_suite, "ROOT", tmp_path)
    first = run_suite.default_output()
    assert first.parent == tmp_path / "reports" and first.suffix == ".json"
    assert first.exists()  # the name is taken as it is chosen
    second = run_suite.default_output()
    assert second != first and second.name.endswith("-2.json")


def test_two_runs_started_together_get_two_files(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    # started in the same second: each takes its name by an exclusive create, and each writes
    # through a temporary file of its own
    monkeypatch.setattr(run_suite, "ROOT", tmp_path)
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(8) as pool:
        names = list(pool.map(lambda _: run_suite.default_output(), range(8)))
    assert len(set(names)) == 8
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda p: run_suite.save(p, {"benchmarks": [], "context": {"n": str(p)}}),
                      names * 4))
    for p in names:
        assert json.loads(p.read_text())["context"]["n"] == str(p)
    assert not list((tmp_path / "reports").glob("*.partial.json"))
    mask = os.umask(0)  # read the umask (setting it is the only way), then put it back
    os.umask(mask)
    # readable as open() would leave a result file (mkstemp alone makes 0600)
    assert all(p.stat().st_mode & 0o044 == 0o044 & ~mask for p in names)


def test_precision_table_from_gemm_derived_rows() -> None:
    rows = [{"name": "gemm/derived/lib:onednn/precision:bf16.f32.bf16/threads:2",
             "run_name": "gemm/derived/lib:onednn/precision:bf16.f32.bf16/threads:2",
             "run_type": "iteration", "label": "derived", "flops": 1.2e12,
             "share_of_fma_peak": 6.0, "share_of_baseline_fma_peak": 0.93,
             "speedup_over_f64": 8.0, "speedup_over_f32": 4.0,
             "rel_error_unrounded_median": 2.9e-3}]
    lines = gemm.summary(representative(rows))
    assert lines[0].startswith("gemm")
    assert "bf16.f32.bf16" in lines[2] and "1.200" in lines[2] and "600%" in lines[2]
    assert "base" in lines[1] and "93%" in lines[2]
    assert "8.00x" in lines[2] and "2.9e-03" in lines[2]
    assert gemm.summary([]) == []
    # the summary reads the table from the gemm plug-in, and its derived rows stay out of the
    # derived tables
    text = run_suite.summarize({"benchmarks": rows})
    assert "gemm, largest square shape" in text and "gemm/derived/lib:onednn" not in text


# ---- outputs that cannot be written, families named twice, a killed suite ----------------------


def refused_before_running(fake: dict[str, Any], capsys: pytest.CaptureFixture,
                           *args: str) -> str:
    """run_suite's one line for arguments it must refuse before any family runs."""
    code = run_suite.main(["--binary", str(fake["binary"]), *args])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1, err
    assert not (fake["tmp"] / "log.jsonl").exists(), "a family ran"
    return err[0]


def test_an_output_directory_is_refused_before_anything_runs(fake: dict[str, Any],
                                                            capsys: pytest.CaptureFixture) -> None:
    line = refused_before_running(fake, capsys, "--out", str(fake["tmp"]))
    assert line == f"run_suite: {fake['tmp']}: is a directory; give a file name"


def test_an_unwritable_output_is_refused_before_anything_runs(fake: dict[str, Any],
                                                             capsys: pytest.CaptureFixture) -> None:
    # root writes through permission bits; /sys takes no new files even from root
    line = refused_before_running(fake, capsys, "--out", "/sys/dtypebench-test.json")
    assert line.startswith("run_suite: /sys/dtypebench-test.json: cannot write in /sys: ")


def test_a_read_only_filesystem_is_refused_before_anything_runs(
        fake: dict[str, Any], capsys: pytest.CaptureFixture,
        monkeypatch: pytest.MonkeyPatch) -> None:
    import errno
    import tempfile

    def read_only(*args: Any, **kwargs: Any) -> Any:
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))
    monkeypatch.setattr(tempfile, "mkstemp", read_only)  # every new file there fails
    line = refused_before_running(fake, capsys, "--out", str(fake["out"]))
    assert line == (f"run_suite: {fake['out']}: cannot write in {fake['tmp']}: "
                    "Read-only file system")


def test_characterize_checks_the_output_before_it_installs_or_builds(tmp_path: Path) -> None:
    # stand-ins for the first tools setup runs: each leaves a mark, and cmake stops the build
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("dpkg-query", "cmake", "apt-get"):
        (bin_dir / tool).write_text(f"#!/bin/sh\necho {tool} >> {tmp_path / 'setup-ran'}\n"
                                    "echo 'install ok installed'\n"
                                    + ("exit 1\n" if tool == "cmake" else ""))
        (bin_dir / tool).chmod(0o755)
    env = dict(os.environ, PATH=f"{bin_dir}:{os.environ['PATH']}",
               DTYPEBENCH_BUILD_DIR=str(tmp_path / "build"))
    for args, why in ((["--out", str(tmp_path)], "is a directory"),
                      (["--out", "/sys/x.json"], "cannot write in /sys"),
                      (["--family", "baseline,baseline"], "names 'baseline' twice")):
        p = subprocess.run([str(ROOT / "scripts" / "characterize"), "--smoke", *args],
                           capture_output=True, text=True, env=env, timeout=120, check=False)
        assert p.returncode == 2, p.stdout + p.stderr
        assert why in one_line(p)
        assert not (tmp_path / "setup-ran").exists(), "setup ran before the check"


def test_a_family_named_twice_is_refused(fake: dict[str, Any],
                                         capsys: pytest.CaptureFixture) -> None:
    line = refused_before_running(fake, capsys, "--out", str(fake["out"]), "--family", "a,b,a")
    assert line == "run_suite: --family names 'a' twice; give each family once"


@pytest.mark.parametrize("error,beside", [("ENOSPC", True), ("ENOSPC", False),
                                          ("EROFS", False)])
def test_a_write_that_fails_mid_run_keeps_the_good_file_and_says_where_the_rest_is(
        fake: dict[str, Any], capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch,
        error: str, beside: bool) -> None:
    # after family a the disk fills (or goes read-only): for the --out file alone, or for its
    # whole folder, when the fallback goes to the temp folder
    import errno
    import tempfile
    spare = fake["tmp"] / "spare"
    spare.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spare))
    real_save, calls = run_suite.save, []

    def failing_save(path: Path, doc: dict[str, Any]) -> None:
        calls.append(Path(path))
        blocked = Path(path) == fake["out"] if beside else Path(path).parent == fake["out"].parent
        if len(calls) > 2 and blocked:  # the start and family a went through
            raise OSError(getattr(errno, error), os.strerror(getattr(errno, error)))
        real_save(path, doc)
    monkeypatch.setattr(run_suite, "save", failing_save)
    code = run_suite.main(["--binary", str(fake["binary"]), "--out", str(fake["out"])])
    out, err = capsys.readouterr()
    assert code == 1
    assert families_run(json.loads(fake["out"].read_text())) == {"a": "ok"}  # the last good one
    fallback = (fake["out"].parent if beside else spare) / f"result.fallback-{os.getpid()}.json"
    assert families_run(json.loads(fallback.read_text())) == {"a": "ok", "b": "ok", "c": "ok"}
    lines = err.strip().splitlines()
    assert lines == [f"run_suite: cannot write {fake['out']}: {os.strerror(getattr(errno, error))}"
                     f"; it keeps the run up to family a; the whole run goes to {fallback}"]
    assert f"every result: {fallback}" in out and "Traceback" not in out + err
    assert not list(fake["out"].parent.glob("*.partial.json"))


def alive(pid: int) -> bool:
    """Whether pid runs (a zombie, dead but not yet reaped by its new parent, does not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_a_killed_suite_takes_its_family_with_it(fake: dict[str, Any]) -> None:
    proc, child = start_hanging(fake, TMPDIR=str(fake["tmp"]))  # its temp folder in the test's
    proc.kill()  # SIGKILL: run_suite cannot stop the child itself
    proc.communicate(timeout=10)
    deadline = time.monotonic() + 5
    while alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    if alive(child):
        os.kill(child, signal.SIGKILL)
        pytest.fail("the family's process outlived the suite killed by SIGKILL")


def test_temp_dirs_of_dead_suites_are_removed_at_the_next_start(
        fake: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    import tempfile
    tmp = fake["tmp"] / "tmp"
    tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    dead = tmp / f"dtypebench-{int(gone.stdout)}-abc123"  # its process has exited
    live = tmp / f"dtypebench-{os.getpid()}-def456"  # a suite running now (this process)
    other = tmp / "dtypebench-notes"  # not a suite's
    for d in (dead, live, other):
        d.mkdir()
        (d / "a.json").write_text("{}")
    code, _ = run(fake, plan={})
    assert code == 0
    assert not dead.exists() and live.exists() and other.exists()
    assert sorted(p.name for p in tmp.iterdir()) == sorted([live.name, other.name])


def test_summary_of_a_quick_run_fits_a_screen_with_its_columns_apart() -> None:
    doc = run_suite.load(ROOT / "reports" / "vm-epyc-2026-12-02-quick.json")
    text = run_suite.summarize(doc, "r.json")
    assert len(text.splitlines()) <= 40, text
    assert_columns_apart(text)
    assert "layout/derived" in text and "every result: r.json" in text
    # values of any width stay apart: a share of 15409%, a rate of 123456 GB/s
    for b in doc["benchmarks"]:
        if b.get("share_of_fma_peak") is not None:
            b["share_of_fma_peak"] = 154.09
            b["share_of_baseline_fma_peak"] = 154.09
        if b.get("bytes") is not None and b.get("run_name", "").startswith("baseline/read"):
            b["bytes"] = 1.23456e14
    wide = run_suite.summarize(doc, "r.json")
    assert "15409%" in wide and "1.23e+05" in wide
    assert_columns_apart(wide)


def summary_tables(text: str) -> list[list[str]]:
    """The tables of a summary, each its header line and rows: the rates (after their title, to
    "... N more rows"), each derived table (a family/derived line, then its indented rows) and
    the GEMM precisions (after their title)."""
    tables: list[list[str]] = []
    current: Optional[list[str]] = None
    for line in text.splitlines():
        starts_table = line.endswith("(GF: GFLOP/s; !: not verified)") or line.startswith(
            "gemm, largest square shape")
        if starts_table or line.startswith(("...", "  ...", "results:")):
            current = None
        if "/derived" in line.split(" ")[0]:
            current = [line]
            tables.append(current)
        elif current is not None:
            if current and "/derived" in current[0] and not line.startswith("  "):
                current = None
            else:
                current.append(line)
        if starts_table:
            current = []
            tables.append(current)
    return tables


def assert_columns_apart(text: str) -> None:
    """Each table's columns are apart: the positions blank in every line of it (header and rows)
    split it into as many columns as its header names (plus the unnamed one of the rate table's
    row names), so no two cells run together, whatever their width."""
    tables = summary_tables(text)
    assert len(tables) >= 3, text
    for table in tables:
        width = max(map(len, table))
        blank = [all(len(line) <= i or line[i] == " " for line in table) for i in range(width)]
        columns = sum(1 for i in range(width) if not blank[i] and (i == 0 or blank[i - 1]))
        named = len(re.findall(r"x f\d+|\S+", table[0]))  # "x f64": one column
        expected = named + (table[0][0] == " ")  # the rates' header leaves the names' unnamed
        assert columns == expected, "\n".join(table)
