#!/usr/bin/env python3
"""Time NumPy's own conversions on the suite's sizes and write Google-Benchmark-shaped JSON.

The operations (one thread, as NumPy runs them):
  numpy/astype_alloc/src:f64/dst:f32       y = x.astype(np.float32): a fresh destination each call
  numpy/astype_prealloc/src:f64/dst:f32    np.copyto(y, x, casting='same_kind'): y made once
  numpy/cast/src:S/dst:D/path:numpy        np.copyto into a preallocated y, so only the conversion
                                           is timed, for f32->f16, f16->f32, f64->i32 (casting
                                           'unsafe': NumPy refuses float->int as 'same_kind') and
                                           u8->f32 (a plain cast: the suite also divides by 255)
  numpy/byteswap/width:W/path:numpy        x.byteswap(inplace=False) on u2/u4/u8 arrays
Every name ends in /n:N/level:L/threads:1 so scripts/compare_numpy.py can pair it with the
suite's convert/<variant>/... entry.

Sizes follow the suite: the working set (source + destination bytes) is half of L1d, L2 or L3, or
4x L3 for DRAM (--dram-mib overrides), and n = working set / (source size + destination size).

Each benchmark is checked once against a reference (the whole array against a route that does not
use the timed call, plus a sample of elements against Python's scalar struct packing) and carries
verified = 1 only when they agree. It is warmed up once, then timed with time.perf_counter over a
loop long enough to last --min-time seconds, --repetitions times; the JSON holds the median, mean,
stddev and cv of those repetitions. Counters, as in the suite: bytes (bytes moved per second, by
the minimum: read + written), elements (per second), peak_bytes (the growth of memory traced by
tracemalloc during one call; NumPy reports its data allocations to tracemalloc, so this is the
destination for astype, about 0 for copyto), working_set_bytes, verified. "iterations" is the loop
count of one repetition and "repetitions" the number of repetitions.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import socket
import statistics
import struct
import sys
import time
import tracemalloc
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional

try:
    import numpy as np
except ImportError:  # run by its shebang with a python that has no NumPy
    print(f"numpy_ref: NumPy is not installed for {sys.executable}; run it with .venv/bin/python "
          "(scripts/setup.sh makes .venv) or install numpy", file=sys.stderr)
    sys.exit(2)

ROOT = Path(__file__).resolve().parent.parent
LEVELS = ["L1", "L2", "L3", "DRAM"]
SAMPLE = 1000  # elements checked one by one against the scalar reference
AGGREGATES = ["mean", "median", "stddev", "cv"]
SHORT = {"f64": np.float64, "f32": np.float32, "f16": np.float16, "i32": np.int32,
         "u8": np.uint8, "u16": np.uint16, "u32": np.uint32, "u64": np.uint64}
STRUCT_CODE = {"f64": "d", "f32": "f", "f16": "e", "i32": "i"}


class RefError(Exception):
    pass


# ---- the machine ---------------------------------------------------------------------------------


def parse_size(text: str) -> int:
    """sysfs cache sizes read like 32K, 1024K, 32M."""
    text = text.strip()
    if not text:
        return 0
    unit = text[-1].upper()
    shift = {"K": 10, "M": 20, "G": 30}.get(unit, 0)
    digits = text[:-1] if shift else text
    try:
        return int(digits) << shift
    except ValueError:
        return 0


def read_first_line(path: Path) -> str:
    try:
        with open(path) as f:
            return f.readline().strip()
    except OSError:
        return ""


def cache_sizes(sysfs: Path = Path("/sys/devices/system/cpu/cpu0/cache")) -> dict[str, int]:
    """L1d, L2 and L3 sizes of cpu0, read as the suite reads them (kernels/context.cpp), with the
    same fallbacks (sysconf, then 32 KiB / 1 MiB / L2 when there is no L3)."""
    sizes = {"l1d_bytes": 0, "l2_bytes": 0, "l3_bytes": 0}
    for i in range(8):
        d = sysfs / f"index{i}"
        level = read_first_line(d / "level")
        if not level:
            break
        size = parse_size(read_first_line(d / "size"))
        if level == "1" and read_first_line(d / "type") == "Data":
            sizes["l1d_bytes"] = size
        elif level in ("2", "3"):
            sizes[f"l{level}_bytes"] = size
    for key, name in (("l1d_bytes", "SC_LEVEL1_DCACHE_SIZE"), ("l2_bytes", "SC_LEVEL2_CACHE_SIZE"),
                      ("l3_bytes", "SC_LEVEL3_CACHE_SIZE")):
        if not sizes[key]:
            try:
                sizes[key] = max(int(os.sysconf(name)), 0)
            except (ValueError, OSError):
                pass
    sizes["l1d_bytes"] = sizes["l1d_bytes"] or 32 << 10
    sizes["l2_bytes"] = sizes["l2_bytes"] or 1 << 20
    sizes["l3_bytes"] = sizes["l3_bytes"] or sizes["l2_bytes"]
    return sizes


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def mem_bytes() -> int:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def cpu_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))  # what this process may use, as the suite counts
    except AttributeError:
        return os.cpu_count() or 1


def working_sets(caches: dict[str, int], dram_bytes: int = 0) -> dict[str, int]:
    """The suite's working set per level (kernels/context.cpp cache_levels)."""
    return {"L1": caches["l1d_bytes"] // 2, "L2": caches["l2_bytes"] // 2,
            "L3": caches["l3_bytes"] // 2, "DRAM": dram_bytes or 4 * caches["l3_bytes"]}


def machine_context(caches: dict[str, int], sets: dict[str, int], now: datetime.datetime,
                    args: argparse.Namespace) -> dict[str, Any]:
    # strings for the machine keys, as Google Benchmark writes the suite's custom context
    ctx: dict[str, Any] = {
        "date": now.isoformat(timespec="seconds"),
        "hostname": socket.gethostname(),
        "library": "numpy",
        "numpy_version": np.__version__,
        "python_version": platform.python_version(),
        "cpu_model": cpu_model(),
        "cpu_cores": str(cpu_cores()),
        "mem_bytes": str(mem_bytes()),
    }
    ctx.update({k: str(v) for k, v in caches.items()})
    ctx.update({f"working_set_{k}": str(v) for k, v in sets.items()})
    ctx.update({"run_levels": ",".join(args.levels), "repetitions": str(args.repetitions),
                "min_time_s": str(args.min_time)})
    return ctx


# ---- the operations ------------------------------------------------------------------------------


@dataclass
class Op:
    """One NumPy operation: its name keys, its dtypes, and how to run and check it."""

    variant: str
    keys: str  # "src:f64/dst:f32" or "width:2/path:numpy"
    src: str
    dst: str
    kind: str  # "astype", "copyto" or "byteswap"

    @property
    def src_size(self) -> int:
        return np.dtype(SHORT[self.src]).itemsize

    @property
    def dst_size(self) -> int:
        return np.dtype(SHORT[self.dst]).itemsize

    @property
    def casting(self) -> str:
        return "same_kind" if np.can_cast(SHORT[self.src], SHORT[self.dst], "same_kind") \
            else "unsafe"

    def name(self, n: int, level: str) -> str:
        return f"numpy/{self.variant}/{self.keys}/n:{n}/level:{level}/threads:1"

    def elements_for(self, working_set: int) -> int:
        return working_set // (self.src_size + self.dst_size)

    def bytes_per_call(self, n: int) -> int:
        return n * (self.src_size + self.dst_size)  # read once, written once: the minimum

    def make_input(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Values every path converts exactly as the scalar rule says (f64->i32 within int32
        range, f32->f16 within the finite half range, every finite half pattern)."""
        if self.src == "u8":
            return rng.integers(0, 256, n, dtype=np.uint8)
        if self.kind == "byteswap":
            return rng.integers(0, np.iinfo(SHORT[self.src]).max, n, dtype=SHORT[self.src],
                                endpoint=True)
        if self.src == "f16":
            bits = rng.integers(0, 1 << 16, n, dtype=np.uint16)
            bits[(bits & 0x7C00) == 0x7C00] &= 0x3FFF  # no inf/NaN: compare values exactly
            return bits.view(np.float16)
        if self.dst == "i32":
            return rng.uniform(-2.0e9, 2.0e9, n)
        x = rng.standard_normal(n) * 1000.0
        if self.dst == "f16":
            x = np.clip(x, -60000.0, 60000.0)
        return x.astype(SHORT[self.src])

    def make_output(self, n: int) -> Optional[np.ndarray]:
        if self.kind == "copyto":
            return np.zeros(n, dtype=SHORT[self.dst])
        return None

    def call(self, x: np.ndarray, y: Optional[np.ndarray]) -> Callable[[], Any]:
        """The timed call, as a closure (the result of astype/byteswap is dropped, so each call
        allocates and frees its destination as a user's would)."""
        if self.kind == "astype":
            dst = SHORT[self.dst]
            return lambda: x.astype(dst)
        if self.kind == "copyto":
            casting = self.casting
            return lambda: np.copyto(y, x, casting=casting)
        return lambda: x.byteswap(inplace=False)


def ops() -> list[Op]:
    out = [Op("astype_alloc", "src:f64/dst:f32", "f64", "f32", "astype"),
           Op("astype_prealloc", "src:f64/dst:f32", "f64", "f32", "copyto")]
    for src, dst in (("f32", "f16"), ("f16", "f32"), ("f64", "i32"), ("u8", "f32")):
        out.append(Op("cast", f"src:{src}/dst:{dst}/path:numpy", src, dst, "copyto"))
    for width, t in ((2, "u16"), (4, "u32"), (8, "u64")):
        out.append(Op("byteswap", f"width:{width}/path:numpy", t, t, "byteswap"))
    return out


# ---- checking ------------------------------------------------------------------------------------


def scalar_ref(op: Op, element: np.ndarray) -> Any:
    """One element (a 0-d array) by Python's own rules, reading its bytes with struct rather than
    through NumPy: struct packing rounds to nearest even, int() truncates toward zero, a byteswap
    reverses the bytes."""
    raw = element.tobytes()
    if op.kind == "byteswap":
        return int.from_bytes(raw, "big" if sys.byteorder == "little" else "little")
    v = raw[0] if op.src == "u8" else struct.unpack("=" + STRUCT_CODE[op.src], raw)[0]
    if op.dst == "i32":
        return int(v)
    code = "=" + STRUCT_CODE[op.dst]
    return struct.unpack(code, struct.pack(code, float(v)))[0]


def verify(op: Op, x: np.ndarray, result: np.ndarray, rng: np.random.Generator) -> Optional[str]:
    """None when result is x converted (or byteswapped) correctly, else the first problem: the
    whole array against NumPy's astype (byteswap: against a uint8 view with each element's bytes
    reversed), then the ends and SAMPLE random elements against the scalar reference."""
    want_dtype = np.dtype(SHORT[op.dst])
    if result.dtype != want_dtype or result.shape != x.shape:
        return f"result is {result.dtype}{result.shape}, expected {want_dtype}{x.shape}"
    if op.kind == "byteswap":
        ref = x.view(np.uint8).reshape(-1, op.src_size)[:, ::-1].copy().view(x.dtype).ravel()
    else:
        ref = x.astype(want_dtype)
    bad = np.flatnonzero(ref != result)
    if bad.size:
        i = int(bad[0])
        return f"{bad.size} element(s) differ, first at {i}: got {result[i]!r}, want {ref[i]!r}"
    return sample_mismatch(op, x, result, rng)


def sample_mismatch(op: Op, x: np.ndarray, result: np.ndarray,
                    rng: np.random.Generator) -> Optional[str]:
    """The first of the two ends and SAMPLE random elements that differs from the scalar
    reference, or None."""
    idx = np.unique(np.concatenate([[0, x.size - 1], rng.integers(0, x.size, SAMPLE)]))
    for i in idx:
        want = scalar_ref(op, x[i : i + 1])
        if result[i] != want:
            return f"element {int(i)}: got {result[i]!r}, scalar reference {want!r}"
    return None


def peak_bytes(call: Callable[[], Any]) -> int:
    """Bytes of traced memory that one call adds at its peak (its result kept until read)."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        result = call()
        peak = tracemalloc.get_traced_memory()[1] - base
        del result
    finally:
        tracemalloc.stop()
    return max(peak, 0)


# ---- timing --------------------------------------------------------------------------------------


def time_loop(call: Callable[[], Any], iterations: int) -> float:
    t0 = time.perf_counter()
    for _ in range(iterations):
        call()
    return time.perf_counter() - t0


def calibrate(call: Callable[[], Any], min_time: float) -> int:
    """Iterations that make one repetition last about min_time, grown as Google Benchmark does."""
    iterations = 1
    while True:
        elapsed = time_loop(call, iterations)
        if elapsed >= min_time or iterations >= 1 << 30:
            return iterations
        factor = 10.0 if elapsed <= 0 else min(10.0, max(2.0, 1.4 * min_time / elapsed))
        iterations = max(iterations + 1, int(iterations * factor))


def aggregate(values: list[float], which: str) -> float:
    mean = statistics.fmean(values)
    if which == "mean":
        return mean
    if which == "median":
        return statistics.median(values)
    stddev = statistics.stdev(values) if len(values) > 1 else 0.0
    if which == "stddev":
        return stddev
    return stddev / mean if mean else 0.0  # cv


def run_op(op: Op, level: str, working_set: int, args: argparse.Namespace,
           seed: int) -> list[dict[str, Any]]:
    n = op.elements_for(working_set)
    if n < 1:
        raise RefError(f"{op.variant} {op.keys}: working set {working_set} B at {level} holds "
                       "no element")
    rng = np.random.default_rng(seed)
    x = op.make_input(n, rng)
    y = op.make_output(n)
    call = op.call(x, y)
    result = call()  # warm-up, and the result that is checked
    problem = verify(op, x, y if result is None else result, rng)
    del result
    name = op.name(n, level)
    if problem:
        print(f"numpy_ref: {name}: not verified: {problem}", file=sys.stderr)
    peak = peak_bytes(call)
    iterations = calibrate(call, args.min_time)
    times = [time_loop(call, iterations) / iterations for _ in range(args.repetitions)]
    per_call = op.bytes_per_call(n)
    series = {"real_time": [t * 1e6 for t in times], "bytes": [per_call / t for t in times],
              "elements": [n / t for t in times]}
    entries = []
    for agg in AGGREGATES:
        spread = agg in ("stddev", "cv")
        e: dict[str, Any] = {
            "name": f"{name}_{agg}", "run_name": name, "run_type": "aggregate",
            "repetitions": args.repetitions, "threads": 1, "aggregate_name": agg,
            "aggregate_unit": "percentage" if agg == "cv" else "time",
            "iterations": iterations, "time_unit": "us"}
        for key, values in series.items():
            e[key] = aggregate(values, agg)
        e["cpu_time"] = e["real_time"]
        # counters that do not vary over repetitions: 0 spread, as Google Benchmark reports them
        e["peak_bytes"] = 0.0 if spread else float(peak)
        e["working_set_bytes"] = 0.0 if spread else float(per_call)
        e["verified"] = 0.0 if spread else (0.0 if problem else 1.0)
        if op.kind == "copyto":
            e["label"] = f"casting={op.casting}"
        entries.append(e)
    return entries


# ---- the command ---------------------------------------------------------------------------------


def default_output(host: str, day: str) -> Path:
    """reports/numpy-<host>-<date>.json, or -2, -3, ... when a run that day already wrote one."""
    base = ROOT / "reports" / f"numpy-{host}-{day}"
    path = base.with_suffix(".json")
    k = 2
    while path.exists():
        path = Path(f"{base}-{k}.json")
        k += 1
    return path


def parse_levels(text: str) -> list[str]:
    levels = [s.strip() for s in text.split(",") if s.strip()]
    unknown = [s for s in levels if s not in LEVELS]
    if unknown or not levels:
        raise argparse.ArgumentTypeError(
            f"unknown level(s) {', '.join(unknown) or '(none)'}; choose from {', '.join(LEVELS)}")
    return levels


def positive(kind: type) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        try:
            v = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if v <= 0:
            raise argparse.ArgumentTypeError(f"{text!r} must be positive")
        return v
    return parse


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="numpy_ref.py", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--levels", type=parse_levels, default=parse_levels("L2,DRAM"),
                   help="comma-separated cache levels to size for, from L1,L2,L3,DRAM "
                        "(default: L2,DRAM)")
    p.add_argument("--repetitions", type=positive(int), default=5,
                   help="timed repetitions per benchmark (default: %(default)s)")
    p.add_argument("--min-time", type=positive(float), default=0.1, metavar="SECONDS",
                   help="seconds each repetition lasts at least (default: %(default)s)")
    p.add_argument("--dram-mib", type=positive(int), default=0, metavar="MIB",
                   help="DRAM working set in MiB, as the suite's --dram-mib (default: 4x L3)")
    p.add_argument("--out", type=Path, metavar="FILE",
                   help="output JSON (default: reports/numpy-<hostname>-<YYYY-MM-DD>.json, "
                        "or -2, -3, ... when that exists)")
    p.add_argument("--seed", type=int, default=1, help="random seed of the inputs (default: 1)")
    return p


def main(argv: Optional[list[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    now = datetime.datetime.now().astimezone()
    caches = cache_sizes()
    sets = working_sets(caches, args.dram_mib << 20)
    out = args.out or default_output(socket.gethostname(), now.strftime("%Y-%m-%d"))
    doc: dict[str, Any] = {"context": machine_context(caches, sets, now, args), "benchmarks": []}
    try:
        for level in args.levels:
            for k, op in enumerate(ops()):
                entries = run_op(op, level, sets[level], args, args.seed + k)
                med = entries[1]
                print(f"{med['run_name']:<72} {med['real_time']:12.2f} us "
                      f"{med['bytes'] / 1e9:8.2f} GB/s  peak {med['peak_bytes'] / 2**20:8.2f} MiB"
                      f"{'' if med['verified'] == 1.0 else '  NOT VERIFIED'}")
                doc["benchmarks"].extend(entries)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(out.name + ".partial")
        tmp.write_text(json.dumps(doc, indent=1) + "\n")
        tmp.replace(out)
    except RefError as e:
        print(f"numpy_ref: {e}", file=sys.stderr)
        return 1
    except MemoryError:
        print("numpy_ref: out of memory; use a smaller --dram-mib", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"numpy_ref: cannot write {e.filename or out}: {e.strerror}", file=sys.stderr)
        return 1
    unverified = [b["run_name"] for b in doc["benchmarks"]
                  if b["aggregate_name"] == "median" and b["verified"] != 1.0]
    print(f"numpy_ref: wrote {out} ({len(doc['benchmarks']) // len(AGGREGATES)} benchmarks)")
    return 1 if unverified else 0


if __name__ == "__main__":
    sys.exit(main())
