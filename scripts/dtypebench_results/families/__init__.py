"""A family's plug-in: what the scripts know of one family, in families/<family>.py.

The core (rows, load, the derive and report drivers, compare, history, export, claims) reads
any family the same way; what only one family has lives in its module here, found by the
family's name (plugin("gemm") imports families/gemm.py). A family without a module gets the
generic report section and no derivations, so a new family needs one new file here and no edit
elsewhere in scripts/. A module may define, each optional:

  derive(rows: Sequence[Bench]) -> list[Derived]   its derived entries, from every row of the
                                                   merged run (errored ones included: a
                                                   derivation may ask what the run attempted)
  section(s: report.Sections, reps) -> list[Block] its report section's body (reps: the
                                                   family's representative rows)
  summary(reps: list[Bench]) -> list[str]          its table at the end of a run_suite run;
                                                   its derived rows then stay out of the
                                                   summary's derived tables
  peer_table(peer, suite) -> (header, rows)        ours beside an outside reference's run
                                                   (a report input whose context names its
                                                   library: numpy, torch), row for row; the
                                                   report adds it under the suite run
  SMOKE_ARGS: list[str]                            the dtypebench options of its own that
                                                   run_suite --smoke adds (every family's
                                                   process gets them: the binary takes them all)
  GPU_CHECK: dict                                  scripts/gpu-check's budget for it: "args"
                                                   (its options and --benchmark_filter),
                                                   "per_row" (seconds a row takes), "first"
                                                   (run before the others)

  python3 -m dtypebench_results.families gpu-check   prints one line a family with a GPU_CHECK,
                                                     first ones first: family, per_row, first
                                                     (1 or 0), args (tab-separated), for
                                                     scripts/gpu-check
"""
from __future__ import annotations

import functools
import importlib
import pkgutil
import re
from types import ModuleType
from typing import Optional


@functools.lru_cache(maxsize=None)
def plugin(family: str) -> Optional[ModuleType]:
    """families/<family>.py as a module, or None when the family has none (or its name could not
    be a module's: names come from result files)."""
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", family):
        return None
    name = f"{__name__}.{family}"
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as e:
        if e.name == name:
            return None
        raise


def names() -> list[str]:
    """The families that have a plug-in, sorted."""
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))


def hook(family: str, attribute: str) -> object:
    """The family plug-in's attribute, or None (no plug-in, or one without it)."""
    return getattr(plugin(family), attribute, None)


def smoke_args() -> list[str]:
    """Every plug-in's SMOKE_ARGS, family by family in name order."""
    return [a for f in names() for a in (hook(f, "SMOKE_ARGS") or [])]  # type: ignore[union-attr]


def gpu_check_lines() -> list[str]:
    """scripts/gpu-check's table: a line a family with a GPU_CHECK, the first ones first:
    family, per_row seconds, 1 when it runs first (else 0) and args, tab-separated."""
    budgets = [(f, hook(f, "GPU_CHECK")) for f in names()]
    found = [(f, b) for f, b in budgets if isinstance(b, dict)]
    found.sort(key=lambda fb: not fb[1].get("first", False))
    return [f"{f}\t{b.get('per_row', '')}\t{int(bool(b.get('first')))}\t{b.get('args', '')}"
            for f, b in found]
