"""The convert family: casts, byte swaps, promotions, allocation strategies, host-device copies.

Its derivation (every conversion's bandwidth as a share of the plain copy's) and its report
section (that share as a table; peak memory against theory as a table and a bar plot).
"""
from __future__ import annotations

from typing import Any, Sequence

from ..derive import Derived, inputs
from ..report import MIB, Block, Para, Sections, Table, fmt, level_rank, new_figure, size
from ..rows import Bench, benches

# scripts/gpu-check: the whole family; a row taken as 1 s
GPU_CHECK = {"args": "--quick", "per_row": 1.0}


def convert_op(variant: str, keys: dict[str, str]) -> str:
    """The name a conversion goes by in convert/derived: its variant and the keys that say what
    is converted (not n, level or threads)."""
    op = variant
    if "method" in keys:
        op += "_" + keys["method"]
    if "placement" in keys:
        op += "_" + keys["placement"] + "_" + keys.get("memory", "")
    elif "memory" in keys:
        op += "_" + keys.get("dtype", "") + "_" + keys["memory"]
    if "src" in keys:
        op += "_" + keys["src"] + "_" + keys.get("dst", "")
    if "width" in keys:
        op += "_w" + keys["width"]
    if "path" in keys:
        op += "_" + keys["path"]
    if "chunk_mib" in keys:
        op += "_" + keys["chunk_mib"] + "mib"
    return op


def derive(rows: Sequence[Bench]) -> list[Derived]:
    """Per (level, threads; GPU runs as threads:gpu): every conversion's bandwidth as a fraction
    of the plain copy's in the same run (the CPU copy, else the GPU device-to-device copy)."""
    rate: dict[str, dict[str, float]] = {}  # level/threads -> op -> bytes/s
    for name, r in sorted(inputs(rows).items()):
        if r.family != "convert" or "bytes" not in r.counters:
            continue
        where = f"level:{r.keys.get('level', '')}/threads:{r.keys.get('threads', 'gpu')}"
        rate.setdefault(where, {})[convert_op(r.variant, r.keys)] = r.counters["bytes"]
    out = []
    for where, ops in sorted(rate.items()):
        copy = "copy" if "copy" in ops else "gpu_memcpy_d2d" if "gpu_memcpy_d2d" in ops else None
        if copy is None or ops[copy] <= 0:
            continue
        out.append(Derived(f"convert/derived/{where}",
                           {f"{op}_over_copy_bw": bw / ops[copy]
                            for op, bw in sorted(ops.items()) if op != copy}))
    return out


def section(s: Sections, reps: list[Bench]) -> list[Block]:
    """Conversion bandwidth as a share of the copy (convert/derived), and the peak memory of each
    strategy against theory (peak_bytes, theory_bytes, peak_over_theory)."""
    out: list[Block] = []
    shares: dict[tuple[int, str, str], dict[str, float]] = {}
    for r in reps:
        if r.variant == "derived" and r.is_derived:
            lv, t = r.keys.get("level", ""), r.keys.get("threads", "")
            shares[(level_rank(lv), lv, t)] = {
                k[:-len("_over_copy_bw")] if k.endswith("_over_copy_bw") else k: v
                for k, v in r.counters.items()}
    if shares:
        order = sorted(shares)
        threads = {c[2] for c in order}
        header = ["conversion"] + [c[1] + (f" t{c[2]}" if len(threads) > 1 else "")
                                   for c in order]
        names = sorted({k for v in shares.values() for k in v})
        out.append(Table(s.caption("conversion bandwidth as a share of the plain copy "
                                   "(convert/derived; 1 = the copy's)"), header,
                         [[k] + [fmt(shares[c].get(k)) for c in order] for k in names]))
    else:
        out.append(Para("No convert/derived rows (scripts/derive adds them)."))
    mem = []
    for r in reps:
        c = r.counters
        if r.is_derived or "peak_over_theory" not in c:
            continue
        what = r.variant + "".join(f" {k}:{v}" for k, v in r.keys.items()
                                   if k not in ("n", "level", "threads", "min_time"))
        lv = r.keys.get("level", "")
        mem.append((what, level_rank(lv), lv, r.threads or 0, c.get("peak_bytes"),
                    c.get("theory_bytes"), c["peak_over_theory"]))
    if not mem:
        return out + [Para("No rows with peak_over_theory: no peak-memory table or plot.")]
    mem.sort()
    out.append(Table(s.caption("peak memory against theory"),
                     ["strategy", "level", "threads", "peak", "theory", "peak / theory"],
                     [[w, lv, str(t), size(p), size(th), fmt(x)]
                      for w, _, lv, t, p, th, x in mem]))
    bars: dict[str, tuple[Any, ...]] = {}  # strategy -> its row at the largest level, threads
    for m in mem:
        if m[0] not in bars or m[1:4] > bars[m[0]][1:4]:
            bars[m[0]] = m

    def draw() -> Any:
        fig, ax = new_figure("peak memory against theory (largest level per strategy)",
                             s.run.where)
        names = sorted(bars)
        xs = range(len(names))
        peak = [(bars[k][4] or 0) / MIB for k in names]
        theory = [(bars[k][5] or 0) / MIB for k in names]
        ax.bar([x - 0.2 for x in xs], peak, 0.4, label="peak (measured)")
        ax.bar([x + 0.2 for x in xs], theory, 0.4, label="theory")
        for x, k in zip(xs, names):
            ax.annotate(f"{fmt(bars[k][6])}x", (x, max(peak[x], theory[x])), ha="center",
                        va="bottom", fontsize=8)
        ax.set_xticks(list(xs))
        ax.set_xticklabels([f"{k}\n{bars[k][2]} t{bars[k][3]}" for k in names], fontsize=7,
                           rotation=20, ha="right")
        ax.set_ylabel("MiB")
        ax.legend(fontsize=8)
        return fig

    return out + s.fig("convert-peak-memory", f"peak memory against theory ({s.run.where})",
                       draw)
