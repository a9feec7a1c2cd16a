"""The gemm family: matrix products per precision and library, their speed, share of the roof
and error.

Its derivation (per library, precision and threads the summary at the largest square NN shape,
with the baseline family's peak beside it), its report section (the precision table and the
speed-error plot), its run_suite summary table, its smoke arguments (one small square shape) and
its GPU-check budget.
"""
from __future__ import annotations

import math
import statistics
from typing import Any, Optional, Sequence

from ..derive import Derived, inputs
from ..report import Block, Para, Sections, Table, fmt, new_figure
from ..rows import Bench, benches
from ..tables import aligned

SMOKE_ARGS = ["--gemm-sizes=256", "--gemm-shapes=square", "--gemm-k=256"]
# scripts/gpu-check: the square 8192^3 rows in NN (the 8-bit types: TN, their only layout), the
# peak search, fast accumulation and the error table; run first, as it was never measured. A row
# takes 1.5 s: 8192^3 inputs are made and checked on the host (taken, not measured)
GPU_CHECK = {"args": "--quick --gemm-shapes=square --benchmark_filter=layout:NN|precision:"
                     "(e4m3|e5m2|i8)|_peak/|/accuracy/|fast_accum",
             "per_row": 1.5, "first": True}


def number_of(threads: str) -> Optional[int]:
    return int(threads) if threads.isdigit() else None


def baseline_peak_best(rows: Sequence[Bench]) -> dict[str, float]:
    """By run name, the best repetition's FLOP/s of the baseline's peak rows (fma_peak,
    bf16_dot_peak); a run with aggregates only counts its median as its one repetition."""
    best: dict[str, float] = {}
    for b in benches(rows):
        if b.family != "baseline" or b.variant not in ("fma_peak", "bf16_dot_peak"):
            continue
        if b.is_error or b.is_derived or not (b.is_iteration or b.aggregate == "median"):
            continue
        best[b.name] = max(best.get(b.name, 0), b.counters.get("flops", 0))
    return best


def derive(rows: Sequence[Bench]) -> list[Derived]:
    """Per (library[/algo:heuristic|best], precision, threads; GPU runs as threads:gpu) the summary at the
    largest square NN shape: m, its FLOP/s (flops), its share of the roof where the row has one
    (share_of_fma_peak on the CPU, share_of_datasheet_peak on the GPU, and on the GPU its share
    of the achievable peak the peak search found for the precision, share_of_achievable_peak), the speedup over fp64 (f64.f64.f64) and over fp32 strict (f32.f32.f32) at the same
    shape and threads (the same library's, else any library's), and the error table of the
    accuracy sweep: rel_error_k<K> and rel_error_unrounded_k<K> per k, and their medians. Where
    the run has the baseline family, a CPU row's FLOP/s over the baseline's peak row for its input
    type at the same threads (baseline/fma_peak for f64 and f32 inputs, bf16_dot_peak for bf16),
    share_of_baseline_fma_peak: that peak measured as the GEMM is, over whole repetitions, where
    share_of_fma_peak divides by the roof the GEMM row measured beside it (the median of short
    runs, which on a VM whose second core comes and goes reads a few percent higher); none from
    a peak row whose median is below 90% of its best repetition."""
    best: dict[tuple[str, str, str], tuple[int, dict[str, float]]] = {}
    achievable: dict[str, float] = {}  # precision -> the GPU peak search's FLOP/s
    errors: dict[tuple[str, str], dict[int, tuple[float, float]]] = {}
    peaks: dict[tuple[str, str], float] = {}  # (input dtype, threads) -> the baseline's FLOP/s
    rows = benches(rows)
    best_rep = baseline_peak_best(rows)
    for name, r in sorted(inputs(rows).items()):
        family, variant, keys = r.family, r.variant, r.keys
        peak = r.counters.get("flops", 0) if family == "baseline" else 0
        # a median below 90% of the best repetition means most repetitions were slowed (a VM's
        # core taken away: 15 GFLOP/s in 3 of 5 repetitions of a 2-core f32 peak of 215); such a
        # row does not measure the peak, and no share is derived from it
        if peak > 0 and name in best_rep and peak >= 0.9 * best_rep[name]:
            peaks[(keys.get("dtype", ""), keys.get("threads", ""))] = peak
        if family != "gemm":
            continue
        if variant == "cublaslt_peak" and "flops" in r.counters:
            achievable[keys.get("precision", "")] = r.counters["flops"]
            continue
        if variant == "accuracy":
            if "rel_error" in r.counters and keys.get("k", "").isdigit():
                lib = keys.get("lib", "")
                errors.setdefault((lib, keys.get("precision", "")), {})[int(keys["k"])] = (
                    r.counters["rel_error"], r.counters.get("rel_error_unrounded", math.nan))
            continue
        if keys.get("shape") != "square" or keys.get("layout") != "NN" or "flops" not in r.counters:
            continue
        if not keys.get("m", "").isdigit():
            continue
        lib = variant + ("/algo:" + keys["algo"] if "algo" in keys else "")
        k = (lib, keys.get("precision", ""), keys.get("threads", "gpu"))
        m = int(keys["m"])
        if k not in best or m > best[k][0]:
            best[k] = (m, r.counters)

    def rate_of(lib: str, precision: str, threads: str, m: int) -> Optional[float]:
        """the FLOP/s of precision at (m, threads): the same library's first, else any's"""
        same = best.get((lib, precision, threads))
        if same and same[0] == m:
            return same[1]["flops"]
        for (lib2, p2, t2), (m2, c2) in sorted(best.items()):
            if p2 == precision and t2 == threads and m2 == m and lib2.split("/")[0] != lib:
                return c2["flops"]
        return None

    out = []
    for (lib, precision, threads), (m, c) in sorted(best.items()):
        values: dict[str, float] = {"m": float(m), "flops": c["flops"]}
        for share in ("share_of_fma_peak", "share_of_datasheet_peak", "share_of_achievable_peak"):
            if share in c:
                values[share] = c[share]
        if lib.startswith("cublaslt") and achievable.get(precision):
            values["share_of_achievable_peak"] = c["flops"] / achievable[precision]
        peak = peaks.get((precision.split(".")[0], threads))
        if peak and not lib.startswith("cublaslt"):
            values["share_of_baseline_fma_peak"] = c["flops"] / peak
        for base, key in (("f64.f64.f64", "speedup_over_f64"), ("f32.f32.f32", "speedup_over_f32")):
            ref = rate_of(lib, base, threads, m)
            if ref and precision != base:
                values[key] = c["flops"] / ref
        table = errors.get((lib.split("/")[0], precision), {})
        for kk, (rel, unrounded) in sorted(table.items()):
            values[f"rel_error_k{kk}"] = rel
            values[f"rel_error_unrounded_k{kk}"] = unrounded
        if table:
            values["rel_error_median"] = statistics.median(v[0] for v in table.values())
            values["rel_error_unrounded_median"] = statistics.median(
                v[1] for v in table.values())
        out.append(Derived(f"gemm/derived/lib:{lib}/precision:{precision}/threads:{threads}",
                           values))
    return out


def section(s: Sections, reps: list[Bench]) -> list[Block]:
    """Per precision the FLOP/s at the largest square shape, its share of the roof, the speedup
    over f64 and the error (gemm/derived) as a table; speed against error per target (one
    point per precision, both axes log)."""
    derived = []
    for r in reps:
        if r.variant == "derived" and r.is_derived:
            derived.append((r.keys.get("precision", ""), r.keys.get("lib", ""),
                            r.keys.get("threads", ""), r.counters))
    if not derived:
        return [Para("No gemm/derived rows (scripts/derive adds them): "
                     "no precision table or speed-error plot.")] + s.generic(reps)
    derived.sort(key=lambda d: (d[0], d[1], number_of(d[2]) or 0, d[2]))

    def share(c: dict[str, float]) -> str:
        for k, label in (("share_of_fma_peak", "fma"), ("share_of_datasheet_peak", "datasheet"),
                         ("share_of_achievable_peak", "achievable")):
            if k in c:
                return f"{fmt(c[k])} ({label})"
        return "-"

    out: list[Block] = [Table(
        s.caption("GEMM per precision at the largest square NN shape "
                     "(share: of the FMA peak measured beside the row on the CPU, the "
                     "datasheet on the GPU; of baseline: of the run's baseline/fma_peak at "
                     "the same threads; error: relative, median over k, against the unrounded "
                     "inputs and the rounded)"),
        ["precision", "lib", "threads", "m", "TFLOP/s", "share of roof", "share of baseline",
         "speedup over f64", "rel error unrounded", "rel error rounded"],
        [[p, lib, t, fmt(c.get("m")), fmt(c.get("flops", 0) / 1e12), share(c),
          fmt(c.get("share_of_baseline_fma_peak")),
          fmt(c.get("speedup_over_f64", 1.0 if p == "f64.f64.f64" else None)),
          fmt(c.get("rel_error_unrounded_median")), fmt(c.get("rel_error_median"))]
         for p, lib, t, c in derived])]
    groups: dict[str, list[tuple[str, str, str, dict[str, float]]]] = {}
    for d in derived:
        groups.setdefault("gpu" if d[2] == "gpu" else "cpu", []).append(d)
    for target, ds in sorted(groups.items()):
        top = max(ds, key=lambda d: number_of(d[2]) or 0)[2]
        best: dict[str, tuple[str, dict[str, float]]] = {}
        for p, lib, t, c in ds:
            if t == top and (p not in best or c.get("flops", 0) > best[p][1].get("flops", 0)):
                best[p] = (lib, c)
        pts = []
        for p, (lib, c) in sorted(best.items()):
            speed = c.get("speedup_over_f64", 1.0 if p == "f64.f64.f64" else None)
            err = c.get("rel_error_unrounded_median")
            if speed and speed > 0 and err is not None:
                pts.append((p, lib, err, speed))
        if not pts:
            out.append(Para(f"No {target.upper()} precision has both an error and a "
                            "speedup over f64: no speed-error plot."))
            continue
        out += speed_error(s, target, top, pts)
    return out

def speed_error(s: Sections, target: str, top: str,
                pts: list[tuple[str, str, float, float]]) -> list[Block]:
    nonzero = [e for _, _, e, _ in pts if e > 0]
    floor = min(nonzero) / 10 if nonzero else 1e-16
    what = f"{target.upper()} GEMM speed against error, threads:{top}"
    notes = [Para(f"In the speed-error plot ({target.upper()}) an error of 0 (exact to the "
                  f"reference) is drawn at {fmt(floor)}.")] if len(nonzero) < len(pts) else []

    def draw() -> Any:
        fig, ax = new_figure(what, s.run.where)
        for i, (p, lib, e, speed) in enumerate(sorted(pts, key=lambda q: q[3])):
            x = e if e > 0 else floor
            ax.scatter([x], [speed], marker="o" if e > 0 else "v")
            # neighbours in speed alternate above and below, so close points stay readable
            ax.annotate(f"{p} ({lib})" + ("" if e > 0 else " err 0"), (x, speed),
                        textcoords="offset points", xytext=(6, 5 if i % 2 else -11),
                        fontsize=8)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("relative error (unrounded inputs, median over k)")
        ax.set_ylabel("speedup over f64")
        return fig

    return notes + s.fig(f"gemm-{target}-speed-error", f"{what} ({s.run.where})", draw)


def summary(reps: list[Bench], max_rows: int = 8) -> list[str]:
    """What each precision gives and costs, from the gemm/derived rows: per library, precision
    and threads, TFLOP/s at the largest square shape, the share of the roof (FMA chains on the
    CPU: measured beside the row, and the baseline family's row; the datasheet and the peak search
    on the GPU), the speedup over f64 and over f32 strict,
    and the median error against the unrounded inputs; at most max_rows rows. Nothing when the
    run has no GEMM."""
    rows = [(b.keys, b) for b in reps
            if b.family == "gemm" and b.variant == "derived" and "flops" in b]
    if not rows:
        return []

    def pct(b: Bench, key: str) -> str:
        return f"{100 * b[key]:.0f}%" if isinstance(b.get(key), (int, float)) else "-"

    def times(b: Bench, key: str) -> str:
        return f"{b[key]:.2f}x" if isinstance(b.get(key), (int, float)) else "-"

    table = [["library", "precision", "threads", "TFLOP/s", "roof", "base", "sheet", "peak",
              "x f64", "x f32", "error"]]
    for keys, b in sorted(rows, key=lambda r: (r[0].get("lib", ""), r[0].get("threads", ""),
                                                -float(r[1]["flops"]))):
        err = b.get("rel_error_unrounded_median")
        table.append([keys.get("lib", ""), keys.get("precision", ""), keys.get("threads", ""),
                      f"{b['flops'] / 1e12:.3f}", pct(b, "share_of_fma_peak"),
                      pct(b, "share_of_baseline_fma_peak"), pct(b, "share_of_datasheet_peak"),
                      pct(b, "share_of_achievable_peak"), times(b, "speedup_over_f64"),
                      times(b, "speedup_over_f32"),
                      f"{err:.1e}" if isinstance(err, (int, float)) else "-"])
    out = ["gemm, largest square shape: what each precision gives and costs"]
    out += aligned(table[:max_rows + 1], left=2)
    if len(table) > max_rows + 1:
        out.append(f"... {len(table) - max_rows - 1} more rows")
    return out
