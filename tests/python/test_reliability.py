"""Every script on bad input: one line, an exit status that means the same in every script
(0 ok, 1 something failed, 2 could not start: bad usage or an unreadable input), never a
traceback; and check_json failing a run whose checks failed."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import run_suite
from dtypebench_results import Bench
from result_rows import one_line

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ROOT / "scripts"


def run(script: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPTS / script), *args], capture_output=True,
                          text=True, env=env, check=False)


def test_numpy_ref_without_numpy_says_so(tmp_path: Path) -> None:
    # a numpy that cannot be imported, first on the path: as a python without NumPy sees it
    fake = tmp_path / "numpy"
    fake.mkdir()
    (fake / "__init__.py").write_text("raise ImportError('No module named numpy')\n")
    p = run("numpy_ref.py", "--help", env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert p.returncode == 2
    assert "NumPy is not installed" in one_line(p)


BAD_RESULTS = {
    "list": "[]",
    "null": "null",
    "benchmarks_not_a_list": '{"benchmarks": 5}',
    "string_counter": json.dumps({"context": {}, "benchmarks": [
        {"name": f"baseline/{v}/dtype:f64/level:DRAM/n:8/threads:2/real_time",
         "run_name": f"baseline/{v}/dtype:f64/level:DRAM/n:8/threads:2/real_time",
         "run_type": "iteration", "real_time": 1.0, "time_unit": "us", "bytes": "fast",
         "working_set_bytes": "lots"} for v in ("copy", "triad")]}),
}


@pytest.mark.parametrize("kind", sorted(BAD_RESULTS))
def test_stream_check_on_bad_results(tmp_path: Path, kind: str) -> None:
    f = tmp_path / "r.json"
    f.write_text(BAD_RESULTS[kind])
    p = run("stream_check.py", str(f), "--rounds", "1")
    assert p.returncode == 2
    assert one_line(p).startswith("stream-check: ")


@pytest.mark.parametrize("script,args", [("check_json.py", []), ("compare_numpy.py", ["{f}"]),
                                         ("stream_check.py", []), ("derive", []),
                                         ("compare", ["--", "{f}"])])
def test_non_utf8_input_is_one_line(tmp_path: Path, script: str, args: list[str]) -> None:
    f = tmp_path / "r.json"
    f.write_bytes(b"\xff\xfe{\"benchmarks\": []}")
    p = run(script, str(f), *[a.format(f=f) for a in args])
    assert p.returncode == 2
    assert "not UTF-8" in one_line(p)


def result(*rows: dict) -> dict:
    ctx = {"git_commit": "abc", "cpu_model": "x", "cpu_cores": "2", "l1d_bytes": "1",
           "l2_bytes": "1", "l3_bytes": "1", "mem_bytes": "1", "compiler": "g++",
           "compiler_flags": "-O3", "build_type": "Release", "gpu_available": "0"}
    return {"context": ctx, "benchmarks": list(rows)}


OK_ROW = {"name": "baseline/copy/dtype:f64/level:L1/n:8/threads:1/real_time",
          "run_name": "baseline/copy/dtype:f64/level:L1/n:8/threads:1/real_time",
          "run_type": "iteration", "real_time": 1.0, "time_unit": "us", "bytes": 1e9,
          "verified": 1, "label": "verified"}


def test_check_json_fails_a_failed_check(tmp_path: Path) -> None:
    failed = dict(OK_ROW, name="baseline/copy/dtype:f32/level:L1/n:8/threads:1/real_time",
                  run_name="baseline/copy/dtype:f32/level:L1/n:8/threads:1/real_time",
                  error_occurred=True, error_message="error: 3 of 8 values wrong",
                  label="failed: 3 of 8 values wrong")
    f = tmp_path / "r.json"
    f.write_text(json.dumps(result(OK_ROW, failed)))
    p = run("check_json.py", str(f))
    assert p.returncode == 1
    assert "failed" in p.stderr and "3 of 8 values wrong" in p.stderr
    f.write_text(json.dumps(result(OK_ROW)))
    assert run("check_json.py", str(f)).returncode == 0


def test_check_json_fails_verified_nan(tmp_path: Path) -> None:
    f = tmp_path / "r.json"
    f.write_text(json.dumps(result(dict(OK_ROW, verified=float("nan")))))  # Python writes NaN
    p = run("check_json.py", str(f))
    assert p.returncode != 0
    assert "Traceback" not in p.stderr


def test_summary_shows_a_pair_s_ratio() -> None:
    pair = {"name": "layout/pair/subject:colsum_aware/ref:rowsum_naive/dtype:f64/order:C/n:8/"
                    "level:DRAM/threads:2/min_time:0.200/manual_time_median",
            "run_name": "layout/pair/subject:colsum_aware/ref:rowsum_naive/dtype:f64/order:C/"
                        "n:8/level:DRAM/threads:2/min_time:0.200/manual_time",
            "run_type": "aggregate", "aggregate_name": "median", "real_time": 1.0,
            "time_unit": "us", "subject_over_ref_bw": 0.93, "verified": 1, "label": "verified"}
    assert run_suite.format_rate(Bench(pair)) == "0.93x"


COMPARE = Path("/usr/share/benchmark/compare.py")  # Debian libbenchmark-tools


def test_google_benchmark_compare_runs_its_u_test_on_two_of_our_runs() -> None:
    # our files keep every repetition beside the aggregates, so compare.py has samples
    try:
        import scipy  # noqa: F401  compare.py's U test
    except ImportError:
        pytest.skip("scipy is not installed (scripts/setup.sh puts it in .venv)")
    if not COMPARE.exists():
        pytest.skip(f"{COMPARE} is missing (Debian libbenchmark-tools; scripts/setup.sh)")
    runs = ROOT / "reports" / "vm-2026-12-01-pairs"
    p = subprocess.run([sys.executable, str(COMPARE), "--no-color", "benchmarks",
                        str(runs / "new-1.json"), str(runs / "new-2.json")],
                       capture_output=True, text=True, check=False)
    assert p.returncode == 0, p.stderr
    assert "U Test, Repetitions: 3 vs 3" in p.stdout


@pytest.mark.parametrize("script,args", [
    ("export", ["{f}", "--csv", "{d}/out.csv"]),
    ("history", ["add", "{f}", "--db", "{d}/history.sqlite"]),
    ("report", ["{f}", "-o", "{d}/report"]),
    ("claims", ["{f}"]),
])
def test_non_utf8_input_to_the_results_commands(tmp_path: Path, script: str,
                                                args: list[str]) -> None:
    f = tmp_path / "r.json"
    f.write_bytes(b"\xff\xfe{\"benchmarks\": []}")
    p = subprocess.run([sys.executable, str(SCRIPTS / script),
                        *[a.format(f=f, d=tmp_path) for a in args]],
                       capture_output=True, text=True, check=False)
    assert p.returncode == 2, p.stderr
    assert "Traceback" not in p.stderr
    assert "not UTF-8" in p.stderr


# another program's Google Benchmark output: a context without the binary's git_commit
FOREIGN = {"context": {"date": "2026-12-02T10:00:00+00:00", "host_name": "ci", "executable":
                       "./other_bench", "num_cpus": 2, "library_build_type": "release"},
           "benchmarks": [dict(OK_ROW, label="")]}


@pytest.mark.parametrize("script,args", [
    ("derive", ["{f}"]),
    ("report", ["{f}", "-o", "{d}/report", "--no-plots"]),
    ("claims", ["{f}"]),
    ("export", ["{f}", "--csv", "{d}/out.csv"]),
    ("compare_numpy.py", ["{f}", "{f}"]),
    ("history", ["add", "{f}", "--db", "{d}/history.sqlite"]),
])
def test_a_google_benchmark_file_of_another_program_is_refused(tmp_path: Path, script: str,
                                                               args: list[str]) -> None:
    f = tmp_path / "other.json"
    f.write_text(json.dumps(FOREIGN))
    before = f.read_bytes()
    p = run(script, *[a.format(f=f, d=tmp_path) for a in args])
    assert p.returncode == 2, p.stdout + p.stderr
    name = script.removesuffix(".py")
    # export names each input it leaves out, then says that nothing was left to write
    line = p.stderr.splitlines()[0] if script == "export" else one_line(p)
    assert line.startswith(f"{name}: {f}: not a dtypebench run (no git_commit")
    assert "Traceback" not in p.stderr
    assert f.read_bytes() == before
    assert {x.name for x in tmp_path.iterdir()} <= {f.name, "history.sqlite"}  # nothing written


def test_the_suites_own_files_are_runs() -> None:
    from dtypebench_results import ResultsError, dtypebench_run
    for context in ({"git_commit": "abc"}, {"library": "numpy"}, {"library": "torch"}):
        doc = {"context": context, "benchmarks": []}
        assert dtypebench_run(doc) is doc
    for context in ({}, {"git_commit": " "}, {"library": "other"}):
        with pytest.raises(ResultsError, match="not a dtypebench run"):
            dtypebench_run({"context": context, "benchmarks": []}, "x.json")
