"""The baseline family: the machine's own ceilings (read, copy, copy_nt, triad bandwidth by cache
level; the FMA and dot-product peaks), on the CPU and the GPU.

Its report section (bandwidth by level, against the working set, and the FLOP peaks) and its
GPU-check budget. It has no derivations of its own; gemm's reads its peak rows.
"""
from __future__ import annotations

from typing import Any, Sequence

from ..report import (Block, Para, Sections, Table, ctx_number, fmt, level_rank, new_figure,
                      size)
from ..rows import Bench

BANDWIDTH_KERNELS = ("read", "copy", "copy_nt", "triad")
GPU_BANDWIDTH_KERNELS = ("gpu_read", "gpu_copy", "gpu_memcpy_d2d", "gpu_triad")
# scripts/gpu-check: the whole family; 18 s for 20 rows on the H200 on 2026-11-26
GPU_CHECK = {"args": "--quick", "per_row": 0.9}


def section(s: Sections, reps: list[Bench]) -> list[Block]:
    """Bandwidth (GB/s) of the CPU and GPU kernels by level at the largest thread count, with a
    plot against the working set (the caches marked), and a table of the FLOP peaks."""
    out: list[Block] = []
    for target, kernels, marks in (
            ("cpu", BANDWIDTH_KERNELS, (("L1d", "l1d_bytes"), ("L2", "l2_bytes"),
                                        ("L3", "l3_bytes"))),
            ("gpu", GPU_BANDWIDTH_KERNELS, (("GPU L2", "gpu_l2_bytes"),))):
        out += bandwidth(s, reps, target, kernels, marks)
    peaks = []
    for r in reps:
        f = r.rate("flops")
        if r.variant.endswith("_peak") and f is not None:
            peaks.append((r.variant, s.dorder(r.keys.get("dtype", "")),
                          r.threads or 0, r.keys.get("threads", "gpu"), f))
    if peaks:
        out.append(Table(s.caption("FLOP peaks"), ["kernel", "dtype", "threads", "GFLOP/s"],
                         [[v, d[1], t, fmt(f / 1e9)] for v, d, _, t, f in sorted(peaks)]))
    return out

def bandwidth(s: Sections, reps: list[Bench], target: str, kernels: Sequence[str],
              marks: Sequence[tuple[str, str]]) -> list[Block]:
    ctx = s.run.context
    table: dict[tuple[str, str], dict[str, float]] = {}  # (kernel, dtype) -> level -> B/s
    lines: dict[tuple[str, str], list[tuple[float, float]]] = {}
    mine = []
    for r in reps:
        on_gpu = r.variant.startswith("gpu_")
        if (target == "gpu") != on_gpu or r.rate("bytes") is None:
            continue
        mine.append(r)
    if not mine:
        return []
    top = max((r.threads or 0 for r in mine), default=0)
    for r in mine:
        if (r.threads or 0) != top:
            continue
        key = (r.variant, r.keys.get("dtype", ""))
        level = r.keys.get("level", "")
        table.setdefault(key, {})[level] = r.rate("bytes") or 0.0
        ws = r.counters.get("working_set_bytes")
        if r.variant in kernels and ws:
            lines.setdefault(key, []).append((ws, (r.rate("bytes") or 0.0) / 1e9))
    levels = sorted({lv for t in table.values() for lv in t}, key=level_rank)
    where = f"{'threads:' + str(top) if top else 'GPU'}"
    header = ["kernel", "dtype"] + [
        f"{lv} ({size(ctx_number(ctx, 'working_set_' + lv))})"
        if target == "cpu" and ctx_number(ctx, "working_set_" + lv) else lv for lv in levels]
    rows = [[k, d] + [fmt(table[(k, d)][lv] / 1e9) if lv in table[(k, d)] else "-"
                      for lv in levels]
            for k, d in sorted(table, key=lambda kd: (kd[0], s.dorder(kd[1])))]
    out: list[Block] = [Table(s.caption(f"bandwidth in GB/s by level, {where}"), header,
                              rows)]
    if not lines:
        return out + [Para(f"No {', '.join(kernels)} rows with a working set: no "
                           "bandwidth plot.")]

    def draw() -> Any:
        fig, ax = new_figure(f"{target.upper()} bandwidth against working set, {where}",
                             s.run.where)
        for (k, d), pts in sorted(lines.items(), key=lambda x: (x[0][0], s.dorder(x[0][1]))):
            pts.sort()
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=f"{k} {d}")
        for label, key in marks:
            x = ctx_number(ctx, key)
            if x:
                ax.axvline(x, color="grey", linestyle="--", linewidth=1)
                ax.annotate(f"{label} {size(x)}", (x, 1), xycoords=("data", "axes fraction"),
                            rotation=90, va="top", ha="right", fontsize=8)
        ax.set_xscale("log", base=2)
        ax.set_xlabel("working set (bytes)")
        ax.set_ylabel("GB/s")
        ax.set_ylim(bottom=0)
        ax.legend(fontsize=8)
        return fig

    return out + s.fig(f"baseline-{target}-bandwidth",
                          f"{target.upper()} bandwidth against working set ({s.run.where})",
                          draw)
