#!/usr/bin/env python3
"""The figures of a GPU check in a few lines: per result file, how many rows ran, skipped and
failed (with the first failure's reason), then one line per run, its median: the name without
the family and with its levels side by side, TFLOP/s for GEMM and the FMA peaks (GEMM with its
relative error against fp64 and its share of the datasheet peak), GB/s for the rest. scripts/gpu-check prints this before
its status table; --lines caps the whole (rows past it are counted, not shown).

  scripts/gpu_summary.py --lines 50 build/gpu-check/gpu-*.json

A file that is missing or not a result is one line, and the others are still summarized.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dtypebench_results import Bench, ResultsError, benches, load, representative

# a family's rows worth a line first; the rest follow in the file's order
FIRST = {"gemm": ("cublaslt_peak", "cublaslt_fast_accum", "cublaslt"),
         "layout": ("gpu_memcpy_d2d", "gpu_transpose"),
         "baseline": ("gpu_memcpy_d2d", "gpu_copy", "gpu_read", "gpu_triad", "gpu_fma_peak"),
         "convert": ("gpu_memcpy_d2d", "gpu_cast", "h2d"),
         "conv": ("cudnn",)}


def figure(b: Bench) -> str:
    """The row's rate as a person reads it: FLOP/s for GEMM, the FMA peaks and any row checked
    against fp64 (rel_error: a convolution), else bytes."""
    c = b.counters
    flops = b.rate("flops")
    if flops is not None and (b.family == "gemm" or "peak" in b.variant or "rel_error" in c):
        text = f"{flops / 1e12:8.1f} TFLOP/s"
        if "rel_error" in c:
            text += f"  err {c['rel_error']:.1e}"
        share = c.get("share_of_datasheet_peak")
        if share:
            text += f"  {100 * share:3.0f}% of datasheet"
        return text
    moved = b.rate("bytes")
    return f"{moved / 1e9:8.1f} GB/s" if moved is not None else "(no rate)"


def short(b: Bench) -> str:
    """The name without family, level and sizes that follow from the rest."""
    keys = "/".join(f"{k}:{v}" for k, v in b.keys.items()
                    if k not in ("level", "bytes", "m", "n", "k") or b.variant == "cublaslt_peak")
    return f"{b.variant}/{keys}" if keys else b.variant


def summarize(path: Path) -> list[str]:
    try:
        doc = load(path)
    except ResultsError as e:
        return [f"{path.name}: {e}"]
    rows = [b for b in benches(doc.get("benchmarks", [])) if not b.is_derived]
    runs = {b.name for b in rows}
    failed = [b for b in rows if b.kind == "failed"]
    skipped = {b.name for b in rows if b.kind == "skipped"}
    head = f"{path.name}: {len(runs) - len(skipped) - len({b.name for b in failed})} ran, " \
           f"{len(skipped)} skipped, {len({b.name for b in failed})} failed"
    if failed:
        head += f" (first: {short(failed[0])}: {failed[0].why[:80]})"
    lines = [head]
    reps = representative(rows)
    family = reps[0].family if reps else ""
    order = FIRST.get(family, ())

    def rank(b: Bench) -> int:
        v = b.variant
        return next((i for i, p in enumerate(order) if v.startswith(p)), len(order))

    # one line a run, its levels side by side (L2 then DRAM)
    by_name: dict[str, list[str]] = {}
    for b in sorted(reps, key=rank):
        level = b.keys.get("level")
        by_name.setdefault(short(b), []).append((f"{level} " if level else "") + figure(b).strip())
    for label, figures in by_name.items():
        lines.append(f"  {label[:58]:58s} {'  '.join(figures)}")
    return lines


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("files", nargs="+", type=Path, help="result files (GPU families, torch-gemm)")
    p.add_argument("--lines", type=int, default=50, help="at most this many lines in all (50)")
    args = p.parse_args(argv)
    if args.lines < 1:
        p.error("--lines must be at least 1")
    per_file = [summarize(f) for f in args.files if f.exists()]
    missing = [f"{f.name}: not written" for f in args.files if not f.exists()]
    # every file's head line, then its rows, each file cut to an even share of what is left
    budget = args.lines - len(per_file) - len(missing)
    out: list[str] = []
    for i, lines in enumerate(per_file):
        share = max(0, budget // max(1, len(per_file) - i))
        shown = lines[1:1 + share]
        budget -= len(shown)
        out.append(lines[0] + (f"; {len(lines) - 1 - len(shown)} more not shown"
                               if len(lines) - 1 > len(shown) else ""))
        out.extend(shown)
    out.extend(missing)
    print("\n".join(out[:args.lines]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
