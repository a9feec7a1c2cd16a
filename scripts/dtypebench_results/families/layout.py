"""The layout family: storage order, strides and the C->F conversion, on the CPU and the GPU.

Its derivations (the strided walks against the contiguous ones, the C->F copies against a plain
copy, break-even passes, the stride plateau, the GPU coalescing and transpose ratios) and its
report section (the layout/derived table and the strided sweep's plot).
"""
from __future__ import annotations

import math
import re
from typing import Any, Sequence

from ..derive import Derived, inputs
from ..report import LEVELS, Block, Para, Sections, Table, fmt, level_rank, new_figure
from ..rows import Bench, benches

CACHE_LINE = 64  # bytes; the strided sweep's knee
LAYOUT_SWEEP_VALUE = re.compile(r"^stride\d+_over_stride1$")  # the sweep plot shows these
# scripts/gpu-check: the transposes and their copy-engine reference in f32 and bf16; 56 s for 42
# rows on the H200 on 2026-11-26
GPU_CHECK = {"args": "--quick --benchmark_filter=gpu_(transpose_naive|transpose_tiled|"
                     "transpose_vec|transpose_regs|memcpy_d2d)/dtype:(f32|bf16)/",
             "per_row": 1.3}


def place(keys: dict[str, str]) -> tuple[str, str, str]:
    """Where a row's figures derive among their own: (dtype, level, threads; GPU runs have no
    threads key and derive among themselves as threads:gpu)."""
    return keys.get("dtype", ""), keys.get("level", ""), keys.get("threads", "gpu")


def stride_plateau(sweep: Sequence[tuple[float, float]]) -> float:
    """sweep: (stride, seconds per element), strides ascending. The smallest stride whose time
    is at least 1/sqrt(2) of the sweep's largest: the geometric middle between one more doubling
    and none, so noise on the plateau does not move it. 0 for an empty sweep."""
    top = 0.0
    for _, t in sweep:
        top = max(top, t)
    for stride, t in sweep:
        if top > 0 and t >= top / math.sqrt(2.0):
            return stride
    return 0.0


def breakeven_passes(convert: float, strided: float, contiguous: float) -> float:
    """After how many strided passes converting first pays: convert / (strided - contiguous),
    all seconds per element; -1 when the strided pass is no slower (converting never pays)."""
    gain = strided - contiguous
    return convert / gain if gain > 0 else -1.0


def derive(rows: Sequence[Bench]) -> list[Derived]:
    """Per (dtype, level, threads; GPU runs have no threads key and derive among themselves as
    threads:gpu): the strided walk against the contiguous one, the cache-aware walk, the C->F
    copies against a plain copy, after how many strided passes converting to F first pays (-1:
    never), from which stride (in bytes) the strided sweep stops growing (when every stride the run
    attempted there is usable: the sweep's strides are the run's, not a copy of the binary's
    list), and the GPU coalescing and transpose ratios (every gpu_transpose_* the run has)."""
    per_elem: dict[tuple[str, str, str], dict[str, float]] = {}  # variant(/order): s/element
    elem_bytes: dict[tuple[str, str, str], float] = {}  # from the strided sweep's counter
    attempted: dict[tuple[str, str, str], set[int]] = {}  # the strides the run has, any outcome
    rows = benches(rows)
    for b in rows:
        stride = b.keys.get("stride", "")
        if (b.family, b.variant) == ("layout", "strided") and stride.isdigit() and not b.is_derived:
            attempted.setdefault(place(b.keys), set()).add(int(stride))
    for name, r in sorted(inputs(rows).items()):
        variant, keys = r.variant, r.keys
        if r.family != "layout" or "n" not in keys or r.seconds is None:
            continue
        try:
            n = float(keys["n"])
        except ValueError:
            continue
        elems = n if variant == "strided" else n * n
        if elems == 0:
            continue  # no cost per element to speak of
        v = variant
        if "order" in keys:
            v += "/" + keys["order"]
        if variant == "strided":
            v += "/" + keys.get("stride", "")
        v += keys.get("tile", "") + keys.get("rows_per_thread", "")
        k = place(keys)
        per_elem.setdefault(k, {})[v] = r.seconds / elems
        epl = r.counters.get("elements_per_line")
        if epl is not None:
            elem_bytes[k] = CACHE_LINE / epl if epl else math.inf

    out = []
    for k, t in sorted(per_elem.items()):
        def has(v: str) -> bool:
            return v in t and t[v] > 0

        dtype, level, threads = k
        values: dict[str, float] = {}
        if has("rowsum_naive/C") and has("colsum_naive/C"):
            values["colsum_strided_over_rowsum_C"] = t["colsum_naive/C"] / t["rowsum_naive/C"]
            if has("colsum_aware/C"):
                values["colsum_aware_over_rowsum_C"] = t["colsum_aware/C"] / t["rowsum_naive/C"]
        if has("colsum_naive/F") and has("rowsum_naive/F"):
            values["rowsum_strided_over_colsum_F"] = t["rowsum_naive/F"] / t["colsum_naive/F"]
        if has("copy"):
            for v in ("to_fortran_blocked", "to_fortran_naive"):
                if has(v):
                    values[f"{v}_over_copy_bw"] = t["copy"] / t[v]
        if has("colsum_naive/C") and has("colsum_naive/F") and has("to_fortran_blocked"):
            values["breakeven_passes"] = breakeven_passes(
                t["to_fortran_blocked"], t["colsum_naive/C"], t["colsum_naive/F"])
        sweep = []
        for s in sorted(attempted.get(k, ())):
            key = f"strided/{s}"
            if not has(key):
                continue
            sweep.append((float(s), t[key]))
            if s > 1 and has("strided/1"):
                values[f"stride{s}_over_stride1"] = t[key] / t["strided/1"]
        # only a whole sweep has a plateau to find: every stride the run attempted, usable
        if sweep and len(sweep) == len(attempted[k]) and k in elem_bytes:
            values["stride_plateau_bytes"] = stride_plateau(sweep) * elem_bytes[k]
        if has("gpu_memcpy_d2d"):
            # every transpose the run has (its tile or rows per thread in the name), none listed
            for v in sorted(t):
                if v.startswith("gpu_transpose_") and "/" not in v and has(v):
                    values[f"{v}_over_copy_bw"] = t["gpu_memcpy_d2d"] / t[v]
        for op in ("rowsum", "colsum"):
            strided, coalesced = f"gpu_{op}_strided/C", f"gpu_{op}_coalesced/C"
            if has(coalesced) and has(strided):
                values[f"gpu_{op}_strided_over_coalesced"] = t[strided] / t[coalesced]
        if values:
            out.append(Derived(f"layout/derived/dtype:{dtype}/level:{level}/threads:{threads}",
                               values))
    return out


def section(s: Sections, reps: list[Bench]) -> list[Block]:
    """The layout/derived values per dtype and level (a table; the sweep's own ratios are the
    plot's), and the strided sweep at the largest level: ns per element against the stride in
    bytes, the cache line marked."""
    out: list[Block] = []
    cols: dict[tuple[Any, ...], dict[str, float]] = {}
    for r in reps:
        if r.variant != "derived" or not r.is_derived:
            continue
        d, lv, t = r.keys.get("dtype", ""), r.keys.get("level", ""), r.keys.get("threads", "")
        vals = {k: v for k, v in r.counters.items() if not LAYOUT_SWEEP_VALUE.match(k)}
        cols[(s.dorder(d), level_rank(lv), lv, t)] = vals
    if cols:
        order = sorted(cols)
        threads = {c[3] for c in order}
        header = ["derived value"] + [
            f"{c[0][1]} {c[2]}" + (f" t{c[3]}" if len(threads) > 1 else "") for c in order]
        names = sorted({k for v in cols.values() for k in v})
        rows = [[k] + [fmt(cols[c].get(k)) for c in order] for k in names]
        out.append(Table(s.caption("layout/derived: strided over contiguous, C->F copy "
                                   "over a plain copy, break-even passes (-1: never), "
                                   "the stride plateau in bytes"), header, rows))
    else:
        out.append(Para("No layout/derived rows (scripts/derive adds them)."))
    sweep: dict[tuple[str, int], dict[str, list[tuple[float, float]]]] = {}
    for r in reps:
        t = r.seconds
        if r.variant != "strided" or not r.keys.get("stride", "").isdigit() or t is None:
            continue
        try:
            elems = float(r.keys.get("n", ""))
        except ValueError:
            continue
        epl = r.counters.get("elements_per_line")
        if not elems or not epl:
            continue
        key = (r.keys.get("level", ""), r.threads or 0)
        x = int(r.keys["stride"]) * CACHE_LINE / epl
        sweep.setdefault(key, {}).setdefault(r.keys.get("dtype", ""), []).append(
            (x, t / elems * 1e9))
    if not sweep:
        return out + [Para("No strided sweep in this run: no stride plot.")]
    level, top = max(sweep, key=lambda k: (level_rank(k[0]) if k[0] in LEVELS else -1, k[1]))
    lines = sweep[(level, top)]
    what = f"strided sweep at {level or 'its level'}, threads:{top}"

    def draw() -> Any:
        fig, ax = new_figure(what, s.run.where)
        for d in sorted(lines, key=s.dorder):
            pts = sorted(lines[d])
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=d)
        ax.axvline(CACHE_LINE, color="grey", linestyle="--", linewidth=1)
        ax.annotate(f"{CACHE_LINE}-byte cache line", (CACHE_LINE, 1),
                    xycoords=("data", "axes fraction"), rotation=90, va="top", ha="right",
                    fontsize=8)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("stride (bytes)")
        ax.set_ylabel("ns per element")
        ax.legend(fontsize=8)
        return fig

    return out + s.fig("layout-stride", f"{what} ({s.run.where})", draw)
