"""The GEMM side-by-side scripts: NumPy's matmul thread for thread, PyTorch's when present."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
np = pytest.importorskip("numpy")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, check=False,
                          cwd=ROOT)


def test_numpy_gemm_writes_verified_rows_per_thread_count_and_compares(tmp_path: Path) -> None:
    out = tmp_path / "np.json"
    suite = tmp_path / "suite.json"
    name = "gemm/openblas/precision:f64.f64.f64/shape:square/m:64/n:64/k:64/layout:NN/threads:1"
    suite.write_text(json.dumps({"context": {}, "benchmarks": [
        {"name": name, "run_name": name, "run_type": "iteration", "real_time": 1.0,
         "time_unit": "us", "flops": 2e9, "label": "verified"}]}))
    r = run("scripts/numpy_gemm.py", "--sizes", "64", "--threads", "1,2", "--repetitions", "2",
            "--min-time", "0.01", "--out", str(out), "--suite", str(suite))
    assert r.returncode == 0, r.stderr
    doc = json.loads(out.read_text())
    medians = [b for b in doc["benchmarks"] if b["aggregate_name"] == "median"]
    assert {b["threads"] for b in medians} == {1, 2}
    assert all(b["verified"] == 1.0 and b["flops"] > 0 for b in medians)
    assert "| f64.f64.f64 | 64 | 1 |" in r.stdout  # the suite's row lined up with NumPy's


def test_numpy_gemm_refuses_bad_sizes() -> None:
    r = run("scripts/numpy_gemm.py", "--sizes", "0")
    assert r.returncode == 2 and "Traceback" not in r.stderr


def test_torch_gemm_without_torch_or_gpu_says_so_and_exits_0() -> None:
    r = run("scripts/torch_gemm.py", "--sizes", "64")
    if "skipped" not in r.stdout:
        pytest.skip("PyTorch with a GPU is here: the real run is gpu-check's")
    assert r.returncode == 0 and len(r.stdout.strip().splitlines()) == 1
