"""What every dtypebench script needs of a result file, in one place.

A result is a Google Benchmark JSON document (from `dtypebench --benchmark_out` or the merged file
of scripts/run_suite.py). The scripts used to read it each their own way: one parser of names, one
rule for which row stands for a run, one reading of skips and failures here means a report, a check
and a comparison cannot disagree about the same file. Standard library only, so the suite runs
without the virtualenv.

- load.py: path -> document, with ResultsError (one line) for anything that is not a result,
  and the atomic write back;
- rows.py: names, dispositions, the representative row of a run, picking rows, rates;
- derive.py: the derived entries (ratios, break-evens, plateaus) over a whole merged run;
- compare.py, report.py: the commands scripts/compare and scripts/report (report imports
  matplotlib only when it draws).
"""
from __future__ import annotations

import signal
from typing import Callable

# What an exit status means, the same in every script (and in the binary):
EXIT_OK = 0          # done; skips are fine
EXIT_FAILED = 1      # done, and something failed: a benchmark, a check, a comparison's bar
EXIT_UNREADABLE = 2  # could not start: bad usage, an input that is not a result, a missing tool
EXIT_INTERRUPTED = 130  # Ctrl-C or SIGTERM; what finished is kept


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def command(main: "Callable[[], int]") -> int:
    """Runs a command's main() with SIGTERM stopping it as Ctrl-C does (its KeyboardInterrupt
    handler answers with EXIT_INTERRUPTED)."""
    signal.signal(signal.SIGTERM, _interrupt)
    return main()

from .derive import DERIVATIONS, Derived, derive, with_derived
from .load import ResultsError, context_of, load, read_json, save, validate
from .rows import (DEFAULT_DTYPE_ORDER, RATE_COUNTERS, BenchName, counters, disposition,
                   dtype_order, is_derived, is_error, is_skip, name_of, not_verified, parse_name,
                   rate, rates, representative, run_name, seconds, select)

__all__ = [
    "command", "EXIT_OK", "EXIT_FAILED", "EXIT_UNREADABLE", "EXIT_INTERRUPTED", "BenchName",
    "DEFAULT_DTYPE_ORDER", "DERIVATIONS", "Derived", "RATE_COUNTERS", "ResultsError",
    "context_of", "counters", "derive", "disposition", "dtype_order", "is_derived",
    "is_error", "is_skip", "load", "name_of", "not_verified", "parse_name", "rate", "rates",
    "read_json", "representative", "run_name", "save", "seconds", "select", "validate",
    "with_derived",
]
