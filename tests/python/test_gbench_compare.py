"""Google Benchmark's own compare.py (Debian libbenchmark-tools, which scripts/setup.sh installs)
reads our result files: two committed AMD runs line up benchmark by benchmark with our numbers,
and a run with repetitions, skipped and derived rows gets its U test. (test_reliability.py runs it
on the committed A/A pair.)"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
REPORTS = ROOT / "reports"
COMPARE = Path("/usr/share/benchmark/compare.py")  # Debian libbenchmark-tools

pytestmark = pytest.mark.skipif(not COMPARE.exists(), reason=f"{COMPARE} is missing (Debian "
                                "libbenchmark-tools; scripts/setup.sh installs it)")


def gbench_compare(a: Path, b: Path, dump: Path) -> subprocess.CompletedProcess:
    pytest.importorskip("scipy", reason="compare.py's U test needs scipy (scripts/setup.sh puts "
                                        "it in .venv)")
    p = subprocess.run([sys.executable, str(COMPARE), "--no-color", "-d", str(dump), "benchmarks",
                        str(a), str(b)], capture_output=True, text=True, check=False)
    assert p.returncode == 0, p.stderr
    assert "Traceback" not in p.stderr
    return p


def by_name(path: Path) -> dict[str, dict[str, Any]]:
    """The rows of one of our files, the first of each name (as compare.py pairs them)."""
    out: dict[str, dict[str, Any]] = {}
    for b in json.loads(path.read_text(encoding="utf-8"))["benchmarks"]:
        out.setdefault(b["name"], b)
    return out


def test_two_committed_runs_line_up_with_our_numbers(tmp_path: Path) -> None:
    a, b = REPORTS / "vm-2026-11-26-2.json", REPORTS / "vm-2026-11-26-3.json"
    p = gbench_compare(a, b, tmp_path / "diff.json")
    assert p.stdout.startswith(f"Comparing {a} to {b}\n")
    ours_a, ours_b = by_name(a), by_name(b)
    diff = json.loads((tmp_path / "diff.json").read_text(encoding="utf-8"))
    # every benchmark of both files, nothing else
    assert [d["name"] for d in diff] and {d["name"] for d in diff} == ours_a.keys() & ours_b.keys()
    for d in diff:
        first = d["measurements"][0]
        assert first["real_time"] == ours_a[d["name"]]["real_time"]
        assert first["real_time_other"] == ours_b[d["name"]]["real_time"]
        assert d["time_unit"] == ours_a[d["name"]]["time_unit"]
    lines = {line.split()[0]: line.split()[1:] for line in p.stdout.splitlines()[3:] if line}
    copy = "baseline/copy/dtype:f64/level:DRAM/n:8388608/threads:2/real_time_median"
    assert copy in lines and lines[copy][0].startswith(("+", "-"))  # the change in time
    median = next(d for d in diff if d["name"] == copy)["measurements"][0]
    assert float(lines[copy][0]) == pytest.approx(median["time"], abs=1e-4)


def test_a_run_with_repetitions_gets_its_u_test(tmp_path: Path) -> None:
    gemm = REPORTS / "vm-2026-12-02-gemm.json"
    p = gbench_compare(gemm, gemm, tmp_path / "diff.json")
    name = ("gemm/openblas/precision:f64.f64.f64/shape:square/m:2048/n:2048/k:2048/layout:NN/"
            "threads:2")
    assert f"{name}/real_time_pvalue" in p.stdout
    assert "U Test, Repetitions: 5 vs 5" in p.stdout
    diff = json.loads((tmp_path / "diff.json").read_text(encoding="utf-8"))
    assert all(m["time"] == 0 for d in diff for m in d["measurements"])
