#!/usr/bin/env python3
"""Check a dtypebench result file (from scripts/characterize or dtypebench --benchmark_out).

It must parse as JSON; carry a "context" with the machine keys (--require-context); hold a non-empty
"benchmarks" list; every benchmark name must read family/variant/key:value/...; every result that
ran and carries a "verified" counter must have it equal to 1; and every result's times and rates
(real_time, cpu_time, bytes, flops, elements) must be finite, not NaN or Infinity. Each problem is
one line; skipped and failed benchmarks (by their disposition label, or in older files their error
message) and families that did not run are reported as notes. Exit 0 when the file passes, 1 when
it does not, 2 on bad usage.
"""
from __future__ import annotations

import argparse
import math
import re
import sys
from typing import Any, Optional

from dtypebench_results import (EXIT_FAILED, EXIT_UNREADABLE, RATE_COUNTERS, ResultsError,
                                disposition, read_json)

DEFAULT_CONTEXT_KEYS = ["git_commit", "cpu_model", "cpu_cores", "l1d_bytes", "l2_bytes", "l3_bytes",
                        "mem_bytes", "compiler", "compiler_flags", "build_type", "gpu_available"]
INTEGER_KEYS = ["cpu_cores", "l1d_bytes", "l2_bytes", "l3_bytes", "mem_bytes"]
MAX_PROBLEMS_SHOWN = 20

# family/variant/key:value/...; Google Benchmark may append /real_time, /manual_time, /process_time
NAME_RE = re.compile(r"[a-z][a-z0-9_]*/[A-Za-z0-9_.+-]+(/[A-Za-z0-9_]+:[^/\s]+)*"
                     r"(/(real_time|manual_time|process_time))?")
# aggregates whose value of a 0/1 counter is not 0/1
SPREAD_AGGREGATES = {"stddev", "cv"}
# what every reader takes a row's speed from: a NaN or an infinity there is a broken measurement
MEASURED_KEYS = ("real_time", "cpu_time", *RATE_COUNTERS)


def check_name(b: dict[str, Any]) -> Optional[str]:
    """The problem with an entry's name, or None."""
    name = b.get("name")
    if not isinstance(name, str) or not name:
        return "an entry has no name"
    run_name = b.get("run_name", name)
    if not isinstance(run_name, str) or not NAME_RE.fullmatch(run_name):
        return f"name '{name}' does not read family/variant/key:value/..."
    agg = b.get("aggregate_name")
    if b.get("run_type") == "aggregate" and agg and name != f"{run_name}_{agg}":
        return f"name '{name}' is not its run name '{run_name}' plus '_{agg}'"
    if b.get("run_type") != "aggregate" and name != run_name:
        return f"name '{name}' differs from its run name '{run_name}'"
    return None


def check_context(context: Any, required: list[str]) -> list[str]:
    if not isinstance(context, dict):
        return ["no \"context\" object"]
    problems = []
    missing = [k for k in required if k not in context]
    if missing:
        problems.append(f"context lacks key(s): {', '.join(missing)}")
    for k in INTEGER_KEYS:
        if k in required and k in context:
            try:
                if int(str(context[k])) <= 0:
                    raise ValueError
            except ValueError:
                problems.append(f"context {k} = {context[k]!r} is not a positive integer")
    if "gpu_available" in required and "gpu_available" in context and \
            str(context["gpu_available"]) not in ("0", "1"):
        problems.append(f"context gpu_available = {context['gpu_available']!r} is not 0 or 1")
    return problems


def check_doc(doc: Any, required: list[str]) -> tuple[list[str], list[str]]:
    """Returns (problems, notes) for a parsed result document."""
    if not isinstance(doc, dict):
        return ["top level is not a JSON object"], []
    problems = check_context(doc.get("context"), required)
    notes: list[str] = []
    benchmarks = doc.get("benchmarks")
    if not isinstance(benchmarks, list):
        return problems + ["no \"benchmarks\" list"], notes
    if not benchmarks:
        problems.append("the \"benchmarks\" list is empty")
    skipped: set[str] = set()
    failed: dict[str, str] = {}
    for i, b in enumerate(benchmarks):
        if not isinstance(b, dict):
            problems.append(f"benchmarks[{i}] is not an object")
            continue
        bad_name = check_name(b)
        if bad_name:
            problems.append(bad_name)
            continue
        kind, why = disposition(b)
        if kind == "skipped":
            skipped.add(b.get("run_name", b["name"]))
            continue
        if kind == "failed":
            # the binary's own message line ("error: ...") where it wrote one
            failed.setdefault(b.get("run_name", b["name"]), str(b.get("error_message") or why))
            continue
        for k in MEASURED_KEYS:
            v = b.get(k)
            if isinstance(v, float) and not math.isfinite(v):
                problems.append(f"{b['name']}: {k} = {v!r}, not a finite number")
        if "verified" in b and b.get("aggregate_name") not in SPREAD_AGGREGATES:
            v = b["verified"]
            # written so that NaN fails too
            if not isinstance(v, (int, float)) or isinstance(v, bool) or not abs(v - 1.0) <= 1e-9:
                problems.append(f"{b['name']}: verified = {v!r}, not 1")
    if skipped:
        notes.append(f"{len(skipped)} benchmark(s) skipped")
    if failed:  # a run whose check failed is not a good run
        name, msg = next(iter(failed.items()))
        problems.append(f"{len(failed)} benchmark(s) failed, first: {name}: {msg}")
    context = doc.get("context") if isinstance(doc.get("context"), dict) else {}
    for f in context.get("families_not_run", []) or []:
        if isinstance(f, dict):
            notes.append(f"family {f.get('family')} not run: {f.get('reason')}")
    return problems, notes


def check_file(path: str, required: list[str]) -> tuple[list[str], list[str], int]:
    """Returns (problems, notes, number of benchmark entries)."""
    doc = read_json(path)  # ResultsError: the caller says it in one line
    problems, notes = check_doc(doc, required)
    n = len(doc["benchmarks"]) if isinstance(doc, dict) and isinstance(
        doc.get("benchmarks"), list) else 0
    return problems, notes, n


def main(argv: Optional[list[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="check_json.py", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("file", help="the result JSON to check")
    p.add_argument("--require-context", metavar="KEYS", default=",".join(DEFAULT_CONTEXT_KEYS),
                   help="comma-separated context keys that must be present, replacing the "
                        "default list (default: %(default)s)")
    args = p.parse_args(argv)
    required = [k for k in args.require_context.split(",") if k]
    try:
        problems, notes, n = check_file(args.file, required)
    except ResultsError as e:
        print(f"check_json: {e}", file=sys.stderr)
        return EXIT_UNREADABLE
    for note in notes:
        print(f"{args.file}: note: {note}")
    for problem in problems[:MAX_PROBLEMS_SHOWN]:
        print(f"{args.file}: {problem}", file=sys.stderr)
    if len(problems) > MAX_PROBLEMS_SHOWN:
        print(f"{args.file}: ... and {len(problems) - MAX_PROBLEMS_SHOWN} more problems",
              file=sys.stderr)
    if problems:
        return EXIT_FAILED
    print(f"{args.file}: ok ({n} entries, context has {len(required)} required keys)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
