"""The train family: the seed CNN trained end to end, a row per epoch (train/.../epoch:k) and a
summary row per run (claims T1, T5, T6).

Its report section (per run: ms a step after the first epoch, the first epoch over the rest, the
last loss and accuracy, images a second), its smoke arguments (a model of a few pixels), and the
table of ours beside a peer's (scripts/torch_train.py) run for run.
"""
from __future__ import annotations

from typing import Any, Optional, Sequence

from ..report import Block, Sections, Table, fmt
from ..rows import Bench, benches, representative
from ..tables import markdown

SMOKE_ARGS = ["--train-image=8", "--train-channels=4", "--train-batch=4", "--train-images=8",
              "--train-epochs=2"]
KEYS = ("mode", "layout", "image", "channels", "batch", "images", "threads")


def step_ms(rows: Sequence[Bench], family: str) -> dict[tuple, float]:
    """By run keys: the median over epochs 2+ of their median step time, in ms."""
    steps: dict[tuple, list[float]] = {}
    for r in rows:
        if r.family == family and "epoch" in r.keys and r.counters.get("epoch", 0) > 1 and \
                "step_seconds_median" in r.counters:
            steps.setdefault(tuple(r.keys.get(k, "") for k in KEYS), []).append(
                r.counters["step_seconds_median"])
    return {k: 1e3 * sorted(v)[len(v) // 2] for k, v in steps.items()}


def summaries(rows: Sequence[Bench], family: str) -> dict[tuple, Bench]:
    return {tuple(r.keys.get(k, "") for k in KEYS): r for r in rows
            if r.family == family and "epoch" not in r.keys and "epochs" in r.counters}


def peer_table(peer: Sequence[Bench], suite: Sequence[Bench]) -> tuple[list[str], list[list[str]]]:
    """(header, rows): per training run of the peer (torch/seed_cnn/...), the suite's run with the
    same keys: ms a step after the first epoch, the first epoch's seconds, the last loss and
    accuracy, each side by side, and the peer's ms a step over ours."""
    ours_reps, theirs_reps = representative(suite), representative(peer)
    ours, theirs = summaries(ours_reps, "train"), summaries(theirs_reps, "torch")
    ms_ours, ms_theirs = step_ms(ours_reps, "train"), step_ms(theirs_reps, "torch")
    rows = []
    for key, t in theirs.items():
        o = ours.get(key)
        a, b = ms_ours.get(key), ms_theirs.get(key)

        def both(name: str, ob: Optional[Bench] = o, tb: Bench = t) -> list[str]:
            return [fmt(ob.counters.get(name)) if ob else "-", fmt(tb.counters.get(name))]
        rows.append(list(key) + [fmt(a), fmt(b)] + both("first_epoch_seconds") +
                    both("loss_last") + both("accuracy") +
                    [fmt(b / a) if a and b else "not in the suite's run"])
    return list(KEYS) + ["ms a step: ours", "PyTorch", "first epoch s: ours", "PyTorch",
                         "last loss: ours", "PyTorch", "accuracy: ours", "PyTorch",
                         "PyTorch's ms / ours"], rows


def side_by_side(peer: dict[str, Any], suite: dict[str, Any]) -> list[str]:
    """peer_table as Markdown, for two documents (scripts/torch_train.py)."""
    return markdown(*peer_table(benches(peer["benchmarks"]), benches(suite["benchmarks"])))


def section(s: Sections, reps: list[Bench]) -> list[Block]:
    """One line per training run (its summary row): the median step time of the epochs after the
    first, the first epoch over the median of the rest, the last epoch's loss and accuracy, and
    images a second over the whole run."""
    ms = step_ms(reps, "train")
    rows = []
    for key, r in summaries(reps, "train").items():
        c = r.counters
        rows.append(list(key) + [fmt(ms.get(key)), fmt(c.get("first_over_rest")),
                                 fmt(c.get("loss_last")), fmt(c.get("accuracy")),
                                 fmt(r.rate("elements"))])
    if not rows:
        return []
    return [Table(s.caption("training runs"), list(KEYS) + [
        "ms a step (epochs 2+)", "first epoch / rest", "last loss", "accuracy", "images/s"],
        rows)]
