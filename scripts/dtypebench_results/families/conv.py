"""The conv family: convolution by precision and memory layout over a table of real layers, each
pass (fwd, bwd_data, bwd_weights), checked against fp64.

Its derivation (what bf16 buys over f32, NHWC and the blocked layout over NCHW with and without
their reorders, the share of the baseline's peak at the same threads), its report section, its
smoke arguments (one small layer at batch 1), its GPU-check budget, and the table of ours over a peer's
(scripts/torch_conv.py) row for row.
"""
from __future__ import annotations

from typing import Any, Optional, Sequence

from ..derive import Derived, inputs
from ..report import Block, Sections, Table, fmt
from ..rows import Bench, benches, representative
from ..tables import markdown

SMOKE_ARGS = ["--conv-batch=1", "--conv-layers=odd_3x3_60"]
# scripts/gpu-check: the forward pass of two ResNet-50 3x3 layers at batch 256, what the GPU
# targets compare: f16, bf16 and tf32 in NHWC, fp32 strict in NCHW, cuDNN's search's winner (8
# rows); never run, so 1.5 s a row taken (256x64x56x56 inputs made and checked on the host)
GPU_CHECK = {"args": "--quick --conv-layers=r50_3x3_64,r50_3x3_256 --conv-gpu-batch=256 "
                     "--benchmark_filter=pass:fwd/precision:(f16.f32.f16|bf16.f32.bf16|"
                     "f32.tf32.f32)/layout:nhwc/.*algo:best|pass:fwd/precision:f32.f32.f32/"
                     "layout:nchw/.*algo:best", "per_row": 1.5}
F32, BF16 = "f32.f32.f32", "bf16.f32.f32"
# the baseline's peak a precision is held to: its inputs' FMA chains, AVX512-BF16 dot products
PEAK_OF = {F32: ("fma_peak", "f32"), BF16: ("bf16_dot_peak", "bf16")}


def baseline_peaks(runs: dict[str, Bench]) -> dict[tuple[str, Optional[str], str], float]:
    """(variant, dtype, threads) -> FLOP/s of the run's baseline peak rows."""
    out = {}
    for b in runs.values():
        if b.family == "baseline" and b.variant in ("fma_peak", "bf16_dot_peak"):
            f = b.rate("flops")
            if f:
                out[(b.variant, b.keys.get("dtype"), b.keys.get("threads", ""))] = f
    return out


def derive(rows: Sequence[Bench]) -> list[Derived]:
    """Per (layer, pass, batch, threads): bf16_over_f32_<layout> (FLOP/s), <layout>_over_nchw_<p>
    for nhwc and blocked per precision p (f32, bf16), the same with every reorder a call would
    pay (<layout>_with_reorder_over_nchw_<p>: each side's time plus its reorder_seconds, the
    weights' on both, the activations' too for blocked), and share_of_baseline_peak_<p>_<layout>:
    the useful FLOP/s (useful_flops: without the padded taps, which a kernel skips; flops where a
    row has no such counter) over the run's baseline/fma_peak (f32) or bf16_dot_peak (bf16) at
    the same threads."""
    runs = inputs(rows)
    peaks = baseline_peaks(runs)
    cells: dict[tuple[str, str, str, str], dict[tuple[str, str], Bench]] = {}
    for b in runs.values():
        if b.family != "conv" or b.variant != "onednn" or b.seconds is None:
            continue
        k = b.keys
        key = (k.get("layer", ""), k.get("pass", ""), k.get("batch", ""), k.get("threads", ""))
        cells.setdefault(key, {})[(k.get("precision", ""), k.get("layout", ""))] = b
    out = []
    for (layer, pss, batch, threads), cell in sorted(cells.items()):
        values: dict[str, float] = {}

        def flops(p: str, layout: str) -> Optional[float]:
            b = cell.get((p, layout))
            return b.rate("flops") if b else None

        def with_reorder(p: str, layout: str) -> Optional[float]:
            b = cell.get((p, layout))
            if b is None or b.seconds is None:
                return None
            return b.seconds + b.counters.get("reorder_seconds", 0.0)

        for layout in ("nchw", "nhwc", "blocked"):
            a, f = flops(BF16, layout), flops(F32, layout)
            if a and f:
                values[f"bf16_over_f32_{layout}"] = a / f
        for p, short in ((F32, "f32"), (BF16, "bf16")):
            base, base_r = flops(p, "nchw"), with_reorder(p, "nchw")
            for layout in ("nhwc", "blocked"):
                mine, mine_r = flops(p, layout), with_reorder(p, layout)
                if base and mine:
                    values[f"{layout}_over_nchw_{short}"] = mine / base
                if base_r and mine_r:
                    values[f"{layout}_with_reorder_over_nchw_{short}"] = base_r / mine_r
            variant, dtype = PEAK_OF[p]
            peak = peaks.get((variant, dtype, threads))
            for layout in ("nchw", "nhwc", "blocked"):
                # the products the kernel must do (useful_flops: no padded taps), per second
                b = cell.get((p, layout))
                mine = b.rate("useful_flops") or b.rate("flops") if b else None
                if peak and mine:
                    values[f"share_of_baseline_peak_{short}_{layout}"] = mine / peak
        if values:
            out.append(Derived(f"conv/derived/layer:{layer}/pass:{pss}/batch:{batch}/"
                               f"threads:{threads}", values))
    return out + derive_gpu(runs)


def derive_gpu(runs: dict[str, Bench]) -> list[Derived]:
    """Per (layer, pass, batch) of the cuDNN rows (threads:gpu): for each precision p and layout,
    the search's winner over the heuristic's choice (best_over_heuristic_<p>_<layout>), f16/bf16/
    tf32 over fp32 strict in the same layout (<p>_over_f32_<layout>), and where the run has the
    GEMM family's achievable-peak search for p (gemm/cublaslt_peak), the winner's useful FLOP/s
    over it (share_of_achievable_peak_<p>_<layout>)."""
    achievable = {b.keys.get("precision", ""): b.rate("flops") for b in runs.values()
                  if (b.family, b.variant) == ("gemm", "cublaslt_peak") and b.rate("flops")}
    cells: dict[tuple[str, str, str], dict[tuple[str, str, str], Bench]] = {}
    for b in runs.values():
        if (b.family, b.variant) != ("conv", "cudnn") or not b.rate("flops"):
            continue
        k = b.keys
        cells.setdefault((k.get("layer", ""), k.get("pass", ""), k.get("batch", "")), {})[
            (k.get("precision", ""), k.get("layout", ""), k.get("algo", ""))] = b
    out = []
    for (layer, pss, batch), cell in sorted(cells.items()):
        values: dict[str, float] = {}
        for (p, layout, algo), b in cell.items():
            if algo != "best":
                continue
            short = p.replace(".", "_")
            f = b.rate("flops") or 0.0
            h = cell.get((p, layout, "heuristic"))
            if h and h.rate("flops"):
                values[f"best_over_heuristic_{short}_{layout}"] = f / (h.rate("flops") or 1.0)
            strict = cell.get(("f32.f32.f32", layout, "best"))
            if p != "f32.f32.f32" and strict and strict.rate("flops"):
                values[f"{short}_over_f32_{layout}"] = f / (strict.rate("flops") or 1.0)
            if achievable.get(p):
                values[f"share_of_achievable_peak_{short}_{layout}"] = \
                    (b.rate("useful_flops") or f) / (achievable[p] or 1.0)
        if values:
            out.append(Derived(f"conv/derived/layer:{layer}/pass:{pss}/batch:{batch}/threads:gpu",
                               values))
    return out


def section(s: Sections, reps: list[Bench]) -> list[Block]:
    """Per pass, at the largest thread count: each layer's GFLOP/s in f32 and bf16 for every
    layout, bf16 over f32 in NHWC, and bf16's error against the unrounded inputs."""
    rows = [r for r in reps if r.variant == "onednn" and r.rate("flops")]
    if not rows:
        return []
    top = max((r.threads or 0) for r in rows)
    out: list[Block] = []
    for pss in ("fwd", "bwd_data", "bwd_weights"):
        table: dict[str, dict[tuple[str, str], Bench]] = {}
        for r in rows:
            if r.keys.get("pass") == pss and (r.threads or 0) == top:
                table.setdefault(r.keys.get("layer", ""), {})[
                    (r.keys.get("precision", ""), r.keys.get("layout", ""))] = r
        if not table:
            continue
        header = ["layer"] + [f"{p.split('.')[0]} {lay}" for p in (F32, BF16)
                              for lay in ("nchw", "nhwc", "blocked")] + [
            "bf16 / f32 (nhwc)", "bf16 rel error unrounded"]
        body = []
        for layer, cell in table.items():
            def g(p: str, lay: str) -> Optional[float]:
                b = cell.get((p, lay))
                return b.rate("flops") if b else None
            line = [layer] + [fmt(g(p, lay) / 1e9) if g(p, lay) else "-"
                              for p in (F32, BF16) for lay in ("nchw", "nhwc", "blocked")]
            a, f = g(BF16, "nhwc"), g(F32, "nhwc")
            line.append(fmt(a / f) if a and f else "-")
            e = cell.get((BF16, "nhwc"))
            line.append(fmt(e.counters.get("rel_error_unrounded")) if e else "-")
            body.append(line)
        out.append(Table(s.caption(f"{pss}: GFLOP/s by precision and layout, threads:{top}"),
                         header, body))
    return out


PEER_MATCH = ("layer", "pass", "precision", "layout", "batch", "threads")


def peer_table(peer: Sequence[Bench], suite: Sequence[Bench]) -> tuple[list[str], list[list[str]]]:
    """(header, rows): per median row of the peer (torch/conv2d/...), the suite's conv/onednn row
    with the same layer, pass, precision, layout, batch and threads, and ours over theirs in
    FLOP/s. For NCHW data, PyTorch itself reorders into oneDNN's blocked layout and back on every
    call, so the suite's other way with NCHW data is beside it too: the blocked row with its
    reorders (reorder_seconds) added to every call; ours / PyTorch takes the faster of the two."""
    # the CPU's rows (threads:N) and the GPU's winners of cuDNN's search (no threads key)
    reps = {tuple(b.keys.get(k) for k in PEER_MATCH): b for b in representative(suite)
            if b.family == "conv" and (b.variant == "onednn" or
                                       (b.variant == "cudnn" and b.keys.get("algo") == "best"))}

    def via_blocked(key: tuple) -> Optional[float]:
        b = reps.get(key[:3] + ("blocked",) + key[4:])
        f = b.rate("flops") if b else None
        if b is None or f is None or b.seconds is None:
            return None
        return f * b.seconds / (b.seconds + b.counters.get("reorder_seconds", 0.0))

    rows = []
    for b in benches(peer):
        if b.aggregate != "median" or b.family != "torch" or not b.rate("flops"):
            continue
        theirs = b.rate("flops") or 0.0
        key = tuple(b.keys.get(k) for k in PEER_MATCH)
        mine = reps[key].rate("flops") if key in reps else None
        other = via_blocked(key) if b.keys.get("layout") == "nchw" else None
        best = max([x for x in (mine, other) if x], default=None)
        rows.append([b.keys.get(k, "-") for k in PEER_MATCH] + [
            fmt(theirs / 1e9), fmt(mine / 1e9) if mine else "-",
            fmt(other / 1e9) if other else "-",
            fmt(best / theirs) if best else "not in the suite's run"])
    return list(PEER_MATCH) + ["PyTorch GFLOP/s", "dtypebench GFLOP/s",
                               "dtypebench via blocked + reorders", "ours / PyTorch"], rows


def side_by_side(peer: dict[str, Any], suite: dict[str, Any]) -> list[str]:
    """peer_table as Markdown, for two documents (scripts/torch_conv.py)."""
    return markdown(*peer_table(benches(peer["benchmarks"]), benches(suite["benchmarks"])))
