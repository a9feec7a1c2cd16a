"""export: dtypebench runs as files other tools read: a CSV table for a spreadsheet or pandas, and
the JSON that github-action-benchmark's custom tools read.

    export RUN.json [RUN.json ...] [--csv OUT.csv] [--github-benchmark OUT.json [--metric M]]

Rows: one per benchmark that ran (rows.representative: its median aggregate, or with a single
repetition its median iteration), file by file in each file's order. Skipped and failed benchmarks
are not rows, nor are the derived entries (ratios over other rows; scripts/report shows them).

--csv: a header line, then one line per row (--csv - writes them to stdout), the columns in this
order:
  file, machine, commit, date   the input's file name and its context (git_commit in full);
  name, family, variant         the run name and its first two parts;
  <keys>                        every key:value of the names (dtype, level, n, threads, ...) in the
                                order first met, empty where a name lacks it (a key whose name is
                                taken by a column here is written key_<key>);
  disposition                   verified | unchecked;
  value, unit                   the number the row is read by, as in scripts/report: GFLOP/s when
                                it does more than a FLOP per byte, else GB/s, else a pair's
                                subject / ref ratio, else G elements/s, else its time in us;
  time_s, cv, repetitions       real time per iteration in seconds; the cv of the repetitions'
                                real times (a fraction, empty with one repetition); their count;
  bytes_per_s, flops_per_s, elements_per_s   the rate counters, per second;
  <counters>                    every other counter (verified, working_set_bytes, ...) in the
                                order first met (counter_<name> where the name is taken).
Numbers are written exactly (Python's shortest round-trip form, integers without ".0"), so the
same input gives the same bytes.

--github-benchmark: a JSON list of {"name", "unit", "value", "range", "extra"}, as the tools
customBiggerIsBetter and customSmallerIsBetter of github-action-benchmark read it. A file has one
direction, so --metric chooses:
  rate (default)  value and unit as in the CSV; bigger is better: tool customBiggerIsBetter.
                  Rows read by their time alone have no rate and are left out (the count is
                  printed; --metric time keeps them);
  time            real time per iteration in the row's own time unit; smaller is better: tool
                  customSmallerIsBetter.
"range" is "± value x cv" where the run has repetitions (absent otherwise); "extra" names the
machine, commit, cv and disposition. A name met again (the same benchmark in a later input) keeps
its first row, and the count is printed.

An input that is not a readable result is one line on stderr and is left out: what the other
inputs hold is still written, and the exit status is 2. Exit 0 when every input was read and the
files written; 2 on bad usage, when no input has a row that ran, or an output cannot be written;
130 when interrupted.
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Optional, Sequence

from . import EXIT_OK, EXIT_UNREADABLE, command, interruptible
from .load import ResultsError, check_output, context_of, load_run, write_atomic
from .machine import machine
from .report import fmt, headline
from .rows import RATE_COUNTERS, Bench, benches, number, representative

HEAD = ["file", "machine", "commit", "date", "name", "family", "variant"]
MEASURES = (["disposition", "value", "unit", "time_s", "cv", "repetitions"]
            + [f"{c}_per_s" for c in RATE_COUNTERS])
TOOLS = {"rate": "customBiggerIsBetter", "time": "customSmallerIsBetter"}
TIME_ONLY = "us"  # the unit report.headline gives a row without a rate


@dataclass
class Entry:
    """One row to export, with what its file says about it."""

    file: str
    context: dict[str, Any]
    row: Bench
    cv: Optional[float]  # of the run's real times, from its cv aggregate

    @property
    def commit(self) -> str:
        return str(self.context.get("git_commit") or self.context.get("commit") or "")


def read(path: str) -> list[Entry]:
    """The rows of one input that ran and are not derived; ResultsError when it is no result."""
    doc = load_run(path)
    rows = benches(doc["benchmarks"])
    try:
        reps = representative(rows)  # sorts by real_time
    except (TypeError, ValueError):
        raise ResultsError(path, "a benchmark's real_time is not a number") from None
    cvs = {b.name: number(b.get("real_time")) for b in rows if b.aggregate == "cv"}
    ctx = context_of(doc)
    return [Entry(Path(path).name, ctx, r, cvs.get(r.name)) for r in reps if not r.is_derived]


def ordered(items: Iterable[str]) -> list[str]:
    """items without repeats, in the order first met"""
    return list(dict.fromkeys(items))


def cell(x: Optional[float]) -> str:
    if x is None or not math.isfinite(x):
        return ""
    return str(int(x)) if x.is_integer() and abs(x) < 2 ** 53 else repr(x)


def csv_text(entries: Sequence[Entry]) -> str:
    keys = ordered(k for e in entries for k in e.row.keys)
    key_col = {k: f"key_{k}" if k in HEAD + MEASURES else k for k in keys}
    taken = set(HEAD + MEASURES) | set(key_col.values())
    others = ordered(c for e in entries for c in e.row.counters if c not in RATE_COUNTERS)
    counter_col = {c: f"counter_{c}" if c in taken else c for c in others}
    out = io.StringIO()
    w = csv.DictWriter(out, HEAD + list(key_col.values()) + MEASURES + list(counter_col.values()),
                       restval="", lineterminator="\n")
    w.writeheader()
    for e in entries:
        r = e.row
        unit, value = headline(r)
        line = {"file": e.file, "machine": machine(e.context).label(), "commit": e.commit,
                "date": str(e.context.get("date") or ""), "name": r.name,
                "family": r.family, "variant": r.variant, "disposition": r.kind,
                "value": cell(value), "unit": unit, "time_s": cell(r.seconds), "cv": cell(e.cv),
                "repetitions": cell(number(r.get("repetitions")))}
        line.update({key_col[k]: v for k, v in r.keys.items()})
        line.update({f"{c}_per_s": cell(r.rate(c)) for c in RATE_COUNTERS})
        line.update({counter_col[c]: cell(v) for c, v in r.counters.items() if c in counter_col})
        w.writerow(line)
    return out.getvalue()


def github_benchmarks(entries: Sequence[Entry], metric: str) -> tuple[list[dict[str, Any]], int,
                                                                       int]:
    """(the entries as github-action-benchmark results, rows without a value of the metric,
    names met again)."""
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    no_value = again = 0
    for e in entries:
        r, name = e.row, e.row.name
        if metric == "time":
            value, unit = number(r.get("real_time")), str(r.get("time_unit") or "ns")
        else:
            unit, value = headline(r)
        if value is None or not math.isfinite(value) or (metric == "rate" and unit == TIME_ONLY):
            no_value += 1
            continue
        if name in seen:
            again += 1
            continue
        seen.add(name)
        extra = [f"machine: {machine(e.context).label()}", f"commit: {e.commit or 'unknown'}"]
        bench: dict[str, Any] = {"name": name, "unit": unit, "value": value}
        if e.cv is not None and math.isfinite(e.cv):
            bench["range"] = f"± {fmt(abs(value * e.cv))}"
            reps = number(r.get("repetitions"))
            extra.append(f"cv: {100 * e.cv:.1f}%" + (f" of {int(reps)} repetitions" if reps
                                                     else ""))
        extra.append(r.kind)
        bench["extra"] = "\n".join(extra)
        out.append(bench)
    return out, no_value, again


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="export", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("runs", nargs="+", metavar="RUN.json", help="dtypebench results")
    p.add_argument("--csv", metavar="OUT.csv", help="write the CSV table here (-: stdout)")
    p.add_argument("--github-benchmark", metavar="OUT.json",
                   help="write github-action-benchmark's custom-tool JSON here")
    p.add_argument("--metric", choices=sorted(TOOLS), default="rate",
                   help="what --github-benchmark exports: rate (bigger is better, the default) "
                        "or time (smaller is better)")
    return p


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = parser()
    args = p.parse_args(argv)
    if not args.csv and not args.github_benchmark:
        p.error("nothing to write: give --csv OUT.csv, --github-benchmark OUT.json or both")
    for out in (args.csv if args.csv != "-" else None, args.github_benchmark):
        if out:
            try:  # an input given as an output would be replaced by the export of itself
                check_output(out, args.runs)
            except ResultsError as e:
                print(f"export: {e}", file=sys.stderr)
                return EXIT_UNREADABLE
    status = EXIT_OK
    entries: list[Entry] = []
    for path in args.runs:
        try:
            entries += read(path)
        except ResultsError as e:
            print(f"export: {e} (left out)", file=sys.stderr)
            status = EXIT_UNREADABLE
    if not entries:
        print("export: no benchmark in the inputs ran: nothing written", file=sys.stderr)
        return EXIT_UNREADABLE
    done = []
    out = args.csv
    try:
        if args.csv == "-":
            sys.stdout.write(csv_text(entries))
        elif args.csv:
            write_atomic(args.csv, csv_text(entries))
            done.append(f"{args.csv} ({len(entries)} rows)")
        if args.github_benchmark:
            out = args.github_benchmark
            benches, no_value, again = github_benchmarks(entries, args.metric)
            if benches:
                text = json.dumps(benches, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
                write_atomic(out, text)
                notes = [f"{len(benches)} benchmarks for {TOOLS[args.metric]}"]
                if no_value:
                    notes.append(f"{no_value} without a {args.metric} left out")
                if again:
                    notes.append(f"{again} repeated names left out")
                done.append(f"{out} ({', '.join(notes)})")
            else:  # the action refuses an empty list
                print(f"export: no row has a {args.metric}: {out} not written"
                      + (" (--metric time exports every row)" if args.metric == "rate" else ""),
                      file=sys.stderr)
                status = EXIT_UNREADABLE
    except OSError as e:
        print(f"export: cannot write {out}: {e.strerror or e}", file=sys.stderr)
        return EXIT_UNREADABLE
    if done:  # beside a CSV on stdout, on stderr
        print("export: " + "; ".join(done), file=sys.stderr if args.csv == "-" else sys.stdout)
    return status


def entry() -> int:
    """The command: SIGTERM stops it as Ctrl-C does (exit 130)."""
    return command(lambda: interruptible("export", main))
