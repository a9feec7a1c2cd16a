"""scripts/claims: every seed claim with a verdict, from the committed runs and made-up ones."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from dtypebench_results.claims import CLAIMS, verdicts

ROOT = Path(__file__).resolve().parents[2]
QUICK = ROOT / "reports/vm-2026-12-01-quick.json"
GEMM = ROOT / "reports/vm-2026-12-02-gemm.json"
H200 = ROOT / "reports/nvidia-h200-2026-11-26/gpu-baseline.json"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "scripts/claims", *args], capture_output=True,
                          text=True, check=False, cwd=ROOT)


def table(stdout: str) -> dict[str, list[str]]:
    rows = {}
    for line in stdout.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if cells and cells[0] in {c.id for c in CLAIMS}:
            rows[cells[0]] = cells
    return rows


def test_every_claim_gets_a_verdict_from_the_committed_runs() -> None:
    r = run(str(QUICK), str(GEMM))
    assert r.returncode == 0, r.stderr
    rows = table(r.stdout)
    assert sorted(rows) == sorted(c.id for c in CLAIMS)
    assert rows["L6"][4] == "holds" and "1.50x" in rows["L6"][3]
    assert rows["L7"][4] == "holds"
    assert rows["L8"][4] == "holds" and "2.00x" in rows["L8"][3]
    assert rows["L4"][4].startswith("holds only for a walk column by column")
    assert rows["T1"][4] == "not measured here"  # no train family yet
    assert rows["L2"][4].startswith("not measured here on a GPU")
    assert "Intel" in r.stdout.splitlines()[0]


def test_the_gpu_run_answers_l2() -> None:
    rows = table(run(str(H200)).stdout)
    assert rows["L2"][4].startswith("holds for memory-bound work")
    assert rows["L4"][4] == "not measured here"


def test_a_made_up_run_where_a_claim_fails() -> None:
    def it(name: str, t: float) -> dict:
        return {"name": name, "run_name": name, "run_type": "iteration", "real_time": t,
                "time_unit": "ns", "label": "verified"}
    rows = [it("layout/colsum_naive/dtype:f64/order:C/n:100/level:DRAM/threads:2", 1.2),
            it("layout/colsum_naive/dtype:f64/order:F/n:100/level:DRAM/threads:2", 1.0)]
    v = {x.claim.id: x for x in verdicts(rows)}
    assert v["L4"].verdict == "does not hold" and "1.20x" in v["L4"].measured


def test_bad_and_mixed_inputs_are_one_line_and_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"benchmarks": [')
    r = run(str(bad))
    assert r.returncode == 2 and "Traceback" not in r.stderr and len(r.stderr.splitlines()) == 1
    amd = ROOT / "reports/vm-2026-11-26-3.json"
    r = run(str(QUICK), str(amd))
    assert r.returncode == 2 and "different CPUs" in r.stderr
    assert run("--allow-mixed", str(QUICK), str(amd)).returncode == 0
