#!/usr/bin/env python3
"""PyTorch's convolution beside the suite's, thread for thread: for every verified conv row of a
dtypebench run (--suite, required) in NCHW or NHWC and f32 or bf16, the same problem (the row's
conv_n ... conv_dilation counters), pass and thread count through torch on the CPU (--device
cuda: every verified conv/cudnn algo:best row, on the GPU):

  fwd          torch.nn.functional.conv2d(x, w)
  bwd_data     torch.ops.aten.convolution_backward(dy, x, w, ...) for the input's gradient alone
  bwd_weights  the same for the weights' gradient alone

with torch.set_num_threads equal to the row's threads, NHWC as torch.channels_last (input and
weights), bf16 as bf16 tensors under torch.autocast (PyTorch's bf16 path; its outputs are bf16
where the suite's are f32). On the GPU: torch.backends.cudnn.benchmark = True (its own search, as
the suite's algo:best), allow_tf32 on for f32.tf32.f32 alone, f16/bf16 tensors for f16.f32.f16
and bf16.f32.bf16, rounds timed with CUDA events. Inputs uniform in [-1, 1). Each problem: two
untimed calls, then --repetitions rounds of as many calls as fill --min-time, the median round's
time a call. The blocked layout has no PyTorch form and is left out. Names follow the suite's:

  torch/conv2d/layer:r50_3x3_64/pass:fwd/precision:bf16.f32.f32/layout:nhwc/batch:2/threads:2

Written as Google-Benchmark-shaped JSON (--out); the table of ours (conv/onednn) over PyTorch's
goes to stdout and to --markdown. A python without PyTorch hands over to the repo's
.venv/bin/python when there is one; without PyTorch there either it says so in one line and
exits 0 (`.venv/bin/pip install torch` installs it: large, about 5 GB with its CUDA libraries).
--suite, --out and --markdown are checked before anything runs (exit 2, one line).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable, Optional

from dtypebench_results import (EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_UNREADABLE,
                                ResultsError, use_venv_for)
from dtypebench_results.families.conv import side_by_side
from dtypebench_results.peers import finish, suite_out_markdown
from dtypebench_results.rows import representative

SHAPE = ("n", "c", "h", "w", "k", "r", "s", "stride", "pad", "dilation")
KEYS = ("layer", "pass", "precision", "layout", "batch", "threads")
PRECISIONS = {"cpu": ("f32.f32.f32", "bf16.f32.f32"),
              "cuda": ("f32.f32.f32", "f32.tf32.f32", "f16.f32.f16", "bf16.f32.bf16")}
LAYOUTS = ("nchw", "nhwc")


def problems(suite: dict[str, Any],
             device: str = "cpu") -> list[tuple[dict[str, str], dict[str, int]]]:
    """(name keys, shape) of every verified row the peer can run on the device (conv/onednn for
    the CPU, conv/cudnn algo:best for cuda), in the run's order."""
    out = []
    for b in representative(suite["benchmarks"]):
        if b.family != "conv" or b.kind != "verified":
            continue
        if (device == "cpu") != (b.variant == "onednn") or \
                (device == "cuda" and (b.variant, b.keys.get("algo")) != ("cudnn", "best")):
            continue
        if b.keys.get("precision") not in PRECISIONS[device] or \
                b.keys.get("layout") not in LAYOUTS:
            continue
        if not all(f"conv_{d}" in b.counters for d in SHAPE):
            continue
        out.append(({k: b.keys[k] for k in KEYS if k in b.keys},
                    {d: int(b.counters[f"conv_{d}"]) for d in SHAPE}))
    return out


def make_call(torch: Any, keys: dict[str, str], s: dict[str, int],
              device: str = "cpu") -> Callable[[], Any]:
    """The timed call of one problem, its tensors made first."""
    dtype = {"bf16": torch.bfloat16, "f16": torch.float16}.get(keys["precision"].split(".")[0],
                                                              torch.float32)
    fmt = torch.channels_last if keys["layout"] == "nhwc" else torch.contiguous_format
    g = torch.Generator().manual_seed(0)
    if device == "cuda":
        torch.backends.cudnn.benchmark = True
        torch.backends.cudnn.allow_tf32 = keys["precision"] == "f32.tf32.f32"

    def tensor(*shape: int) -> Any:
        t = torch.rand(*shape, generator=g) * 2 - 1
        return t.to(device=device, dtype=dtype).contiguous(memory_format=fmt)

    x, w = tensor(s["n"], s["c"], s["h"], s["w"]), tensor(s["k"], s["c"], s["r"], s["s"])
    conv = dict(stride=[s["stride"]] * 2, padding=[s["pad"]] * 2, dilation=[s["dilation"]] * 2)
    F = torch.nn.functional
    with torch.no_grad():
        y = F.conv2d(x, w, **conv)
    dy = tensor(*y.shape)
    pss = keys["pass"]
    auto = torch.autocast("cpu", dtype=torch.bfloat16,
                          enabled=device == "cpu" and dtype == torch.bfloat16)

    def call() -> Any:
        with torch.no_grad(), auto:
            if pss == "fwd":
                return F.conv2d(x, w, **conv)
            mask = [pss == "bwd_data", pss == "bwd_weights", False]
            return torch.ops.aten.convolution_backward(
                dy, x, w, None, conv["stride"], conv["padding"], conv["dilation"], False, [0, 0],
                1, mask)
    return call


def time_call(torch: Any, call: Callable[[], Any], reps: int, min_time: float,
              device: str = "cpu") -> list[float]:
    """Seconds a call, one value a round: two untimed calls, then rounds of at least min_time
    (on the GPU between CUDA events, the device synchronized before the first)."""
    gpu = device == "cuda"
    sync = torch.cuda.synchronize if gpu else (lambda: None)
    call()
    sync()
    t0 = time.perf_counter()
    call()
    sync()
    per = max(time.perf_counter() - t0, 1e-9)
    calls = max(1, int(min_time / per))
    out = []
    for _ in range(reps):
        if gpu:
            start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            for _ in range(calls):
                call()
            stop.record()
            stop.synchronize()
            out.append(start.elapsed_time(stop) / 1e3 / calls)
        else:
            t0 = time.perf_counter()
            for _ in range(calls):
                call()
            out.append((time.perf_counter() - t0) / calls)
    return out


def name_of(keys: dict[str, str]) -> str:
    return "torch/conv2d/" + "/".join(f"{k}:{keys[k]}" for k in KEYS if k in keys)


def row(name: str, times: list[float], flops: float, threads: int, label: str) -> dict[str, Any]:
    t = statistics.median(times)
    return {"name": f"{name}_median", "run_name": name, "run_type": "aggregate",
            "aggregate_name": "median", "repetitions": len(times), "threads": threads,
            "iterations": 1, "time_unit": "us", "real_time": t * 1e6, "cpu_time": t * 1e6,
            "flops": flops / t, "label": label}


def main(argv: Optional[list[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="torch_conv.py", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--suite", type=Path, required=True, help="the dtypebench run with conv rows")
    p.add_argument("--out", type=Path, help="output JSON")
    p.add_argument("--markdown", type=Path, help="also write the side-by-side table here")
    p.add_argument("--repetitions", type=int, default=5, help="rounds per problem (5)")
    p.add_argument("--min-time", type=float, default=0.1, help="seconds a round at least (0.1)")
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu",
                   help="cpu: the conv/onednn rows; cuda: the conv/cudnn algo:best rows")
    args = p.parse_args(argv)
    if args.repetitions < 1 or not args.min_time > 0:
        print("torch_conv: --repetitions needs 1 or more and --min-time a positive number",
              file=sys.stderr)
        return EXIT_UNREADABLE
    try:
        suite = suite_out_markdown(args.suite, args.out, args.markdown)
    except ResultsError as e:
        print(f"torch_conv: {e}", file=sys.stderr)
        return EXIT_UNREADABLE
    todo = problems(suite, args.device)
    if not todo:
        what = "conv/onednn rows in nchw or nhwc, f32 or bf16" if args.device == "cpu" else \
            "conv/cudnn algo:best rows"
        print(f"torch_conv: {args.suite}: no verified {what}: nothing to compare",
              file=sys.stderr)
        return EXIT_UNREADABLE
    try:
        import torch
    except ImportError:
        print("torch_conv: skipped: PyTorch is not installed for " + sys.executable +
              " (.venv/bin/pip install torch)")
        return EXIT_OK
    if args.device == "cuda" and not torch.cuda.is_available():
        print("torch_conv: skipped: PyTorch sees no CUDA device")
        return EXIT_OK
    doc: dict[str, Any] = {"context": {"library": "torch", "torch_version": torch.__version__,
                                       "device": args.device,
                                       "mkldnn": str(torch.backends.mkldnn.is_available())},
                           "benchmarks": []}
    if args.device == "cuda":
        doc["context"]["gpu_name"] = torch.cuda.get_device_properties(0).name
        doc["context"]["cudnn_version"] = str(torch.backends.cudnn.version())
    label = f"verified: torch {torch.__version__} {args.device}"
    try:
        for keys, s in todo:
            name = name_of(keys)
            if "threads" in keys:
                torch.set_num_threads(int(keys["threads"]))
            try:
                times = time_call(torch, make_call(torch, keys, s, args.device), args.repetitions,
                                  args.min_time, args.device)
            except RuntimeError as e:  # a precision or format this torch lacks
                print(f"{name}: skipped: {str(e).splitlines()[0]}")
                continue
            p_out = (s["h"] + 2 * s["pad"] - s["dilation"] * (s["r"] - 1) - 1) // s["stride"] + 1
            q_out = (s["w"] + 2 * s["pad"] - s["dilation"] * (s["s"] - 1) - 1) // s["stride"] + 1
            flops = 2.0 * s["n"] * s["k"] * s["c"] * s["r"] * s["s"] * p_out * q_out
            doc["benchmarks"].append(row(name, times, flops, int(keys.get("threads", 1)), label))
            print(f"{name:<96} {doc['benchmarks'][-1]['flops'] / 1e9:8.1f} GFLOP/s", flush=True)
    except KeyboardInterrupt:
        print("torch_conv: interrupted; the rows so far are kept", file=sys.stderr)
        status = EXIT_INTERRUPTED
    else:
        status = EXIT_OK if doc["benchmarks"] else EXIT_FAILED
    return finish("torch_conv", doc, suite, args.out, args.markdown, status, side_by_side)


if __name__ == "__main__":
    use_venv_for("torch", __file__)
    sys.exit(main())
