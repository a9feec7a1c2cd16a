"""The rows of a result: what a name says, what happened to the row, which row stands for a run.

Names are `family/variant/key:value/...` and are the only place the scripts read parameters
from (never free text). A row's disposition is data: the binary writes it as the row's label;
older files only say it through Google Benchmark's error fields, so both are read here.
"""
from __future__ import annotations

import math
from typing import Any, Iterable, NamedTuple, Optional

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


def name_of(b: Row) -> BenchName:
    return parse_name(run_name(b))


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


def representative(benchmarks: Iterable[Row]) -> list[Row]:
    """One row per run that did not fail: its median aggregate, or when the run has no aggregates
    (one repetition) the iteration row with the median time. Order follows the file."""
    medians: dict[str, Row] = {}
    iterations: dict[str, list[Row]] = {}
    order: list[str] = []
    seen: set[str] = set()
    for b in benchmarks:
        if is_error(b):
            continue
        key = run_name(b)
        if key not in seen:
            seen.add(key)
            order.append(key)
        if b.get("run_type") == "aggregate":
            if b.get("aggregate_name") == "median":
                medians[key] = b
        else:
            iterations.setdefault(key, []).append(b)
    out = []
    for key in order:
        if key in medians:
            out.append(medians[key])
        elif key in iterations:
            runs = sorted(iterations[key], key=lambda b: float(b.get("real_time", 0.0)))
            out.append(runs[(len(runs) - 1) // 2])
    return out


def select(rows: Iterable[Row], family: Optional[str] = None, variant: Optional[str] = None,
           **keys: str) -> list[Row]:
    """The rows whose name has this family, variant and key values (a key given must be present
    with that value), e.g. select(reps, "baseline", "triad", dtype="f64", level="DRAM")."""
    out = []
    for b in rows:
        name = name_of(b)
        if family is not None and name.family != family:
            continue
        if variant is not None and name.variant != variant:
            continue
        if all(name.keys.get(k) == v for k, v in keys.items()):
            out.append(b)
    return out


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
    """A rate counter (per second) when the row has a usable one: finite and above 0."""
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
