#!/usr/bin/env python3
"""PyTorch's GEMM beside the suite's: torch.matmul per precision (torch._scaled_mm for fp8,
torch._int_mm for int8) on the suite's square GPU shapes, timed with CUDA events after a warm-up,
written as Google-Benchmark-shaped JSON whose names follow the suite's gemm/cublaslt names:

  torch/matmul/precision:bf16.f32.bf16/shape:square/m:8192/n:8192/k:8192/layout:NN

f32.f32.f32 runs with TF32 off (torch.backends.cuda.matmul.allow_tf32 = False), f32.tf32.f32 with
it on; f16.f32.f16 and bf16.f32.bf16 with reduced-precision reductions off; f16.f16.f16 is not
offered by PyTorch and is left out. Inputs as the suite's: A uniform in [-1, 1), B in [0, 1). --suite RUN.json prints
ours (the best algorithm) over PyTorch's per precision.

A python without PyTorch hands over to the repo's .venv/bin/python when there is one. Without
PyTorch there either, or without a CUDA device, it says so in one line and exits 0 (nothing to
compare). --out and --suite are checked before anything runs (exit 2, one line).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Optional

from dtypebench_results import (EXIT_FAILED, EXIT_OK, EXIT_UNREADABLE, ResultsError, save,
                                use_venv_for)
from dtypebench_results.peers import gemm_side_by_side, suite_and_out

PRECISIONS = ["f64.f64.f64", "f32.f32.f32", "f32.tf32.f32", "f16.f32.f16", "bf16.f32.bf16",
              "e4m3.f32.bf16", "i8.i32.i32"]


def name_of(precision: str, n: int) -> str:
    layout = "TN" if precision.startswith(("e4m3", "i8")) else "NN"
    return f"torch/matmul/precision:{precision}/shape:square/m:{n}/n:{n}/k:{n}/layout:{layout}"


def make_call(torch: Any, precision: str, n: int) -> Any:
    """The timed call for one precision, its inputs made on the device."""
    dev = "cuda"
    torch.backends.cuda.matmul.allow_tf32 = precision == "f32.tf32.f32"
    # both 16-bit types accumulate in f32 as the suite's f16.f32.f16 and bf16.f32.bf16 do
    torch.backends.cuda.matmul.allow_fp16_reduced_precision_reduction = False
    torch.backends.cuda.matmul.allow_bf16_reduced_precision_reduction = False
    a = torch.rand(n, n, device=dev, dtype=torch.float32) * 2 - 1
    b = torch.rand(n, n, device=dev, dtype=torch.float32)
    if precision.startswith("e4m3"):
        a8, b8 = a.to(torch.float8_e4m3fn), b.t().contiguous().to(torch.float8_e4m3fn).t()
        one = torch.ones((), device=dev)
        return lambda: torch._scaled_mm(a8, b8, scale_a=one, scale_b=one, out_dtype=torch.bfloat16)
    if precision.startswith("i8"):
        ai, bi = (a * 127).round().to(torch.int8), (b * 127).round().to(torch.int8)
        bi = bi.t().contiguous().t()
        return lambda: torch._int_mm(ai, bi)
    dtype = {"f64": torch.float64, "f32": torch.float32, "f16": torch.float16,
             "bf16": torch.bfloat16}[precision.split(".")[0]]
    a, b = a.to(dtype), b.to(dtype)
    return lambda: torch.matmul(a, b)


def time_call(torch: Any, call: Any, reps: int, iters: int) -> list[float]:
    call()
    torch.cuda.synchronize()
    start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    out = []
    for _ in range(reps):
        start.record()
        for _ in range(iters):
            call()
        stop.record()
        stop.synchronize()
        out.append(start.elapsed_time(stop) / 1e3 / iters)
    return out


def rows_for(name: str, times: list[float], flops: float, reps: int) -> list[dict[str, Any]]:
    import statistics
    rates = [flops / t for t in times]
    out = []
    for agg, f in (("median", statistics.median), ("mean", statistics.fmean)):
        out.append({"name": f"{name}_{agg}", "run_name": name, "run_type": "aggregate",
                    "aggregate_name": agg, "repetitions": reps, "threads": 1,
                    "time_unit": "us", "real_time": f(times) * 1e6, "cpu_time": f(times) * 1e6,
                    "flops": f(rates), "label": "verified"})
    return out


def compare(doc: dict[str, Any], suite: dict[str, Any]) -> list[str]:
    """Markdown rows: ours (gemm/cublaslt) over PyTorch's, same precision, shape, layout, threads."""
    return gemm_side_by_side(doc, suite, "PyTorch", "cublaslt", 1e12, "TFLOP/s")


def main(argv: Optional[list[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="torch_gemm.py", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default="8192", help="square edges, comma-separated (8192)")
    p.add_argument("--repetitions", type=int, default=5)
    p.add_argument("--iterations", type=int, default=10, help="calls per repetition (10)")
    p.add_argument("--out", type=Path, help="output JSON")
    p.add_argument("--suite", type=Path, help="a dtypebench run to compare with")
    args = p.parse_args(argv)
    try:
        sizes = [int(x) for x in args.sizes.split(",")]
    except ValueError:
        print(f"torch_gemm: --sizes {args.sizes!r} is not a comma list of integers",
              file=sys.stderr)
        return EXIT_UNREADABLE
    try:
        suite = suite_and_out(args.suite, args.out)
    except ResultsError as e:
        print(f"torch_gemm: {e}", file=sys.stderr)
        return EXIT_UNREADABLE
    try:
        import torch
    except ImportError:
        print("torch_gemm: skipped: PyTorch is not installed for " + sys.executable)
        return EXIT_OK
    if not torch.cuda.is_available():
        print("torch_gemm: skipped: PyTorch sees no CUDA device")
        return EXIT_OK
    props = torch.cuda.get_device_properties(0)
    doc: dict[str, Any] = {"context": {"library": "torch", "torch_version": torch.__version__,
                                       "gpu_name": props.name,
                                       "cuda_version": str(torch.version.cuda)},
                           "benchmarks": []}
    for n in sizes:
        for precision in PRECISIONS:
            name = name_of(precision, n)
            try:
                times = time_call(torch, make_call(torch, precision, n), args.repetitions,
                                  args.iterations)
            except (RuntimeError, AttributeError) as e:  # a precision this torch or GPU lacks
                print(f"{name}: skipped: {str(e).splitlines()[0]}")
                continue
            rows = rows_for(name, times, 2.0 * n ** 3, args.repetitions)
            print(f"{name:<80} {rows[0]['flops'] / 1e12:8.1f} TFLOP/s")
            doc["benchmarks"].extend(rows)
    try:
        if args.out:
            save(args.out, doc)
    except OSError as e:
        print(f"torch_gemm: cannot write {args.out}: {e.strerror or e}", file=sys.stderr)
        return EXIT_UNREADABLE
    if suite is not None:
        print("\n".join(compare(doc, suite)))
    return EXIT_OK if doc["benchmarks"] else EXIT_FAILED


if __name__ == "__main__":
    use_venv_for("torch", __file__)
    sys.exit(main())
