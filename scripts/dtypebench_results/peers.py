"""An outside reference's GEMM rows (NumPy's, PyTorch's) beside the suite's, as Markdown."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

from .load import check_output, load_run
from .rows import benches, representative
from .tables import markdown as table

MATCH = ("precision", "m", "n", "k", "layout", "threads")  # absent keys match absent keys


def suite_and_out(suite: Optional[Path], out: Optional[Path]) -> Optional[dict[str, Any]]:
    """The --suite run to compare with (None without one), once --out is known to be writable and
    not that run: ResultsError (one line) before any benchmark, not after it."""
    doc = load_run(suite) if suite else None
    if out:
        check_output(out, [suite] if suite else [])
    return doc


def gemm_side_by_side(peer: dict[str, Any], suite: dict[str, Any], peer_label: str,
                      variant: str, unit: float, unit_name: str) -> list[str]:
    """Per median row of the peer, the suite's gemm/<variant>/shape:square row with the same
    precision, shape, layout and threads (the fastest where several algorithms ran), and
    ours / theirs in FLOP/s."""
    ours: dict[tuple, float] = {}
    for b in representative(suite["benchmarks"]):
        if (b.family, b.variant) == ("gemm", variant) and b.keys.get("shape") == "square" \
                and "flops" in b:
            k = tuple(b.keys.get(x) for x in MATCH)
            ours[k] = max(ours.get(k, 0.0), float(b["flops"]))
    rows = []
    for b in benches(peer["benchmarks"]):
        if b.get("aggregate_name") != "median":
            continue
        mine = ours.get(tuple(b.keys.get(x) for x in MATCH))
        ratio = f"{mine / b['flops']:.3f}" if mine else "not in the suite's run"
        rows.append([str(b.keys.get("precision")), str(b.keys.get("m")),
                     b.keys.get("threads", "-"), f"{b['flops'] / unit:.1f}",
                     f"{(mine or 0) / unit:.1f}", ratio])
    return table(["precision", "n", "threads", f"{peer_label} {unit_name}",
                  f"dtypebench {unit_name}", f"ours / {peer_label}"], rows)
