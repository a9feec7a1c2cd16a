"""The seed claims (../shared/SEED-CLAIMS.md, L1-L12 and T1-T8) against what the given runs
measured: per claim its figure (theirs), this machine's figure and a verdict, "holds", "does not
hold", "holds only when ..." or "not measured here" when no run holds the family that answers it.

Each verdict reads benchmark names and counters only (the representative row of each run: its
median where it has repetitions), so a later run with more families answers more claims without
changing this file. The claims are paraphrased here in a line each; the figures are the articles'.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, Optional, Sequence

from .rows import Bench, Row, representative
from .tables import markdown as table


@dataclass(frozen=True)
class Claim:
    id: str
    text: str
    figure: str  # theirs


@dataclass
class Verdict:
    claim: Claim
    measured: str
    verdict: str


CLAIMS = [
    Claim("L1", "f64 arrays take twice the memory of f32, on the GPU too", "48 vs 24 GB"),
    Claim("L2", "f32 runs 1.5-2x faster than f64 on GPUs, memory bandwidth being the bottleneck",
          "1.5-2x"),
    Claim("L3", "halving the element size doubles the elements moved per second", "2x"),
    Claim("L4", "a column sum of a C-order f64 matrix is 2-3x slower than on F order", "2-3x"),
    Claim("L5", "converting to F order can cost more than the access pattern saves", "-"),
    Claim("L6", "astype allocates: f64 -> f32 peaks at source + result", "6 GB for 4 GB"),
    Claim("L7", "view() reinterprets without copying: 2 f32 per f64", "6 per 3"),
    Claim("L8", "i32 with f32 promotes to f64, doubling the intermediate", "-"),
    Claim("L9", "out=, in-place and chunking keep peak memory bounded", "-"),
    Claim("L10", "f16's largest finite value is 65504: check the range before casting", "65504"),
    Claim("L11", "byte order must be explicit ('>f8' vs '<f8')", "-"),
    Claim("L12", "mixed precision adds about 1.4x over f32", "1.4x"),
    Claim("T1", "f32 training step time", "463-497 ms/step"),
    Claim("T2", "mixed f16 training step time", "~182 ms/step"),
    Claim("T3", "mixed precision is almost 3x faster per epoch", "~2.6x per step"),
    Claim("T4", "GPU memory: f32 vs mixed", "8.55 vs 3.57 GB"),
    Claim("T5", "the first mixed epoch is ~5x slower than the rest", "5x"),
    Claim("T6", "both reach 100% training accuracy on random labels", "1.0"),
    Claim("T7", "f16 overflows above 65504 and underflows below ~6e-8; bf16 needs no scaling",
          "-"),
    Claim("T8", "TF32 is used for f32 matrix products on recent NVIDIA GPUs", "-"),
]


class Index:
    """The representative rows of all runs, by family and variant."""

    def __init__(self, rows: Iterable[Row]) -> None:
        reps = representative(rows)
        self.rows = [r for r in reps if not r.is_derived]
        self.derived = [r for r in reps if r.is_derived]

    def find(self, family: str, variant: str, **keys: str) -> list[tuple[dict[str, str], Bench]]:
        return [(r.keys, r) for r in self.rows + self.derived
                if r.family == family and r.variant == variant
                and all(r.keys.get(a) == b for a, b in keys.items())]

    def one(self, family: str, variant: str, **keys: str) -> Optional[Bench]:
        """The row at the largest thread count among the matches (None without a match)."""
        found = self.find(family, variant, **keys)
        if not found:
            return None
        return max(found, key=lambda kr: int(kr[0].get("threads", "0") or 0)
                   if kr[0].get("threads", "0").isdigit() else 0)[1]

    def has_family(self, family: str) -> bool:
        return any(r.family == family for r in self.rows)


def rate(r: Optional[Bench], counter: str) -> Optional[float]:
    """The row's usable counter (Bench.rate: finite, above 0); None without a row."""
    return r.rate(counter) if r is not None else None


def secs(r: Optional[Bench]) -> Optional[float]:
    return r.seconds if r is not None else None


def ratio(a: Optional[float], b: Optional[float]) -> Optional[float]:
    return a / b if a and b else None


def level_of(idx: Index) -> str:
    """DRAM when the runs have it, else the largest level they have."""
    levels = {r.keys.get("level") for r in idx.rows}
    for lv in ("DRAM", "L3", "L2", "L1"):
        if lv in levels:
            return lv
    return "DRAM"


def not_measured(family: str) -> tuple[str, str]:
    return f"no {family} rows in these runs", "not measured here"


# ---- one function per claim: (measured, verdict) -------------------------------------------------


def l1(idx: Index) -> tuple[str, str]:
    parts = []
    for mem in ("pinned", "pageable"):
        f64 = idx.one("convert", "h2d", dtype="f64", memory=mem)
        f32 = idx.one("convert", "h2d", dtype="f32", memory=mem)
        x = ratio(rate(f64, "device_peak_bytes"), rate(f32, "device_peak_bytes"))
        if x:
            parts.append(f"GPU: the f64 upload of the same elements holds {x:.2f}x the device "
                         "memory of the f32 one")
            break
    lv = level_of(idx)
    a = idx.one("baseline", "copy", dtype="f64", level=lv)
    b = idx.one("baseline", "copy", dtype="f32", level=lv)
    if a and b:
        na, nb = a.keys.get("n"), b.keys.get("n")
        if na and nb:
            parts.append(f"CPU: the {lv} working set holds {int(nb) / int(na):.2f}x as many f32 "
                         "elements as f64")
    if not parts:
        return not_measured("convert or baseline")
    return "; ".join(parts), "holds"


def l2(idx: Index) -> tuple[str, str]:
    gpu_copy = ratio(rate(idx.one("baseline", "gpu_copy", dtype="f32", level="DRAM"), "elements"),
                     rate(idx.one("baseline", "gpu_copy", dtype="f64", level="DRAM"), "elements"))
    gpu_fma = ratio(rate(idx.one("baseline", "gpu_fma_peak", dtype="f32"), "flops"),
                    rate(idx.one("baseline", "gpu_fma_peak", dtype="f64"), "flops"))
    gemm = [(k, r) for k, r in idx.find("gemm", "cublaslt", shape="square")]
    lv = level_of(idx)
    cpu_copy = ratio(rate(idx.one("baseline", "copy", dtype="f32", level=lv), "elements"),
                     rate(idx.one("baseline", "copy", dtype="f64", level=lv), "elements"))
    cpu_fma = ratio(rate(idx.one("baseline", "fma_peak", dtype="f32"), "flops"),
                    rate(idx.one("baseline", "fma_peak", dtype="f64"), "flops"))
    parts = []
    if gpu_copy:
        parts.append(f"GPU copy at DRAM: f32 moves {gpu_copy:.2f}x the elements/s of f64")
    if gpu_fma:
        parts.append(f"GPU FMA peak (no tensor cores): f32 {gpu_fma:.2f}x f64")
    if gemm:
        best: dict[str, float] = {}
        for k, r in gemm:
            best[k.get("precision", "")] = max(best.get(k.get("precision", ""), 0.0),
                                               rate(r, "flops") or 0.0)
        x = ratio(best.get("f32.f32.f32"), best.get("f64.f64.f64"))
        if x:
            parts.append(f"GPU GEMM: f32 strict {x:.2f}x f64")
    if cpu_copy:
        parts.append(f"CPU copy at {lv}: f32 {cpu_copy:.2f}x the elements/s of f64")
    if cpu_fma:
        parts.append(f"CPU FMA peak: f32 {cpu_fma:.2f}x f64")
    if not parts:
        return not_measured("baseline or gemm")
    if gpu_copy is None:
        return "; ".join(parts), "not measured here on a GPU (CPU figures beside)"
    holds = 1.5 <= gpu_copy <= 2.2
    verdict = ("holds for memory-bound work (elements/s); compute-bound work follows the chip's "
               "f32:f64 rate instead" if holds else "does not hold for memory-bound work here")
    return "; ".join(parts), verdict


def l3(idx: Index) -> tuple[str, str]:
    out = []
    ok = []
    for lv in ("L1", "L2", "L3", "DRAM"):
        x = ratio(rate(idx.one("baseline", "copy", dtype="f32", level=lv), "elements"),
                  rate(idx.one("baseline", "copy", dtype="f64", level=lv), "elements"))
        if x:
            out.append(f"{lv} {x:.2f}x")
            ok.append(x >= 1.8)
    if not out:
        return not_measured("baseline")
    measured = "copy, f32 over f64 elements/s: " + ", ".join(out)
    if all(ok):
        return measured, "holds"
    return measured, "holds only where bandwidth bounds the copy (" + ", ".join(
        o for o, k in zip(out, ok) if k) + ")"


def l4(idx: Index) -> tuple[str, str]:
    lv = level_of(idx)
    naive = ratio(secs(idx.one("layout", "colsum_naive", dtype="f64", order="C", level=lv)),
                  secs(idx.one("layout", "colsum_naive", dtype="f64", order="F", level=lv)))
    aware = ratio(secs(idx.one("layout", "colsum_aware", dtype="f64", order="C", level=lv)),
                  secs(idx.one("layout", "colsum_naive", dtype="f64", order="F", level=lv)))
    if naive is None:
        return not_measured("layout")
    measured = f"f64 at {lv}: column sum on C over F {naive:.2f}x (naive walk)"
    if aware:
        measured += f", {aware:.2f}x (storage-order walk, as NumPy's reduction)"
    if naive < 2:
        return measured, "does not hold"
    if aware and aware < 1.5:
        return measured, ("holds only for a walk column by column; a reduction in storage order "
                          "(NumPy's) does not pay it")
    return measured, "holds"


def l5(idx: Index) -> tuple[str, str]:
    found = []
    for k, r in idx.find("layout", "derived", dtype="f64"):
        b = r.counters.get("breakeven_passes")
        if b is not None:
            found.append((k.get("level", ""), b))
    if not found:
        return not_measured("layout")
    order = {"L1": 0, "L2": 1, "L3": 2, "DRAM": 3}
    found.sort(key=lambda x: order.get(x[0], 9))
    measured = "f64, strided passes after which converting to F pays: " + ", ".join(
        f"{lv} {b:.2f}" if b >= 0 else f"{lv} never" for lv, b in found)
    costly = [lv for lv, b in found if b < 0 or b > 1]
    if not costly:
        return measured, "does not hold: converting pays within one strided pass at every level"
    return measured, "holds only at " + ", ".join(costly) + " (more than one pass to pay back)"


def l6(idx: Index) -> tuple[str, str]:
    r = idx.one("convert", "astype_alloc", src="f64", dst="f32", level=level_of(idx))
    if r is None:
        return not_measured("convert")
    n = r.keys.get("n")
    peak = r.counters.get("peak_bytes")
    if not (n and peak):
        return not_measured("convert")
    x = peak / (8 * int(n))
    return (f"astype_alloc peak {x:.2f}x the f64 source (source + result is 1.50x)",
            "holds" if abs(x - 1.5) < 0.05 else "does not hold")


def l7(idx: Index) -> tuple[str, str]:
    r = idx.one("convert", "view", src="f64", dst="f32", level=level_of(idx))
    if r is None:
        return not_measured("convert")
    n = int(r.keys.get("n", "0"))
    c = r.counters
    per = c.get("view_elements", 0) / n if n else 0
    extra = c.get("peak_bytes", 0) - 8 * n  # the peak holds the f64 source itself
    return (f"{per:.0f} f32 values per f64; memory beyond the source: {extra:.0f} B",
            "holds" if per == 2 and extra <= 4096 else "does not hold")


def l8(idx: Index) -> tuple[str, str]:
    f64 = idx.one("convert", "promote", method="f64_temporaries")
    f32 = idx.one("convert", "promote", method="f32_temporaries")
    x = ratio(rate(f64, "result_bytes"), rate(f32, "result_bytes"))
    if x is None:
        return not_measured("convert")
    peak = ratio(rate(f64, "peak_bytes"), rate(f32, "peak_bytes"))
    return (f"i32*f32+f32 as NumPy promotes it (to f64): its intermediate holds {x:.2f}x the "
            f"bytes of an f32 evaluation, the whole peak {peak or 0:.2f}x",
            "holds" if x >= 1.9 else "does not hold")


def l9(idx: Index) -> tuple[str, str]:
    lv = level_of(idx)
    a = idx.one("convert", "astype_alloc", src="f64", dst="f32", level=lv)
    if a is None:
        return not_measured("convert")
    n = int(a.keys.get("n", "0"))
    if not n:
        return not_measured("convert")
    src = 8.0 * n
    over: dict[str, float] = {}
    for v in ("astype_alloc", "astype_prealloc", "astype_inplace", "astype_chunked"):
        peaks = [r.counters.get("peak_bytes") for _, r in
                 idx.find("convert", v, src="f64", dst="f32", level=lv)]
        peaks = [x for x in peaks if x is not None]
        if peaks:
            over[v] = min(peaks) / src  # chunked: its smallest chunk
    measured = "peak over the f64 source: " + ", ".join(f"{v} {x:.2f}x" for v, x in over.items())
    bounded = over.get("astype_inplace", 9) <= 1.01 and over.get("astype_chunked", 9) < over[
        "astype_alloc"]
    if not bounded:
        return measured, "does not hold"
    return measured, ("holds for in-place (no memory beyond the source) and chunking (the source "
                      "streamed from a file); out= saves the allocation of every further call, "
                      "its one-call peak is astype's")


def l10(idx: Index) -> tuple[str, str]:
    r = idx.one("convert", "f16_range", method="check_then_cast")
    if r is None:
        return not_measured("convert")
    c = r.counters
    cost = None
    for k, d in idx.find("convert", "derived"):
        cost = d.counters.get("f16_range_check_then_cast_f32_f16_over_copy_bw", cost)
    measured = (f"overflow fraction {c.get('overflow_fraction', 0):.3g} of the inputs (above "
                "65504 -> inf without the check)")
    if cost:
        measured += f"; checking then casting runs at {cost:.2f}x a copy's bandwidth"
    return measured, "holds"


def l11(idx: Index) -> tuple[str, str]:
    cost = {}
    for k, d in idx.find("convert", "derived"):
        for w in ("2", "4", "8"):
            v = d.counters.get(f"byteswap_w{w}_simd_over_copy_bw")
            if v:
                cost[w] = v
    if not cost:
        return not_measured("convert")
    return ("swapping the byte order runs at " + ", ".join(
        f"{cost[w]:.2f}x (width {w})" for w in sorted(cost)) + " a copy's bandwidth",
        "holds (and costs little next to a copy)")


def train(idx: Index) -> tuple[str, str]:
    return not_measured("train")


def t7(idx: Index) -> tuple[str, str]:
    r = idx.one("convert", "f16_range", method="check_then_cast")
    if r is None:
        return not_measured("convert (the range) or train (loss scaling)")
    c = r.counters
    return (f"f16 range: overflow {c.get('overflow_fraction', 0):.3g}, underflow "
            f"{c.get('underflow_fraction', 0):.3g}, subnormal {c.get('subnormal_fraction', 0):.3g}"
            " of the inputs; loss scaling not measured (no train family)",
            "holds for the format; the training half is not measured here")


def t8(idx: Index) -> tuple[str, str]:
    rates: dict[str, float] = {}
    errs: dict[str, float] = {}
    for k, r in idx.find("gemm", "cublaslt", shape="square"):
        p = k.get("precision", "")
        rates[p] = max(rates.get(p, 0.0), rate(r, "flops") or 0.0)
    for k, r in idx.find("gemm", "accuracy", lib="cublaslt"):
        errs[k.get("precision", "")] = r.counters.get("rel_error_unrounded", 0.0)
    x = ratio(rates.get("f32.tf32.f32"), rates.get("f32.f32.f32"))
    if x is None:
        return not_measured("gemm on a GPU")
    measured = f"tf32 {x:.2f}x f32 strict"
    if errs.get("f32.tf32.f32") and errs.get("f32.f32.f32"):
        measured += (f", error {errs['f32.tf32.f32']:.1e} against {errs['f32.f32.f32']:.1e}")
    return measured, ("holds only when the library is asked for it (cuBLASLt's compute type): "
                      "the suite measures both")


EVALUATE: dict[str, Callable[[Index], tuple[str, str]]] = {
    "L1": l1, "L2": l2, "L3": l3, "L4": l4, "L5": l5, "L6": l6, "L7": l7, "L8": l8, "L9": l9,
    "L10": l10, "L11": l11, "L12": train, "T1": train, "T2": train, "T3": train, "T4": train,
    "T5": train, "T6": train, "T7": t7, "T8": t8,
}


def verdicts(rows: Sequence[Row]) -> list[Verdict]:
    idx = Index(rows)
    out = []
    for c in CLAIMS:
        try:
            measured, verdict = EVALUATE[c.id](idx)
        except (KeyError, ValueError, ZeroDivisionError, TypeError, AttributeError):
            measured, verdict = "the rows there could not be read", "not measured here"
        out.append(Verdict(c, measured, verdict))
    return out


def markdown(vs: Sequence[Verdict], machine: str) -> list[str]:
    return [f"# The seed claims on {machine}", ""] + table(
        ["id", "claim (paraphrased)", "their figure", "measured here", "verdict"],
        [[v.claim.id, v.claim.text, v.claim.figure, v.measured, v.verdict] for v in vs])
