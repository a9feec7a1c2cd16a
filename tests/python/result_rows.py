"""Hand-made result rows for the tests: a Google Benchmark aggregate and an iteration row."""
from __future__ import annotations

from typing import Any


def agg(name: str, agg_name: str, t: float, **counters: Any) -> dict[str, Any]:
    return {"name": f"{name}_{agg_name}", "run_name": name, "run_type": "aggregate",
            "aggregate_name": agg_name, "real_time": t, "time_unit": "ns", **counters}


def it(name: str, t: float, **counters: Any) -> dict[str, Any]:
    return {"name": name, "run_name": name, "run_type": "iteration", "real_time": t,
            "time_unit": "ns", **counters}
