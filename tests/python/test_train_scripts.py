"""The train family's plug-in on hand-made rows with known answers: its report section reads
the summary row and the epoch rows of each run."""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

from dtypebench_results.families import plugin  # noqa: E402
from dtypebench_results.report import Run, Sections  # noqa: E402
from dtypebench_results.rows import benches, representative  # noqa: E402
from result_rows import it  # noqa: E402

BASE = "train/seed_cnn/mode:f32/layout:nhwc/image:32/channels:32/batch:50/images:200/epochs:3/threads:2"
TAIL = "/iterations:1/repeats:1/manual_time"


def test_the_section_has_a_line_per_run() -> None:
    rows = [it(f"{BASE}/epoch:{k}{TAIL}", t, epoch=k, step_seconds_median=s, label="verified")
            for k, t, s in ((1, 4e7, 0.010), (2, 2e7, 0.005), (3, 2e7, 0.007))]
    rows.append(it(BASE + TAIL, 8e7, epochs=3, first_over_rest=2.0, loss_last=0.25, accuracy=1.0,
                   elements=7500.0, label="verified"))
    parsed = benches(rows)
    run = Run("x.json", "x", {}, parsed, representative(parsed))
    blocks = plugin("train").section(Sections(run, 2, False), run.reps)
    assert len(blocks) == 1
    table = blocks[0]
    assert table.header[-5:] == ["ms a step (epochs 2+)", "first epoch / rest", "last loss",
                                 "accuracy", "images/s"]
    assert len(table.rows) == 1
    # epochs 2 and 3 step in 5 and 7 ms: their median's upper middle, 7 ms
    assert table.rows[0][-5:] == ["7.00", "2.00", "0.25", "1.00", "7500"]


def test_the_fill_port_is_the_suites_splitmix() -> None:
    import importlib.util
    import numpy as np
    spec = importlib.util.spec_from_file_location("torch_train", ROOT / "scripts" / "torch_train.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    M = (1 << 64) - 1

    def one(seed: int, i: int) -> float:  # fill.hpp in Python integers, masked by hand
        x = (seed * 0x100000001b3 + i + 0x9e3779b97f4a7c15) & M
        x = ((x ^ (x >> 30)) * 0xbf58476d1ce4e5b9) & M
        x = ((x ^ (x >> 27)) * 0x94d049bb133111eb) & M
        x ^= x >> 31
        return (x >> 11) * 2.0 ** -53
    got = mod.uniform_at(np, 403 + 16 * 6, 1000, 0.0, 1.0)
    assert all(got[i] == one(403 + 16 * 6, i) for i in range(1000))


def test_torch_train_refuses_in_one_line(tmp_path: Path) -> None:
    import json
    import subprocess
    from result_rows import one_line
    empty = tmp_path / "empty.json"
    empty.write_text(json.dumps({"context": {"git_commit": "abc"}, "benchmarks": []}))
    script = str(ROOT / "scripts" / "torch_train.py")
    p = subprocess.run([sys.executable, script, "--suite", str(empty)], capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == 2 and "no verified train/seed_cnn runs" in one_line(p)
    p = subprocess.run([sys.executable, script, "--suite", str(empty), "--out", str(tmp_path)],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 2 and "is a directory" in one_line(p)


def test_the_peer_table_sets_runs_side_by_side() -> None:
    def run(family: str, ms: float, loss: float) -> list[dict]:
        base = BASE.replace("train/", f"{family}/")
        rows = [it(f"{base}/epoch:{k}{TAIL}", 1e6, epoch=k, step_seconds_median=ms / 1e3)
                for k in (1, 2, 3)]
        return rows + [it(base + TAIL, 3e6, epochs=3, first_epoch_seconds=1.0, loss_last=loss,
                          accuracy=1.0)]
    header, rows = plugin("train").peer_table(benches(run("torch", 15.0, 0.5)),
                                              benches(run("train", 5.0, 0.5)))
    assert len(rows) == 1
    at = header.index("ms a step: ours")  # each measure's PyTorch column follows ours
    assert rows[0][at:at + 2] == ["5.00", "15.0"]
    assert rows[0][header.index("PyTorch's ms / ours")] == "3.00"
