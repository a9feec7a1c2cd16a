"""An outside reference's rows (NumPy's, PyTorch's) beside the suite's: the checks a peer script
makes before it runs, the ending it shares (its JSON, the table, the Markdown file), and GEMM's
side-by-side table."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Callable, Optional

from . import EXIT_UNREADABLE
from .load import check_output, load_run, save, write_atomic
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


def suite_out_markdown(suite: Path, out: Optional[Path],
                       markdown_file: Optional[Path]) -> dict[str, Any]:
    """suite_and_out, and the --markdown file checked too (not one of the others)."""
    doc = suite_and_out(suite, out)
    assert doc is not None
    if markdown_file:
        check_output(markdown_file, [suite] + ([out] if out else []))
    return doc


def finish(prog: str, doc: dict[str, Any], suite: dict[str, Any], out: Optional[Path],
           markdown_file: Optional[Path], status: int,
           table: Callable[[dict[str, Any], dict[str, Any]], list[str]]) -> int:
    """A peer script's ending: its rows to --out, the table of ours beside them to stdout and
    --markdown; status, or EXIT_UNREADABLE (one line) when a file cannot be written."""
    try:
        if out:
            save(out, doc)
        lines = table(doc, suite)
        print("\n".join(lines))
        if markdown_file:
            write_atomic(markdown_file, "\n".join(lines) + "\n")
    except OSError as e:
        print(f"{prog}: cannot write: {e.strerror or e}", file=sys.stderr)
        return EXIT_UNREADABLE
    return status


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
