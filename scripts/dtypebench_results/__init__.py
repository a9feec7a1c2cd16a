"""What every dtypebench script needs of a result file, in one place.

A result is a Google Benchmark JSON document (from `dtypebench --benchmark_out` or the merged file
of scripts/run_suite.py). The scripts used to read it each their own way: one parser of names, one
rule for which row stands for a run, one reading of skips and failures here means a report, a check
and a comparison cannot disagree about the same file. Standard library only, so the suite runs
without the virtualenv.

- load.py: path -> document, with ResultsError (one line) for anything that is not a result
  (load_run: or not this suite's), the check of an output path, and the atomic write back;
- rows.py: names, dispositions, the row model (Bench: a row parsed once), the representative
  row of a run, picking rows, rates;
- machine.py: which machine a context names; markdown.py: the one Markdown table renderer;
- derive.py: the derived entries (ratios, break-evens, plateaus) over a whole merged run, each
  family's from its plug-in;
- families/<family>.py: what is particular to a family (its derivations, its report section,
  its run_suite summary table, smoke arguments and GPU-check budget), found by name
  (families.plugin); a family without one gets the generic section and no derivations;
- compare.py, report.py: the commands scripts/compare and scripts/report (report imports
  matplotlib only when it draws).
A command that needs a module the system python lacks hands itself over to .venv (use_venv_for).
"""
from __future__ import annotations

import importlib.util
import os
import signal
import sys
from pathlib import Path
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
    handler, interruptible, answers with EXIT_INTERRUPTED)."""
    signal.signal(signal.SIGTERM, _interrupt)
    return main()


def interruptible(prog: str, body: "Callable[[], int]") -> int:
    """body()'s exit status, or EXIT_INTERRUPTED with the one line '<prog>: interrupted' when
    Ctrl-C (or SIGTERM, under command) stops it: the one interrupt handler of every command."""
    try:
        return body()
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


VENV_PYTHON = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "python"


def use_venv_for(module: str, script: str) -> None:
    """Re-runs script with its arguments under the repo's .venv/bin/python (scripts/setup.sh makes
    it) when this python lacks module; once: under it, a missing module is the script's to
    report."""
    if importlib.util.find_spec(module) is not None or not VENV_PYTHON.exists():
        return
    if os.environ.get("DTYPEBENCH_IN_VENV"):
        return
    os.environ["DTYPEBENCH_IN_VENV"] = "1"
    os.execv(str(VENV_PYTHON), [str(VENV_PYTHON), script, *sys.argv[1:]])

from .derive import Derived, derive, with_derived
from .load import (ResultsError, check_output, context_of, dtypebench_run, load, load_run,
                   read_json, same_file, save, validate, write_atomic)
from .machine import Machine, machine
from .rows import (DEFAULT_DTYPE_ORDER, RATE_COUNTERS, Bench, BenchName, benches, counters,
                   disposition, dtype_order, is_derived, is_error, is_skip, not_verified,
                   rate, rates, representative, run_name, seconds, select)

__all__ = [
    "command", "EXIT_OK", "EXIT_FAILED", "EXIT_UNREADABLE", "EXIT_INTERRUPTED", "Bench",
    "BenchName", "Machine", "benches", "interruptible", "machine", "write_atomic",
    "DEFAULT_DTYPE_ORDER", "Derived", "RATE_COUNTERS", "ResultsError",
    "check_output", "context_of", "counters", "derive", "disposition", "dtype_order",
    "dtypebench_run", "is_derived", "is_error", "is_skip", "load", "load_run",
    "not_verified", "rate", "rates", "read_json", "representative", "run_name",
    "same_file", "save", "seconds", "select", "use_venv_for", "validate", "with_derived",
]
