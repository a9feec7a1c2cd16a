"""The GEMM side-by-side scripts: NumPy's matmul thread for thread, PyTorch's when present."""
from __future__ import annotations

import importlib.util
import json
import os
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
    suite.write_text(json.dumps({"context": {"git_commit": "abc123"}, "benchmarks": [
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


@pytest.mark.parametrize("args,why", [
    (["--suite", "{d}/missing.json"], "missing.json: cannot read: No such file or directory"),
    (["--suite", "{d}/gbench.json"], "gbench.json: not a dtypebench run"),
    (["--out", "{d}"], ": is a directory"),
    (["--out", "/sys/np.json"], "/sys/np.json: cannot write in /sys"),
    (["--out", "{d}/suite.json", "--suite", "{d}/suite.json"], "suite.json: is also an input"),
])
def test_numpy_gemm_checks_its_paths_before_the_benchmark(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture,
        args: list[str], why: str) -> None:
    import numpy_gemm  # scripts/ is on the path (pytest.ini)
    (tmp_path / "gbench.json").write_text(json.dumps({"context": {"host_name": "x"},
                                                      "benchmarks": []}))
    (tmp_path / "suite.json").write_text(json.dumps({"context": {"git_commit": "abc123"},
                                                     "benchmarks": []}))
    started = []

    def benchmark(cmd: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
        started.append(cmd)  # the thread counts' runs: none may start before the check
        return subprocess.CompletedProcess(cmd, 1, "", "not run here")
    monkeypatch.setattr(numpy_gemm.subprocess, "run", benchmark)
    code = numpy_gemm.main(["--sizes", "64", *[a.format(d=tmp_path) for a in args]])
    err = capsys.readouterr().err.strip().splitlines()
    assert (code, started) == (2, [])
    assert len(err) == 1 and err[0].startswith("numpy_gemm: ") and why in err[0], err


def test_a_write_that_fails_after_the_benchmark_is_one_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    import errno

    import numpy_gemm

    def full(path: object, doc: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    monkeypatch.setattr(numpy_gemm, "save", full)
    code = numpy_gemm.main(["--sizes", "32", "--threads", "1", "--repetitions", "1",
                            "--min-time", "0.001", "--out", str(tmp_path / "np.json")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert err == [f"numpy_gemm: cannot write {tmp_path / 'np.json'}: No space left on device"]


@pytest.mark.parametrize("script,args,says", [
    ("numpy_gemm.py", ["--help"], "usage: numpy_gemm.py"),
    ("torch_gemm.py", ["--sizes", "64"], "torch_gemm: skipped: PyTorch is not installed for "),
])
def test_the_gemm_scripts_hand_over_to_the_venv(script: str, args: list[str], says: str) -> None:
    # the python the venv was made from, without site-packages (-S): no NumPy, no PyTorch
    system = Path(sys.base_prefix) / "bin" / "python3"
    venv = ROOT / ".venv" / "bin" / "python"
    if not venv.exists() or not system.exists():
        pytest.skip("no .venv (scripts/setup.sh makes it) or no python it was made from")
    if script == "torch_gemm.py" and importlib.util.find_spec("torch") is not None:
        pytest.skip("PyTorch is in the venv: the real run is gpu-check's")
    env = {k: v for k, v in os.environ.items() if k != "DTYPEBENCH_IN_VENV"}
    r = subprocess.run([str(system), "-S", f"scripts/{script}", *args], capture_output=True,
                       text=True, check=False, cwd=ROOT, env=env)
    assert r.returncode == 0, r.stderr
    assert says in r.stdout and "Traceback" not in r.stderr
    if script == "torch_gemm.py":  # said by the venv's python, not by the one started
        assert r.stdout.strip() == says + str(venv)
