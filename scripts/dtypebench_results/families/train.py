"""The train family: the seed CNN trained end to end, a row per epoch (train/.../epoch:k) and a
summary row per run (claims T1, T5, T6).

Its report section (per run: ms a step after the first epoch, the first epoch over the rest, the
last loss and accuracy, images a second) and its smoke arguments (a model of a few pixels).
"""
from __future__ import annotations

from ..report import Block, Sections, Table, fmt
from ..rows import Bench

SMOKE_ARGS = ["--train-image=8", "--train-channels=4", "--train-batch=4", "--train-images=8",
              "--train-epochs=2"]
KEYS = ("mode", "layout", "image", "channels", "batch", "images", "threads")


def section(s: Sections, reps: list[Bench]) -> list[Block]:
    """One line per training run (its summary row): the median step time of the epochs after the
    first, the first epoch over the median of the rest, the last epoch's loss and accuracy, and
    images a second over the whole run."""
    steps: dict[tuple, list[float]] = {}
    for r in reps:
        if "epoch" in r.keys and r.counters.get("epoch", 0) > 1:
            key = tuple(r.keys.get(k, "") for k in KEYS)
            if "step_seconds_median" in r.counters:
                steps.setdefault(key, []).append(r.counters["step_seconds_median"])
    rows = []
    for r in reps:
        if "epoch" in r.keys or "epochs" not in r.counters:
            continue
        key = tuple(r.keys.get(k, "") for k in KEYS)
        rest = sorted(steps.get(key, []))
        ms = fmt(1e3 * rest[len(rest) // 2]) if rest else "-"
        c = r.counters
        rows.append(list(key) + [ms, fmt(c.get("first_over_rest")), fmt(c.get("loss_last")),
                                 fmt(c.get("accuracy")), fmt(r.rate("elements"))])
    if not rows:
        return []
    return [Table(s.caption("training runs"), list(KEYS) + [
        "ms a step (epochs 2+)", "first epoch / rest", "last loss", "accuracy", "images/s"],
        rows)]
