"""The shared core of scripts/dtypebench_results: the row model (Bench, parsed once per document),
the one representative rule every reader uses, the machine identity, the Markdown table renderer,
the atomic writer, the interrupt handler, and the family plug-ins found by name (a made-up family
whose one file is its whole plug-in)."""
from __future__ import annotations

import importlib.util
import os
import stat
import sys
from importlib.machinery import SourceFileLoader
from pathlib import Path
from types import ModuleType
from typing import Any, Iterator

import pytest

import run_suite
from dtypebench_results import (EXIT_INTERRUPTED, Bench, benches, derive, families,
                                interruptible, machine, representative, save, write_atomic)
from dtypebench_results import compare as cmp
from dtypebench_results import history as hist
from dtypebench_results import report
from dtypebench_results.derive import inputs
from dtypebench_results.export import Entry, csv_text
from dtypebench_results.tables import aligned, markdown
from result_rows import agg, it

ROOT = Path(__file__).resolve().parents[2]


def script(name: str) -> ModuleType:
    """scripts/<name>, a command without .py, as a module."""
    loader = SourceFileLoader(f"script_{name}", str(ROOT / "scripts" / name))
    module = importlib.util.module_from_spec(importlib.util.spec_from_loader(loader.name, loader))
    loader.exec_module(module)
    return module


claims = script("claims")


# ---- the row model ------------------------------------------------------------------------------


def test_a_row_is_parsed_once_into_its_parts() -> None:
    raw = dict(it("layout/strided/dtype:f32/stride:4/n:1000/level:L2/threads:2/real_time", 2e3,
                  bytes=4e9, flops=0.0, elements_per_line=16.0), label="verified")
    b = Bench(raw)
    assert (b.family, b.variant, b.keys["stride"], b.threads) == ("layout", "strided", "4", 2)
    assert (b.kind, b.why, b.is_error, b.is_derived, b.is_iteration) == \
        ("verified", "", False, False, True)
    assert b.seconds == pytest.approx(2e-6)
    assert b.counters == {"bytes": 4e9, "flops": 0.0, "elements_per_line": 16.0}
    assert b.rate("bytes") == 4e9 and b.rate("flops") is None and b.rates == {"bytes": 4e9}
    # it reads as the row the binary wrote, and compares equal to it
    assert b["label"] == "verified" and "bytes" in b and b == raw and b.raw is raw
    gpu = Bench(agg("baseline/gpu_copy/dtype:f32/level:DRAM/manual_time", "cv", 1.0))
    assert gpu.threads is None and gpu.aggregate == "cv" and not gpu.is_iteration
    failed = Bench(it("gemm/openblas/m:8/threads:1", 1.0, label="failed: 3 values wrong"))
    assert failed.is_error and (failed.kind, failed.why) == ("failed", "3 values wrong")


def test_a_document_is_parsed_once() -> None:
    rows = [it("f/a/n:1", 1.0), it("f/b/n:2", 2.0)]
    first = benches(rows)
    assert benches(rows) is first and benches(first) == first  # no second parse
    assert [b.raw for b in first] == rows
    rows.append(it("f/c/n:3", 3.0))  # the list changed: parsed again
    again = benches(rows)
    assert again is not first and [b.name for b in again] == ["f/a/n:1", "f/b/n:2", "f/c/n:3"]
    rows[0] = it("f/z/n:9", 9.0)  # a row replaced in place, same length
    assert benches(rows)[0].name == "f/z/n:9"


# ---- one rule for the row that stands for a run -------------------------------------------------


def three_repetitions() -> list[dict[str, Any]]:
    """A layout run of three repetitions and no aggregates, the median (200 us) neither first
    nor last, beside a copy of one repetition."""
    o = "layout/{}/dtype:f64/order:C/n:10/level:L2/threads:2/real_time"
    rows = [it(o.format("rowsum_naive"), t) for t in (100e3, 300e3, 200e3)]
    return rows + [it(o.format("colsum_naive"), 400e3)]


def test_every_reader_takes_the_median_repetition() -> None:
    rows = three_repetitions()
    reps = representative(rows)
    assert [b["real_time"] for b in reps] == [200e3, 400e3]
    # the derivations read that row (they used to take the last repetition, 200 us here too
    # only by chance: the order is 100, 300, 200)
    assert inputs(rows)[reps[0].name] is reps[0]
    d = {b["name"]: b for b in derive(rows)}
    assert d["layout/derived/dtype:f64/level:L2/threads:2"]["colsum_strided_over_rowsum_C"] == \
        pytest.approx(2.0)
    reordered = [rows[0], rows[2], rows[1], rows[3]]  # last is now 300 us: the same answer
    assert derive(reordered)[0]["colsum_strided_over_rowsum_C"] == pytest.approx(2.0)
    # the export, the history and the summary read the same row
    entries = [Entry("x.json", {}, r, None) for r in reps]
    assert ",0.0002," in csv_text(entries).splitlines()[1]
    values = hist.run_values({"context": {"git_commit": "abc1234", "date": "2026-01-01T00:00"},
                              "benchmarks": rows}, "x.json", lambda c: None)
    assert {v.value for v in values if v.metric == "real_time"} == {200e-6, 400e-6}


def test_a_median_aggregate_beats_every_repetition() -> None:
    name = "layout/rowsum_naive/dtype:f64/order:C/n:10/level:L2/threads:2/real_time"
    rows = [it(name, 1e6), agg(name, "mean", 5e5), agg(name, "median", 123.0), it(name, 2e6)]
    (b,) = representative(rows)
    assert b.aggregate == "median" and b["real_time"] == 123.0
    assert inputs(rows)[name] is b


# ---- the machine --------------------------------------------------------------------------------


CONTEXT = {"cpu_model": "Test CPU 9000", "cpu_cores": "4", "hostname": "box",
           "gpu_name": "NVIDIA H200", "git_commit": "0123456789abcdef"}


def test_one_machine_identity_in_each_caller_s_words() -> None:
    m = machine(CONTEXT)
    assert m.identity_keys() == {"cpu_model": "Test CPU 9000", "hostname": "box",
                                 "gpu_name": "NVIDIA H200"}
    assert m.label() == "Test CPU 9000, NVIDIA H200, 4 cores, host box"
    assert (m.cpu_class(), m.gpu_class()) == ("test-cpu-9000-4c", "nvidia-h200")
    # each command says it through that one reading
    run = report.Run("x.json", "", CONTEXT, [], [])
    assert run.machine == m.label()
    cpu_row = Bench(it("baseline/copy/dtype:f64/level:DRAM/threads:4", 1.0))
    gpu_row = Bench(it("baseline/gpu_copy/dtype:f64/level:DRAM", 1.0))
    assert hist.machine_of(CONTEXT, cpu_row) == m.cpu_class()
    assert hist.machine_of(CONTEXT, gpu_row) == m.gpu_class()
    assert run_suite.describe_machine(CONTEXT).startswith(
        "machine: Test CPU 9000, 4 cores, L1d ?, L2 ?, L3 ?; GPU: NVIDIA H200")
    assert claims.machine([CONTEXT]) == \
        "Test CPU 9000 (4 cores, GPU NVIDIA H200, commit 0123456789ab)"
    with pytest.raises(cmp.InputError, match="hostname is 'box' in a but 'other' in b"):
        cmp.check_machines({"a": {"context": CONTEXT},
                            "b": {"context": dict(CONTEXT, hostname="other")}})
    cmp.check_machines({"a": {"context": CONTEXT}, "b": {"context": {"host_name": "box"}}})


def test_a_context_that_says_little() -> None:
    m = machine({"num_cpus": 8, "host_name": " old ", "cpu_model": 7, "gpu_name": True})
    assert m.label() == "7, 8 cores, host old" and m.gpu == "" and m.cores == ""
    assert m.cpu_class() == "7-c" and machine({}).label() == "unknown machine"
    assert machine({}).cpu_class() == "unknown-c"


# ---- tables, writing, interrupting --------------------------------------------------------------


def test_the_markdown_table() -> None:
    assert markdown(["name", "GB/s"], [["a|b", "1.5"], ["two\nlines", "10"]], "lr") == [
        "| name | GB/s |", "|---|---:|", "| a\\|b | 1.5 |", "| two lines | 10 |"]
    assert markdown(["x"], []) == ["| x |", "|---|"]
    assert aligned([["name", "f64"], ["copy", "12.5"]]) == ["name  f64", "copy 12.5"]


def test_write_atomic_replaces_whole_or_not_at_all(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "report.md"
    write_atomic(path, "old\n")
    write_atomic(path, b"\x00new")
    assert path.read_bytes() == b"\x00new"
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~mask

    def full_disk(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full_disk)
    with pytest.raises(OSError):
        write_atomic(path, "lost")
    assert path.read_bytes() == b"\x00new" and sorted(p.name for p in tmp_path.iterdir()) == \
        ["report.md"]
    monkeypatch.undo()
    with pytest.raises(OSError):  # its folder must exist; save() makes a result's
        write_atomic(tmp_path / "no" / "such.csv", "x")
    save(tmp_path / "made" / "r.json", {"benchmarks": [], "x": float("nan")})
    assert (tmp_path / "made" / "r.json").read_text() == '{\n  "benchmarks": []\n}\n'


def test_one_interrupt_handler(capsys: pytest.CaptureFixture[str]) -> None:
    def stopped() -> int:
        raise KeyboardInterrupt

    assert interruptible("report", stopped) == EXIT_INTERRUPTED
    assert capsys.readouterr().err == "report: interrupted\n"
    assert interruptible("report", lambda: 1) == 1


# ---- plug-ins -----------------------------------------------------------------------------------


PLUGIN = '''"""A made-up family: its one file is its whole plug-in."""
from dtypebench_results.derive import Derived, inputs
from dtypebench_results.report import Para

SMOKE_ARGS = ["--toyfam-size=1"]
GPU_CHECK = {"args": "--quick --benchmark_filter=toy", "per_row": 2.5}


def derive(rows):
    t = {r.variant: r.seconds for r in inputs(rows).values() if r.family == "toyfam"}
    if "fast" in t and "slow" in t:
        return [Derived("toyfam/derived/threads:1", {"slow_over_fast": t["slow"] / t["fast"]})]
    return []


def section(s, reps):
    return [Para(f"toyfam section: {len(reps)} rows, {s.caption('made up')}")]
'''


@pytest.fixture
def toy_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """families/toyfam.py, found by name in a folder added to the families package's path."""
    folder = tmp_path / "plugins"
    folder.mkdir()
    (folder / "toyfam.py").write_text(PLUGIN)
    monkeypatch.setattr(families, "__path__", [*families.__path__, str(folder)])
    families.plugin.cache_clear()
    yield
    families.plugin.cache_clear()
    sys.modules.pop("dtypebench_results.families.toyfam", None)


def toy_rows() -> list[dict[str, Any]]:
    return [it("toyfam/fast/n:8/threads:1", 10.0), it("toyfam/slow/n:8/threads:1", 30.0)]


def test_the_four_families_have_plug_ins() -> None:
    assert {"baseline", "convert", "gemm", "layout"} <= set(families.names())
    for name in families.names():
        assert families.plugin(name) is not None
    assert callable(families.hook("gemm", "summary")) and families.hook("baseline", "derive") is None
    assert families.plugin("no_such_family") is None and families.plugin("../etc") is None


def test_a_new_family_is_one_file(toy_plugin: None, tmp_path: Path) -> None:
    assert "toyfam" in families.names()
    (d,) = derive(toy_rows())
    assert d["name"] == "toyfam/derived/threads:1" and d["slow_over_fast"] == pytest.approx(3.0)
    assert "--toyfam-size=1" in families.smoke_args()
    assert "toyfam\t2.5\t0\t--quick --benchmark_filter=toy" in families.gpu_check_lines()
    doc = {"context": {"git_commit": "abc"}, "benchmarks": toy_rows() + [derive(toy_rows())[0]]}
    save(tmp_path / "toy.json", doc)
    report.report([str(tmp_path / "toy.json")], tmp_path / "out", plots=False)
    md = (tmp_path / "out" / "report.md").read_text()
    assert "## toyfam\n" in md and "toyfam section: 3 rows, made up (unknown machine" in md


def test_a_family_without_a_plug_in_gets_the_generic_section(tmp_path: Path) -> None:
    rows = [it("stencil/direct/n:8/threads:1", 10.0, flops=2e9),
            it("stencil/winograd/n:8/threads:1", 5.0, flops=4e9)]
    assert families.plugin("stencil") is None and derive(rows) == []
    save(tmp_path / "stencil.json", {"context": {"git_commit": "abc"}, "benchmarks": rows})
    report.report([str(tmp_path / "stencil.json")], tmp_path / "out", plots=False)
    md = (tmp_path / "out" / "report.md").read_text()
    assert "## stencil\n" in md and "| stencil/winograd/n:8/threads:1 | 0.005 | 4.00 |" in md
