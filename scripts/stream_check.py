#!/usr/bin/env python3
"""Compare a result's CPU baseline copy and triad at DRAM size with a plain STREAM-style C loop.

Builds scripts/stream_ref.c with `gcc -O3 -march=native -fopenmp`, runs it on this machine with the
suite's thread count and working set (triad: N = working set / 8 / 3 doubles per array; copy:
N = working set / 8 / 2), and compares its median rate with the median `bytes` rate of
baseline/copy and baseline/triad (dtype:f64, level:DRAM, the largest thread count) in RESULT.json.
Run it right after the suite, on the same machine. The reference uses ordinary 4 KiB pages, as a
plain STREAM does; --huge-pages makes it ask for transparent huge pages (madvise), as dtypebench's
allocator does for buffers of 32 MiB and more. Exit 0 when both are within the tolerance, 1 when
not, 2 when the check cannot run (no DRAM baseline in the file, no compiler).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Optional

from dtypebench_results import ResultsError, context_of, load, representative, run_name, select

HERE = Path(__file__).resolve().parent
COMPILE = ["gcc", "-O3", "-march=native", "-fopenmp"]
BYTES_PER_ELEMENT = {"copy": 16, "triad": 24}  # minimum traffic: reads + writes, in f64
ARRAYS = {"copy": 2, "triad": 3}


class CheckError(Exception):
    pass


def suite_entries(doc: dict[str, Any], threads: Optional[int]) -> dict[str, dict[str, Any]]:
    """The representative baseline copy/triad f64 DRAM entries at the chosen thread count
    (default: the largest in the file), by variant."""
    found: dict[str, dict[int, dict[str, Any]]] = {}
    for b in select(representative(doc.get("benchmarks", [])), "baseline", dtype="f64",
                    level="DRAM"):
        variant, keys = b.variant, b.keys
        if variant in BYTES_PER_ELEMENT and keys.get("threads", "").isdigit():
            found.setdefault(variant, {})[int(keys["threads"])] = b
    if set(found) != set(BYTES_PER_ELEMENT):
        raise CheckError("the file has no baseline/copy and baseline/triad f64 results at "
                         "level:DRAM (a --smoke run has none; run scripts/characterize --quick)")
    if threads is None:
        threads = max(set(found["copy"]) & set(found["triad"]), default=0)
    if threads not in found["copy"] or threads not in found["triad"]:
        raise CheckError(f"no copy and triad results at threads:{threads}")
    return {v: found[v][threads] for v in BYTES_PER_ELEMENT}


def working_set(entry: dict[str, Any], context: dict[str, Any]) -> int:
    ws = entry.get("working_set_bytes") or context.get("working_set_DRAM")
    if not ws:
        raise CheckError("neither the entry's working_set_bytes nor context working_set_DRAM is "
                         "in the file")
    return int(number(ws, "working_set_bytes"))


def number(value: Any, what: str) -> float:
    """A counter of the file as a float; a CheckError (one line) when it is not a number."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise CheckError(f"{what} = {value!r} is not a number") from None
    if x != x or x in (float("inf"), float("-inf")):
        raise CheckError(f"{what} = {value!r} is not a finite number")
    return x


def build_ref(tmp: Path) -> Path:
    if shutil.which("gcc") is None:
        raise CheckError("gcc not found (scripts/setup.sh installs it)")
    exe = tmp / "stream_ref"
    cmd = COMPILE + ["-o", str(exe), str(HERE / "stream_ref.c"), "-lm"]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise CheckError(f"{' '.join(cmd)} failed:\n{proc.stderr.strip()}")
    return exe


def run_ref(exe: Path, n: int, threads: int, reps: int, huge: bool) -> dict[str, Any]:
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    proc = subprocess.run([str(exe), str(n), str(reps), "1" if huge else "0"], capture_output=True,
                          text=True, env=env, check=False)
    if proc.returncode != 0:
        raise CheckError(f"stream_ref {n} failed (exit {proc.returncode}): {proc.stderr.strip()}")
    try:
        return json.loads(proc.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        raise CheckError(f"stream_ref {n} printed no JSON result line") from None


def suite_cv(doc: dict[str, Any], entry: dict[str, Any]) -> Optional[float]:
    """The coefficient of variation of the entry's bytes rate across repetitions, when the file has
    the cv aggregate."""
    for b in doc.get("benchmarks", []):
        if b.get("aggregate_name") == "cv" and run_name(b) == run_name(entry) and "bytes" in b:
            return number(b["bytes"], "cv of bytes")
    return None


def run_ref_rounds(exe: Path, n: int, threads: int, reps: int, rounds: int, huge: bool,
                   variant: str) -> tuple[float, float, float]:
    """Median over rounds of the reference's median rate, and the lowest and highest round, so
    a noisy machine shows as a spread rather than a verdict from one lucky or unlucky run."""
    rates = sorted(run_ref(exe, n, threads, reps, huge)[f"{variant}_bytes_per_s"]
                   for _ in range(rounds))
    return statistics.median(rates), rates[0], rates[-1]


def suite_rates(binary: str, threads: int, tmp: Path) -> dict[str, float]:
    """One fresh measurement of the suite's f64 DRAM copy and triad (bytes/s) by running it."""
    out = tmp / "suite.json"
    cmd = [binary, "--levels=DRAM", f"--threads={threads}",
           "--benchmark_filter=^baseline/(copy|triad)/dtype:f64/level:DRAM",
           "--benchmark_repetitions=3", "--benchmark_min_time=0.1",
           f"--benchmark_out={out}", "--benchmark_out_format=json"]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise CheckError(f"{' '.join(cmd)} failed (exit {proc.returncode}): "
                         f"{proc.stderr.strip()[-300:]}")
    entries = suite_entries(load(out), threads)
    return {v: float(entries[v].get("bytes", 0.0)) for v in BYTES_PER_ELEMENT}


def paired_rounds(binary: str, exe: Path, ns: dict[str, int], threads: int, reps: int,
                  rounds: int, huge: bool,
                  tmp: Path) -> dict[str, tuple[float, float, list[float], list[float]]]:
    """Suite and reference measured back to back, round after round, so that a machine whose
    bandwidth drifts moves both: per kernel the median suite rate, the median reference rate and
    the per-round ratios."""
    suite: dict[str, list[float]] = {v: [] for v in BYTES_PER_ELEMENT}
    ref: dict[str, list[float]] = {v: [] for v in BYTES_PER_ELEMENT}
    for _ in range(rounds):
        s = suite_rates(binary, threads, tmp)
        for v in BYTES_PER_ELEMENT:
            suite[v].append(s[v])
            ref[v].append(run_ref(exe, ns[v], threads, reps, huge)[f"{v}_bytes_per_s"])
    return {v: (statistics.median(suite[v]), statistics.median(ref[v]),
                [a / b for a, b in zip(suite[v], ref[v])], ref[v]) for v in BYTES_PER_ELEMENT}


def compare(suite: float, ref: float, tolerance: float) -> tuple[float, bool]:
    ratio = suite / ref if ref > 0 else float("inf")
    return ratio, abs(ratio - 1.0) <= tolerance


def main(argv: Optional[list[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="stream-check", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("result", help="a result JSON with a DRAM baseline (scripts/characterize)")
    p.add_argument("--threads", type=int,
                   help="compare at this thread count (default: the largest in the file)")
    # 50: the loop's median over a short run is held down by its first repetitions (10 reps gave
    # 30-48 GB/s for copy where 60 gave 47-50, same minutes), while the suite's is warmed up
    p.add_argument("--reps", type=int, default=50,
                   help="timed repetitions per reference run (default: %(default)s)")
    p.add_argument("--rounds", type=int, default=3,
                   help="reference runs per kernel; the median counts (default: %(default)s)")
    p.add_argument("--tolerance", type=float, default=0.10,
                   help="largest accepted |suite/ref - 1| (default: %(default)s)")
    p.add_argument("--huge-pages", action="store_true",
                   help="the reference asks for transparent huge pages, like dtypebench")
    p.add_argument("--paired", metavar="BINARY",
                   help="re-measure the suite with this dtypebench binary before each reference "
                        "round and compare round by round (the median of the per-round ratios): "
                        "robust on machines whose bandwidth drifts")
    args = p.parse_args(argv)
    try:
        doc = load(args.result)
        context = context_of(doc)
        entries = suite_entries(doc, args.threads)
        threads = entries["copy"].threads
        host = socket.gethostname()
        if context.get("hostname") and context["hostname"] != host:
            print(f"stream-check: warning: the result is from {context['hostname']}, "
                  f"this is {host}")
        with tempfile.TemporaryDirectory(prefix="stream-ref-") as tmp:
            exe = build_ref(Path(tmp))
            rows = []
            if args.paired:
                ns = {v: working_set(entries[v], context) // 8 // ARRAYS[v]
                      for v in BYTES_PER_ELEMENT}
                paired = paired_rounds(args.paired, exe, ns, threads, args.reps,
                                       max(args.rounds, 1), args.huge_pages, Path(tmp))
            for variant in ("copy", "triad"):
                if args.paired:
                    suite_med, ref_med, ratios, refs = paired[variant]
                    ws = working_set(entries[variant], context)
                    rows.append((variant, ws // 8 // ARRAYS[variant], ws, suite_med, None, ref_med,
                                 min(refs), max(refs), statistics.median(ratios)))
                    continue
                ws = working_set(entries[variant], context)
                n = ws // 8 // ARRAYS[variant]
                ref, low, high = run_ref_rounds(exe, n, threads, args.reps, max(args.rounds, 1),
                                                args.huge_pages, variant)
                suite = number(entries[variant].get("bytes", 0.0), f"{variant} bytes")
                rows.append((variant, n, ws, suite, suite_cv(doc, entries[variant]), ref, low, high,
                             suite / ref if ref > 0 else float("inf")))
    except ResultsError as e:
        print(f"stream-check: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"stream-check: cannot read {e.filename or args.result}: {e.strerror}",
              file=sys.stderr)
        return 2
    except CheckError as e:
        print(f"stream-check: {e}", file=sys.stderr)
        return 2
    print(f"stream-check: {args.result} vs {' '.join(COMPILE)} scripts/stream_ref.c, "
          f"OMP_NUM_THREADS={threads}, OMP_PROC_BIND={os.environ.get('OMP_PROC_BIND', 'unset')}, "
          f"{'huge' if args.huge_pages else '4 KiB'} pages, "
          f"median of {args.rounds} runs of {args.reps} reps"
          + (f", paired with fresh runs of {args.paired}" if args.paired else ""))
    print(f"{'kernel':<6} {'N/array':>10} {'work set':>9} {'suite GB/s':>10} {'(cv)':>6} "
          f"{'ref GB/s':>9} {'(range)':>13} {'suite/ref':>9}")
    ok = True
    for variant, n, ws, suite, cv, ref, low, high, ratio in rows:
        within = abs(ratio - 1.0) <= args.tolerance
        ok &= within
        cv_text = f"{cv:.0%}" if cv is not None else "-"
        spread = f"{low / 1e9:.1f}-{high / 1e9:.1f}"
        print(f"{variant:<6} {n:>10} {ws / 2**20:>5.0f} MiB {suite / 1e9:>10.2f} {cv_text:>6} "
              f"{ref / 1e9:>9.2f} {spread:>13} {ratio:>9.3f}{'' if within else '  OUTSIDE'}")
    verdict = "ok: within" if ok else "FAILED: not within"
    print(f"stream-check: {verdict} {args.tolerance:.0%} of the reference median")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
