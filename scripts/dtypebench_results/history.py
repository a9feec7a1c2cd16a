"""history: every benchmark's trend across commits, per machine, and the commits where it stepped.

    history add RUN.json [RUN.json ...]   store runs (a run stored before is not stored again)
    history list [NAME_REGEX]             what is stored: the commits per machine, the benchmarks
    history show NAME_REGEX [--plot PNG]  the matching benchmarks' series, commit by commit, as
                                          Markdown tables, and a plot with the steps marked
    history steps [NAME_REGEX]            the step changes of every series, as one Markdown table

Every subcommand takes --db PATH|URL (default $DTYPEBENCH_HISTORY, else
~/.local/share/dtypebench/history.sqlite): a path is an SQLite file (Python's sqlite3), a
postgresql:// URL a PostgreSQL database a team shares (psycopg 3, `psycopg[binary]`). The same
SQL serves both through DB-API: only the connection and the parameter style differ.

Stored per run (context git_commit and date) and benchmark: its representative row
(rows.representative: the median aggregate, or the median repetition; rows whose verified
counter is not 1 are left out), one value per metric: real_time (seconds per iteration), the rates
(bytes, flops, elements per second) and the ratio counters (*_over_*), each with its spread (the
run's cv aggregate of that metric, else the cv of its repetitions; none for one repetition). The
machine is the class ci/regression names baselines by ("intel-r-xeon-r-processor-2c": cpu_model
and cpu_cores), or the GPU's name ("nvidia-h200") for a row without a threads:N key in a run
with a gpu_name. A run is (machine, commit, date): adding it again stores nothing.

A series is one metric of one benchmark on one machine: a point per commit (the median of that
commit's runs), in commit-date order (git's committer date when `add` ran in a checkout that has
the commit, else the run's date).

Steps: PELT (ruptures.Pelt, l2 cost) on the log of the values, so a step is relative, with the
penalty --penalty K x sigma^2 x ln(n) (K 4: on made-up series of 3% noise, 4 to 40 commits, it
flags 0-4% of flat ones and finds a 15% step at its commit in 62% (4 commits) to 90% (20) of
series). sigma is the series' noise: the larger of its median stored spread and the MAD of its
successive differences (1.4826 x median |x[i+1] - x[i]| / sqrt 2; a step moves only one
difference). A step must hold for --min-commits commits on each side, each on its side of the
midpoint of the two medians (2: one odd commit is an outlier, not a step; 1 also flags the newest
commit alone), and its size, the median after over the median before - 1, must exceed --min-effect
(5%): a smaller one is merged into its neighbours and the rest measured again. A series of fewer
than 4 commits (or 2 x --min-commits) is "too short": no guess. ruptures because the maintained
alternatives do not install beside the suite's numpy 2.4 in .venv: MongoDB's
signal-processing-algorithms (E-divisive) pins numpy<2 and Apache Otava 0.8 pins numpy==2.2.0.

Exit 0 when done (steps found are a report, not a failure); 2 when a file is not a run (add stores
the others and names each bad one), the database cannot be opened or holds no run, NAME_REGEX or
--machine or --counter matches nothing, or psycopg, ruptures or matplotlib is missing; 130 when
interrupted.
"""
from __future__ import annotations

import argparse
import math
import os
import re
import sqlite3
import statistics
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

from . import EXIT_OK, EXIT_UNREADABLE, command, interruptible
from .compare import RATE_UNITS, Settings, format_value, fraction
from .load import ResultsError, context_of, load_run
from .machine import machine
from .rows import RATE_COUNTERS, Bench, benches, number, representative
from .tables import markdown as table

TABLE = "dtypebench_history"
SCHEMA = f"""CREATE TABLE IF NOT EXISTS {TABLE} (
    machine TEXT NOT NULL, git_commit TEXT NOT NULL, commit_date TEXT NOT NULL,
    run_date TEXT NOT NULL, benchmark TEXT NOT NULL, metric TEXT NOT NULL,
    value DOUBLE PRECISION NOT NULL, spread DOUBLE PRECISION,
    PRIMARY KEY (machine, git_commit, run_date, benchmark, metric))"""
COLUMNS = "machine, git_commit, commit_date, run_date, benchmark, metric, value, spread"
TIME = "real_time"
PENALTY_K = 4.0
MIN_POINTS = 4  # below it the noise estimate is the step itself
SIGMA_FLOOR = 1e-3  # a series flatter than 0.1% is flat to the timer: the penalty stays above 0
MAX_PLOTS = 8
SHA = re.compile(r"[0-9a-f]{7,40}")
VENV_HINT = "scripts/setup.sh puts it in .venv, and scripts/history uses that python"


class HistoryError(Exception):
    """A run, a database or an argument history cannot use; str() is one line."""


def one_line(e: BaseException) -> str:
    """A database error in a line: PostgreSQL's primary message when it has one (not its
    LINE 1: ... ^ pointer), else every line of it joined."""
    primary = getattr(getattr(e, "diag", None), "message_primary", None)
    text = primary or "; ".join(x.strip() for x in str(e).splitlines() if x.strip())
    return text or type(e).__name__


# ---- runs: what a result file adds ------------------------------------------------------------


@dataclass(frozen=True)
class Value:
    machine: str
    commit: str
    commit_date: str
    run_date: str
    benchmark: str
    metric: str
    value: float
    spread: Optional[float]


def machine_of(context: dict[str, Any], b: Bench) -> str:
    """The machine class of CPU rows (Machine.cpu_class, the name ci/regression files baselines
    under), or the GPU's name for a GPU row (no threads:N key)."""
    m = machine(context)
    return m.gpu_class() if m.gpu and b.threads is None else m.cpu_class()


def utc(text: Any) -> Optional[str]:
    """An ISO 8601 date in UTC, so dates sort as text; None when it is not one."""
    try:
        d = datetime.fromisoformat(str(text))
    except ValueError:
        return None
    return (d.astimezone(timezone.utc) if d.tzinfo else d).isoformat()


def git_date(commit: str) -> Optional[str]:
    """The committer date of commit (its sha, without -dirty) in the current checkout, if any."""
    sha = commit.removesuffix("-dirty")
    if not SHA.fullmatch(sha):
        return None
    try:
        p = subprocess.run(["git", "show", "-s", "--format=%cI", sha + "^{commit}"],
                           capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return utc(p.stdout.strip()) if p.returncode == 0 else None


def metrics_of(b: Bench) -> dict[str, float]:
    """The row's stored metrics: real time in seconds, the rates and the *_over_* ratios (each
    finite and above 0, so its log exists)."""
    out = {}
    t = b.seconds
    if t is not None and math.isfinite(t) and t > 0:
        out[TIME] = t
    for k, x in b.counters.items():
        if (k in RATE_COUNTERS or "_over_" in k) and math.isfinite(x) and x > 0:
            out[k] = x
    return out


def spread_of(run: Sequence[Bench], metric: str) -> Optional[float]:
    """The run's relative spread of metric: its cv aggregate (real_time there is already a
    fraction), else the cv of its repetitions; None for one repetition."""
    for b in run:
        if b.get("run_type") == "aggregate" and b.get("aggregate_name") == "cv":
            x = number(b.get(metric))
            if x is not None and math.isfinite(x) and x >= 0:
                return x
    values = [metrics_of(b).get(metric) for b in run if b.get("run_type") != "aggregate"]
    values = [v for v in values if v is not None]
    if len(values) < 2:
        return None
    return statistics.stdev(values) / statistics.fmean(values)


def verified_or_unchecked(b: Bench) -> bool:
    v = number(b.get("verified"))
    return "verified" not in b or (v is not None and abs(v - 1.0) <= 1e-9)


def run_values(doc: dict[str, Any], path: str,
               commit_date: Callable[[str], Optional[str]] = git_date) -> list[Value]:
    """What a result file adds to the history; HistoryError when it is not a run of a commit."""
    context = context_of(doc)
    commit = context.get("git_commit")
    if not isinstance(commit, str) or not commit.strip():
        raise HistoryError(f"{path}: no git_commit in its context (not a dtypebench run?)")
    if commit.strip() == "unknown":
        raise HistoryError(f"{path}: git_commit is 'unknown' (built outside a git checkout)")
    run_date = utc(context.get("date"))
    if run_date is None:
        raise HistoryError(f"{path}: no ISO 8601 date in its context")
    commit = commit.strip()
    when = commit_date(commit) or run_date
    rows = benches(doc["benchmarks"])
    runs: dict[str, list[Bench]] = {}
    for b in rows:
        if not b.is_error:
            runs.setdefault(b.name, []).append(b)
    out = []
    for b in representative(rows):
        if not verified_or_unchecked(b):
            continue
        name = b.name
        machine = machine_of(context, b)
        for metric, x in metrics_of(b).items():
            out.append(Value(machine, commit, when, run_date, name, metric, x,
                             spread_of(runs[name], metric)))
    if not out:
        raise HistoryError(f"{path}: no benchmark with a usable time or rate")
    return out


# ---- the store: SQLite or PostgreSQL, one DB-API code path ------------------------------------


def is_url(target: str) -> bool:
    return target.startswith(("postgresql://", "postgres://"))


def shown(target: str) -> str:
    """target without the password a URL may carry."""
    return re.sub(r"^(postgres(?:ql)?://[^:/@]*):[^@]*@", r"\1:***@", target)


class Store:
    """The history table in an SQLite file or a PostgreSQL database. create=False refuses a
    database without the table (reads never make one)."""

    def __init__(self, target: str, create: bool) -> None:
        self.name = shown(target)
        if is_url(target):
            try:
                import psycopg
            except ImportError:
                raise HistoryError(f"psycopg is not installed, needed for {self.name} "
                                   f"({VENV_HINT})") from None
            self.api: Any = psycopg
            self.param = "%s"
            try:
                self.conn = psycopg.connect(target, connect_timeout=10)
            except psycopg.Error as e:
                raise HistoryError(f"{self.name}: cannot connect: {one_line(e)}") from None
        else:
            path = Path(target)
            if not create and not path.is_file():
                raise HistoryError(f"{target}: no history there (history add RUN.json --db "
                                   f"{target} makes one)")
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                self.conn = sqlite3.connect(path, timeout=30)
            except (OSError, sqlite3.Error) as e:
                raise HistoryError(f"{target}: cannot open: {one_line(e)}") from None
            self.api, self.param = sqlite3, "?"
        if create:
            self.execute(SCHEMA)
            self.commit()
        else:
            try:
                self.execute(f"SELECT COUNT(*) FROM {TABLE}")
            except HistoryError as e:
                self.conn.close()
                raise HistoryError(f"{e} (not a history: history add RUN.json --db ... makes "
                                   f"one)") from None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.conn.close()

    def execute(self, sql: str, params: Sequence[Any] = (), many: bool = False) -> list[tuple]:
        """The rows of one statement (sql written with ? placeholders); HistoryError on a
        database error."""
        cur = self.conn.cursor()
        try:
            sql = sql.replace("?", self.param)
            if many:
                cur.executemany(sql, params)
                return []
            cur.execute(sql, params)
            return list(cur.fetchall()) if cur.description else []
        except self.api.Error as e:
            raise HistoryError(f"{self.name}: {one_line(e)}") from None
        finally:
            cur.close()

    def commit(self) -> None:
        try:
            self.conn.commit()
        except self.api.Error as e:
            raise HistoryError(f"{self.name}: {one_line(e)}") from None

    def add(self, values: Sequence[Value]) -> list[tuple[str, str, str, int]]:
        """Stores values in one transaction; (machine, commit, run date, values stored) per run,
        0 for a run stored before."""
        runs: dict[tuple[str, str, str], list[Value]] = {}
        for v in values:
            runs.setdefault((v.machine, v.commit, v.run_date), []).append(v)
        out = []
        for key, vs in runs.items():
            (n,), = self.execute(f"SELECT COUNT(*) FROM {TABLE} WHERE machine = ? AND "
                                 f"git_commit = ? AND run_date = ?", key)
            if n == 0:
                # ON CONFLICT: a teammate adding the same run at the same moment
                self.execute(f"INSERT INTO {TABLE} ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                             f"ON CONFLICT DO NOTHING",
                             [(v.machine, v.commit, v.commit_date, v.run_date, v.benchmark,
                               v.metric, v.value, v.spread) for v in vs], many=True)
            out.append((*key, 0 if n else len(vs)))
        self.commit()
        return out

    def runs(self) -> list[tuple]:
        """(machine, commit, commit date, run date, benchmarks) per run; HistoryError if none."""
        out = self.execute(f"SELECT machine, git_commit, commit_date, run_date, COUNT(DISTINCT "
                           f"benchmark) FROM {TABLE} GROUP BY machine, git_commit, commit_date, "
                           f"run_date")
        if not out:
            raise HistoryError(f"{self.name}: no run stored (history add RUN.json first)")
        return out

    def metrics(self) -> list[str]:
        return sorted(m for m, in self.execute(f"SELECT DISTINCT metric FROM {TABLE}"))

    def values(self, metric: str, machine: Optional[str]) -> list[tuple]:
        """(machine, benchmark, commit, commit date, run date, value, spread) of one metric."""
        sql = (f"SELECT machine, benchmark, git_commit, commit_date, run_date, value, spread "
               f"FROM {TABLE} WHERE metric = ?")
        if machine is None:
            return self.execute(sql, (metric,))
        return self.execute(sql + " AND machine = ?", (metric, machine))

    def benchmarks(self) -> list[tuple]:
        """(benchmark, machine, commits) per benchmark and machine."""
        return self.execute(f"SELECT benchmark, machine, COUNT(DISTINCT git_commit) FROM {TABLE} "
                            f"GROUP BY benchmark, machine")


# ---- series and their steps -------------------------------------------------------------------


@dataclass
class Point:
    commit: str
    date: str  # the commit's
    value: float  # the median of the commit's runs
    spread: Optional[float]
    runs: int


@dataclass
class Step:
    index: int  # the first point after the step
    before: float  # the median of the segment before
    after: float

    @property
    def change(self) -> float:
        return self.after / self.before - 1


@dataclass
class Series:
    machine: str
    benchmark: str
    points: list[Point]
    steps: list[Step] = field(default_factory=list)
    sigma: Optional[float] = None
    note: str = ""  # "too short: ..." when no detection ran


@dataclass(frozen=True)
class Detection:
    min_effect: float = 0.05
    min_commits: int = 2
    k: float = PENALTY_K

    @property
    def min_points(self) -> int:
        return max(MIN_POINTS, 2 * self.min_commits)


def series_of(rows: Sequence[tuple]) -> list[Series]:
    """Values (Store.values) as series by benchmark and machine, a point per commit in the
    order of commit date (ties: the first run's date)."""
    by: dict[tuple[str, str], dict[str, list[tuple]]] = {}
    for machine, benchmark, commit, commit_date, run_date, value, spread in rows:
        by.setdefault((benchmark, machine), {}).setdefault(commit, []).append(
            (commit_date, run_date, float(value), spread))
    out = []
    for (benchmark, machine), commits in sorted(by.items()):
        points = []
        for commit, runs in sorted(commits.items(), key=lambda c: (min(r[:2] for r in c[1]),
                                                                    c[0])):
            spreads = [float(r[3]) for r in runs if r[3] is not None]
            points.append(Point(commit, min(r[0] for r in runs),
                                statistics.median(r[2] for r in runs),
                                statistics.median(spreads) if spreads else None, len(runs)))
        out.append(Series(machine, benchmark, points))
    return out


def noise(logs: Sequence[float], spreads: Sequence[Optional[float]]) -> float:
    """The series' sigma on the log scale: the larger of the median stored spread (a relative
    spread is a log-scale sigma) and the MAD of successive differences."""
    diffs = [abs(b - a) for a, b in zip(logs, logs[1:])]
    mad = 1.4826 * statistics.median(diffs) / math.sqrt(2) if diffs else 0.0
    stored = [s for s in spreads if s is not None]
    return max(mad, statistics.median(stored) if stored else 0.0, SIGMA_FLOOR)


def segments(values: Sequence[float], cuts: Sequence[int]) -> list[Step]:
    """The step at each cut, between the medians of the segments on either side."""
    edges = [0, *cuts, len(values)]
    return [Step(c, statistics.median(values[edges[i]:c]),
                 statistics.median(values[c:edges[i + 2]])) for i, c in enumerate(cuts)]


def holds(values: Sequence[float], step: Step, m: int) -> bool:
    """The m commits on each side of the step are each on their own side of the midpoint of the
    two medians (a cut beside one outlier makes a two-commit segment of a normal commit and the
    outlier: its normal commit is on the wrong side)."""
    mid = (step.before + step.after) / 2
    up = step.after > step.before
    return (all((x > mid) == up for x in values[step.index:step.index + m])
            and all((x < mid) == up for x in values[max(0, step.index - m):step.index]))


def ruptures_module() -> Any:
    try:
        import ruptures
    except ImportError as e:
        raise HistoryError(f"ruptures is not installed ({e}; {VENV_HINT})") from None
    return ruptures


def find_steps(values: Sequence[float], spreads: Sequence[Optional[float]],
               d: Detection = Detection()) -> tuple[list[Step], float]:
    """(the steps, sigma) of one series of at least d.min_points values above 0: PELT's cuts,
    less those that are too small or do not hold (the smallest first, the rest measured again)."""
    import numpy as np  # ruptures needs it

    logs = np.log(np.asarray(values, dtype=float))
    sigma = noise(list(logs), spreads)
    pelt = ruptures_module().Pelt(model="l2", min_size=d.min_commits, jump=1)
    cuts = pelt.fit(logs.reshape(-1, 1)).predict(pen=d.k * sigma ** 2 * math.log(len(values)))
    cuts = cuts[:-1]
    while cuts:
        steps = segments(values, cuts)
        weak = [i for i, s in enumerate(steps)
                if abs(s.change) <= d.min_effect or not holds(values, s, d.min_commits)]
        if not weak:
            return steps, sigma
        del cuts[min(weak, key=lambda i: abs(steps[i].change))]
    return [], sigma


def detect(series: Series, d: Detection) -> Series:
    if len(series.points) < d.min_points:
        series.note = (f"too short: {len(series.points)} commit(s), step detection needs "
                       f"{d.min_points}")
        return series
    series.steps, series.sigma = find_steps([p.value for p in series.points],
                                            [p.spread for p in series.points], d)
    return series


# ---- selection --------------------------------------------------------------------------------


def pattern_of(text: Optional[str]) -> Optional[re.Pattern[str]]:
    try:
        return re.compile(text) if text is not None else None
    except re.error as e:
        raise HistoryError(f"{text!r} is not a regular expression: {e}") from None


def selected(store: Store, args: argparse.Namespace) -> list[Series]:
    """The series of args.counter on args.machine whose benchmark matches args.name."""
    runs = store.runs()
    machines = sorted({r[0] for r in runs})
    if args.machine is not None and args.machine not in machines:
        raise HistoryError(f"no run of machine {args.machine!r} (stored: {', '.join(machines)})")
    metrics = store.metrics()
    if args.counter not in metrics:
        raise HistoryError(f"no values of {args.counter!r} (stored: {', '.join(metrics)})")
    every = series_of(store.values(args.counter, args.machine))
    pattern = pattern_of(args.name)
    out = [s for s in every if pattern is None or pattern.search(s.benchmark)]
    if not out:
        raise HistoryError(f"no benchmark matches {args.name!r} among the {len(every)} series of "
                           f"{args.counter} (history list shows them)")
    return out


# ---- output -----------------------------------------------------------------------------------


def short(commit: str) -> str:
    sha = commit.removesuffix("-dirty")
    return sha[:12] + commit[len(sha):] if SHA.fullmatch(sha) else commit


def day(date: str) -> str:
    return date[:16].replace("T", " ")


def metric_words(metric: str) -> str:
    return Settings(None if metric == TIME else metric).metric()


def rule(d: Detection) -> str:
    return (f"a step holds {d.min_commits} commit(s) on each side and exceeds {d.min_effect:.0%}; "
            f"PELT penalty {d.k:g} x sigma^2 x ln(n)")


def step_text(s: Series, st: Step, fmt: Callable[[float], str]) -> str:
    p = s.points[st.index]
    return (f"at `{short(p.commit)}` (#{st.index + 1}): {fmt(st.before)} -> {fmt(st.after)} "
            f"({st.change:+.1%})")


def formatter(metric: str) -> Callable[[float], str]:
    settings = Settings(None if metric == TIME else metric)
    return lambda x: format_value(x, settings)


def show_markdown(series: Sequence[Series], metric: str, d: Detection) -> str:
    fmt = formatter(metric)
    lines = [f"History of {metric_words(metric)}; {rule(d)}."]
    for s in series:
        at = {st.index: st for st in s.steps}
        lines += ["", f"## `{s.benchmark}` on {s.machine}", ""]
        lines += table(["#", "commit", "date", "value", "spread", "runs", "step"], [
            [str(i + 1), f"`{short(p.commit)}`", day(p.date), fmt(p.value),
             "—" if p.spread is None else f"{p.spread:.1%}", str(p.runs),
             f"**{at[i].change:+.1%}**" if i in at else ""] for i, p in enumerate(s.points)],
            "rllrrrr")
        lines.append("")
        if s.note:
            lines.append(s.note.capitalize() + ".")
        elif s.steps:
            lines.append(f"{len(s.steps)} step(s) (noise sigma {s.sigma:.1%}): " +
                         "; ".join(step_text(s, st, fmt) for st in s.steps) + ".")
        else:
            lines.append(f"No step (noise sigma {s.sigma:.1%}).")
    return "\n".join(lines) + "\n"


def steps_markdown(series: Sequence[Series], metric: str, d: Detection) -> str:
    fmt = formatter(metric)
    found = sorted(((s, st) for s in series for st in s.steps),
                   key=lambda x: (-abs(x[1].change), x[0].benchmark, x[0].machine))
    lines = [f"Steps in {metric_words(metric)}; {rule(d)}.", ""]
    if found:
        lines += table(["benchmark", "machine", "commit", "before", "after", "change"], [
            [f"`{s.benchmark}`", s.machine,
             f"`{short(s.points[st.index].commit)}` ({day(s.points[st.index].date)})",
             fmt(st.before), fmt(st.after), f"{st.change:+.1%}"] for s, st in found], "lllrrr")
        lines.append("")
    short_ones = sum(1 for s in series if s.note)
    stepped = sum(1 for s in series if s.steps)
    lines.append(f"{len(series)} series: {stepped} with a step ({len(found)} step(s)), "
                 f"{len(series) - stepped - short_ones} without, {short_ones} too short (fewer "
                 f"than {d.min_points} commits).")
    return "\n".join(lines) + "\n"


def metric_list(metrics: Sequence[str]) -> str:
    main = [m for m in (TIME, *RATE_COUNTERS) if m in metrics]
    ratios = len(metrics) - len(main)
    return ", ".join(main) + (f" and {ratios} *_over_* ratio(s)" if ratios else "")


def list_markdown(store: Store, pattern: Optional[re.Pattern[str]]) -> str:
    runs = store.runs()
    commits: dict[tuple[str, str], list[tuple]] = {}
    for machine, commit, commit_date, run_date, n in runs:
        commits.setdefault((machine, commit), []).append((commit_date, run_date, n))
    benchmarks = [b for b in store.benchmarks() if pattern is None or pattern.search(b[0])]
    lines = [f"{store.name}: {len(runs)} run(s) of {len(commits)} commit(s) on "
             f"{len({m for m, _ in commits})} machine(s); metrics: {metric_list(store.metrics())}.",
             ""]
    lines += table(["machine", "commit", "commit date", "runs", "benchmarks"], [
        [m, f"`{short(commit)}`", day(min(rs)[0]), str(len(rs)), str(max(r[2] for r in rs))]
        for (m, commit), rs in sorted(commits.items(), key=lambda c: (c[0][0], min(c[1])))],
        "lllrr")
    lines += ["", f"{len(benchmarks)} benchmark series:", ""]
    lines += table(["benchmark", "machine", "commits"],
                   [[f"`{b}`", m, str(n)] for b, m, n in sorted(benchmarks)], "llr")
    return "\n".join(lines) + "\n"


def unit(metric: str, values: Sequence[float]) -> tuple[float, str]:
    """(scale, unit) for a plot's axis."""
    if metric == TIME:
        typical = statistics.median(values)
        return next(((s, u) for s, u in ((1.0, "s"), (1e-3, "ms"), (1e-6, "us"))
                     if typical >= s), (1e-9, "ns"))
    return RATE_UNITS.get(metric, (1.0, metric))


def plot(series: Sequence[Series], metric: str, path: str) -> None:
    """One panel per series (the first MAX_PLOTS): the value per commit with its spread, the
    segments' medians, and a dashed line at each step."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as e:
        raise HistoryError(f"matplotlib is not installed ({e}; {VENV_HINT})") from None
    shown_series = series[:MAX_PLOTS]
    fig, axes = plt.subplots(len(shown_series), 1, figsize=(9, 2.8 * len(shown_series)),
                             squeeze=False)
    for ax, s in zip(axes[:, 0], shown_series):
        scale, name = unit(metric, [p.value for p in s.points])
        xs = list(range(len(s.points)))
        ys = [p.value / scale for p in s.points]
        errs = [y * (p.spread or 0.0) for y, p in zip(ys, s.points)]
        ax.errorbar(xs, ys, yerr=errs, fmt="o-", color="C0", ms=4, capsize=2, lw=1)
        edges = [0, *(st.index for st in s.steps), len(xs)]
        for a, b in zip(edges, edges[1:]):
            ax.hlines(statistics.median(ys[a:b]), a - 0.4, b - 0.6, color="C1", lw=2)
        for st in s.steps:
            ax.axvline(st.index - 0.5, color="C3", ls="--", lw=1)
            ax.annotate(f"{st.change:+.0%}", (st.index - 0.5, max(ys)), color="C3", fontsize=8,
                        ha="left", va="top")
        ax.set_xticks(xs, [short(p.commit) for p in s.points], rotation=30, ha="right",
                      fontsize=7)
        ax.set_ylabel(name)
        ax.set_title(f"{s.benchmark} on {s.machine}" + (f" ({s.note})" if s.note else ""),
                     fontsize=8)
        ax.grid(alpha=0.3)
    if len(series) > MAX_PLOTS:
        fig.suptitle(f"the first {MAX_PLOTS} of {len(series)} series", fontsize=9)
    fig.tight_layout()
    try:
        fig.savefig(path, dpi=110)
    except OSError as e:
        raise HistoryError(f"cannot write {path}: {e.strerror or e}") from None
    finally:
        plt.close(fig)


# ---- command line -----------------------------------------------------------------------------


def default_db() -> str:
    data = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return os.environ.get("DTYPEBENCH_HISTORY") or str(Path(data) / "dtypebench" /
                                                       "history.sqlite")


def add(args: argparse.Namespace) -> int:
    bad = 0
    dates: dict[str, Optional[str]] = {}

    def commit_date(commit: str) -> Optional[str]:
        if commit not in dates:
            dates[commit] = git_date(commit)
        return dates[commit]

    with Store(args.db, create=True) as store:
        for path in args.runs:
            try:
                values = run_values(load_run(path), path, commit_date)
            except (ResultsError, HistoryError) as e:
                print(f"history: {e}; not stored", file=sys.stderr)
                bad += 1
                continue
            for machine, commit, run_date, n in store.add(values):
                what = f"stored {n} values" if n else "already stored"
                print(f"history: {path}: {what} ({machine} at {short(commit)}, {day(run_date)})")
    return EXIT_UNREADABLE if bad else EXIT_OK


def list_runs(args: argparse.Namespace) -> int:
    pattern = pattern_of(args.name)
    with Store(args.db, create=False) as store:
        sys.stdout.write(list_markdown(store, pattern))
    return EXIT_OK


def detection(args: argparse.Namespace) -> Detection:
    return Detection(args.min_effect, args.min_commits, args.penalty)


def show(args: argparse.Namespace) -> int:
    d = detection(args)
    ruptures_module()
    with Store(args.db, create=False) as store:
        series = [detect(s, d) for s in selected(store, args)]
    if args.plot:
        plot(series, args.counter, args.plot)
    sys.stdout.write(show_markdown(series, args.counter, d))
    return EXIT_OK


def steps(args: argparse.Namespace) -> int:
    d = detection(args)
    ruptures_module()
    with Store(args.db, create=False) as store:
        series = [detect(s, d) for s in selected(store, args)]
    sys.stdout.write(steps_markdown(series, args.counter, d))
    return EXIT_OK


def positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"not a whole number of 1 or more: {text!r}")
    return int(text)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="history", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    db = argparse.ArgumentParser(add_help=False)
    db.add_argument("--db", metavar="PATH|URL", default=default_db(),
                    help="an SQLite file or a postgresql:// URL (default $DTYPEBENCH_HISTORY, "
                         "else ~/.local/share/dtypebench/history.sqlite); now %(default)s")
    series = argparse.ArgumentParser(add_help=False)
    series.add_argument("--machine", metavar="M", help="this machine class only (history list)")
    series.add_argument("--counter", metavar="C", default=TIME,
                        help="the metric: real_time (default, lower is better), bytes, flops, "
                             "elements or a *_over_* ratio (higher is better)")
    series.add_argument("--min-effect", type=fraction, default=0.05, metavar="F",
                        help="the smallest step that counts: 0.05 or 5%% (the default)")
    series.add_argument("--min-commits", type=positive_int, default=2, metavar="N",
                        help="commits a step must hold on each side (default 2; 1 also flags "
                             "the newest commit alone, and an outlier as a step and back)")
    series.add_argument("--penalty", type=fraction, default=PENALTY_K, metavar="K",
                        help=f"PELT penalty K x sigma^2 x ln(n) (default {PENALTY_K:g})")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    a = sub.add_parser("add", parents=[db], help="store runs (each once)",
                       description="Store each run's representative values; a run stored "
                                   "before is skipped, a file that is not a run named (exit 2).")
    a.add_argument("runs", nargs="+", metavar="RUN.json")
    a.set_defaults(func=add)
    ls = sub.add_parser("list", parents=[db], help="the commits per machine and the benchmarks",
                        description="The stored commits per machine and the benchmark series.")
    ls.add_argument("name", nargs="?", metavar="NAME_REGEX",
                    help="list only the benchmarks this regex finds in the name")
    ls.set_defaults(func=list_runs)
    sh = sub.add_parser("show", parents=[db, series],
                        help="the series of the matching benchmarks, with their steps",
                        description="Each matching series commit by commit (commit-date order) "
                                    "as Markdown, its steps marked; --plot draws them.")
    sh.add_argument("name", metavar="NAME_REGEX", help="a regex searched for in the name")
    sh.add_argument("--plot", metavar="OUT.png",
                    help=f"also plot the series (the first {MAX_PLOTS}), steps marked")
    sh.set_defaults(func=show)
    st = sub.add_parser("steps", parents=[db, series], help="the steps of every series",
                        description="One Markdown table of the step changes of every series "
                                    "(PELT, ruptures; see history --help).")
    st.add_argument("name", nargs="?", metavar="NAME_REGEX",
                    help="only the benchmarks this regex finds in the name")
    st.set_defaults(func=steps)
    return p


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parser().parse_args(sys.argv[1:] if argv is None else argv)
    return interruptible("history", lambda: run_command(args))


def run_command(args: argparse.Namespace) -> int:
    try:
        return args.func(args)
    except HistoryError as e:
        print(f"history: {e}", file=sys.stderr)
        return EXIT_UNREADABLE


def entry() -> int:
    """The command: SIGTERM stops it as Ctrl-C does (exit 130)."""
    return command(main)
