"""report: turn dtypebench runs into what the docs need: report.md, one self-contained report.html
and the PNG figures, in one directory.

    report RUN.json [RUN.json ...] -o DIR [--no-plots]

Everything is read from benchmark names (family/variant/key:value/...) and counters, never from
free text, so a family added later gets a section without a change here. Per run:
  baseline  bandwidth (bytes rate, GB/s) of read/copy/copy_nt/triad against working_set_bytes at
            the largest thread count, with the context's L1d/L2/L3 sizes marked (a plot and a
            table of every bandwidth kernel by level); a table of the FLOP peaks (*_peak);
  layout    the layout/derived ratios per dtype and level (a table); the strided sweep (ns per
            element against the stride in bytes, the 64-byte line marked) at the largest level;
  convert   conversion bandwidth as a share of the copy (convert/derived); peak memory against
            theory (peak_bytes, theory_bytes, peak_over_theory) as a table and a bar plot;
  gemm      per precision the FLOP/s at the largest square shape, its share of the roof, the
            speedup over f64 and the error (gemm/derived) as a table; speed against error
            (one point per precision, both axes log);
  other     a table of its representative rows (name, time, rates);
  roofline  operational intensity (flops / bytes of the same row) against attained FLOP/s for
            every row with both, under the run's own ceilings: the largest baseline fma_peak
            flops rate and the largest DRAM copy/triad bytes rate (CPU rows; GPU rows, which
            have no threads key, under the gpu_* ceilings).
With several runs, each gets these sections and then, per family, one table with a column per
machine, rows lined up by name (n dropped where a level says the size; threads:N of a run's
largest thread count written threads:max).

report.md is deterministic: the same input gives the same bytes (sorted rows, fixed number
formats, no time but the input's own). Every file is written through a temporary file and a
rename, report.md last, so a failure never leaves a half-written report. Exit 0 when written,
2 when an input is not a readable result (one line says why), when matplotlib is missing (use
--no-plots, or .venv/bin/python) or DIR cannot be written, and 130 when interrupted.
"""
from __future__ import annotations

import argparse
import base64
import html
import io
import math
import os
import re
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Optional, Sequence, Union

from . import EXIT_INTERRUPTED, EXIT_OK, EXIT_UNREADABLE, command
from .load import ResultsError, context_of, load_run
from .rows import (Row, counters, disposition, dtype_order, is_derived, name_of, parse_name,
                   rate, representative, run_name, seconds)

CACHE_LINE = 64  # bytes; the strided sweep's knee
LEVELS = ("L1", "L2", "L3", "DRAM")
FAMILY_ORDER = ("baseline", "layout", "convert", "gemm")
BANDWIDTH_KERNELS = ("read", "copy", "copy_nt", "triad")
GPU_BANDWIDTH_KERNELS = ("gpu_read", "gpu_copy", "gpu_memcpy_d2d", "gpu_triad")
LAYOUT_SWEEP_VALUE = re.compile(r"^stride\d+_over_stride1$")  # the sweep plot shows these
# (target, roof variant, bandwidth variants): the run's own measured ceilings
CEILINGS = {"cpu": ("fma_peak", ("copy", "triad")),
            "gpu": ("gpu_fma_peak", ("gpu_memcpy_d2d", "gpu_copy", "gpu_triad"))}
MIB = 1024.0 * 1024.0


class ToolMissing(Exception):
    """A tool the command needs (matplotlib) is not importable; str() is one line."""


# ---- the document: blocks rendered to Markdown and to HTML alike

@dataclass
class Heading:
    level: int
    text: str


@dataclass
class Para:
    text: str


@dataclass
class Table:
    caption: str
    header: list[str]
    rows: list[list[str]]


@dataclass
class Figure:
    file: str
    caption: str
    png: bytes = b""


Block = Union[Heading, Para, Table, Figure]


@dataclass
class Run:
    """One input file as the sections read it."""

    path: str
    label: str  # unique among the inputs: the machine and the file's stem
    context: dict[str, Any]
    rows: list[Row]  # every row of the file
    reps: list[Row]  # one row per run that did not fail (rows.representative)
    prefix: str = ""  # of its figure files, so several runs do not share a name

    @property
    def machine(self) -> str:
        return machine(self.context)

    @property
    def commit(self) -> str:
        return commit(self.context)

    @property
    def where(self) -> str:
        """what every table and plot says it shows: the machine and the commit"""
        return f"{self.machine}; commit {self.commit}"


# ---- formatting: fixed formats, so the Markdown is the same bytes every time

def fmt(x: Optional[float]) -> str:
    """A number in a fixed, readable format: 3 significant digits, no exponent between 0.001
    and 10^6; '-' for a value that is absent."""
    if x is None or not math.isfinite(x):
        return "-"
    a = abs(x)
    if a == 0:
        return "0"
    if a >= 1e6 or a < 1e-3:
        return f"{x:.2e}"
    if a >= 100:
        return f"{x:.0f}"
    if a >= 10:
        return f"{x:.1f}"
    if a >= 1:
        return f"{x:.2f}"
    return f"{x:.3g}"


def size(nbytes: Optional[float]) -> str:
    if nbytes is None:
        return "-"
    for unit, scale in (("GiB", 1024.0 ** 3), ("MiB", MIB), ("KiB", 1024.0)):
        if nbytes >= scale:
            return f"{fmt(nbytes / scale)} {unit}"
    return f"{fmt(nbytes)} B"


def ctx_number(context: dict[str, Any], key: str) -> Optional[float]:
    """A context value that is a number or a numeric string (the binary writes strings)."""
    v = context.get(key)
    if isinstance(v, bool):
        return None
    try:
        x = float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) and x > 0 else None


def machine(context: dict[str, Any]) -> str:
    """'<cpu>, <gpu>, N cores, host <name>' from what the context has."""
    parts = []
    for key in ("cpu_model", "gpu_name"):
        v = context.get(key)
        if isinstance(v, str) and v.strip():
            parts.append(v.strip())
    cores = ctx_number(context, "cpu_cores") or ctx_number(context, "num_cpus")
    if cores:
        parts.append(f"{int(cores)} cores")
    for key in ("hostname", "host_name"):
        v = context.get(key)
        if isinstance(v, str) and v.strip():
            parts.append(f"host {v.strip()}")
            break
    return ", ".join(parts) or "unknown machine"


def commit(context: dict[str, Any]) -> str:
    v = context.get("git_commit") or context.get("commit")
    if not isinstance(v, str) or not v.strip():
        return "unknown"
    v = v.strip()
    m = re.fullmatch(r"([0-9a-f]{12})[0-9a-f]*(.*)", v)
    return m.group(1) + m.group(2) if m else v


def md_cell(s: str) -> str:
    return s.replace("|", "\\|").replace("\n", " ")


def level_rank(level: str) -> int:
    return LEVELS.index(level) if level in LEVELS else len(LEVELS)


def threads_of(keys: dict[str, str]) -> Optional[int]:
    t = keys.get("threads", "")
    return int(t) if t.isdigit() else None


def dtype_rank(order: list[str]) -> Callable[[str], tuple[int, str]]:
    return lambda d: (order.index(d) if d in order else len(order), d)


def short_name(name: str) -> str:
    """A run name without Google Benchmark's real_time/manual_time and min_time parts."""
    return "/".join(p for p in name.split("/")
                    if p not in ("real_time", "manual_time") and not p.startswith("min_time:"))


# ---- figures (matplotlib imported here only)

def pyplot() -> Any:
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as e:
        raise ToolMissing(f"matplotlib is not installed ({e}); run it with .venv/bin/python "
                          "(scripts/setup.sh makes it) or give --no-plots") from None
    return plt


def png_of(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, metadata={"Software": None})
    pyplot().close(fig)
    return buf.getvalue()


def new_figure(title: str, where: str) -> tuple[Any, Any]:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(8, 5), layout="constrained")
    ax.set_title(f"{title}\n{where}", fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    return fig, ax


# ---- sections: each returns blocks; plots are made only when `plots`

class Sections:
    def __init__(self, run: Run, level: int, plots: bool) -> None:
        self.run = run
        self.level = level
        self.plots = plots
        self.dorder = dtype_rank(dtype_order(run.context))

    def fig(self, stem: str, caption: str, draw: Callable[[], Any]) -> list[Block]:
        if not self.plots:
            return []
        return [Figure(f"{self.run.prefix}{stem}.png", caption, png_of(draw()))]

    def caption(self, what: str) -> str:
        return f"{what} ({self.run.where})"

    def family(self, family: str) -> list[Block]:
        b: list[Block] = [Heading(self.level, family)]
        rows = [r for r in self.run.rows if name_of(r).family == family]
        reps = [r for r in self.run.reps if name_of(r).family == family]
        kinds: dict[str, tuple[str, str]] = {}  # run name -> its disposition (first row)
        for r in rows:
            kinds.setdefault(short_name(run_name(r)), disposition(r))
        counts: dict[str, int] = {}
        reasons: dict[str, int] = {}
        for kind, why in kinds.values():
            counts[kind] = counts.get(kind, 0) + 1
            if kind == "skipped":
                reasons[why or "no reason given"] = reasons.get(why or "no reason given", 0) + 1
        b.append(Para(f"{len(kinds)} benchmark{'' if len(kinds) == 1 else 's'}: "
                      + ", ".join(f"{v} {k}" for k, v in sorted(counts.items())) + "."
                      + (" Skipped: " + "; ".join(f"{why} ({v})" for why, v in
                                                  sorted(reasons.items())) + "." if reasons
                         else "")))
        if not reps:
            return b + [Para("Nothing in this family ran (every row was skipped or failed), "
                             "so there is nothing to show.")]
        failed = sorted({short_name(run_name(r)) for r in rows if disposition(r)[0] == "failed"})
        if failed:
            b.append(Para("Failed: " + ", ".join(f"`{n}`" for n in failed) + "."))
        body = {"baseline": self.baseline, "layout": self.layout, "convert": self.convert,
                "gemm": self.gemm}.get(family, self.generic)(reps)
        return b + (body or [Para("Nothing here to tabulate or plot.")])

    # baseline ----------------------------------------------------------------------------
    def baseline(self, reps: list[Row]) -> list[Block]:
        out: list[Block] = []
        for target, kernels, marks in (
                ("cpu", BANDWIDTH_KERNELS, (("L1d", "l1d_bytes"), ("L2", "l2_bytes"),
                                            ("L3", "l3_bytes"))),
                ("gpu", GPU_BANDWIDTH_KERNELS, (("GPU L2", "gpu_l2_bytes"),))):
            out += self.bandwidth(reps, target, kernels, marks)
        peaks = []
        for r in reps:
            n = name_of(r)
            f = rate(r, "flops")
            if n.variant.endswith("_peak") and f is not None:
                peaks.append((n.variant, self.dorder(n.keys.get("dtype", "")),
                              threads_of(n.keys) or 0, n.keys.get("threads", "gpu"), f))
        if peaks:
            out.append(Table(self.caption("FLOP peaks"), ["kernel", "dtype", "threads", "GFLOP/s"],
                             [[v, d[1], t, fmt(f / 1e9)] for v, d, _, t, f in sorted(peaks)]))
        return out

    def bandwidth(self, reps: list[Row], target: str, kernels: Sequence[str],
                  marks: Sequence[tuple[str, str]]) -> list[Block]:
        ctx = self.run.context
        table: dict[tuple[str, str], dict[str, float]] = {}  # (kernel, dtype) -> level -> B/s
        lines: dict[tuple[str, str], list[tuple[float, float]]] = {}
        mine = []
        for r in reps:
            n = name_of(r)
            on_gpu = n.variant.startswith("gpu_")
            if (target == "gpu") != on_gpu or rate(r, "bytes") is None:
                continue
            mine.append((r, n))
        if not mine:
            return []
        top = max((threads_of(n.keys) or 0 for _, n in mine), default=0)
        for r, n in mine:
            if (threads_of(n.keys) or 0) != top:
                continue
            key = (n.variant, n.keys.get("dtype", ""))
            level = n.keys.get("level", "")
            table.setdefault(key, {})[level] = rate(r, "bytes") or 0.0
            ws = counters(r).get("working_set_bytes")
            if n.variant in kernels and ws:
                lines.setdefault(key, []).append((ws, (rate(r, "bytes") or 0.0) / 1e9))
        levels = sorted({lv for t in table.values() for lv in t}, key=level_rank)
        where = f"{'threads:' + str(top) if top else 'GPU'}"
        header = ["kernel", "dtype"] + [
            f"{lv} ({size(ctx_number(ctx, 'working_set_' + lv))})"
            if target == "cpu" and ctx_number(ctx, "working_set_" + lv) else lv for lv in levels]
        rows = [[k, d] + [fmt(table[(k, d)][lv] / 1e9) if lv in table[(k, d)] else "-"
                          for lv in levels]
                for k, d in sorted(table, key=lambda kd: (kd[0], self.dorder(kd[1])))]
        out: list[Block] = [Table(self.caption(f"bandwidth in GB/s by level, {where}"), header,
                                  rows)]
        if not lines:
            return out + [Para(f"No {', '.join(kernels)} rows with a working set: no "
                               "bandwidth plot.")]

        def draw() -> Any:
            fig, ax = new_figure(f"{target.upper()} bandwidth against working set, {where}",
                                 self.run.where)
            for (k, d), pts in sorted(lines.items(), key=lambda x: (x[0][0], self.dorder(x[0][1]))):
                pts.sort()
                ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=f"{k} {d}")
            for label, key in marks:
                x = ctx_number(ctx, key)
                if x:
                    ax.axvline(x, color="grey", linestyle="--", linewidth=1)
                    ax.annotate(f"{label} {size(x)}", (x, 1), xycoords=("data", "axes fraction"),
                                rotation=90, va="top", ha="right", fontsize=8)
            ax.set_xscale("log", base=2)
            ax.set_xlabel("working set (bytes)")
            ax.set_ylabel("GB/s")
            ax.set_ylim(bottom=0)
            ax.legend(fontsize=8)
            return fig

        return out + self.fig(f"baseline-{target}-bandwidth",
                              f"{target.upper()} bandwidth against working set ({self.run.where})",
                              draw)

    # layout ------------------------------------------------------------------------------
    def layout(self, reps: list[Row]) -> list[Block]:
        out: list[Block] = []
        cols: dict[tuple[Any, ...], dict[str, float]] = {}
        for r in reps:
            n = name_of(r)
            if n.variant != "derived" or not is_derived(r):
                continue
            d, lv, t = n.keys.get("dtype", ""), n.keys.get("level", ""), n.keys.get("threads", "")
            vals = {k: v for k, v in counters(r).items() if not LAYOUT_SWEEP_VALUE.match(k)}
            cols[(self.dorder(d), level_rank(lv), lv, t)] = vals
        if cols:
            order = sorted(cols)
            threads = {c[3] for c in order}
            header = ["derived value"] + [
                f"{c[0][1]} {c[2]}" + (f" t{c[3]}" if len(threads) > 1 else "") for c in order]
            names = sorted({k for v in cols.values() for k in v})
            rows = [[k] + [fmt(cols[c].get(k)) for c in order] for k in names]
            out.append(Table(self.caption("layout/derived: strided over contiguous, C->F copy "
                                          "over a plain copy, break-even passes (-1: never), "
                                          "the stride plateau in bytes"), header, rows))
        else:
            out.append(Para("No layout/derived rows (scripts/derive adds them)."))
        sweep: dict[tuple[str, int], dict[str, list[tuple[float, float]]]] = {}
        for r in reps:
            n = name_of(r)
            c = counters(r)
            t = seconds(r)
            if n.variant != "strided" or not n.keys.get("stride", "").isdigit() or t is None:
                continue
            try:
                elems = float(n.keys.get("n", ""))
            except ValueError:
                continue
            epl = c.get("elements_per_line")
            if not elems or not epl:
                continue
            key = (n.keys.get("level", ""), threads_of(n.keys) or 0)
            x = int(n.keys["stride"]) * CACHE_LINE / epl
            sweep.setdefault(key, {}).setdefault(n.keys.get("dtype", ""), []).append(
                (x, t / elems * 1e9))
        if not sweep:
            return out + [Para("No strided sweep in this run: no stride plot.")]
        level, top = max(sweep, key=lambda k: (level_rank(k[0]) if k[0] in LEVELS else -1, k[1]))
        lines = sweep[(level, top)]
        what = f"strided sweep at {level or 'its level'}, threads:{top}"

        def draw() -> Any:
            fig, ax = new_figure(what, self.run.where)
            for d in sorted(lines, key=self.dorder):
                pts = sorted(lines[d])
                ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=d)
            ax.axvline(CACHE_LINE, color="grey", linestyle="--", linewidth=1)
            ax.annotate(f"{CACHE_LINE}-byte cache line", (CACHE_LINE, 1),
                        xycoords=("data", "axes fraction"), rotation=90, va="top", ha="right",
                        fontsize=8)
            ax.set_xscale("log", base=2)
            ax.set_yscale("log")
            ax.set_xlabel("stride (bytes)")
            ax.set_ylabel("ns per element")
            ax.legend(fontsize=8)
            return fig

        return out + self.fig("layout-stride", f"{what} ({self.run.where})", draw)

    # convert -----------------------------------------------------------------------------
    def convert(self, reps: list[Row]) -> list[Block]:
        out: list[Block] = []
        shares: dict[tuple[int, str, str], dict[str, float]] = {}
        for r in reps:
            n = name_of(r)
            if n.variant == "derived" and is_derived(r):
                lv, t = n.keys.get("level", ""), n.keys.get("threads", "")
                shares[(level_rank(lv), lv, t)] = {
                    k[:-len("_over_copy_bw")] if k.endswith("_over_copy_bw") else k: v
                    for k, v in counters(r).items()}
        if shares:
            order = sorted(shares)
            threads = {c[2] for c in order}
            header = ["conversion"] + [c[1] + (f" t{c[2]}" if len(threads) > 1 else "")
                                       for c in order]
            names = sorted({k for v in shares.values() for k in v})
            out.append(Table(self.caption("conversion bandwidth as a share of the plain copy "
                                          "(convert/derived; 1 = the copy's)"), header,
                             [[k] + [fmt(shares[c].get(k)) for c in order] for k in names]))
        else:
            out.append(Para("No convert/derived rows (scripts/derive adds them)."))
        mem = []
        for r in reps:
            n = name_of(r)
            c = counters(r)
            if is_derived(r) or "peak_over_theory" not in c:
                continue
            what = n.variant + "".join(f" {k}:{v}" for k, v in n.keys.items()
                                       if k not in ("n", "level", "threads", "min_time"))
            lv = n.keys.get("level", "")
            mem.append((what, level_rank(lv), lv, threads_of(n.keys) or 0, c.get("peak_bytes"),
                        c.get("theory_bytes"), c["peak_over_theory"]))
        if not mem:
            return out + [Para("No rows with peak_over_theory: no peak-memory table or plot.")]
        mem.sort()
        out.append(Table(self.caption("peak memory against theory"),
                         ["strategy", "level", "threads", "peak", "theory", "peak / theory"],
                         [[w, lv, str(t), size(p), size(th), fmt(x)]
                          for w, _, lv, t, p, th, x in mem]))
        bars: dict[str, tuple[Any, ...]] = {}  # strategy -> its row at the largest level, threads
        for m in mem:
            if m[0] not in bars or m[1:4] > bars[m[0]][1:4]:
                bars[m[0]] = m

        def draw() -> Any:
            fig, ax = new_figure("peak memory against theory (largest level per strategy)",
                                 self.run.where)
            names = sorted(bars)
            xs = range(len(names))
            peak = [(bars[k][4] or 0) / MIB for k in names]
            theory = [(bars[k][5] or 0) / MIB for k in names]
            ax.bar([x - 0.2 for x in xs], peak, 0.4, label="peak (measured)")
            ax.bar([x + 0.2 for x in xs], theory, 0.4, label="theory")
            for x, k in zip(xs, names):
                ax.annotate(f"{fmt(bars[k][6])}x", (x, max(peak[x], theory[x])), ha="center",
                            va="bottom", fontsize=8)
            ax.set_xticks(list(xs))
            ax.set_xticklabels([f"{k}\n{bars[k][2]} t{bars[k][3]}" for k in names], fontsize=7,
                               rotation=20, ha="right")
            ax.set_ylabel("MiB")
            ax.legend(fontsize=8)
            return fig

        return out + self.fig("convert-peak-memory",
                              f"peak memory against theory ({self.run.where})", draw)

    # gemm --------------------------------------------------------------------------------
    def gemm(self, reps: list[Row]) -> list[Block]:
        derived = []
        for r in reps:
            n = name_of(r)
            if n.variant == "derived" and is_derived(r):
                derived.append((n.keys.get("precision", ""), n.keys.get("lib", ""),
                                n.keys.get("threads", ""), counters(r)))
        if not derived:
            return [Para("No gemm/derived rows (scripts/derive adds them): "
                         "no precision table or speed-error plot.")] + self.generic(reps)
        derived.sort(key=lambda d: (d[0], d[1], threads_of({"threads": d[2]}) or 0, d[2]))

        def share(c: dict[str, float]) -> str:
            for k, label in (("share_of_fma_peak", "fma"), ("share_of_datasheet_peak", "datasheet"),
                             ("share_of_achievable_peak", "achievable")):
                if k in c:
                    return f"{fmt(c[k])} ({label})"
            return "-"

        out: list[Block] = [Table(
            self.caption("GEMM per precision at the largest square NN shape "
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
            top = max(ds, key=lambda d: threads_of({"threads": d[2]}) or 0)[2]
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
            out += self.speed_error(target, top, pts)
        return out

    def speed_error(self, target: str, top: str,
                    pts: list[tuple[str, str, float, float]]) -> list[Block]:
        nonzero = [e for _, _, e, _ in pts if e > 0]
        floor = min(nonzero) / 10 if nonzero else 1e-16
        what = f"{target.upper()} GEMM speed against error, threads:{top}"
        notes = [Para(f"In the speed-error plot ({target.upper()}) an error of 0 (exact to the "
                      f"reference) is drawn at {fmt(floor)}.")] if len(nonzero) < len(pts) else []

        def draw() -> Any:
            fig, ax = new_figure(what, self.run.where)
            for i, (p, lib, e, s) in enumerate(sorted(pts, key=lambda q: q[3])):
                x = e if e > 0 else floor
                ax.scatter([x], [s], marker="o" if e > 0 else "v")
                # neighbours in speed alternate above and below, so close points stay readable
                ax.annotate(f"{p} ({lib})" + ("" if e > 0 else " err 0"), (x, s),
                            textcoords="offset points", xytext=(6, 5 if i % 2 else -11),
                            fontsize=8)
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xlabel("relative error (unrounded inputs, median over k)")
            ax.set_ylabel("speedup over f64")
            return fig

        return notes + self.fig(f"gemm-{target}-speed-error", f"{what} ({self.run.where})", draw)

    # any other family ---------------------------------------------------------------------
    def generic(self, reps: list[Row]) -> list[Block]:
        rows, derived = [], []
        for r in reps:
            if is_derived(r):
                for k, v in sorted(counters(r).items()):
                    derived.append([short_name(run_name(r)), k, fmt(v)])
                continue
            t = seconds(r)
            rows.append([short_name(run_name(r)), fmt(t * 1e6 if t is not None else None)]
                        + [fmt((rate(r, c) or math.nan) / 1e9) for c in ("bytes", "flops",
                                                                         "elements")]
                        + [fmt(counters(r).get("subject_over_ref_bw"))])
        out: list[Block] = []
        if rows:
            keep = [i for i in range(2, 6) if any(row[i] != "-" for row in rows)]
            header = ["benchmark", "time (us)"] + [
                ["GB/s", "GFLOP/s", "G elements/s", "subject / ref"][i - 2] for i in keep]
            out.append(Table(self.caption("representative rows (the median of the repetitions)"),
                             header, [row[:2] + [row[i] for i in keep] for row in sorted(rows)]))
        if derived:
            out.append(Table(self.caption("derived values"), ["entry", "value", ""],
                             sorted(derived)))
        return out

    # roofline ----------------------------------------------------------------------------
    def roofline(self) -> list[Block]:
        out: list[Block] = [Heading(self.level, "roofline")]
        base = [r for r in self.run.reps if name_of(r).family == "baseline"]
        if not base:
            return out + [Para("No baseline rows in this run, so no measured ceilings: "
                               "no roofline.")]
        drawn = False
        for target, (roof_variant, bw_variants) in sorted(CEILINGS.items()):
            def on(r: Row) -> bool:
                return (threads_of(name_of(r).keys) is None) == (target == "gpu")

            pts_rows = [r for r in self.run.reps if on(r) and not is_derived(r)
                        and rate(r, "flops") and rate(r, "bytes")]
            roofs = [rate(r, "flops") or 0.0 for r in base
                     if on(r) and name_of(r).variant == roof_variant and rate(r, "flops")]
            bws = [rate(r, "bytes") or 0.0 for r in base
                   if on(r) and name_of(r).variant in bw_variants and rate(r, "bytes")
                   and name_of(r).keys.get("level") == "DRAM"]
            if not pts_rows:
                continue
            if not roofs:
                out.append(Para(f"{target.upper()}: no baseline/{roof_variant} row, so no roof: "
                                "no roofline."))
                continue
            roof = max(roofs)
            bw = max(bws) if bws else None
            top = max((threads_of(name_of(r).keys) or 0 for r in pts_rows), default=0)
            pts: dict[str, list[tuple[float, float]]] = {}
            for r in pts_rows:
                if (threads_of(name_of(r).keys) or 0) != top:
                    continue
                f, b = rate(r, "flops") or 0.0, rate(r, "bytes") or 1.0
                pts.setdefault(name_of(r).family, []).append((f / b, f))
            summary = (f"{target.upper()} ceilings: {fmt(roof / 1e9)} GFLOP/s "
                       f"(the largest {roof_variant})")
            summary += (f", {fmt(bw / 1e9)} GB/s (the largest DRAM {'/'.join(bw_variants)}), "
                        f"ridge at {fmt(roof / bw)} FLOP/byte" if bw else
                        f"; no DRAM {'/'.join(bw_variants)} row, so no bandwidth slope")
            out.append(Para(summary + f"; {sum(len(v) for v in pts.values())} rows with flops "
                            f"and bytes at {'threads:' + str(top) if top else 'the GPU'}."))
            drawn = True

            def draw(pts: dict[str, list[tuple[float, float]]] = pts, roof: float = roof,
                     bw: Optional[float] = bw, target: str = target) -> Any:
                fig, ax = new_figure(f"{target.upper()} roofline (the run's own ceilings)",
                                     self.run.where)
                xs = [x for v in pts.values() for x, _ in v]
                lo, hi = min(xs + [roof / bw if bw else 1.0]) / 4, max(xs) * 4
                if bw:
                    ridge = roof / bw
                    ax.plot([lo, ridge, max(hi, ridge * 4)], [lo * bw / 1e9, roof / 1e9,
                                                              roof / 1e9],
                            color="black", linewidth=1.5, label="roof")
                else:
                    ax.axhline(roof / 1e9, color="black", linewidth=1.5, label="FLOP roof")
                for fam in sorted(pts):
                    ax.scatter([x for x, _ in pts[fam]], [y / 1e9 for _, y in pts[fam]], s=14,
                               label=fam)
                ax.set_xscale("log")
                ax.set_yscale("log")
                ax.set_xlabel("operational intensity (FLOP/byte)")
                ax.set_ylabel("GFLOP/s")
                ax.legend(fontsize=8)
                return fig

            out += self.fig(f"roofline-{target}", f"{target.upper()} roofline "
                                                  f"({self.run.where})", draw)
        if not drawn and len(out) == 1:
            out.append(Para("No row has both a flops and a bytes rate: no roofline."))
        return out


def families(rows: Iterable[Row]) -> list[str]:
    """The families present, the known ones first in a fixed order, then the others sorted."""
    found = {parse_name(run_name(r)).family for r in rows if run_name(r)}
    return [f for f in FAMILY_ORDER if f in found] + sorted(found - set(FAMILY_ORDER))


# ---- several machines: per family one table, a column per run

def line_up(name: str, top: Optional[int]) -> str:
    """A name as it lines up across machines: n dropped where a level says the size (the size
    follows each machine's caches) and the run's largest thread count written threads:max."""
    fam, variant, keys = parse_name(short_name(name))
    parts = [fam, variant]
    for p in short_name(name).split("/")[2:]:
        k, _, v = p.partition(":")
        if k == "n" and "level" in keys:
            continue
        if k == "threads" and top is not None and v == str(top):
            p = "threads:max"
        parts.append(p)
    return "/".join(parts)


def headline(r: Row) -> tuple[str, Optional[float]]:
    """(unit, value) of the number a row is read by: FLOP/s when it does more than a FLOP per
    byte (a GEMM), else bandwidth, else FLOP/s, else a pair's ratio, else elements/s, else its
    time."""
    flops, nbytes = rate(r, "flops"), rate(r, "bytes")
    if flops and (not nbytes or flops > nbytes):
        return "GFLOP/s", flops / 1e9
    if nbytes:
        return "GB/s", nbytes / 1e9
    ratio = counters(r).get("subject_over_ref_bw")
    if ratio is not None:
        return "subject / ref", ratio
    if rate(r, "elements"):
        return "G elements/s", (rate(r, "elements") or 0.0) / 1e9
    t = seconds(r)
    return "us", t * 1e6 if t is not None else None


def across(runs: list[Run], level: int) -> list[Block]:
    out: list[Block] = [Heading(level, "across machines"),
                        Para("One column per run; rows lined up by benchmark name (n dropped where "
                             "a level says the size, threads:max = each run's largest thread "
                             "count). Runs: " + "; ".join(f"{r.label} = {r.machine}, commit "
                                                          f"{r.commit}" for r in runs) + ".")]
    all_fams = families(r for run in runs for r in run.rows)
    for fam in all_fams:
        table: dict[tuple[str, str], dict[int, str]] = {}
        for i, run in enumerate(runs):
            mine = [r for r in run.reps if name_of(r).family == fam]
            top = max((threads_of(name_of(r).keys) or 0 for r in mine), default=0) or None
            for r in mine:
                key = line_up(run_name(r), top)
                if is_derived(r):
                    for k, v in counters(r).items():
                        table.setdefault((f"{key} {k}", ""), {})[i] = fmt(v)
                else:
                    unit, v = headline(r)
                    table.setdefault((key, unit), {})[i] = fmt(v)
        if not table:
            continue
        out.append(Heading(level + 1, fam))
        out.append(Table(f"{fam} across machines: " + "; ".join(r.where for r in runs),
                         ["benchmark", "unit"] + [r.label for r in runs],
                         [[k, u] + [table[(k, u)].get(i, "-") for i in range(len(runs))]
                          for k, u in sorted(table)]))
    return out


# ---- rendering

def markdown(blocks: Sequence[Block]) -> str:
    out: list[str] = []
    for b in blocks:
        if isinstance(b, Heading):
            out += ["#" * b.level + " " + b.text, ""]
        elif isinstance(b, Para):
            out += [b.text, ""]
        elif isinstance(b, Table):
            out += [f"*{md_cell(b.caption)}*", "",
                    "| " + " | ".join(md_cell(h) for h in b.header) + " |",
                    "|" + "|".join("---" for _ in b.header) + "|"]
            out += ["| " + " | ".join(md_cell(c) for c in row) + " |" for row in b.rows]
            out.append("")
        elif isinstance(b, Figure):
            out += [f"![{md_cell(b.caption)}]({b.file})", ""]
    return "\n".join(out).rstrip("\n") + "\n"


def inline(text: str) -> str:
    """Markdown's `code` as <code> in otherwise escaped text."""
    parts = html.escape(text).split("`")
    return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))


def as_html(blocks: Sequence[Block], title: str) -> str:
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           f"<title>{html.escape(title)}</title>",
           "<style>body{font-family:sans-serif;max-width:72em;margin:1em auto;padding:0 1em}"
           "table{border-collapse:collapse;margin:0.5em 0 1.5em}"
           "td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}"
           "td:first-child,th:first-child{text-align:left}caption{text-align:left;"
           "font-style:italic;padding:4px 0}img{max-width:100%}</style></head><body>"]
    for b in blocks:
        if isinstance(b, Heading):
            out.append(f"<h{b.level}>{html.escape(b.text)}</h{b.level}>")
        elif isinstance(b, Para):
            out.append(f"<p>{inline(b.text)}</p>")
        elif isinstance(b, Table):
            out.append(f"<table><caption>{html.escape(b.caption)}</caption><tr>"
                       + "".join(f"<th>{html.escape(h)}</th>" for h in b.header) + "</tr>")
            out += ["<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
                    for row in b.rows]
            out.append("</table>")
        elif isinstance(b, Figure):
            data = base64.b64encode(b.png).decode("ascii")
            out.append(f'<figure><img src="data:image/png;base64,{data}" '
                       f'alt="{html.escape(b.caption)}"><figcaption>{html.escape(b.caption)}'
                       "</figcaption></figure>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def read_runs(paths: Sequence[str]) -> list[Run]:
    """The inputs as runs; ResultsError for a file that is not a result or has no benchmarks."""
    runs = []
    for path in paths:
        doc = load_run(path)
        if not doc["benchmarks"]:
            raise ResultsError(path, "the benchmarks list is empty: nothing to report")
        if not all(isinstance(b.get("name", b.get("run_name")), str) for b in doc["benchmarks"]):
            raise ResultsError(path, "a benchmark has no name")
        ctx = context_of(doc)
        runs.append(Run(str(path), "", ctx, doc["benchmarks"], representative(doc["benchmarks"])))
    stems = [Path(r.path).stem for r in runs]
    for i, r in enumerate(runs):
        cpu = r.context.get("cpu_model") if isinstance(r.context.get("cpu_model"), str) else ""
        gpu = r.context.get("gpu_name") if isinstance(r.context.get("gpu_name"), str) else ""
        stem = stems[i] if stems.count(stems[i]) == 1 else f"{stems[i]}#{i + 1}"
        r.label = ", ".join(x for x in (cpu, gpu) if x) + f" ({stem})" if cpu or gpu else stem
        r.prefix = f"run{i + 1}-" if len(runs) > 1 else ""
    return runs


def build(runs: list[Run], plots: bool = True) -> list[Block]:
    """The whole report as blocks (figures rendered when plots)."""
    blocks: list[Block] = [Heading(1, "dtypebench report")]
    multi = len(runs) > 1
    for i, run in enumerate(runs):
        lvl = 2
        if multi:
            blocks.append(Heading(2, f"run {i + 1}: {run.label}"))
            lvl = 3
        date = run.context.get("date")
        blocks.append(Para(f"Machine: {run.machine}. Commit: {run.commit}. "
                           + (f"Measured: {date}. " if isinstance(date, str) else "")
                           + f"File: `{Path(run.path).name}`."))
        s = Sections(run, lvl, plots)
        for fam in families(run.rows):
            blocks += s.family(fam)
        blocks += s.roofline()
    if multi:
        blocks += across(runs, 2)
    return blocks


def write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".partial", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def report(paths: Sequence[str], out_dir: Union[str, Path], plots: bool = True) -> list[Path]:
    """Writes report.md, report.html and the PNGs of paths into out_dir; the files written.
    Everything is rendered before the first file is written, and report.md goes last."""
    runs = read_runs(paths)
    blocks = build(runs, plots)
    md = markdown(blocks).encode("utf-8")
    page = as_html(blocks, "dtypebench report: " + "; ".join(r.machine for r in runs))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for b in blocks:
        if isinstance(b, Figure):
            write_atomic(out / b.file, b.png)
            written.append(out / b.file)
    write_atomic(out / "report.html", page.encode("utf-8"))
    write_atomic(out / "report.md", md)
    return written + [out / "report.html", out / "report.md"]


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="report", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("runs", nargs="+", metavar="RUN.json",
                   help="dtypebench results (scripts/characterize, gpu-check, or the binary's "
                        "--benchmark_out followed by scripts/derive)")
    p.add_argument("-o", "--out", required=True, metavar="DIR",
                   help="the directory to write report.md, report.html and the PNGs into "
                        "(made when missing; files of the same name are replaced)")
    p.add_argument("--no-plots", action="store_true",
                   help="tables only (no PNGs, no matplotlib needed)")
    return p


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parser().parse_args(argv)
    try:
        written = report(args.runs, args.out, plots=not args.no_plots)
    except (ResultsError, ToolMissing) as e:
        print(f"report: {e}", file=sys.stderr)
        return EXIT_UNREADABLE
    except OSError as e:
        print(f"report: cannot write {args.out}: {e.strerror or e}", file=sys.stderr)
        return EXIT_UNREADABLE
    except KeyboardInterrupt:
        print("report: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    pngs = sum(1 for w in written if w.suffix == ".png")
    print(f"report: {Path(args.out) / 'report.md'}, report.html and {pngs} PNGs")
    return EXIT_OK


def entry() -> int:
    """The command: SIGTERM stops it as Ctrl-C does (exit 130)."""
    return command(main)
