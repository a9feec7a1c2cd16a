"""Derived entries (ratios, break-evens, plateaus) computed over a whole merged run.

The binary used to derive these per process (bench/layout.cpp derive_layout, bench/convert.cpp
derive_convert, bench/derived_math.hpp), so a derivation could only see its own family. Here each
family's derivation (derive() in its plug-in, families/<family>.py) takes every row of the merged
run and may combine families. The arithmetic, the names and the conditions are those of the C++
code, value for value: the committed reports are the test.

Each derivation returns Derived (name, values); derive() turns them into rows shaped like Google
Benchmark iteration rows with label "derived", so every reader of a result handles them as rows.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Iterable, Optional, Sequence, Union

from .families import hook
from .rows import Bench, Row, benches, representative


@dataclass
class Derived:
    """One derived entry: a benchmark-style name and its values (counters in the JSON)."""

    name: str
    values: dict[str, float] = field(default_factory=dict)


Derivation = Callable[[Sequence[Bench]], list[Derived]]


def inputs(rows: Iterable[Union[Row, Bench]]) -> dict[str, Bench]:
    """By run name, the row a derivation reads: the run's representative row
    (rows.representative); errored rows and earlier derived entries are not inputs."""
    return {b.name: b for b in representative(rows) if not b.is_derived}


def derivations(rows: Sequence[Bench]) -> list[Derivation]:
    """The derive() of each family's plug-in, the families in the order the run first has them
    (the order the binary runs them, and so of the derived entries it used to write)."""
    found = []
    for family in dict.fromkeys(b.family for b in rows if not b.is_derived):
        d = hook(family, "derive")
        if callable(d):
            found.append(d)
    return found


def derived_row(d: Derived, index: int) -> Row:
    """A derived entry as a Google Benchmark iteration row (the shape the binary wrote), with
    threads from the name's threads:N and only the finite values (strict JSON)."""
    threads = Bench({"name": d.name}).keys.get("threads", "")
    row: Row = {"name": d.name, "family_index": -1, "per_family_instance_index": index,
                "run_name": d.name, "run_type": "iteration", "repetitions": 1,
                "repetition_index": 0, "threads": int(threads) if threads.isdigit() else 1,
                "iterations": 1, "real_time": 0.0, "cpu_time": 0.0, "time_unit": "us"}
    for k, v in sorted(d.values.items()):
        if math.isfinite(v):
            row[k] = v
    row["label"] = "derived"
    return row


def derive(rows: Sequence[Union[Row, Bench]],
           using: Optional[Sequence[Derivation]] = None) -> list[Row]:
    """The derived rows of a run: every derivation (by default each family plug-in's) over
    every row (derived rows already there are not inputs)."""
    parsed = benches(rows)
    found: list[Derived] = []
    for derivation in derivations(parsed) if using is None else using:
        found.extend(derivation(parsed))
    return [derived_row(d, i) for i, d in enumerate(found)]


def with_derived(benchmarks: Sequence[Union[Row, Bench]]) -> list[Row]:
    """benchmarks (as raw rows, to be written) without any derived rows they carried (an older
    binary derived per process, from its own family only), followed by the derivations over all
    of them."""
    measured = [b for b in benches(benchmarks) if not b.is_derived]
    return [b.raw for b in measured] + derive(measured)
