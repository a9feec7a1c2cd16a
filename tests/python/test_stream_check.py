"""Tests for scripts/stream_check.py: which entries it compares, and the paired mode, with the
reference and the suite replaced by fakes (no DRAM-sized runs here)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import stream_check as sc  # scripts/ is on the path (pytest.ini)


def entry(variant: str, threads: int, rate: float) -> dict[str, Any]:
    name = f"baseline/{variant}/dtype:f64/level:DRAM/n:1000/threads:{threads}/real_time"
    return {"name": name + "_median", "run_name": name, "run_type": "aggregate",
            "aggregate_name": "median", "bytes": rate, "working_set_bytes": 48000}


def result(tmp_path: Path) -> Path:
    doc = {"context": {"hostname": "x", "working_set_DRAM": "48000"},
           "benchmarks": [entry("copy", 1, 1e9), entry("triad", 1, 1e9),
                          entry("copy", 2, 40e9), entry("triad", 2, 30e9)]}
    p = tmp_path / "r.json"
    p.write_text(json.dumps(doc))
    return p


def test_largest_thread_count_is_compared(tmp_path: Path) -> None:
    doc = json.loads(result(tmp_path).read_text())
    entries = sc.suite_entries(doc, None)
    assert entries["copy"]["bytes"] == 40e9 and entries["triad"]["bytes"] == 30e9
    assert sc.suite_entries(doc, 1)["copy"]["bytes"] == 1e9


def test_paired_mode_compares_round_by_round(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture) -> None:
    # the machine drifts: round k runs at speed k for both sides, so the ratio stays 1.05 / 1
    speeds = iter([1.0, 2.0, 3.0])
    current = {"speed": 1.0}

    def fake_suite(binary: str, threads: int, tmp: Path) -> dict[str, float]:
        assert binary == "fake-dtypebench" and threads == 2
        current["speed"] = next(speeds)
        return {"copy": 1.05e10 * current["speed"], "triad": 0.8e10 * current["speed"]}

    def fake_ref(exe: Path, n: int, threads: int, reps: int, huge: bool) -> dict[str, float]:
        assert n in (48000 // 8 // 2, 48000 // 8 // 3)
        return {"copy_bytes_per_s": 1e10 * current["speed"],
                "triad_bytes_per_s": 1e10 * current["speed"]}

    monkeypatch.setattr(sc, "suite_rates", fake_suite)
    monkeypatch.setattr(sc, "run_ref", fake_ref)
    monkeypatch.setattr(sc, "build_ref", lambda tmp: tmp / "stream_ref")
    status = sc.main([str(result(tmp_path)), "--paired", "fake-dtypebench", "--rounds", "3"])
    out = capsys.readouterr().out
    assert "copy" in out and "1.050" in out  # within 10%
    assert "0.800  OUTSIDE" in out           # triad is 20% slower in every round
    assert status == 1


def test_unpaired_mode_uses_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture) -> None:
    monkeypatch.setattr(sc, "run_ref", lambda *a: {"copy_bytes_per_s": 40e9,
                                                   "triad_bytes_per_s": 31e9})
    monkeypatch.setattr(sc, "build_ref", lambda tmp: tmp / "stream_ref")
    assert sc.main([str(result(tmp_path)), "--rounds", "1"]) == 0
    out = capsys.readouterr().out
    assert "1.000" in out and "0.968" in out
