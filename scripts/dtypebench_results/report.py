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
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Optional, Sequence, Union

from . import EXIT_OK, EXIT_UNREADABLE, command, interruptible
from .families import hook
from .load import REFERENCE_LIBRARIES, ResultsError, context_of, load_run, write_atomic
from .machine import machine, positive
from .rows import Bench, benches, dtype_order, representative
from .tables import cell, markdown as table

LEVELS = ("L1", "L2", "L3", "DRAM")
FAMILY_ORDER = ("baseline", "layout", "convert", "gemm")
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
    rows: list[Bench]  # every row of the file
    reps: list[Bench]  # one row per run that did not fail (rows.representative)
    prefix: str = ""  # of its figure files, so several runs do not share a name

    @property
    def machine(self) -> str:
        return machine(self.context).label()

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
    """A context value that is a number or a numeric string above 0 (the binary writes strings)."""
    return positive(context.get(key))


def commit(context: dict[str, Any]) -> str:
    v = context.get("git_commit") or context.get("commit")
    if not isinstance(v, str) or not v.strip():
        return "unknown"
    v = v.strip()
    m = re.fullmatch(r"([0-9a-f]{12})[0-9a-f]*(.*)", v)
    return m.group(1) + m.group(2) if m else v


def level_rank(level: str) -> int:
    return LEVELS.index(level) if level in LEVELS else len(LEVELS)


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

    def peers(self, family: str, runs: Sequence["Run"]) -> list[Block]:
        """The family's table beside each outside reference among the inputs (its plug-in's
        peer_table), under this run unless it is itself a reference's."""
        table_of = hook(family, "peer_table")
        if not callable(table_of) or self.run.context.get("library") in REFERENCE_LIBRARIES:
            return []
        out: list[Block] = []
        for peer in runs:
            library = peer.context.get("library")
            if peer is self.run or library not in REFERENCE_LIBRARIES:
                continue
            header, rows = table_of(peer.rows, self.run.rows)
            if rows:
                out.append(Table(self.caption(f"{family}: ours beside {library} "
                                              f"({Path(peer.path).name})"), header, rows))
        return out

    def family(self, family: str) -> list[Block]:
        b: list[Block] = [Heading(self.level, family)]
        rows = [r for r in self.run.rows if r.family == family]
        reps = [r for r in self.run.reps if r.family == family]
        kinds: dict[str, tuple[str, str]] = {}  # run name -> its disposition (first row)
        for r in rows:
            kinds.setdefault(short_name(r.name), (r.kind, r.why))
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
        failed = sorted({short_name(r.name) for r in rows if r.kind == "failed"})
        if failed:
            b.append(Para("Failed: " + ", ".join(f"`{n}`" for n in failed) + "."))
        own = hook(family, "section")
        body = own(self, reps) if callable(own) else self.generic(reps)
        return b + (body or [Para("Nothing here to tabulate or plot.")])

    # any other family ---------------------------------------------------------------------
    def generic(self, reps: list[Bench]) -> list[Block]:
        """Any family without a section of its own: its representative rows (time, rates) and
        its derived values."""
        rows, derived = [], []
        for r in reps:
            if r.is_derived:
                for k, v in sorted(r.counters.items()):
                    derived.append([short_name(r.name), k, fmt(v)])
                continue
            t = r.seconds
            rows.append([short_name(r.name), fmt(t * 1e6 if t is not None else None)]
                        + [fmt((r.rate(c) or math.nan) / 1e9) for c in ("bytes", "flops",
                                                                        "elements")]
                        + [fmt(r.counters.get("subject_over_ref_bw"))])
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
        base = [r for r in self.run.reps if r.family == "baseline"]
        if not base:
            return out + [Para("No baseline rows in this run, so no measured ceilings: "
                               "no roofline.")]
        drawn = False
        for target, (roof_variant, bw_variants) in sorted(CEILINGS.items()):
            def on(r: Bench) -> bool:
                return (r.threads is None) == (target == "gpu")

            pts_rows = [r for r in self.run.reps if on(r) and not r.is_derived
                        and r.rate("flops") and r.rate("bytes")]
            roofs = [r.rate("flops") or 0.0 for r in base
                     if on(r) and r.variant == roof_variant and r.rate("flops")]
            bws = [r.rate("bytes") or 0.0 for r in base
                   if on(r) and r.variant in bw_variants and r.rate("bytes")
                   and r.keys.get("level") == "DRAM"]
            if not pts_rows:
                continue
            if not roofs:
                out.append(Para(f"{target.upper()}: no baseline/{roof_variant} row, so no roof: "
                                "no roofline."))
                continue
            roof = max(roofs)
            bw = max(bws) if bws else None
            top = max((r.threads or 0 for r in pts_rows), default=0)
            pts: dict[str, list[tuple[float, float]]] = {}
            for r in pts_rows:
                if (r.threads or 0) != top:
                    continue
                f, b = r.rate("flops") or 0.0, r.rate("bytes") or 1.0
                pts.setdefault(r.family, []).append((f / b, f))
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


def families(rows: Iterable[Bench]) -> list[str]:
    """The families present, the known ones first in a fixed order, then the others sorted."""
    found = {r.family for r in rows if r.name}
    return [f for f in FAMILY_ORDER if f in found] + sorted(found - set(FAMILY_ORDER))


# ---- several machines: per family one table, a column per run

def line_up(name: str, top: Optional[int]) -> str:
    """A name as it lines up across machines: n dropped where a level says the size (the size
    follows each machine's caches) and the run's largest thread count written threads:max."""
    b = Bench({"name": short_name(name)})
    parts, keys = [b.family, b.variant], b.keys
    for p in short_name(name).split("/")[2:]:
        k, _, v = p.partition(":")
        if k == "n" and "level" in keys:
            continue
        if k == "threads" and top is not None and v == str(top):
            p = "threads:max"
        parts.append(p)
    return "/".join(parts)


def headline(r: Bench) -> tuple[str, Optional[float]]:
    """(unit, value) of the number a row is read by: FLOP/s when it does more than a FLOP per
    byte (a GEMM), else bandwidth, else FLOP/s, else a pair's ratio, else elements/s, else its
    time."""
    flops, nbytes = r.rate("flops"), r.rate("bytes")
    if flops and (not nbytes or flops > nbytes):
        return "GFLOP/s", flops / 1e9
    if nbytes:
        return "GB/s", nbytes / 1e9
    ratio = r.counters.get("subject_over_ref_bw")
    if ratio is not None:
        return "subject / ref", ratio
    if r.rate("elements"):
        return "G elements/s", (r.rate("elements") or 0.0) / 1e9
    t = r.seconds
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
            mine = [r for r in run.reps if r.family == fam]
            top = max((r.threads or 0 for r in mine), default=0) or None
            for r in mine:
                key = line_up(r.name, top)
                if r.is_derived:
                    for k, v in r.counters.items():
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
            out += [f"*{cell(b.caption)}*", "", *table(b.header, b.rows), ""]
        elif isinstance(b, Figure):
            out += [f"![{cell(b.caption)}]({b.file})", ""]
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
        rows = benches(doc["benchmarks"])
        runs.append(Run(str(path), "", ctx, rows, representative(rows)))
    stems = [Path(r.path).stem for r in runs]
    for i, r in enumerate(runs):
        cpu, gpu = machine(r.context).cpu, machine(r.context).gpu
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
            blocks += s.peers(fam, runs)
        blocks += s.roofline()
    if multi:
        blocks += across(runs, 2)
    return blocks


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
    return interruptible("report", lambda: write_report(args))


def write_report(args: argparse.Namespace) -> int:
    try:
        written = report(args.runs, args.out, plots=not args.no_plots)
    except (ResultsError, ToolMissing) as e:
        print(f"report: {e}", file=sys.stderr)
        return EXIT_UNREADABLE
    except OSError as e:
        print(f"report: cannot write {args.out}: {e.strerror or e}", file=sys.stderr)
        return EXIT_UNREADABLE
    pngs = sum(1 for w in written if w.suffix == ".png")
    print(f"report: {Path(args.out) / 'report.md'}, report.html and {pngs} PNGs")
    return EXIT_OK


def entry() -> int:
    """The command: SIGTERM stops it as Ctrl-C does (exit 130)."""
    return command(main)
