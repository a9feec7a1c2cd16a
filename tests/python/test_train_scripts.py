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
