"""scripts/gpu-check keeps to its budget and returns everything in one bounded call: each family's
time planned from its rows (the binary lists them) fits the default 360 s; at most 8 files come
back (the logs in one archive); the output ends with the status of every step; steps the budget
cannot fit say "not run". The GPU, the build tools, compute-sanitizer and the binary are stand-ins
on PATH (a device lends its time by the minute, so the script's arithmetic is checked here)."""
from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
import tarfile
import time
from pathlib import Path

from dtypebench_results import families

ROOT = Path(__file__).resolve().parents[2]
# the rows the real binary lists for gpu-check's filters on an H200 (its L2: 60 MiB), in its order
ROWS = {"baseline": 20, "layout": 28, "convert": 22, "gemm": 56}

BINARY = r'''#!{python}
import json, os, sys
args = sys.argv[1:]
rows = json.loads(os.environ["STANDIN_ROWS"])
if "--list-families" in args:
    print("\n".join(rows))
    sys.exit(0)
family = next(a.split("=", 1)[1] for a in args if a.startswith("--family="))
if "--benchmark_list_tests" in args:
    with open(os.environ["STANDIN_LOG"], "a") as log:
        log.write(json.dumps(args) + "\n")
    print("\n".join(f"{{family}}/gpu_x/n:{{i}}/manual_time" for i in range(rows[family])))
    sys.exit(0)
out = next(a.split("=", 1)[1] for a in args if a.startswith("--benchmark_out="))
name = family + "/gpu_copy/dtype:f32/level:DRAM/manual_time"
row = {{"name": name + "_median", "run_name": name, "run_type": "aggregate",
       "aggregate_name": "median", "real_time": 100.0, "cpu_time": 100.0, "time_unit": "us",
       "bytes": 4.0e12, "verified": 1.0, "label": "verified"}}
json.dump({{"context": {{"gpu_available": "1"}}, "benchmarks": [row]}}, open(out, "w"))
'''


def tool(path: Path, body: str) -> None:
    path.write_text("#!/usr/bin/env bash\n" + body + "\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def run_check(tmp_path: Path, budget: int, ctest_seconds: int = 0, *args: str,
              sanitizer: str = 'echo "========= Device not supported"; exit 1'
              ) -> tuple[subprocess.CompletedProcess, float]:
    bin_dir, build = tmp_path / "bin", tmp_path / "build"
    bin_dir.mkdir()
    build.mkdir()
    tool(bin_dir / "nvidia-smi", 'echo "GPU 0: stand-in (UUID: GPU-0)"')
    tool(bin_dir / "cmake", 'echo "cmake version 3.25 (stand-in)"')
    # exec: timeout stops the sleep itself
    tool(bin_dir / "ctest", f'echo "100% tests passed, 0 tests failed out of 3"; exec sleep {ctest_seconds}')
    tool(bin_dir / "compute-sanitizer", sanitizer)
    (build / "dtypebench").write_text(BINARY.format(python=sys.executable))
    (build / "dtypebench").chmod(0o755)
    env = dict(os.environ, PATH=f"{bin_dir}:{os.environ['PATH']}", OUT=str(tmp_path / "out"),
               DTYPEBENCH_GPU_BUILD_DIR=str(build), DTYPEBENCH_GPU_SECONDS=str(budget),
               STANDIN_ROWS=json.dumps(ROWS), TMPDIR=str(tmp_path),
               STANDIN_LOG=str(tmp_path / "listed.jsonl"))
    t0 = time.monotonic()
    done = subprocess.run([str(ROOT / "scripts" / "gpu-check"), *args], env=env,
                          capture_output=True, text=True, timeout=170)
    return done, time.monotonic() - t0


def test_the_plan_fits_the_default_budget_with_every_familys_rows(tmp_path: Path) -> None:
    done, _ = run_check(tmp_path, 360, 0, "--plan")
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    planned = {m[1]: (int(m[2]), int(m[3])) for m in re.finditer(
        r"plan: (\w+) +(\d+) rows x [\d.]+s \+ \d+s = +(\d+)s", out)}
    assert list(planned) == ["gemm", "baseline", "layout", "convert"], out  # gemm first
    assert {f: r for f, (r, _) in planned.items()} == ROWS
    for fam, (rows, secs) in planned.items():
        assert secs >= rows * 0.9, f"{fam}: {secs}s for {rows} rows"
    assert "plan: fits\n" in out, out
    total = int(re.search(r"plan: (\d+)s left of 360s", out)[1])
    need = int(re.search(r"\((\d+)s in all\)", out)[1])
    assert need <= total, out


def test_each_familys_budget_is_its_plug_ins(tmp_path: Path) -> None:
    # the per-row seconds and the filter of each family come from its plug-in's GPU_CHECK
    # (scripts/dtypebench_results/families), not from a table in the script
    done, _ = run_check(tmp_path, 360, 0, "--plan")
    assert done.returncode == 0, done.stdout + done.stderr
    cost = {m[1]: float(m[2]) for m in re.finditer(r"plan: (\w+) +\d+ rows x ([\d.]+)s",
                                                    done.stdout)}
    listed = {next(a.split("=", 1)[1] for a in args if a.startswith("--family=")): args
              for args in map(json.loads, (tmp_path / "listed.jsonl").read_text().splitlines())}
    for fam in ROWS:
        budget = families.hook(fam, "GPU_CHECK")
        assert isinstance(budget, dict), fam
        assert cost[fam] == budget["per_row"], (fam, done.stdout)
        assert listed[fam][-len(budget["args"].split()) - 1:-1] == budget["args"].split(), fam
    assert families.gpu_check_lines()[0].startswith("gemm\t")  # the family run first


def test_a_full_run_returns_at_most_8_files_and_ends_with_the_status(tmp_path: Path) -> None:
    done, took = run_check(tmp_path, 360)
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    files = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert len(files) <= 8, files
    assert files == ["gpu-baseline.json", "gpu-convert.json", "gpu-gemm.json",
                     "gpu-layout.json", "logs.tar.gz"], files  # torch_gemm: no PyTorch here
    with tarfile.open(tmp_path / "out" / "logs.tar.gz") as t:
        logs = {Path(n).name for n in t.getnames()}
    assert {"machine.txt", "build.log", "memcheck.log", "ctest.log", "bench.log"} <= logs, logs
    assert not list(tmp_path.glob("gpu-check.*")), "the logs' temp dir is left behind"
    lines = out.rstrip().splitlines()
    assert lines[-1] == "gpu-check: done (status 0)", lines[-12:]
    table = lines[-11:-1]
    assert table[0].startswith("gpu-check: status (budget 360s"), table
    steps = [row.split()[0] for row in table[1:]]
    assert steps == ["build", "memcheck", "tests", "gemm", "baseline", "layout", "convert",
                     "torch_gemm", "torch_conv"], table
    assert "not run (no conv rows)" in table[-1]  # this fake binary has no conv family
    assert "could not run" in table[2] and "Device not supported" in out  # said, and went on
    assert "ok: 56 rows" in table[4]
    # the figures come before the table, at most 50 lines of them
    assert "gpu-gemm.json: 1 ran, 0 skipped, 0 failed" in out
    assert took < 120


def test_memcheck_errors_fail_the_check(tmp_path: Path) -> None:
    done, _ = run_check(tmp_path, 360, 0, sanitizer=(
        'echo "========= Invalid __global__ write of size 8 bytes"; '
        'echo "========= ERROR SUMMARY: 1 error"; exit 3'))
    assert done.returncode == 1
    assert re.search(r"memcheck +FAILED: ERROR SUMMARY: 1 error", done.stdout), done.stdout


def test_steps_the_budget_cannot_fit_say_not_run_in_order(tmp_path: Path) -> None:
    done, took = run_check(tmp_path, 4, 60)
    out = done.stdout
    assert took < 20, f"the budget of 4 s took {took:.0f} s:\n{out}"
    assert done.returncode == 1, out
    assert "build (sm_90, 4s)" in out
    rows = out.splitlines()[-11:-1]
    for fam in ("gemm", "baseline", "layout", "convert"):
        assert any(re.match(rf"  {fam} +not run \(the budget is spent\)", r) for r in rows), rows
    assert any(re.match(r"  torch_gemm +not run \(no time left\)", r) for r in rows), rows


def test_help_does_not_run_anything(tmp_path: Path) -> None:
    for script, first in (("scripts/gpu-check", "usage: scripts/gpu-check"),
                          ("scripts/gpu-deps", "usage: scripts/gpu-deps"),
                          ("ci/false-alarms", "usage: ci/false-alarms")):
        done = subprocess.run([str(ROOT / script), "--help"], capture_output=True, text=True,
                              timeout=20, env=dict(os.environ, OUT=str(tmp_path / "out")))
        assert done.returncode == 0, script + done.stderr
        assert done.stdout.startswith(first), (script, done.stdout[:200])
        assert not (tmp_path / "out").exists()
        bad = subprocess.run([str(ROOT / script), "--bogus"], capture_output=True, text=True,
                             timeout=20)
        assert bad.returncode == 2 and "--help" in bad.stderr, (script, bad.stderr)
    assert not (ROOT / ".deps" / "debs" / "new").exists()


def test_without_a_gpu_it_says_so_in_one_line(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    tool(bin_dir / "nvidia-smi", "exit 9")
    env = dict(os.environ, PATH=f"{bin_dir}:{os.environ['PATH']}", OUT=str(tmp_path / "out"))
    done = subprocess.run([str(ROOT / "scripts" / "gpu-check")], env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0
    assert done.stdout.splitlines() == [
        "gpu-check: skipped: no NVIDIA GPU here (nvidia-smi -L failed)"], done.stdout


def test_the_summary_keeps_to_its_lines_with_each_files_head(tmp_path: Path) -> None:
    runs = sorted((ROOT / "reports" / "nvidia-h200-2026-11-26").glob("gpu-*.json"))
    bad = tmp_path / "bad.json"
    bad.write_text("not json")
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "gpu_summary.py"), "--lines",
                           "20", *map(str, runs), str(bad), str(tmp_path / "torch-gemm.json")],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) <= 20, lines
    heads = [line for line in lines if not line.startswith("  ")]
    assert [h.split(":")[0] for h in heads] == [r.name for r in runs] + ["bad.json",
                                                                         "torch-gemm.json"]
    assert "torch-gemm.json: not written" in lines
    # a run's levels on one line: the H200's d2d copy at L2 and at DRAM
    assert any(re.search(r"gpu_memcpy_d2d/dtype:f64 +L2 [\d.]+ GB/s  DRAM [\d.]+ GB/s", line)
               for line in lines), lines
