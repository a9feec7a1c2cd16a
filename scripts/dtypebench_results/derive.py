"""Derived entries (ratios, break-evens, plateaus) computed over a whole merged run.

The binary used to derive these per process (bench/layout.cpp derive_layout, bench/convert.cpp
derive_convert, bench/derived_math.hpp), so a derivation could only see its own family. Here each
derivation takes every row of the merged run and may combine families. The arithmetic, the names
and the conditions are those of the C++ code, value for value: the committed reports are the test.

Each derivation returns Derived (name, values); derive() turns them into rows shaped like Google
Benchmark iteration rows with label "derived", so every reader of a result handles them as rows.
"""
from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from typing import Callable, Iterable, Optional, Sequence

from .rows import Row, counters, is_derived, is_error, parse_name, run_name, seconds

STRIDES = (1, 2, 4, 8, 16, 32, 64, 128)  # layout's strided sweep (bench/layout.cpp kStrides)
CACHE_LINE = 64.0
GPU_TRANSPOSES = ("tiled32", "tiled64", "vec", "regs8", "regs16")


@dataclass
class Derived:
    """One derived entry: a benchmark-style name and its values (counters in the JSON)."""

    name: str
    values: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Input:
    """A finished run as the derivations see it: seconds per iteration and its counters."""

    seconds: Optional[float]
    counters: dict[str, float]


Derivation = Callable[[Sequence[Row]], list[Derived]]


def inputs(rows: Iterable[Row]) -> dict[str, Input]:
    """By run name, the row a derivation reads, picked as the binary's DerivingReporter did: the
    median aggregate when the run has one, else its iteration row (the last one, as the reporter
    kept overwriting); errored rows and earlier derived entries are not inputs."""
    out: dict[str, Input] = {}
    have_median: set[str] = set()
    for b in rows:
        if is_error(b) or is_derived(b):
            continue
        key = run_name(b)
        median = b.get("run_type") == "aggregate" and b.get("aggregate_name") == "median"
        if not median and b.get("run_type", "iteration") != "iteration":
            continue
        if not median and key in have_median:
            continue
        if median:
            have_median.add(key)
        out[key] = Input(seconds(b), counters(b))
    return out


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


def derive_layout(rows: Sequence[Row]) -> list[Derived]:
    """Per (dtype, level, threads; GPU runs have no threads key and derive among themselves as
    threads:gpu): the strided walk against the contiguous one, the cache-aware walk, the C->F
    copies against a plain copy, after how many strided passes converting to F first pays (-1:
    never), from which stride (in bytes) the strided sweep stops growing, and the GPU
    coalescing and transpose ratios."""
    per_elem: dict[tuple[str, str, str], dict[str, float]] = {}  # variant(/order): s/element
    elem_bytes: dict[tuple[str, str, str], float] = {}  # from the strided sweep's counter
    for name, r in sorted(inputs(rows).items()):
        family, variant, keys = parse_name(name)
        if family != "layout" or "n" not in keys or r.seconds is None:
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
        k = (keys.get("dtype", ""), keys.get("level", ""), keys.get("threads", "gpu"))
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
        for s in STRIDES:
            key = f"strided/{s}"
            if not has(key):
                continue
            sweep.append((float(s), t[key]))
            if s > 1 and has("strided/1"):
                values[f"stride{s}_over_stride1"] = t[key] / t["strided/1"]
        # only a whole sweep has a plateau to find
        if len(sweep) == len(STRIDES) and k in elem_bytes:
            values["stride_plateau_bytes"] = stride_plateau(sweep) * elem_bytes[k]
        if has("gpu_memcpy_d2d"):
            for tile in GPU_TRANSPOSES + ("naive",):
                v = f"gpu_transpose_{tile}"
                if has(v):
                    values[f"{v}_over_copy_bw"] = t["gpu_memcpy_d2d"] / t[v]
        for op in ("rowsum", "colsum"):
            strided, coalesced = f"gpu_{op}_strided/C", f"gpu_{op}_coalesced/C"
            if has(coalesced) and has(strided):
                values[f"gpu_{op}_strided_over_coalesced"] = t[strided] / t[coalesced]
        if values:
            out.append(Derived(f"layout/derived/dtype:{dtype}/level:{level}/threads:{threads}",
                               values))
    return out


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


def derive_convert(rows: Sequence[Row]) -> list[Derived]:
    """Per (level, threads; GPU runs as threads:gpu): every conversion's bandwidth as a fraction
    of the plain copy's in the same run (the CPU copy, else the GPU device-to-device copy)."""
    rate: dict[str, dict[str, float]] = {}  # level/threads -> op -> bytes/s
    for name, r in sorted(inputs(rows).items()):
        family, variant, keys = parse_name(name)
        if family != "convert" or "bytes" not in r.counters:
            continue
        where = f"level:{keys.get('level', '')}/threads:{keys.get('threads', 'gpu')}"
        rate.setdefault(where, {})[convert_op(variant, keys)] = r.counters["bytes"]
    out = []
    for where, ops in sorted(rate.items()):
        copy = "copy" if "copy" in ops else "gpu_memcpy_d2d" if "gpu_memcpy_d2d" in ops else None
        if copy is None or ops[copy] <= 0:
            continue
        out.append(Derived(f"convert/derived/{where}",
                           {f"{op}_over_copy_bw": bw / ops[copy]
                            for op, bw in sorted(ops.items()) if op != copy}))
    return out


def baseline_peak_best(rows: Sequence[Row]) -> dict[str, float]:
    """By run name, the best repetition's FLOP/s of the baseline's peak rows (fma_peak,
    bf16_dot_peak); a run with aggregates only counts its median as its one repetition."""
    best: dict[str, float] = {}
    for b in rows:
        family, variant, _ = parse_name(run_name(b))
        if family != "baseline" or variant not in ("fma_peak", "bf16_dot_peak"):
            continue
        if is_error(b) or is_derived(b):
            continue
        kind = b.get("run_type", "iteration")
        if kind != "iteration" and b.get("aggregate_name") != "median":
            continue
        flops = counters(b).get("flops", 0)
        best[run_name(b)] = max(best.get(run_name(b), 0), flops)
    return best


def derive_gemm(rows: Sequence[Row]) -> list[Derived]:
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
    best_rep = baseline_peak_best(rows)
    for name, r in sorted(inputs(rows).items()):
        family, variant, keys = parse_name(name)
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


# in the order their entries are appended; each sees every row of the run
DERIVATIONS: list[Derivation] = [derive_layout, derive_convert, derive_gemm]


def derived_row(d: Derived, index: int) -> Row:
    """A derived entry as a Google Benchmark iteration row (the shape the binary wrote), with
    threads from the name's threads:N and only the finite values (strict JSON)."""
    threads = parse_name(d.name).keys.get("threads", "")
    row: Row = {"name": d.name, "family_index": -1, "per_family_instance_index": index,
                "run_name": d.name, "run_type": "iteration", "repetitions": 1,
                "repetition_index": 0, "threads": int(threads) if threads.isdigit() else 1,
                "iterations": 1, "real_time": 0.0, "cpu_time": 0.0, "time_unit": "us"}
    for k, v in sorted(d.values.items()):
        if math.isfinite(v):
            row[k] = v
    row["label"] = "derived"
    return row


def derive(rows: Sequence[Row],
           derivations: Optional[Sequence[Derivation]] = None) -> list[Row]:
    """The derived rows of a run: every derivation over every row (derived rows already there
    are not inputs)."""
    found: list[Derived] = []
    for derivation in DERIVATIONS if derivations is None else derivations:
        found.extend(derivation(rows))
    return [derived_row(d, i) for i, d in enumerate(found)]


def with_derived(benchmarks: Sequence[Row]) -> list[Row]:
    """benchmarks without any derived rows they carried (an older binary derived per process,
    from its own family only), followed by the derivations over all of them."""
    measured = [b for b in benchmarks if not is_derived(b)]
    return measured + derive(measured)
