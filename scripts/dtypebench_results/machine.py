"""Which machine ran a result, read from its context the one way every command reads it.

compare refuses to mix machines, report and export name them, history files rows under a class,
run_suite's summary and claims' title describe them: each says it in its own words, all from the
one Machine read here, so two commands cannot disagree about which machine a file came from.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Optional

# the context keys that say which machine ran a file, the first present of each tuple read
# (compare's check of mixed machines compares these)
IDENTITY_KEYS = (("cpu_model",), ("hostname", "host_name"), ("gpu_name",))


def text(value: Any) -> str:
    """A context value as text: a string, or a number the binary wrote as one; "" otherwise."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return ""
    return str(value).strip()


def positive(value: Any) -> Optional[float]:
    """A context value that is a number or a numeric string above 0 (the binary writes strings)."""
    if isinstance(value, bool):
        return None
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) and x > 0 else None


def slug(s: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", s.lower()).strip("-")


@dataclass(frozen=True)
class Machine:
    """What a context says about the machine; "" for what it does not say."""

    cpu: str  # cpu_model
    gpu: str  # gpu_name
    host: str  # hostname (host_name in older files)
    cores: str  # cpu_cores as written
    cpus: Optional[float]  # cpu_cores, else num_cpus, as a number
    identity: tuple[tuple[str, str], ...]  # (key, value) of IDENTITY_KEYS present

    def identity_keys(self) -> dict[str, str]:
        """{key: value} of the identity keys the context has (compare: files of one machine
        agree on every key both have)."""
        return dict(self.identity)

    def label(self) -> str:
        """'<cpu>, <gpu>, N cores, host <name>' from what the context has (report, export)."""
        parts = [x for x in (self.cpu, self.gpu) if x]
        if self.cpus:
            parts.append(f"{int(self.cpus)} cores")
        if self.host:
            parts.append(f"host {self.host}")
        return ", ".join(parts) or "unknown machine"

    def cpu_class(self) -> str:
        """CPU model and core count, lower case, dashes: the class ci/regression files baselines
        under and history files CPU rows under ("intel-r-xeon-r-processor-2c")."""
        return slug(f"{self.cpu or 'unknown'} {self.cores or '?'}c")

    def gpu_class(self) -> str:
        """The GPU's name as a class ("nvidia-h200"); "" without a GPU."""
        return slug(self.gpu) if self.gpu else ""


def machine(context: dict[str, Any]) -> Machine:
    """The machine a result's context names."""
    identity = []
    for keys in IDENTITY_KEYS:
        for k in keys:
            v = text(context.get(k))
            if v:
                identity.append((keys[0], v))
                break
    host = next((text(context.get(k)) for k in ("hostname", "host_name")
                 if text(context.get(k))), "")
    return Machine(text(context.get("cpu_model")), text(context.get("gpu_name")), host,
                   text(context.get("cpu_cores")),
                   positive(context.get("cpu_cores")) or positive(context.get("num_cpus")),
                   tuple(identity))
