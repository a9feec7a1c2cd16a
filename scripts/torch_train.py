#!/usr/bin/env python3
"""PyTorch training the suite's seed CNN beside it, thread for thread: for every verified training
run of a dtypebench run (--suite, required; its train/seed_cnn summary rows), the same model,
data, initial weights and order of batches, trained the same way on the CPU:

  Conv2d(3, C, 2) -> Conv2d(C, C, 1) -> Conv2d(C, C, 1) -> Flatten -> Linear(F, 1), biases, no
  activation; BCEWithLogitsLoss; Adam(lr 1e-3, betas 0.9/0.999, eps 1e-7); batches in order

The images, labels and initial weights are the suite's own numbers (its splitmix64 fill, ported:
images uniform in [0, 1) by their NCHW index, labels uniform < 0.5 -> 0, glorot-uniform weights by
their KCRS index, zero biases), so the two runs' losses track each other: the table shows both.
torch.set_num_threads as the run's threads, channels_last for NHWC; f32, and bf16_mixed as bf16
autocast around the forward pass (PyTorch's bf16 recipe: its convolutions give bf16, the suite's
f32; the master weights are f32 on both sides). Every step is timed; rows
torch/seed_cnn/<the suite's keys>/epoch:k and a summary as the suite writes them (step times,
first_over_rest, loss_last, accuracy after each epoch, untimed), and a table of ours beside
PyTorch's to stdout and --markdown. Without PyTorch it says so in one line and exits 0
(`.venv/bin/pip install torch` installs it: large). --suite, --out and --markdown are checked
before anything runs (exit 2, one line).
"""
from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Optional

from dtypebench_results import (EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_UNREADABLE,
                                ResultsError, use_venv_for)
from dtypebench_results.families.train import side_by_side
from dtypebench_results.peers import finish, suite_out_markdown
from dtypebench_results.rows import representative

SEED_IMAGES, SEED_LABELS, SEED_WEIGHTS = 401, 402, 403  # kernels/cpu/train.cpp, + 4 per seed
MASK = (1 << 64) - 1
# the suite's name order (bench/train.cpp)
NAME_KEYS = ("mode", "layout", "image", "channels", "batch", "images", "epochs", "threads")


def uniform_at(np: Any, seed: int, count: int, lo: float = -1.0, hi: float = 1.0) -> Any:
    """include/dtypebench/fill.hpp's uniform_at(seed, i) for i in 0..count-1 (uint64 wraps)."""
    with np.errstate(over="ignore"):
        x = np.uint64((seed * 0x100000001b3) & MASK) + np.arange(count, dtype=np.uint64)
        x = x + np.uint64(0x9e3779b97f4a7c15)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xbf58476d1ce4e5b9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94d049bb133111eb)
        x = x ^ (x >> np.uint64(31))
    u = (x >> np.uint64(11)).astype(np.float64) * 2.0 ** -53
    return lo + (hi - lo) * u


def runs(suite: dict[str, Any]) -> list[dict[str, str]]:
    """The keys of every verified train/seed_cnn summary row (f32, bf16_mixed), in the run's
    order."""
    out = []
    for b in representative(suite["benchmarks"]):
        if (b.family, b.variant) == ("train", "seed_cnn") and "epoch" not in b.keys and \
                b.kind == "verified" and b.keys.get("mode") in ("f32", "bf16_mixed"):
            out.append({k: b.keys[k] for k in NAME_KEYS})
    return out


def train(torch: Any, np: Any, keys: dict[str, str]) -> list[dict[str, Any]]:
    """One training run as the suite's rows: epoch:k rows, then the summary."""
    H, C, B, M = (int(keys[k]) for k in ("image", "channels", "batch", "images"))
    epochs, threads = int(keys["epochs"]), int(keys["threads"])
    torch.set_num_threads(threads)
    P = H - 1
    F = C * P * P
    fmt = torch.channels_last if keys["layout"] == "nhwc" else torch.contiguous_format
    images = torch.from_numpy(uniform_at(np, SEED_IMAGES, M * 3 * H * H, 0.0, 1.0)
                              .astype(np.float32)).reshape(M, 3, H, H)
    labels = torch.from_numpy((uniform_at(np, SEED_LABELS, M, 0.0, 1.0) >= 0.5)
                              .astype(np.float32)).reshape(M, 1)
    model = torch.nn.Sequential(torch.nn.Conv2d(3, C, 2), torch.nn.Conv2d(C, C, 1),
                                torch.nn.Conv2d(C, C, 1), torch.nn.Flatten(),
                                torch.nn.Linear(F, 1))
    shapes = [(C, 3, 2, 2), (C,), (C, C, 1, 1), (C,), (C, C, 1, 1), (C,), (1, F), (1,)]
    limits = [math.sqrt(6 / (12 + 4 * C)), 0, math.sqrt(6 / (2 * C)), 0, math.sqrt(6 / (2 * C)),
              0, math.sqrt(6 / (F + 1)), 0]
    with torch.no_grad():
        for t, (p, shape) in enumerate(zip(model.parameters(), shapes)):
            n = int(np.prod(shape))
            v = limits[t] * uniform_at(np, SEED_WEIGHTS + 16 * t, n)
            p.copy_(torch.from_numpy(v.astype(np.float32)).reshape(shape))
    model = model.to(memory_format=fmt)
    images = images.contiguous(memory_format=fmt)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-7)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    auto = torch.autocast("cpu", dtype=torch.bfloat16, enabled=keys["mode"] == "bf16_mixed")
    name = "torch/seed_cnn/" + "/".join(f"{k}:{keys[k]}" for k in NAME_KEYS)
    rows, epoch_seconds = [], []
    for e in range(epochs):
        step_s, losses = [], []
        start = time.perf_counter()
        for b in range(M // B):
            t0 = time.perf_counter()
            opt.zero_grad(set_to_none=True)
            with auto:
                out = model(images[b * B:(b + 1) * B])
            loss = loss_fn(out.float(), labels[b * B:(b + 1) * B])
            loss.backward()
            opt.step()
            losses.append(loss.item())
            step_s.append(time.perf_counter() - t0)
        epoch_seconds.append(time.perf_counter() - start)
        with torch.no_grad(), auto:
            right = sum(int(((model(images[i:i + B]) > 0).float() == labels[i:i + B]).sum())
                        for i in range(0, M, B))
        rows.append(row(f"{name}/epoch:{e + 1}", epoch_seconds[-1], threads, {
            "epoch": e + 1, "steps": len(step_s), "step_seconds_median": statistics.median(step_s),
            "loss_first": losses[0], "loss_last": losses[-1], "accuracy": right / M,
            "elements": M / epoch_seconds[-1]}))
    rest = epoch_seconds[1:]
    total = sum(epoch_seconds)
    summary = {"epochs": epochs, "first_epoch_seconds": epoch_seconds[0],
               "loss_last": rows[-1]["loss_last"], "accuracy": rows[-1]["accuracy"],
               "elements": M * epochs / total}
    if rest:
        summary["rest_epoch_seconds_median"] = statistics.median(rest)
        summary["first_over_rest"] = epoch_seconds[0] / statistics.median(rest)
    rows.append(row(name, total, threads, summary))
    return rows


def row(name: str, seconds: float, threads: int, counters: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "run_name": name, "run_type": "iteration", "repetitions": 1,
            "threads": threads, "iterations": 1, "time_unit": "us", "real_time": seconds * 1e6,
            "cpu_time": seconds * 1e6, **counters, "label": "verified"}


def main(argv: Optional[list[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="torch_train.py", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--suite", type=Path, required=True, help="the dtypebench run with train rows")
    p.add_argument("--out", type=Path, help="output JSON")
    p.add_argument("--markdown", type=Path, help="also write the side-by-side table here")
    args = p.parse_args(argv)
    try:
        suite = suite_out_markdown(args.suite, args.out, args.markdown)
    except ResultsError as e:
        print(f"torch_train: {e}", file=sys.stderr)
        return EXIT_UNREADABLE
    todo = runs(suite)
    if not todo:
        print(f"torch_train: {args.suite}: no verified train/seed_cnn runs: nothing to compare",
              file=sys.stderr)
        return EXIT_UNREADABLE
    try:
        import numpy as np
        import torch
    except ImportError:
        print("torch_train: skipped: PyTorch (or NumPy) is not installed for " + sys.executable +
              " (.venv/bin/pip install torch)")
        return EXIT_OK
    doc: dict[str, Any] = {"context": {"library": "torch", "torch_version": torch.__version__,
                                       "device": "cpu"}, "benchmarks": []}
    status = EXIT_OK
    try:
        for keys in todo:
            rows = train(torch, np, keys)
            doc["benchmarks"].extend(rows)
            print(f"{rows[-1]['name']:<100} {rows[-1]['real_time'] / 1e6:7.2f} s", flush=True)
    except KeyboardInterrupt:
        print("torch_train: interrupted; the runs so far are kept", file=sys.stderr)
        status = EXIT_INTERRUPTED
    if not doc["benchmarks"] and status == EXIT_OK:
        status = EXIT_FAILED
    return finish("torch_train", doc, suite, args.out, args.markdown, status, side_by_side)


if __name__ == "__main__":
    use_venv_for("torch", __file__)
    sys.exit(main())
