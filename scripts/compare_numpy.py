#!/usr/bin/env python3
"""Put NumPy's conversions (scripts/numpy_ref.py) beside the suite's and print a Markdown table.

Each numpy/<variant>/... entry of NUMPY.json is paired with the suite's convert/<variant>/... entry
that has the same variant, the same keys that say what is converted (src and dst, or width) and
the same level. Among the suite's candidates the SIMD path wins (path:simd, then no path key, then
any other path) and then the highest thread count; the threads:1 entry of that path is shown too,
because NumPy runs on one thread. Rates are the median aggregates' `bytes` counter (bytes moved
per second), in GB/s; the ratio is dtypebench / NumPy, so above 1 means the suite is faster. When
either side lacks `bytes`, the row compares median real_time instead (ratio = NumPy time / suite
time, still above 1 when the suite is faster) and is marked. NumPy entries without a partner are
listed under the table; that is not an error. Exit 0 after printing the table, 1 when a file cannot
be read or is not a result file, 2 on bad usage.
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from typing import Any, Optional

from dtypebench_results import EXIT_UNREADABLE, ResultsError, context_of, load_run, representative

LEVELS = ["L1", "L2", "L3", "DRAM"]
# keys that say how or how big, not what is converted: they do not have to match
SHAPE_KEYS = {"n", "level", "threads", "path"}


class InputError(Exception):
    """Two readable result files that cannot be compared (e.g. given in the wrong order)."""


@dataclass
class Entry:
    """A representative (median) result and what its name says."""

    name: str
    family: str
    variant: str
    keys: dict[str, str]
    bytes_rate: Optional[float]  # bytes per second
    time_us: Optional[float]

    @property
    def identity(self) -> dict[str, str]:
        return {k: v for k, v in self.keys.items() if k not in SHAPE_KEYS}

    @property
    def threads(self) -> int:
        try:
            return int(self.keys.get("threads", "1"))
        except ValueError:
            return 1

    @property
    def path(self) -> str:
        return self.keys.get("path", "")


@dataclass
class Row:
    numpy: Entry
    best: Optional[Entry]
    single: Optional[Entry]  # the threads:1 entry on the best entry's path


def entries(doc: dict[str, Any]) -> list[Entry]:
    out = []
    for b in representative(doc["benchmarks"]):
        t = b.seconds
        out.append(Entry(b.name, b.family, b.variant, b.keys, b.rate("bytes"),
                         t * 1e6 if t is not None and t > 0 else None))
    return out


def path_rank(e: Entry) -> int:
    return {"simd": 0, "": 1}.get(e.path, 2)


def pair(numpy_entries: list[Entry], suite_entries: list[Entry], family: str,
         levels: Optional[list[str]]) -> list[Row]:
    rows = []
    for ne in numpy_entries:
        level = ne.keys.get("level", "")
        if ne.family != "numpy" or (levels and level not in levels):
            continue
        want = ne.identity
        candidates = [s for s in suite_entries
                      if s.family == family and s.variant == ne.variant
                      and s.keys.get("level") == level
                      and all(s.keys.get(k) == v for k, v in want.items())]
        best = min(candidates, key=lambda s: (path_rank(s), -s.threads), default=None)
        single = None
        if best is not None:
            single = next((s for s in candidates if s.path == best.path and s.threads == 1),
                          None)
        rows.append(Row(ne, best, single))
    rows.sort(key=lambda r: LEVELS.index(r.numpy.keys["level"])
              if r.numpy.keys.get("level") in LEVELS else len(LEVELS))
    return rows


def operation(e: Entry) -> str:
    what = "/".join(f"{k}:{v}" for k, v in e.identity.items())
    return f"{e.variant} {what}".strip()


def compare_cells(ne: Entry, se: Optional[Entry]) -> tuple[str, str, bool]:
    """(suite cell, ratio cell, compared by time) for one suite entry against NumPy's."""
    if se is None:
        return "–", "–", False
    label = f"({se.threads} thr{', ' + se.path if se.path else ''})"
    if ne.bytes_rate and se.bytes_rate:
        return (f"{se.bytes_rate / 1e9:.2f} {label}", f"{se.bytes_rate / ne.bytes_rate:.2f}",
                False)
    if ne.time_us and se.time_us:
        return f"{se.time_us:.1f} µs* {label}", f"{ne.time_us / se.time_us:.2f}*", True
    return f"? {label}", "–", False


def numpy_cell(ne: Entry, by_time: bool) -> str:
    rate = f"{ne.bytes_rate / 1e9:.2f}" if ne.bytes_rate else ""
    if not by_time and rate:
        return rate
    t = f"{ne.time_us:.1f} µs*" if ne.time_us else "?"
    return f"{rate} / {t}" if rate else t


def table(rows: list[Row]) -> tuple[list[str], bool]:
    """Markdown lines for the paired rows, and whether any compared times."""
    lines = ["| operation | level | numpy GB/s | dtypebench GB/s (threads) | dtypebench/numpy "
             "| dtypebench GB/s (1 thread) | 1 thread/numpy |",
             "|---|---|---:|---:|---:|---:|---:|"]
    any_time = False
    for r in rows:
        if r.best is None:
            continue
        best, ratio, t1 = compare_cells(r.numpy, r.best)
        single, ratio1, t2 = compare_cells(r.numpy, r.single)
        any_time = any_time or t1 or t2
        lines.append(f"| {operation(r.numpy)} | {r.numpy.keys.get('level', '?')} "
                     f"| {numpy_cell(r.numpy, t1 or t2)} | {best} | {ratio} | {single} | {ratio1} |")
    return lines, any_time


def report(numpy_doc: dict[str, Any], suite_doc: dict[str, Any], family: str,
           levels: Optional[list[str]]) -> list[str]:
    np_entries = entries(numpy_doc)
    if not any(e.family == "numpy" for e in np_entries):
        raise InputError("the NumPy file has no numpy/... entries (arguments swapped? the "
                         "order is SUITE.json NUMPY.json)")
    rows = pair(np_entries, entries(suite_doc), family, levels)
    nctx, sctx = context_of(numpy_doc), context_of(suite_doc)
    out = [f"NumPy {nctx.get('numpy_version', '?')} on {nctx.get('hostname', '?')} "
           f"({nctx.get('cpu_model', '?')}) vs dtypebench on {sctx.get('hostname', '?')} "
           f"({sctx.get('cpu_model', '?')}), {sctx.get('cpu_cores', '?')} cores", ""]
    if nctx.get("hostname") and sctx.get("hostname") and nctx["hostname"] != sctx["hostname"]:
        out += [f"warning: the files come from different machines ({sctx['hostname']}, "
                f"{nctx['hostname']}); the ratios compare machines too", ""]
    paired = [r for r in rows if r.best is not None]
    lines, any_time = table(paired)
    out += lines if paired else ["(no pairs)"]
    if any_time:
        out += ["", "\\* no `bytes` counter on one side: median times compared, ratio = NumPy "
                "time / dtypebench time"]
    sizes = [r for r in paired if r.numpy.keys.get("n") != r.best.keys.get("n")]
    if sizes:
        out += ["", "note: different element counts (other cache sizes or --dram-mib): " +
                ", ".join(f"{operation(r.numpy)} {r.numpy.keys.get('level')} "
                          f"n:{r.numpy.keys.get('n')} vs n:{r.best.keys.get('n')}"
                          for r in sizes)]
    missing = [r for r in rows if r.best is None]
    if missing:
        out += ["", f"Not paired (no {family}/<variant>/... entry in the suite file):"]
        out += [f"- {r.numpy.name}" for r in missing]
    return out


def main(argv: Optional[list[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="compare_numpy.py", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("suite", metavar="SUITE.json", help="a dtypebench result (scripts/characterize)")
    p.add_argument("numpy", metavar="NUMPY.json", help="a scripts/numpy_ref.py result")
    p.add_argument("--level", metavar="LEVELS",
                   help="comma-separated levels to show, e.g. DRAM (default: every level)")
    p.add_argument("--family", default="convert",
                   help="the suite family to pair with (default: %(default)s)")
    args = p.parse_args(argv)
    levels = [s.strip() for s in args.level.split(",") if s.strip()] if args.level else None
    if levels is not None:
        unknown = [s for s in levels if s not in LEVELS]
        if unknown or not levels:
            p.error(f"unknown level(s) {', '.join(unknown) or '(none)'}; choose from "
                    f"{', '.join(LEVELS)}")
    try:
        suite_doc = load_run(args.suite)
        numpy_doc = load_run(args.numpy)
        lines = report(numpy_doc, suite_doc, args.family, levels)
    except (InputError, ResultsError) as e:
        print(f"compare_numpy: {e}", file=sys.stderr)
        return EXIT_UNREADABLE
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
