"""Hand-made result rows for the tests (a Google Benchmark aggregate and an iteration row), and
the check every command test makes of a refusal: one line on stderr, no traceback."""
from __future__ import annotations

import subprocess
from typing import Any


def agg(name: str, agg_name: str, t: float, **counters: Any) -> dict[str, Any]:
    return {"name": f"{name}_{agg_name}", "run_name": name, "run_type": "aggregate",
            "aggregate_name": agg_name, "real_time": t, "time_unit": "ns", **counters}


def it(name: str, t: float, **counters: Any) -> dict[str, Any]:
    return {"name": name, "run_name": name, "run_type": "iteration", "real_time": t,
            "time_unit": "ns", **counters}


def one_line(p: subprocess.CompletedProcess) -> str:
    """The one line a command wrote to stderr (asserting there is exactly one, and no traceback)."""
    assert "Traceback" not in p.stderr, p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1, p.stderr
    return lines[0]
