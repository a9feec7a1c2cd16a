"""The rows of a result: what a name says, what happened to the row, which row stands for a run.

Names are `family/variant/key:value/...` and are the only place the scripts read parameters
from (never free text). A row's disposition is data: the binary writes it as the row's label;
older files only say it through Google Benchmark's error fields, so both are read here.
"""
from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from typing import Any, Iterable, NamedTuple, Optional, Union

Row = dict[str, Any]

# summary column order when the file does not say (context "dtype_names"); others follow as found
DEFAULT_DTYPE_ORDER = ["f64", "f32", "tf32", "f16", "bf16"]
# counters that Google Benchmark has already divided by time (kIsIterationInvariantRate)
RATE_COUNTERS = ("bytes", "flops", "elements")
# Google Benchmark's own keys of a row; every other number in a row is a counter
GB_FIELDS = frozenset({
    "name", "family_index", "per_family_instance_index", "run_name", "run_type", "repetitions",
    "repetition_index", "threads", "iterations", "real_time", "cpu_time", "time_unit",
    "aggregate_name", "aggregate_unit", "label", "error_occurred", "error_message", "skipped",
    "skip_message", "big_o", "cpu_coefficient", "real_coefficient", "rms", "allocs_per_iter",
    "max_bytes_used", "total_allocated_bytes", "net_heap_growth",
})
UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}


class BenchName(NamedTuple):
    """A parsed benchmark name; a tuple, so `family, variant, keys = parse_name(n)` works."""

    family: str
    variant: str
    keys: dict[str, str]


def parse_name(name: str) -> BenchName:
    """family/variant/key:value/... -> (family, variant, {key: value}). Parts without a colon
    (Google Benchmark's real_time, manual_time) are ignored; its iterations:N and repeats:N
    suffixes read as keys like any other. A repeated key keeps its last value."""
    parts = name.split("/")
    keys: dict[str, str] = {}
    for p in parts[2:]:
        if ":" in p:
            k, v = p.split(":", 1)
            keys[k] = v
    return BenchName(parts[0], parts[1] if len(parts) > 1 else "", keys)


def run_name(b: Row) -> str:
    """The run a row belongs to: its aggregates share it, without the _median-style suffix."""
    return str(b.get("run_name") or b.get("name", ""))


def number(value: Any) -> Optional[float]:
    """value as a float when it is a JSON number (not a bool), else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def disposition(b: Row) -> tuple[str, str]:
    """What happened to a row and why: ("verified" | "skipped" | "failed" | "derived" |
    "unchecked", reason or detail). The label the binary writes ("verified", "verified: <what
    ran>", "skipped: <why>", "failed: <why>", "derived") comes first. Files from before those labels say it through
    error_occurred with "skip: " / "error: " messages, and through the verified counter; a row
    that ran with neither is "unchecked"."""
    label = b.get("label")
    if isinstance(label, str):
        if label == "derived":
            return label, ""
        for kind in ("verified", "skipped", "failed"):
            if label == kind:
                return kind, ""
            if label.startswith(kind + ": "):
                return kind, label[len(kind) + 2:]
    if b.get("error_occurred"):
        msg = str(b.get("error_message") or "")
        if msg.startswith("skip: "):
            return "skipped", msg[len("skip: "):]
        if msg.startswith("error: "):
            return "failed", msg[len("error: "):]
        return "failed", msg
    if b.get("skipped") is True:  # Google Benchmark 1.8's SkipWithMessage
        return "skipped", str(b.get("skip_message") or "")
    verified = number(b.get("verified"))
    if verified is not None and abs(verified - 1.0) <= 1e-9:
        return "verified", ""
    return "unchecked", ""


def is_error(b: Row) -> bool:
    """The row did not produce a result (skipped or failed)."""
    return disposition(b)[0] in ("skipped", "failed")


def is_skip(b: Row) -> bool:
    return disposition(b)[0] == "skipped"


def is_derived(b: Row) -> bool:
    return disposition(b)[0] == "derived"


def not_verified(b: Row) -> bool:
    """The row carries a verified counter that is not 1 (its check failed or did not run)."""
    return "verified" in b and abs(float(b["verified"]) - 1.0) > 1e-9


class Bench(Mapping[str, Any]):
    """One row of a result, parsed once: what its name says (family, variant, keys), what
    happened to it (kind, why), its counters, seconds and rates. It reads as the raw row too
    (b["flops"], b.get("label"), == the dict it wraps), so code that wants a field the binary
    writes takes it from here without parsing again; `raw` is the dict itself, for writing."""

    __slots__ = ("raw", "name", "family", "variant", "keys", "kind", "why", "counters",
                 "seconds")

    def __init__(self, raw: Row) -> None:
        self.raw = raw
        self.name = run_name(raw)
        self.family, self.variant, self.keys = parse_name(self.name)
        self.kind, self.why = disposition(raw)
        self.counters = counters(raw)
        self.seconds = seconds(raw)

    def __getitem__(self, key: str) -> Any:
        return self.raw[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.raw)

    def __len__(self) -> int:
        return len(self.raw)

    def __repr__(self) -> str:
        return f"Bench({self.raw!r})"

    @property
    def is_error(self) -> bool:
        return self.kind in ("skipped", "failed")

    @property
    def is_derived(self) -> bool:
        return self.kind == "derived"

    @property
    def not_verified(self) -> bool:
        return not_verified(self.raw)

    @property
    def is_iteration(self) -> bool:
        """A repetition's own row (rows without run_type, hand-made ones, count as such)."""
        return self.raw.get("run_type", "iteration") == "iteration"

    @property
    def aggregate(self) -> Optional[str]:
        """mean, median, stddev, cv for an aggregate row; None for an iteration row."""
        if self.raw.get("run_type") != "aggregate":
            return None
        return str(self.raw.get("aggregate_name") or "")

    @property
    def threads(self) -> Optional[int]:
        """threads:N of the name; None without one (GPU rows have none)."""
        t = self.keys.get("threads", "")
        return int(t) if t.isdigit() else None

    def rate(self, counter: str = "bytes") -> Optional[float]:
        return rate(self.raw, counter)

    @property
    def rates(self) -> dict[str, float]:
        return rates(self.raw)


# the parsed rows of each document's benchmarks list, so a list is parsed once however many
# commands and sections read it: id(list) -> (the list, its rows)
_PARSED: dict[int, tuple[list[Any], list[Bench]]] = {}


def benches(rows: Iterable[Union[Row, Bench]]) -> list[Bench]:
    """The rows as Bench, each parsed once: a list already seen (the same object, the same
    rows) gives its earlier parse, and a Bench stays itself."""
    if isinstance(rows, list):
        seen = _PARSED.get(id(rows))
        if seen and seen[0] is rows and len(seen[1]) == len(rows) and all(
                a is (b.raw if isinstance(a, dict) else b) for a, b in zip(rows, seen[1])):
            return seen[1]
    items = list(rows)
    out = [b if isinstance(b, Bench) else Bench(b) for b in items]
    if isinstance(rows, list):
        _PARSED[id(rows)] = (rows, out)
    return out


def representative(rows: Iterable[Union[Row, Bench]]) -> list[Bench]:
    """One row per run that did not fail: its median aggregate, or when the run has no aggregates
    (one repetition) the iteration row with the median time (the lower middle of an even count).
    Order follows the file.

    This is the one rule for which row stands for a run: the report, the summary, the history,
    the export and the derivations all read it. The derivations used to take the last
    iteration row, as the binary's DerivingReporter kept overwriting; every committed run has
    a median or a single repetition per run, where both rules pick the same row (the derived
    values of all of them are identical under this one), and where they differ the median
    repetition is the one a drifting machine moves least. A real_time that is not a number
    among the rows to sort is a ValueError or TypeError."""
    medians: dict[str, Bench] = {}
    iterations: dict[str, list[Bench]] = {}
    order: list[str] = []
    seen: set[str] = set()
    for b in benches(rows):
        if b.is_error:
            continue
        if b.name not in seen:
            seen.add(b.name)
            order.append(b.name)
        if b.raw.get("run_type") == "aggregate":
            if b.aggregate == "median":
                medians[b.name] = b
        else:
            iterations.setdefault(b.name, []).append(b)
    out = []
    for key in order:
        if key in medians:
            out.append(medians[key])
        elif key in iterations:
            runs = sorted(iterations[key], key=lambda b: float(b.raw.get("real_time", 0.0)))
            out.append(runs[(len(runs) - 1) // 2])
    return out


def select(rows: Iterable[Union[Row, Bench]], family: Optional[str] = None,
           variant: Optional[str] = None, **keys: str) -> list[Bench]:
    """The rows whose name has this family, variant and key values (a key given must be present
    with that value), e.g. select(reps, "baseline", "triad", dtype="f64", level="DRAM")."""
    return [b for b in benches(rows)
            if (family is None or b.family == family) and (variant is None or b.variant == variant)
            and all(b.keys.get(k) == v for k, v in keys.items())]


def counters(b: Row) -> dict[str, float]:
    """The row's counters: every number that is not one of Google Benchmark's own fields. Rates
    among them (RATE_COUNTERS) are already per second."""
    out = {}
    for k, v in b.items():
        x = number(v)
        if x is not None and k not in GB_FIELDS:
            out[k] = x
    return out


def rate(b: Row, counter: str = "bytes") -> Optional[float]:
    """A counter when the row has a usable one: finite and above 0 (the one rule every reader
    of a rate, a peak or a byte count follows; 0, a negative or NaN is no figure)."""
    x = number(b.get(counter))
    return x if x is not None and math.isfinite(x) and x > 0 else None


def rates(b: Row) -> dict[str, float]:
    """The row's usable rate counters (bytes, flops, elements per second)."""
    out = {}
    for c in RATE_COUNTERS:
        x = rate(b, c)
        if x is not None:
            out[c] = x
    return out


def seconds(b: Row) -> Optional[float]:
    """The row's real time per iteration in seconds (real_time in its time_unit)."""
    t = number(b.get("real_time"))
    scale = UNIT_SECONDS.get(str(b.get("time_unit", "ns")))
    return t * scale if t is not None and scale is not None else None


def dtype_order(context: dict[str, Any]) -> list[str]:
    """The dtypes in the binary's order (context "dtype_names", comma-separated), so a new dtype
    needs no script change; DEFAULT_DTYPE_ORDER for files from before that key."""
    names = context.get("dtype_names")
    if isinstance(names, str):
        order = [d.strip() for d in names.split(",") if d.strip()]
        if order:
            return order
    return list(DEFAULT_DTYPE_ORDER)
