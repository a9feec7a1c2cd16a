#!/usr/bin/env python3
"""Time NumPy's matmul (the BLAS its wheel ships, usually OpenBLAS) on the suite's square GEMM
shapes, thread for thread, and write Google-Benchmark-shaped JSON beside the suite's.

  numpy/matmul/precision:f64.f64.f64/shape:square/m:N/n:N/k:N/layout:NN/threads:T
  numpy/matmul/precision:f32.f32.f32/...

The names are the suite's gemm names with numpy/matmul for gemm/openblas, so --suite RUN.json
prints ours over NumPy's per shape and thread count. Each thread count runs in its own process with
OPENBLAS_NUM_THREADS (and OMP/MKL) set before NumPy loads, the only way its BLAS takes a thread
count without threadpoolctl. Inputs as the suite's: A uniform in [-1, 1), B in [0, 1). Each result
is checked once, on 4 rows, against a long double product (verified = 1 when within the suite's
bound: (k+2) u + k 2^-53 times sum |a b|). Timing: a warm-up call, a loop calibrated to
--min-time, --repetitions repetitions; the JSON holds median, mean, stddev and cv, with flops as a
rate (FLOP/s) as the suite writes it. A python without NumPy hands over to the repo's
.venv/bin/python when there is one. --out and --suite are checked before anything runs (exit 2,
one line).
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Optional

from dtypebench_results import (EXIT_FAILED, EXIT_OK, EXIT_UNREADABLE, ResultsError, save,
                                use_venv_for)
from dtypebench_results.peers import gemm_side_by_side, suite_and_out

if __name__ == "__main__":
    use_venv_for("numpy", __file__)
try:
    import numpy as np
except ImportError:
    print(f"numpy_gemm: NumPy is not installed for {sys.executable}; run it with .venv/bin/python "
          "(scripts/setup.sh makes .venv) or install numpy", file=sys.stderr)
    sys.exit(2)

import numpy_ref

PRECISIONS = {"f64.f64.f64": np.float64, "f32.f32.f32": np.float32}
UNIT = {"f64.f64.f64": 2.0 ** -53, "f32.f32.f32": 2.0 ** -24}
THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def name_of(precision: str, n: int, threads: int) -> str:
    return (f"numpy/matmul/precision:{precision}/shape:square/m:{n}/n:{n}/k:{n}/layout:NN/"
            f"threads:{threads}")


def check(a: np.ndarray, b: np.ndarray, c: np.ndarray, precision: str) -> Optional[str]:
    """4 evenly spaced rows of C against long double; None when within the bound."""
    n = a.shape[1]
    rows = np.linspace(0, a.shape[0] - 1, 4).astype(int)
    ra, rb = a[rows].astype(np.longdouble), b.astype(np.longdouble)
    want = ra @ rb
    bound = ((n + 2) * UNIT[precision] + n * 2.0 ** -53) * (np.abs(ra) @ np.abs(rb))
    bad = ~(np.abs(c[rows].astype(np.longdouble) - want) <= bound)
    return f"{int(bad.sum())} of {bad.size} checked elements outside the bound" if bad.any() else None


def run_one(precision: str, n: int, threads: int, args: argparse.Namespace) -> list[dict[str, Any]]:
    rng = np.random.default_rng(args.seed)
    t = PRECISIONS[precision]
    a = rng.uniform(-1.0, 1.0, (n, n)).astype(t)
    b = rng.uniform(0.0, 1.0, (n, n)).astype(t)
    c = np.empty((n, n), dtype=t)
    call = lambda: np.matmul(a, b, out=c)  # noqa: E731
    call()
    problem = check(a, b, c, precision)
    iterations = numpy_ref.calibrate(call, args.min_time)
    times = [numpy_ref.time_loop(call, iterations) / iterations for _ in range(args.repetitions)]
    flops = 2.0 * n ** 3
    name = name_of(precision, n, threads)
    out = []
    for agg in numpy_ref.AGGREGATES:
        spread = agg in ("stddev", "cv")
        e: dict[str, Any] = {
            "name": f"{name}_{agg}", "run_name": name, "run_type": "aggregate",
            "repetitions": args.repetitions, "threads": threads, "aggregate_name": agg,
            "aggregate_unit": "percentage" if agg == "cv" else "time", "iterations": iterations,
            "time_unit": "us",
            "real_time": numpy_ref.aggregate([x * 1e6 for x in times], agg),
            "flops": numpy_ref.aggregate([flops / x for x in times], agg),
            "verified": 0.0 if spread or problem else 1.0,
            "label": f"failed: {problem}" if problem else "verified"}
        e["cpu_time"] = e["real_time"]
        out.append(e)
    return out


def child(args: argparse.Namespace) -> int:
    rows = []
    for n in args.sizes:
        for precision in PRECISIONS:
            rows.extend(run_one(precision, n, args.child, args))
    json.dump(rows, sys.stdout)
    return EXIT_OK


def ints(text: str) -> list[int]:
    try:
        out = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma list of integers") from None
    if not out or any(x <= 0 for x in out):
        raise argparse.ArgumentTypeError(f"{text!r} needs positive integers")
    return out


def compare(doc: dict[str, Any], suite: dict[str, Any]) -> list[str]:
    """Markdown rows: ours (gemm/openblas) over NumPy's, same precision, shape, layout, threads."""
    return gemm_side_by_side(doc, suite, "NumPy", "openblas", 1e9, "GFLOP/s")


def main(argv: Optional[list[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="numpy_gemm.py", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", type=ints, default=[2048], help="square edges (default: 2048)")
    p.add_argument("--threads", type=ints, default=[1, numpy_ref.cpu_cores()],
                   help="thread counts (default: 1 and every core)")
    p.add_argument("--repetitions", type=numpy_ref.positive(int), default=5)
    p.add_argument("--min-time", type=numpy_ref.positive(float), default=0.5, metavar="SECONDS")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", type=Path, help="output JSON (default: print the table only)")
    p.add_argument("--suite", type=Path, help="a dtypebench run to compare with (its gemm rows)")
    p.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        return child(args)
    try:
        suite = suite_and_out(args.suite, args.out)
    except ResultsError as e:
        print(f"numpy_gemm: {e}", file=sys.stderr)
        return EXIT_UNREADABLE
    now = datetime.datetime.now().astimezone()
    caches = numpy_ref.cache_sizes()
    ctx = numpy_ref.machine_context(caches, {}, now, argparse.Namespace(
        levels=[], repetitions=args.repetitions, min_time=args.min_time))
    ctx["numpy_blas"] = blas_name()
    doc: dict[str, Any] = {"context": ctx, "benchmarks": []}
    try:
        for t in args.threads:
            env = dict(os.environ, **{v: str(t) for v in THREAD_VARS})
            cmd = [sys.executable, __file__, "--child", str(t), "--sizes",
                   ",".join(map(str, args.sizes)), "--repetitions", str(args.repetitions),
                   "--min-time", str(args.min_time), "--seed", str(args.seed)]
            res = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
            if res.returncode != 0:
                print(f"numpy_gemm: the {t}-thread run failed: "
                      f"{(res.stderr.strip().splitlines() or ['no message'])[-1]}", file=sys.stderr)
                return EXIT_FAILED
            doc["benchmarks"].extend(json.loads(res.stdout))
        for b in doc["benchmarks"]:
            if b["aggregate_name"] == "median":
                print(f"{b['run_name']:<90} {b['flops'] / 1e9:8.1f} GFLOP/s  {b['label']}")
        if args.out:
            save(args.out, doc)
            print(f"numpy_gemm: wrote {args.out}")
        if suite is not None:
            print("\n".join(compare(doc, suite)))
    except OSError as e:
        print(f"numpy_gemm: cannot write {args.out}: {e.strerror or e}", file=sys.stderr)
        return EXIT_UNREADABLE
    except KeyboardInterrupt:
        print("numpy_gemm: interrupted", file=sys.stderr)
        return 130
    bad = [b for b in doc["benchmarks"] if b["label"] != "verified"]
    return EXIT_FAILED if bad else EXIT_OK


def blas_name() -> str:
    """What BLAS NumPy was built with, as its config says (one line)."""
    try:
        cfg = np.show_config(mode="dicts")  # NumPy >= 1.26
        blas = cfg.get("Build Dependencies", {}).get("blas", {})
        return f"{blas.get('name', '?')} {blas.get('version', '')}".strip()
    except TypeError:
        return "unknown"


if __name__ == "__main__":
    sys.exit(main())
