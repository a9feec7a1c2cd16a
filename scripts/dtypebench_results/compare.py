"""compare: did the contender runs get faster or slower than the base runs, benchmark by benchmark?

    compare [options] BASE.json [BASE.json ...] -- CONTENDER.json [CONTENDER.json ...]

Options go before `--`; everything after it is a contender file. Several files per side are
repetitions of the same build, pooled; each file may hold several repetitions per benchmark.

Samples: every iteration row (run_type "iteration") that ran (not skipped, failed or derived),
matched across files by run_name. Aggregate rows (mean, median, stddev, cv) are not samples, so a
file written with --benchmark_report_aggregates_only has none. The sample is real_time per
iteration in seconds (lower is better), or with --counter NAME that counter (bytes, flops,
elements per second, or a ratio such as subject_over_ref_bw: higher is better).

Per benchmark present on both sides:
  change   median(contender) / median(base) - 1, of the quantity compared: for times + is
           slower, for counters + is faster;
  p        two-sided Mann-Whitney U test (scipy.stats.mannwhitneyu), as Google Benchmark's
           compare.py does; not run with fewer than 3 samples on a side;
  bar      the minimum effect: max(--threshold, --k x the pooled cv of the two sides);
  verdict  noisy   fewer than 3 samples on a side, or a side's cv above --max-cv, or a change
                   beyond the bar that the U test does not confirm (p >= --alpha; with 3 vs 3
                   samples the smallest possible p is 0.1, so it never confirms);
           same    |change| within the bar;
           slower / faster   |change| beyond the bar and p < --alpha.

--per-run makes each file one sample per benchmark: the median of its repetitions (of the ratios,
normalized). Repetitions within one process are closer to each other than separate runs are (on a
shared VM the machine drifts between runs, not within one), so a U test over repetitions reads that
drift as a change; over runs, and with a bar from the run-to-run spread, it does not. It needs
3 files a side for a verdict, 5 to reach p < 0.05 with room (ci/regression runs 5).

--normalize REF divides every sample by the sample of a reference benchmark from the same file at
the same repetition_index, so drift of the whole machine between runs cancels. REF is a regular
expression that must match the reference's whole run_name; `{key}` in it is replaced by the
benchmark's own value of that name key (regex-escaped), e.g.
    --normalize 'baseline/copy/dtype:f64/level:{level}/.*threads:{threads}/.*'
A benchmark whose name lacks a key REF uses, or for which REF matches no benchmark (or several),
gets the verdict "no reference"; the reference itself gets "reference".

Refused with one line and exit 2: a file that is not a readable result, files from different
machines (context cpu_model, hostname, gpu_name where present; --allow-mixed compares anyway), and
no benchmark with samples on both sides. Exit 0 when nothing is slower, 1 when at least one
benchmark is slower, 2 on bad input or usage, 130 when interrupted.
"""
from __future__ import annotations

import argparse
import math
import re
import statistics
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

from . import EXIT_FAILED, EXIT_OK, EXIT_UNREADABLE, command, interruptible
from .load import ResultsError, check_output, context_of, load, save, write_atomic
from .machine import machine
from .rows import Bench, benches, number
from .tables import markdown as table

MIN_SAMPLES = 3  # per side; below it a U test means nothing
# the order of the table: regressions first, then what may hide one
VERDICT_ORDER = ("slower", "noisy", "faster", "same", "no reference", "reference")
RATE_UNITS = {"bytes": (1e9, "GB/s"), "flops": (1e9, "GFLOP/s"), "elements": (1e9, "G/s")}
SCIPY_HINT = "scripts/setup.sh puts it in .venv, and scripts/compare uses that python"
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")  # not a {2,3} quantifier

# one sample per (repetition_index, occurrence): a file that holds the same repetition twice
# (two runs concatenated) keeps both, and its k-th copy pairs with the reference's k-th copy
SampleKey = tuple[int, int]
FileSamples = dict[str, dict[SampleKey, float]]  # run_name -> samples


class InputError(Exception):
    """Inputs that are readable results but cannot be compared; str() is one line."""


@dataclass(frozen=True)
class Settings:
    counter: Optional[str] = None  # None: real time
    normalize: Optional[str] = None
    alpha: float = 0.05
    threshold: float = 0.05
    k: float = 2.0
    max_cv: float = 0.10
    per_run: bool = False

    @property
    def higher_is_better(self) -> bool:
        return self.counter is not None

    def metric(self) -> str:
        what = f"counter {self.counter} (higher is better)" if self.counter else \
            "real time per iteration (lower is better)"
        what += f", divided by the reference {self.normalize}" if self.normalize else ""
        return what + ("; one sample per file (the median of its repetitions)"
                       if self.per_run else "")


@dataclass
class Side:
    """One side's samples of a benchmark, pooled over its files."""

    n: int
    median: Optional[float]
    cv: Optional[float]  # sample stdev / mean; None below 2 samples


@dataclass
class Comparison:
    name: str
    verdict: str
    reason: str
    base: Optional[Side] = None
    contender: Optional[Side] = None
    change: Optional[float] = None  # median(contender) / median(base) - 1
    p: Optional[float] = None
    min_effect: Optional[float] = None
    reference: Optional[str] = None


@dataclass
class Report:
    settings: Settings
    base_files: list[str]
    contender_files: list[str]
    comparisons: list[Comparison]
    only_base: list[str] = field(default_factory=list)
    only_contender: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        out = {v: 0 for v in VERDICT_ORDER}
        for c in self.comparisons:
            out[c.verdict] += 1
        return {v: n for v, n in out.items() if n or v in VERDICT_ORDER[:4]}

    def regressed(self) -> bool:
        return any(c.verdict == "slower" for c in self.comparisons)


# ---- samples ----------------------------------------------------------------------------------


def sample_value(b: Bench, counter: Optional[str]) -> Optional[float]:
    """The row's sample: real time in seconds, or the counter; None when it has no usable one."""
    if counter is None:
        t = b.seconds
        return t if t is not None and math.isfinite(t) and t > 0 else None
    return b.rate(counter)


def file_samples(doc: dict[str, Any], counter: Optional[str]) -> FileSamples:
    """The samples of one result file, by run name and (repetition_index, occurrence)."""
    out: FileSamples = {}
    ordinal: dict[str, int] = {}
    for b in benches(doc["benchmarks"]):
        if not b.is_iteration or b.is_error or b.is_derived:
            continue
        value = sample_value(b, counter)
        if value is None:
            continue
        name = b.name
        index = number(b.get("repetition_index"))
        rep = int(index) if index is not None else ordinal.get(name, 0)
        ordinal[name] = ordinal.get(name, 0) + 1
        samples = out.setdefault(name, {})
        occurrence = 0
        while (rep, occurrence) in samples:
            occurrence += 1
        samples[(rep, occurrence)] = value
    return out


def missing_keys(template: str, name: str) -> list[str]:
    """The {key}s of template that the name does not have."""
    keys = Bench({"name": name}).keys
    return [k for k in PLACEHOLDER.findall(template) if k not in keys]


def reference_pattern(template: str, name: str) -> re.Pattern[str]:
    """template with each {key} replaced by the name's value of that key, regex-escaped (the
    name must have every key: missing_keys)."""
    keys = Bench({"name": name}).keys
    filled = PLACEHOLDER.sub(lambda m: re.escape(keys[m.group(1)]), template)
    try:
        return re.compile(filled)
    except re.error as e:
        raise InputError(f"--normalize: {filled!r} is not a regular expression: {e}") from None


def find_reference(template: str, name: str, names: Sequence[str]) -> tuple[Optional[str], str]:
    """(the reference's run name, "") or (None, why there is none)."""
    missing = missing_keys(template, name)
    if missing:
        return None, "name has no key " + ", ".join(missing)
    pattern = reference_pattern(template, name)
    found = [n for n in names if pattern.fullmatch(n)]
    if not found:
        return None, f"no benchmark matches {pattern.pattern}"
    if len(found) > 1:
        return None, f"{len(found)} benchmarks match {pattern.pattern}"
    return found[0], ""


def normalized(files: Sequence[FileSamples], name: str, ref: str) -> list[float]:
    """name's samples divided by ref's of the same file and repetition (unpaired ones dropped)."""
    out = []
    for samples in files:
        subject, reference = samples.get(name, {}), samples.get(ref, {})
        out.extend(v / reference[key] for key, v in sorted(subject.items()) if key in reference)
    return out


def pooled(files: Sequence[FileSamples], name: str) -> list[float]:
    return [v for samples in files for _, v in sorted(samples.get(name, {}).items())]


def per_file(files: Sequence[FileSamples]) -> list[FileSamples]:
    """Each file reduced to one sample per benchmark, the median of its repetitions (--per-run).
    Normalizing divides these medians: the ratio of the two medians of a run is as stable as
    the median of its per-repetition ratios and needs no pairing."""
    return [{name: {(0, 0): statistics.median(v.values())} for name, v in f.items() if v}
            for f in files]


# ---- statistics -------------------------------------------------------------------------------


def side(values: Sequence[float]) -> Side:
    if not values:
        return Side(0, None, None)
    cv = None
    if len(values) >= 2:
        mean = statistics.fmean(values)
        cv = statistics.stdev(values) / mean if mean > 0 else math.inf
    return Side(len(values), statistics.median(values), cv)


def pooled_cv(a: Side, b: Side) -> float:
    """The coefficient of variation of both sides together, each weighted by its degrees of
    freedom (the pooled variance's rule, on relative spreads since the medians may differ)."""
    dof = (a.n - 1) + (b.n - 1)
    if dof <= 0 or a.cv is None or b.cv is None:
        return 0.0
    return math.sqrt(((a.n - 1) * a.cv ** 2 + (b.n - 1) * b.cv ** 2) / dof)


def pct(x: float) -> str:
    """a fraction as a percentage with at most 3 significant digits: 0.05 -> 5%, 0.1234 -> 12.3%"""
    return f"{x * 100:.3g}%"


def u_test(a: Sequence[float], b: Sequence[float]) -> float:
    """Two-sided Mann-Whitney U p-value (1.0 when every sample is equal)."""
    try:
        from scipy.stats import mannwhitneyu
    except ImportError:
        raise InputError(f"scipy is not installed ({SCIPY_HINT})") from None

    p = float(mannwhitneyu(a, b, alternative="two-sided").pvalue)
    return p if math.isfinite(p) else 1.0


def smallest_p(n1: int, n2: int) -> float:
    """The smallest two-sided p the exact U test can give with these sample sizes (every sample
    of one side below every sample of the other)."""
    return min(1.0, 2.0 / math.comb(n1 + n2, n1))


def judge(name: str, base: Sequence[float], contender: Sequence[float], s: Settings,
          test: Callable[[Sequence[float], Sequence[float]], float] = u_test) -> Comparison:
    """The verdict on one benchmark from its two sides' samples."""
    a, b = side(base), side(contender)
    c = Comparison(name, "noisy", "", a, b)
    if a.median and b.median:
        c.change = b.median / a.median - 1
    if a.n < MIN_SAMPLES or b.n < MIN_SAMPLES:
        c.reason = (f"too few samples: {a.n} base, {b.n} contender (a U test needs "
                    f"{MIN_SAMPLES} per side)")
        return c
    c.p = test(base, contender)
    c.min_effect = max(s.threshold, s.k * pooled_cv(a, b))
    for label, sd in (("base", a), ("contender", b)):
        if sd.cv is not None and sd.cv > s.max_cv:
            c.reason = f"cv {pct(sd.cv)} in {label} > {pct(s.max_cv)}"
            return c
    assert c.change is not None
    if abs(c.change) <= c.min_effect:
        c.verdict, c.reason = "same", f"change within ±{pct(c.min_effect)}"
        return c
    if c.p >= s.alpha:
        c.reason = f"change beyond {pct(c.min_effect)} but p {c.p:.2g} >= {s.alpha:g}"
        if smallest_p(a.n, b.n) >= s.alpha:
            c.reason += f" ({a.n} vs {b.n} samples cannot reach p < {s.alpha:g})"
        return c
    worse = c.change > 0 if not s.higher_is_better else c.change < 0
    c.verdict = "slower" if worse else "faster"
    c.reason = f"beyond {pct(c.min_effect)}, p {c.p:.2g}"
    return c


# ---- inputs -----------------------------------------------------------------------------------


def check_machines(docs: dict[str, dict[str, Any]]) -> None:
    """InputError when two files name different machines under the same key."""
    first: dict[str, tuple[str, str]] = {}  # key -> (value, path)
    for path, doc in docs.items():
        for k, v in machine(context_of(doc)).identity_keys().items():
            if k not in first:
                first[k] = (v, path)
            elif first[k][0] != v:
                raise InputError(f"mixed machines: {k} is {first[k][0]!r} in {first[k][1]} but "
                                 f"{v!r} in {path} (--allow-mixed compares anyway)")


def compare(base: Sequence[FileSamples], contender: Sequence[FileSamples],
            s: Settings) -> tuple[list[Comparison], list[str], list[str]]:
    """(comparisons, names only in base, names only in contender); names in order of first
    appearance in the base files."""
    base_names = list(dict.fromkeys(n for f in base for n in f))
    contender_names = set(n for f in contender for n in f)
    common = [n for n in base_names if n in contender_names]
    if not common:
        raise InputError(f"no benchmark in common: base has {len(base_names)} with samples, "
                         f"contender {len(contender_names)}, none of the same run_name")
    everything = list(dict.fromkeys(base_names + sorted(contender_names)))
    out = []
    for name in common:
        if s.normalize is None:
            out.append(judge(name, pooled(base, name), pooled(contender, name), s))
            continue
        ref, why = find_reference(s.normalize, name, everything)
        if ref is None:
            out.append(Comparison(name, "no reference", why))
        elif ref == name:
            out.append(Comparison(name, "reference", "the others are divided by it",
                                  reference=ref))
        else:
            c = judge(name, normalized(base, name, ref), normalized(contender, name, ref), s)
            c.reference = ref
            out.append(c)
    only_base = [n for n in base_names if n not in contender_names]
    only_contender = sorted(contender_names - set(base_names))
    return out, only_base, only_contender


def why_no_samples(doc: dict[str, Any], counter: Optional[str]) -> str:
    """Why a file gave no samples, in words a user can act on."""
    rows = [b for b in benches(doc["benchmarks"]) if not (b.is_error or b.is_derived)]
    if not rows:
        return "has no benchmark that ran"
    if all(b.get("run_type") == "aggregate" for b in rows):
        return "holds aggregates only (written with --benchmark_report_aggregates_only?)"
    if counter is not None:
        return f"has no iteration row with a usable {counter} counter"
    return "has no iteration row that ran with a usable real_time"


def side_samples(label: str, paths: Sequence[str], docs: dict[str, dict[str, Any]],
                 counter: Optional[str]) -> list[FileSamples]:
    """The samples of each file of one side; InputError when the side has none at all."""
    out = [file_samples(docs[path], counter) for path in paths]
    if not any(out):
        first = paths[0]
        raise InputError(f"no samples in {label}: {first} {why_no_samples(docs[first], counter)}")
    return out


def run(base_paths: Sequence[str], contender_paths: Sequence[str], s: Settings,
        allow_mixed: bool = False) -> Report:
    """The report on two sides' files; ResultsError or InputError for inputs it refuses."""
    docs = {path: load(path) for path in [*base_paths, *contender_paths]}
    if not allow_mixed:
        check_machines(docs)
    base = side_samples("base", base_paths, docs, s.counter)
    contender = side_samples("contender", contender_paths, docs, s.counter)
    if s.per_run:
        base, contender = per_file(base), per_file(contender)
    comparisons, only_base, only_contender = compare(base, contender, s)

    def order(c: Comparison) -> tuple[int, float]:
        worse = c.change if c.change is not None else 0.0
        return VERDICT_ORDER.index(c.verdict), -(worse if not s.higher_is_better else -worse)

    return Report(s, list(base_paths), list(contender_paths), sorted(comparisons, key=order),
                  only_base, only_contender)


# ---- output -----------------------------------------------------------------------------------


def format_value(x: Optional[float], s: Settings) -> str:
    if x is None:
        return "—"
    if s.normalize:
        return f"{x:.4g}x"
    if s.counter is None:
        for scale, unit in ((1.0, "s"), (1e-3, "ms"), (1e-6, "us")):
            if x >= scale:
                return f"{x / scale:.4g} {unit}"
        return f"{x / 1e-9:.4g} ns"
    if s.counter in RATE_UNITS:
        scale, unit = RATE_UNITS[s.counter]
        return f"{x / scale:.4g} {unit}"
    return f"{x:.4g}"


def format_p(p: Optional[float]) -> str:
    if p is None:
        return "—"
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def markdown(r: Report) -> str:
    s = r.settings
    sign = "+ = faster" if s.higher_is_better else "+ = slower"
    lines = [
        f"Compared: {s.metric()}; base {len(r.base_files)} file(s), contender "
        f"{len(r.contender_files)} file(s). Change is median(contender) / median(base) - 1 "
        f"({sign}); p is the two-sided Mann-Whitney U test; a verdict needs p < {s.alpha:g} and "
        f"|change| beyond max({pct(s.threshold)}, {s.k:g} x pooled cv); noisy above cv "
        f"{pct(s.max_cv)} or below {MIN_SAMPLES} samples a side"
        + (" (a sample is one file's median)." if s.per_run else "."),
        "",
    ]
    cells = []
    for c in r.comparisons:
        change = "—" if c.change is None else f"{c.change:+.1%}"
        verdict = f"**{c.verdict}**" if c.verdict == "slower" else c.verdict
        note = c.reason + (f"; reference `{c.reference}`"
                           if c.reference and c.verdict != "reference" else "")
        cells.append([f"`{c.name}`", format_value(c.base and c.base.median, s),
                      format_value(c.contender and c.contender.median, s), change,
                      format_p(c.p), verdict, note])
    lines += table(["benchmark", "base", "contender", "change", "p", "verdict", "note"], cells,
                   "lrrrrll")
    lines += ["", summary(r)]
    return "\n".join(lines) + "\n"


def summary(r: Report) -> str:
    counts = ", ".join(f"{v} {n}" for v, n in r.counts().items())
    line = f"{len(r.comparisons)} compared: {counts}"
    if r.only_base or r.only_contender:
        line += f"; not compared: {len(r.only_base)} only in base, " \
                f"{len(r.only_contender)} only in contender"
    return line + "."


def as_json(r: Report) -> dict[str, Any]:
    s = r.settings
    return {
        "metric": s.counter or "real_time_seconds",
        "higher_is_better": s.higher_is_better,
        "settings": asdict(s),
        "min_samples": MIN_SAMPLES,
        "base_files": r.base_files,
        "contender_files": r.contender_files,
        "benchmarks": [asdict(c) for c in r.comparisons],
        "counts": r.counts(),
        "only_in_base": r.only_base,
        "only_in_contender": r.only_contender,
    }


# ---- command line -----------------------------------------------------------------------------


def fraction(text: str) -> float:
    """An argument such as 0.05 or 5%, as a fraction."""
    try:
        x = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a fraction or a percentage: {text!r}") from None
    if not (math.isfinite(x) and x >= 0):
        raise argparse.ArgumentTypeError(f"must be 0 or more: {text!r}")
    return x


def level(text: str) -> float:
    """A significance level: a fraction strictly between 0 and 1 (at 1 or more every p passes)."""
    x = fraction(text)
    if not 0 < x < 1:
        raise argparse.ArgumentTypeError(f"must be above 0 and below 1: {text!r}")
    return x


# what makes a verdict: (option, its type, its help)
BAR_OPTIONS: tuple[tuple[str, Callable[[str], float], str], ...] = (
    ("--alpha", level, "significance level of the U test, in (0, 1) (default 0.05)"),
    ("--threshold", fraction, "the smallest change that counts: 0.05 or 5%% (the default)"),
    ("--k", fraction, "the bar is at least k x the pooled cv of the two sides (default 2)"),
    ("--max-cv", fraction, "a side whose cv is above this is noisy: 0.1 or 10%% (the default)"))


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="compare", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                usage="compare [options] BASE.json [BASE.json ...] -- "
                                      "CONTENDER.json [CONTENDER.json ...]")
    p.add_argument("base", nargs="*", metavar="BASE.json", help=argparse.SUPPRESS)
    p.add_argument("--counter", metavar="NAME",
                   help="compare this counter (higher is better: bytes, flops, elements, or a "
                        "ratio such as subject_over_ref_bw) instead of real time")
    p.add_argument("--normalize", metavar="REF",
                   help="divide each sample by the reference's from the same file and repetition; "
                        "REF is a regex for the reference's whole run_name, {key} filled from "
                        "the benchmark's own name keys")
    for flag, kind, text in BAR_OPTIONS:  # each defaults to its Settings field
        p.add_argument(flag, type=kind, default=getattr(Settings, flag[2:].replace("-", "_")),
                       help=text)
    p.add_argument("--per-run", action="store_true",
                   help="one sample per file and benchmark, the median of its repetitions: "
                        "judges run-to-run changes (give 5 files a side)")
    p.add_argument("--allow-mixed", action="store_true",
                   help="compare files from different machines (cpu_model, hostname, gpu_name)")
    p.add_argument("--out", metavar="FILE.md", help="write the Markdown here (default: stdout)")
    p.add_argument("--json", metavar="FILE", help="also write the comparison as JSON here")
    return p


def parse(argv: Sequence[str]) -> tuple[argparse.Namespace, list[str]]:
    """(options with base files, contender files): the contender files are everything after the
    first `--`, so a shell glob can supply each side."""
    p = parser()
    argv = list(argv)
    if "--" not in argv:
        args = p.parse_intermixed_args(argv)  # --help ends here
        p.error("give the contender files after --: compare BASE.json... -- CONTENDER.json...")
    cut = argv.index("--")
    args = p.parse_intermixed_args(argv[:cut])
    contender = argv[cut + 1:]
    if not args.base:
        p.error("no base file before --")
    if not contender:
        p.error("no contender file after --")
    for f in contender:
        if f.startswith("-") and not Path(f).exists():
            p.error(f"options go before --, not after it: {f}")
    return args, contender


def write(path: str, text: str) -> None:
    try:
        write_atomic(path, text)
    except OSError as e:
        raise InputError(f"cannot write {path}: {e.strerror or e}") from None


def main(argv: Optional[Sequence[str]] = None) -> int:
    return interruptible("compare",
                         lambda: compare_files(*parse(sys.argv[1:] if argv is None else argv)))


def compare_files(args: argparse.Namespace, contender: list[str]) -> int:
    s = Settings(args.counter, args.normalize, args.alpha, args.threshold, args.k, args.max_cv,
                 args.per_run)
    try:
        for out in (args.out, args.json):
            if out:  # before any input is read: writing an input would replace it
                check_output(out, [*args.base, *contender])
        report = run(args.base, contender, s, args.allow_mixed)
        text = markdown(report)
        if args.out:
            write(args.out, text)
        else:
            sys.stdout.write(text)
        if args.json:
            try:
                save(args.json, as_json(report))
            except OSError as e:
                raise InputError(f"cannot write {args.json}: {e.strerror or e}") from None
    except (ResultsError, InputError) as e:
        print(f"compare: {e}", file=sys.stderr)
        return EXIT_UNREADABLE
    if args.out:
        print(f"compare: {args.out}: {summary(report)}")
    return EXIT_FAILED if report.regressed() else EXIT_OK


def entry() -> int:
    """The command: SIGTERM stops it as Ctrl-C does (exit 130)."""
    return command(main)
