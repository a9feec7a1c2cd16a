#!/usr/bin/env python3
"""Run the dtypebench suite one family per process and merge the results into one JSON file.

Each family runs in its own dtypebench process, so a crash in one cannot lose the others. After
every family the output file is rewritten atomically with everything finished so far, so it is valid
JSON at any moment: one "context" (from the first family that wrote one, plus "families_run" and
"families_not_run" saying what ran and why the rest did not) and the "benchmarks" of all families.
Ctrl-C stops the running family, keeps what finished, lists the rest as not run and exits 130.
The output path is checked before anything runs; when a write fails mid-run (a full or read-only
disk), the file keeps its last good state and the run goes on into a fallback file beside it or in
the temp folder, named in one line. A family's process dies with this one (Linux), and the temp
folders of a suite that was killed are removed by the next.
The derived entries (ratios, break-evens) are computed here over all merged families
(dtypebench_results.derive); any a family process wrote itself are dropped.
"""
from __future__ import annotations

import argparse
import ctypes
import datetime
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

from dtypebench_results import (DEFAULT_DTYPE_ORDER, Bench, ResultsError, benches, check_output,
                                dtype_order, interruptible, load, machine, representative, save,
                                validate, with_derived)
from dtypebench_results.families import hook, smoke_args
from dtypebench_results.tables import aligned

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_BINARY = ROOT / "build" / "dtypebench"
# a few seconds a family: the generic options, then each family plug-in's own (gemm: one shape)
SMOKE_ARGS = ["--levels=L1", "--benchmark_min_time=0.001", "--benchmark_repetitions=1",
              *smoke_args()]
SUMMARY_LINES = 40  # the end-of-run summary fits a screen
SUMMARY_ROWS = 24  # at most this many rows of rates, fewer when the rest needs the lines
DTYPE_ORDER = DEFAULT_DTYPE_ORDER  # summary columns when the file has no dtype_names
EXIT_INTERRUPTED = 130
TEMP_PREFIX = "dtypebench-"  # a run's temp folder: dtypebench-<pid>-<random>
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


@dataclass
class FamilyOutcome:
    """What one family's process left behind."""

    family: str
    status: str  # "ok", "failed (exit 1)", "crashed (signal 11, SIGSEGV)", "interrupted", ...
    complete: bool  # its JSON was read whole (not salvaged, not missing)
    exit_code: Optional[int] = None
    seconds: float = 0.0
    context: Optional[dict[str, Any]] = None
    benchmarks: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.complete and self.status == "ok"


# ---- reading a family's JSON, whole or salvaged ------------------------------------------------


def salvage_json(text: str) -> tuple[Optional[dict[str, Any]], list[dict[str, Any]]]:
    """Reads the context and every complete benchmark entry from a possibly truncated Google
    Benchmark JSON file (a process killed mid-run leaves the file unterminated)."""
    decoder = json.JSONDecoder()
    context: Optional[dict[str, Any]] = None
    m = re.search(r'"context"\s*:\s*', text)
    if m:
        try:
            obj, _ = decoder.raw_decode(text, m.end())
            if isinstance(obj, dict):
                context = obj
        except json.JSONDecodeError:
            pass
    benchmarks: list[dict[str, Any]] = []
    m = re.search(r'"benchmarks"\s*:\s*\[', text)
    if m:
        pos = m.end()
        while True:
            while pos < len(text) and text[pos] in " \t\r\n,":
                pos += 1
            try:
                obj, pos = decoder.raw_decode(text, pos)
            except json.JSONDecodeError:
                break
            if not isinstance(obj, dict):
                break
            benchmarks.append(obj)
    return context, benchmarks


def read_family_json(path: Path) -> tuple[Optional[dict[str, Any]], list[dict[str, Any]], str]:
    """Returns (context, benchmarks, problem); problem is "" when the file was read whole."""
    try:
        raw = path.read_bytes()
    except OSError:
        return None, [], "no json written"
    if not raw.strip():
        return None, [], "no json written"
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        return None, [], f"json unreadable (not UTF-8 text at offset {e.start})"
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        context, benchmarks = salvage_json(text)
        return context, benchmarks, f"json unreadable ({e.msg} at line {e.lineno})"
    try:
        validate(doc)
    except ResultsError:
        return None, [], "json unreadable (not a Google Benchmark result)"
    context = doc.get("context") if isinstance(doc.get("context"), dict) else None
    return context, list(doc["benchmarks"]), ""


def describe_exit(code: int) -> str:
    if code == 0:
        return "ok"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = "unknown signal"
        return f"crashed (signal {-code}, {name})"
    if code == 2:
        return "usage error (exit 2)"
    return f"failed (exit {code})"


def outcome_from(family: str, code: Optional[int], json_path: Path, seconds: float,
                 interrupted: bool) -> FamilyOutcome:
    """Combines a family's exit status (None: it never started or was not reaped) and its JSON."""
    context, benchmarks, problem = read_family_json(json_path)
    if code == 0 and not problem:
        status = "ok"  # it finished even if Ctrl-C came just after
    elif interrupted or code == -signal.SIGINT or code is None:
        status = "interrupted"
    else:
        status = describe_exit(code)
        if problem and status == "ok":
            status = problem
    complete = not problem and status != "interrupted"
    return FamilyOutcome(family=family, status=status, complete=complete, exit_code=code,
                         seconds=seconds, context=context, benchmarks=benchmarks)


# ---- merging -------------------------------------------------------------------------------------


def merge(outcomes: list[FamilyOutcome], pending: list[tuple[str, str]],
          extra_context: Optional[dict[str, Any]] = None) -> dict[str, Any]:
    """One result document from the families finished so far; pending lists (family, reason) for
    those that did not run (yet). The derived entries come last, computed over every family's
    results (an older binary's own per-family ones are dropped)."""
    context: dict[str, Any] = {}
    for o in outcomes:
        if o.context:
            context = dict(o.context)
            break
    context.update(extra_context or {})
    run: list[dict[str, Any]] = []
    not_run: list[dict[str, Any]] = []
    benchmarks: list[dict[str, Any]] = []
    for o in outcomes:
        benchmarks.extend(o.benchmarks)
        if o.complete:
            run.append({"family": o.family, "status": o.status, "exit_code": o.exit_code,
                        "seconds": round(o.seconds, 3), "benchmarks": len(o.benchmarks)})
        else:
            reason = o.status
            if o.benchmarks:
                reason += f"; {len(o.benchmarks)} finished benchmarks kept"
            not_run.append({"family": o.family, "reason": reason,
                            "benchmarks_kept": len(o.benchmarks)})
    for family, reason in pending:
        not_run.append({"family": family, "reason": reason, "benchmarks_kept": 0})
    context["families_run"] = run
    context["families_not_run"] = not_run
    return {"context": context, "benchmarks": with_derived(benchmarks)}


# ---- the summary table ---------------------------------------------------------------------------


def format_rate(b: Bench) -> str:
    """A result's headline rate: GB/s from the bytes counter, else GFLOP/s ("GF") from flops;
    "!" marks a result whose verified counter is not 1."""
    gbs, gflops = b.rate("bytes"), b.rate("flops")
    ratio = b.counters.get("subject_over_ref_bw")  # a pair: the subject's bandwidth over the ref's
    text = (f"{gbs / 1e9:.3g}" if gbs else f"{gflops / 1e9:.3g}GF" if gflops
            else f"{ratio:.3g}x" if ratio else "?")
    return text + ("!" if b.not_verified else "")


def headline_slice(reps: list[Bench]) -> tuple[Optional[str], Optional[str]]:
    """The cache level and thread count the summary shows: the largest of each in the results
    (DRAM and all cores in a normal run)."""
    order = ["L1", "L2", "L3", "DRAM"]
    levels, threads = set(), set()
    for b in reps:
        levels.add(b.keys.get("level"))
        if b.threads is not None:
            threads.add(b.threads)
    present = [lv for lv in order if lv in levels]
    return (present[-1] if present else None), (str(max(threads)) if threads else None)


def in_slice(b: Bench, level: Optional[str], threads: Optional[str]) -> bool:
    return b.keys.get("level", level) == level and b.keys.get("threads", threads) == threads


def sort_dtypes(dtypes: list[str], order: Optional[list[str]] = None) -> list[str]:
    """dtypes in the given order (the file's dtype_names), the ones it lacks after, as found."""
    order = DTYPE_ORDER if order is None else order
    return sorted(dtypes, key=lambda d: (order.index(d) if d in order
                                         else len(order) + dtypes.index(d)))


def rate_table(rows_in: list[Bench], order: Optional[list[str]] = None
               ) -> tuple[list[str], list[tuple[str, dict[str, str]]]]:
    """Groups results into rows (family/variant plus the keys that are not dtype, level or threads)
    with one column per dtype. The size key n is dropped when it only follows the dtype (each dtype
    sized to the same working set) and kept when it is a real axis of the row."""
    dropped = {"dtype", "level", "threads"}
    dtypes: list[str] = []
    groups: dict[str, list[tuple[str, dict[str, str], Bench]]] = {}
    for b in rows_in:
        family, variant, keys = b.family, b.variant, b.keys
        dtype = keys.get("dtype", "-")
        if dtype not in dtypes:
            dtypes.append(dtype)
        rest = {k: v for k, v in keys.items() if k not in dropped}
        label = "/".join([family, variant] + [f"{k}:{v}" for k, v in rest.items() if k != "n"])
        groups.setdefault(label, []).append((dtype, rest, b))
    table: list[tuple[str, dict[str, str]]] = []
    for label, members in groups.items():
        per_dtype = [d for d, _, _ in members]
        split = len(per_dtype) != len(set(per_dtype))  # n sweeps within one dtype: keep it
        rows: dict[str, dict[str, str]] = {}
        for dtype, rest, b in members:
            name = f"{label}/n:{rest['n']}" if split and "n" in rest else label
            rows.setdefault(name, {})[dtype] = format_rate(b)
        table.extend(rows.items())
    return sort_dtypes(dtypes, order), table


def derived_table(derived: list[Bench], max_rows: int,
                  order: Optional[list[str]] = None) -> list[list[str]]:
    """Derived entries as small tables (each a list of lines): one per family/variant, a row per
    value, a column per dtype."""
    groups: dict[str, dict[str, dict[str, float]]] = {}
    dtypes: list[str] = []
    for b in derived:
        label = "/".join([b.family, b.variant] + [f"{k}:{v}" for k, v in b.keys.items()
                                                  if k not in ("dtype", "level", "threads")])
        dtype = b.keys.get("dtype", "-")
        if dtype not in dtypes:
            dtypes.append(dtype)
        groups.setdefault(label, {})[dtype] = b.counters
    tables: list[list[str]] = []
    for label, per_dtype in groups.items():
        names: list[str] = []
        for values in per_dtype.values():
            names.extend(k for k in values if k not in names)
        cols = [d for d in sort_dtypes(dtypes, order) if d in per_dtype]
        rows = [[label, *cols]] + [
            [f"  {n}", *(f"{per_dtype[d][n]:.3g}" if n in per_dtype[d] else "" for d in cols)]
            for n in names[:max_rows]]
        lines = aligned(rows)
        if len(names) > max_rows:
            lines.append(f"  ... {len(names) - max_rows} more values")
        tables.append(lines)
    return tables


def describe_machine(context: dict[str, Any]) -> str:
    def mib(key: str) -> str:
        try:
            v = int(str(context[key]))
        except (KeyError, ValueError):
            return "?"
        return f"{v >> 20} MiB" if v >= 1 << 20 else f"{v >> 10} KiB"
    m = machine(context)
    gpu = m.gpu or f"none ({context.get('gpu_status', 'unknown')})"
    return (f"machine: {m.cpu or '?'}, {m.cores or '?'} cores, "
            f"L1d {mib('l1d_bytes')}, L2 {mib('l2_bytes')}, L3 {mib('l3_bytes')}; GPU: {gpu}")


def shown(lines: list[str], limit: int, what: str) -> list[str]:
    """The first limit lines, then one saying how many more there are."""
    return lines if len(lines) <= limit else lines[:limit] + [f"  ... {len(lines) - limit} more "
                                                              f"{what}"]


def summarize(doc: dict[str, Any], out_path: str = "", max_rows: int = SUMMARY_ROWS,
              max_derived: int = 3, max_lines: int = SUMMARY_LINES) -> str:
    """A short summary of a merged result, in about max_lines lines: the machine, a table of rates
    at the largest cache level and thread count (rows: variants, columns: dtypes), the derived
    entries there (those of gemm are its precision table), the GEMM precisions, then counts.
    The rates get the lines the rest leaves, at most max_rows; scripts/report shows everything."""
    benchmarks = benches(doc.get("benchmarks", []))
    context: dict[str, Any] = doc.get("context", {})
    order = dtype_order(context)
    reps = representative(benchmarks)
    level, threads = headline_slice(reps)
    measured = [b for b in reps if not b.is_derived and in_slice(b, level, threads)]
    # a family with a summary table of its own shows its derived rows there (gemm: precisions)
    own = [f for f in dict.fromkeys(b.family for b in reps) if callable(hook(f, "summary"))]
    derived = [b for b in reps if b.is_derived and in_slice(b, level, threads)
               and b.family not in own]
    head = [describe_machine(context)]
    precision = [line for f in own for line in hook(f, "summary")(reps)]  # type: ignore[misc]

    errors: dict[str, tuple[str, str, Bench]] = {}  # run -> (disposition, why, row)
    for b in benchmarks:
        if b.kind in ("skipped", "failed"):
            errors.setdefault(b.name, (b.kind, b.why, b))
    skips = [why for kind, why, _ in errors.values() if kind == "skipped"]
    # the binary's own message line ("error: ...") where it wrote one
    fails = [(b.name, str(b.get("error_message") or why))
             for kind, why, b in errors.values() if kind == "failed"]
    n_derived = sum(1 for b in reps if b.is_derived)
    n_unverified = sum(1 for b in reps if b.not_verified)
    tail = [f"results: {len(reps) - n_derived} ran, {n_derived} derived, "
            f"{len(skips)} skipped, {len(fails)} failed"
            + (f", {n_unverified} NOT verified" if n_unverified else "")]
    reasons: dict[str, int] = {}
    for why in skips:
        reasons[why] = reasons.get(why, 0) + 1
    for msg, n in sorted(reasons.items(), key=lambda kv: -kv[1])[:3]:
        tail.append(f"  skipped {n}: {msg[:100]}")
    tail += shown([f"  FAILED {name}: {msg[:100]}" for name, msg in fails], 3, "failures")
    tail += shown([f"family {f.get('family')}: {f.get('status')}"
                   for f in context.get("families_run", []) if f.get("status") != "ok"]
                  + [f"family {f.get('family')}: not run: {f.get('reason')}"
                     for f in context.get("families_not_run", [])], 4, "families")
    if out_path:
        tail.append(f"every result: {out_path}")

    dtypes, table = rate_table(measured, order)
    room = max_lines - len(head) - len(precision) - len(tail)
    keep = 3 + min(len(table), 8) if table else 0  # the rates' title, header, 8 rows, "... more"
    derived_lines: list[str] = []
    tables = derived_table(derived, max_derived, order)
    for k, t in enumerate(tables):
        if len(derived_lines) + len(t) + keep + (k + 1 < len(tables)) > room:
            derived_lines.append(f"... {len(tables) - k} more derived tables")
            break
        derived_lines += t
    rates: list[str] = []
    if table:
        space = room - len(derived_lines) - 2  # less the rates' title and header
        fits = len(table) <= min(max_rows, space)
        rows = len(table) if fits else max(1, min(max_rows, space - 1))  # and "... N more rows"
        where = ", ".join(x for x in (f"level {level}" if level else "",
                                      f"{threads} threads" if threads else "") if x)
        rates.append(f"{where}: GB/s (GF: GFLOP/s; !: not verified)")
        cells = [[name if len(name) <= 60 else name[:57] + "...", *(c.get(d, "") for d in dtypes)]
                 for name, c in table[:rows]]
        rates += aligned([["", *dtypes]] + cells)
        if len(table) > rows:
            rates.append(f"... {len(table) - rows} more rows")
    return "\n".join(head + rates + derived_lines + precision + tail)


# ---- running -------------------------------------------------------------------------------------


class Interrupted(Exception):
    pass


def _raise_interrupt(signum: int, frame: Any) -> None:
    raise Interrupted(signal.Signals(signum).name)


class UsageError(Exception):
    """Bad usage, found before any family runs: one line, exit 2."""


def parse_families(text: Optional[str]) -> Optional[list[str]]:
    """--family a,b as a list (None: every family); UsageError for none, or one named twice (the
    binary refuses a repeated family, and the suite would run it twice)."""
    if text is None:
        return None
    wanted = [f for f in text.split(",") if f]
    if not wanted:
        raise UsageError("--family needs at least one family")
    repeated = next((f for k, f in enumerate(wanted) if f in wanted[:k]), None)
    if repeated is not None:
        raise UsageError(f"--family names '{repeated}' twice; give each family once")
    return wanted


def check_out(out: Optional[str]) -> None:
    """UsageError when --out cannot be written, before anything runs (dtypebench_results'
    check_output: a directory, a read-only or forbidden folder)."""
    if out:  # none: the default, reports/<hostname>-<date>.json
        try:
            check_output(out)
        except ResultsError as e:
            raise UsageError(str(e)) from None


class Output:
    """Where the merged result goes. save() replaces the --out file whole or not at all, so when a
    write there fails (a full or read-only disk) the file keeps its last good state, and this and
    every later write go to a fallback file beside it or in the temp folder, said in one line."""

    def __init__(self, path: Path) -> None:
        self.requested = path
        self.path = path  # where the writes go
        self.saved = path  # where the last good write went (the first is made before any family)
        self.kept = "no family yet"  # what that file holds
        self.left = ""  # what the --out file holds, once the writes left it
        self.ok = True  # the last write went through
        self.error = ""  # why it did not

    def fallbacks(self) -> list[Path]:
        name = f"{self.requested.stem}.fallback-{os.getpid()}.json"
        return [self.requested.with_name(name), Path(tempfile.gettempdir()) / name]

    def write(self, doc: dict[str, Any]) -> None:
        targets = [self.path] + (self.fallbacks() if self.path == self.requested else [])
        error = ""
        for target in targets:
            try:
                save(target, doc)
            except OSError as e:
                error = error or f"cannot write {target}: {e.strerror or e}"
                continue
            if target != self.path:
                print(f"run_suite: {error}; it keeps the run up to {self.kept}; the whole run "
                      f"goes to {target}", file=sys.stderr, flush=True)
                self.path, self.left = target, self.kept
            done = [f["family"] for f in doc["context"]["families_run"]]
            self.saved, self.kept = target, f"family {done[-1]}" if done else "no family yet"
            self.ok, self.error = True, ""
            return
        if error != self.error:  # said once, not after every family
            print(f"run_suite: {error}" + (", nor a fallback" if len(targets) > 1 else "")
                  + f": not saved; {self.saved} keeps the run up to {self.kept}",
                  file=sys.stderr, flush=True)
        self.ok, self.error = False, error


def pid_alive(pid: int) -> bool:
    """Whether a process of that pid exists (signal 0 checks without sending anything)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's
        pass
    return True


def remove_stale_temp_dirs() -> None:
    """Removes the temp folders of suites that were killed (kill -9 leaves no time to): those
    whose pid, in the folder's name, is no longer alive."""
    pattern = re.compile(re.escape(TEMP_PREFIX) + r"(\d+)-\w+")
    root = Path(tempfile.gettempdir())
    try:
        entries = list(root.iterdir())
    except OSError:
        return
    for d in entries:
        m = pattern.fullmatch(d.name)
        if not m or pid_alive(int(m.group(1))):
            continue
        try:
            ours = d.is_dir() and not d.is_symlink() and d.stat().st_uid == os.getuid()
        except OSError:  # gone meanwhile
            continue
        if ours:
            shutil.rmtree(d, ignore_errors=True)


def die_with_parent() -> Optional[Callable[[], None]]:
    """A preexec_fn that has the kernel kill the child when this process dies, even by SIGKILL
    (Linux's PR_SET_PDEATHSIG); None where there is no prctl."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def preexec() -> None:
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os.kill(os.getpid(), signal.SIGKILL)
    return preexec


def list_families(binary: Path, args: Optional[list[str]] = None) -> list[str]:
    """The binary's families; with args, the binary checks them first (every option it refuses
    is refused here, before anything runs)."""
    proc = subprocess.run([str(binary), *(args or []), "--list-families"], capture_output=True,
                          text=True, check=False)
    if proc.returncode != 0:
        msg = (proc.stderr.strip() or proc.stdout.strip()).splitlines()[-1:] or ["no output"]
        raise UsageError(f"{msg[0]}" if proc.returncode == 2 else
                         f"{binary} --list-families failed (exit {proc.returncode}): {msg[0]}")
    names = [line.strip() for line in proc.stdout.splitlines() if line.strip()]
    return [n for n in names if re.fullmatch(r"[A-Za-z0-9_]+", n)]


def stop_child(proc: subprocess.Popen) -> Optional[int]:
    """Asks the running family to stop (SIGINT, then SIGTERM, then SIGKILL) and reaps it."""
    for sig, wait in ((signal.SIGINT, 5), (signal.SIGTERM, 5), (signal.SIGKILL, 5)):
        if proc.poll() is not None:
            break
        try:
            proc.send_signal(sig)
            proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue
        except ProcessLookupError:
            break
    return proc.poll()


def default_output() -> Path:
    """reports/<hostname>-<date>.json, with -2, -3, ... when that file exists, so a second run the
    same day does not replace the first. The name is taken by creating the file (an exclusive
    create), so two runs started in the same second get two names."""
    stem = f"{socket.gethostname().split('.')[0]}-{datetime.date.today().isoformat()}"
    (ROOT / "reports").mkdir(parents=True, exist_ok=True)
    n = 1
    while True:
        path = ROOT / "reports" / (f"{stem}.json" if n == 1 else f"{stem}-{n}.json")
        try:
            with open(path, "x", encoding="utf-8") as f:
                f.write("{}\n")  # replaced by the first save()
            return path
        except FileExistsError:
            n += 1


def family_args(args: argparse.Namespace, extra: list[str]) -> list[str]:
    """The dtypebench arguments shared by every family (before --family and --benchmark_out)."""
    out = []
    if args.quick or args.smoke:
        out.append("--quick")
    if args.smoke:
        out.extend(SMOKE_ARGS)
    # the user's extra arguments override --quick's and the smoke ones: the binary refuses an
    # option given twice, so an option the extras give is dropped from these
    given = {a.split("=", 1)[0] for a in extra}
    return [a for a in out if a.split("=", 1)[0] not in given] + extra


def run_suite(args: argparse.Namespace, extra: list[str]) -> int:
    check_out(args.out)
    wanted = parse_families(args.family)
    # a path as given ("./dtypebench" stays a path; Path() would drop the "./" and PATH be searched)
    binary = Path(os.path.abspath(args.binary))
    if not (binary.is_file() and os.access(binary, os.X_OK)):
        raise UsageError(f"{args.binary} not found or not executable; build it first "
                         "(scripts/characterize builds it)")
    shared = family_args(args, extra)
    known = list_families(binary, shared)
    unknown = [f for f in wanted or [] if f not in known]
    if unknown:
        raise UsageError(f"unknown family '{unknown[0]}' (known: {', '.join(known)})")
    families = wanted or known
    try:
        out = Path(args.out) if args.out else default_output()
    except OSError as e:
        raise UsageError(f"cannot write the default output in {ROOT / 'reports'}: "
                         f"{e.strerror or e}; give --out FILE") from None
    output = Output(out)
    extra_context = {"suite_args": shared, "suite_complete": False}
    skipped_unknown: list[tuple[str, str]] = []

    outcomes: list[FamilyOutcome] = []
    start = time.monotonic()
    interrupted = False
    current: Optional[tuple[str, Path, float]] = None  # the family running now
    proc: Optional[subprocess.Popen] = None
    try:
        save(out, merge(outcomes, skipped_unknown + [
            (f, "not run yet (suite in progress)") for f in families], extra_context))
    except OSError as e:  # nothing measured yet: nothing lost
        raise UsageError(f"cannot write {out}: {e.strerror or e}") from None
    remove_stale_temp_dirs()
    preexec = die_with_parent()
    old_handlers = {sig: signal.signal(sig, _raise_interrupt)
                    for sig in (signal.SIGINT, signal.SIGTERM)}
    with tempfile.TemporaryDirectory(prefix=f"{TEMP_PREFIX}{os.getpid()}-") as tmp:
        try:
            print(f"run_suite: {len(families)} families -> {out}", flush=True)
            for k, family in enumerate(families, 1):
                json_path = Path(tmp) / f"{family}.json"
                cmd = [str(binary), f"--family={family}", *shared,
                       f"--benchmark_out={json_path}", "--benchmark_out_format=json"]
                print(f"[{k}/{len(families)}] {family}  elapsed {time.monotonic() - start:.0f}s",
                      flush=True)
                proc = None
                current = (family, json_path, time.monotonic())
                proc = subprocess.Popen(cmd, preexec_fn=preexec)
                code = proc.wait()
                o = outcome_from(family, code, json_path, time.monotonic() - current[2], False)
                outcomes.append(o)
                current = None
                print(f"[{k}/{len(families)}] {family}: {o.status}, {len(o.benchmarks)} entries "
                      f"in {o.seconds:.0f}s", flush=True)
                if o.status == "interrupted":  # the child got the terminal's Ctrl-C first
                    raise Interrupted("SIGINT")
                output.write(merge(outcomes, skipped_unknown + [
                    (f, "not run yet (suite in progress)") for f in families[k:]], extra_context))
        except Interrupted:
            for sig in (signal.SIGINT, signal.SIGTERM):
                signal.signal(sig, signal.SIG_IGN)
            interrupted = True
            if current is not None and current[0] not in {o.family for o in outcomes}:
                family, json_path, t0 = current
                code = stop_child(proc) if proc is not None else None
                outcomes.append(outcome_from(family, code, json_path, time.monotonic() - t0,
                                             True))
            print(f"run_suite: interrupted; writing what finished to {output.path}", flush=True)
        done = {o.family for o in outcomes}
        rest = [(f, "interrupted before it started") for f in families if f not in done]
        extra_context["suite_complete"] = not interrupted and all(o.ok for o in outcomes)
        doc = merge(outcomes, skipped_unknown + rest, extra_context)
        output.write(doc)
    for sig, handler in old_handlers.items():
        signal.signal(sig, handler)

    if output.ok:
        doc = load(output.saved)
    print()
    print(summarize(doc, str(output.saved) if output.ok else ""))
    elapsed = f"in {time.monotonic() - start:.0f}s" + (" (interrupted)" if interrupted else "")
    if not output.ok:
        print(f"run_suite: {output.error}: the results above are not saved; {output.saved} keeps "
              f"the run up to {output.kept}", file=sys.stderr)
    elif output.saved != out:
        print(f"run_suite: wrote {output.saved} {elapsed}, not {out} (which keeps the run up to "
              f"{output.left})")
    else:
        print(f"run_suite: wrote {out} {elapsed}")
    if interrupted:
        return EXIT_INTERRUPTED
    return 0 if extra_context["suite_complete"] and output.saved == out and output.ok else 1


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="run_suite.py",
        usage="%(prog)s [-h] [--binary PATH] [--out FILE] [--family a,b] [--quick] [--smoke] "
              "[--check] [-- dtypebench args ...]",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Arguments after -- go to every dtypebench process, e.g.\n"
               "  run_suite.py --quick -- --levels=L2,DRAM --threads=1,all --dram-mib=512\n"
               "Exit status: 0 every family ran (skips are fine), 1 a family failed or crashed\n"
               "or the result went to a fallback file, 2 bad usage, no binary or an output that\n"
               "cannot be written, 130 interrupted.")
    p.add_argument("--binary", metavar="PATH", default=str(DEFAULT_BINARY),
                   help="the dtypebench binary (default: %(default)s)")
    p.add_argument("--out", metavar="FILE",
                   help="the merged JSON result (default: reports/<hostname>-<date>.json)")
    p.add_argument("--family", metavar="a,b",
                   help="comma-separated families to run (default: all, from "
                        "dtypebench --list-families)")
    p.add_argument("--quick", action="store_true", help="a short run (dtypebench --quick)")
    p.add_argument("--smoke", action="store_true",
                   help="a few seconds per family, for CI: --quick plus " + " ".join(SMOKE_ARGS))
    p.add_argument("--check", action="store_true",
                   help="only check what needs no binary (--out can be written, --family names "
                        "no family twice) and exit 0 or 2; scripts/characterize does this before "
                        "it installs and builds")
    return p


def main(argv: Optional[list[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    extra: list[str] = []
    if "--" in argv:
        i = argv.index("--")
        argv, extra = argv[:i], argv[i + 1:]
    args = build_parser().parse_args(argv)
    for a in extra:
        if a.startswith(("--family", "--benchmark_out", "--list")):
            print(f"run_suite: '{a.split('=')[0]}' is set by run_suite itself (it runs one family "
                  "per process); choose families with --family (see --help)", file=sys.stderr)
            return 2
    # Ctrl-C before the families started: nothing to keep (run_suite handles it after)
    return interruptible("run_suite", lambda: checked(args, extra))


def checked(args: argparse.Namespace, extra: list[str]) -> int:
    """--check, or the run; a UsageError is one line and exit 2."""
    try:
        if args.check:
            check_out(args.out)
            parse_families(args.family)
            return 0
        return run_suite(args, extra)
    except UsageError as e:
        print(f"run_suite: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
