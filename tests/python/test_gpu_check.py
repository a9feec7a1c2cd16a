"""scripts/gpu-check keeps to its budget: the steps in order of what matters (build, tests, gemm
first among the families), each within what the budget has left, and every step the budget
cannot fit named in one "not run" line. The GPU, the build tools and the binary are stand-ins
on PATH (a device lends its time by the minute, so the script's arithmetic is checked here)."""
from __future__ import annotations

import os
import stat
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def tool(path: Path, body: str) -> None:
    path.write_text("#!/usr/bin/env bash\n" + body + "\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def run_check(tmp_path: Path, budget: int, ctest_seconds: int) -> tuple[subprocess.CompletedProcess, float]:
    bin_dir, build = tmp_path / "bin", tmp_path / "build"
    bin_dir.mkdir()
    build.mkdir()
    tool(bin_dir / "nvidia-smi", 'echo "GPU 0: stand-in (UUID: GPU-0)"')
    tool(bin_dir / "cmake", 'echo "cmake version 3.25 (stand-in)"')
    tool(bin_dir / "ctest", f"exec sleep {ctest_seconds}")  # exec: timeout stops the sleep itself
    # the binary's families, in its own order: gemm is listed last
    tool(build / "dtypebench", 'printf "baseline\\nlayout\\nconvert\\ngemm\\n"')
    env = dict(os.environ, PATH=f"{bin_dir}:{os.environ['PATH']}", OUT=str(tmp_path / "out"),
               DTYPEBENCH_GPU_BUILD_DIR=str(build), DTYPEBENCH_GPU_SECONDS=str(budget))
    t0 = time.monotonic()
    done = subprocess.run([str(ROOT / "scripts" / "gpu-check")], env=env, capture_output=True,
                          text=True, timeout=120)
    return done, time.monotonic() - t0


def test_steps_the_budget_cannot_fit_say_not_run_in_order(tmp_path: Path) -> None:
    done, took = run_check(tmp_path, budget=4, ctest_seconds=60)
    out = done.stdout
    assert took < 15, f"the budget of 4 s took {took:.0f} s:\n{out}"
    assert done.returncode == 1, out
    assert "build (sm_90, 4s)" in out
    lines = [line.split("] ", 1)[1] for line in out.splitlines() if "] bench " in line]
    assert lines == [f"bench {f}: not run (the budget of 4s is spent)"
                     for f in ("gemm", "baseline", "layout", "convert")], out
    assert "torch_gemm: not run (the budget of 4s is spent)" in out


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
