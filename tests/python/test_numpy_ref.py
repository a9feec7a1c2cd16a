"""Tests for scripts/numpy_ref.py: names, JSON shape, verification and peak memory, on tiny sizes."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import check_json  # scripts/ is on the path (pytest.ini)
import numpy_ref

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ROOT / "scripts"

TINY = ["--levels", "L1,DRAM", "--dram-mib", "1", "--repetitions", "1", "--min-time", "0.001"]
# at --dram-mib 1 (1048576 bytes): n = working set / (source + destination element size)
DRAM_NAMES = {
    "numpy/astype_alloc/src:f64/dst:f32/n:87381/level:DRAM/threads:1",
    "numpy/astype_prealloc/src:f64/dst:f32/n:87381/level:DRAM/threads:1",
    "numpy/cast/src:f32/dst:f16/path:numpy/n:174762/level:DRAM/threads:1",
    "numpy/cast/src:f16/dst:f32/path:numpy/n:174762/level:DRAM/threads:1",
    "numpy/cast/src:f64/dst:i32/path:numpy/n:87381/level:DRAM/threads:1",
    "numpy/cast/src:u8/dst:f32/path:numpy/n:209715/level:DRAM/threads:1",
    "numpy/byteswap/width:2/path:numpy/n:262144/level:DRAM/threads:1",
    "numpy/byteswap/width:4/path:numpy/n:131072/level:DRAM/threads:1",
    "numpy/byteswap/width:8/path:numpy/n:65536/level:DRAM/threads:1",
}
ELEMENT_SIZES = {"f64": 8, "f32": 4, "f16": 2, "i32": 4, "u8": 1}
CONTEXT_KEYS = ["hostname", "cpu_model", "cpu_cores", "numpy_version", "python_version",
                "l1d_bytes", "l2_bytes", "l3_bytes", "mem_bytes", "date", "library"]


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("numpy_ref") / "numpy.json"
    proc = subprocess.run([sys.executable, str(SCRIPTS / "numpy_ref.py"), *TINY, "--out",
                           str(out)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert f"wrote {out}" in proc.stdout
    return json.loads(out.read_text())


def runs(doc: dict[str, Any], aggregate: str = "median") -> dict[str, dict[str, Any]]:
    return {b["run_name"]: b for b in doc["benchmarks"] if b["aggregate_name"] == aggregate}


def keys_of(run_name: str) -> dict[str, str]:
    return dict(p.split(":", 1) for p in run_name.split("/")[2:] if ":" in p)


def element_bytes(run_name: str) -> tuple[int, int]:
    """(source, destination) element size, from the name alone."""
    keys = keys_of(run_name)
    if "width" in keys:
        return int(keys["width"]), int(keys["width"])
    return ELEMENT_SIZES[keys["src"]], ELEMENT_SIZES[keys["dst"]]


def moved_bytes(run_name: str) -> int:
    """The minimum traffic of one call: every element read once and written once."""
    return int(keys_of(run_name)["n"]) * sum(element_bytes(run_name))


def dst_bytes(run_name: str) -> int:
    return int(keys_of(run_name)["n"]) * element_bytes(run_name)[1]


def test_names_follow_the_suite_sizes(result: dict[str, Any]) -> None:
    names = set(runs(result))
    assert {n for n in names if "/level:DRAM/" in n} == DRAM_NAMES
    l1_set = int(result["context"]["l1d_bytes"]) // 2
    assert result["context"]["working_set_L1"] == str(l1_set)
    l1 = {n for n in names if "/level:L1/" in n}
    assert len(l1) == len(DRAM_NAMES)
    for name in l1:
        # the largest n whose source + destination fits the L1 working set
        per_element = sum(element_bytes(name))
        assert moved_bytes(name) <= l1_set < moved_bytes(name) + per_element, name
    for name in names:
        assert check_json.NAME_RE.fullmatch(name), name


def test_json_shape(result: dict[str, Any]) -> None:
    ctx = result["context"]
    assert ctx["library"] == "numpy" and ctx["numpy_version"] == np.__version__
    problems, _ = check_json.check_doc(result, CONTEXT_KEYS)
    assert problems == []
    by_run: dict[str, list[str]] = {}
    for b in result["benchmarks"]:
        assert b["run_type"] == "aggregate" and b["time_unit"] == "us"
        assert b["name"] == f"{b['run_name']}_{b['aggregate_name']}"
        by_run.setdefault(b["run_name"], []).append(b["aggregate_name"])
    assert all(sorted(a) == ["cv", "mean", "median", "stddev"] for a in by_run.values())
    for name, b in runs(result).items():
        assert b["real_time"] > 0 and b["iterations"] >= 1 and b["repetitions"] == 1
        seconds = b["real_time"] * 1e-6
        # one repetition: the median rate is exactly the traffic over the median time
        assert b["bytes"] == pytest.approx(moved_bytes(name) / seconds, rel=1e-9)
        assert b["elements"] == pytest.approx(int(keys_of(name)["n"]) / seconds, rel=1e-9)
        assert b["working_set_bytes"] == moved_bytes(name)
        assert b["verified"] == 1.0
    for b in runs(result, "stddev").values():
        assert b["real_time"] == 0.0  # one repetition has no spread


def test_peak_memory_matches_what_each_call_allocates(result: dict[str, Any]) -> None:
    for name, b in runs(result).items():
        if "/astype_alloc/" in name or "/byteswap/" in name:
            # a fresh destination each call (plus the array object's few bytes)
            assert b["peak_bytes"] == pytest.approx(dst_bytes(name), rel=0.10), name
        else:
            # into a preallocated y: nothing, give or take a small Python object
            assert b["peak_bytes"] <= max(0.01 * dst_bytes(name), 512), name


@pytest.mark.parametrize("op", numpy_ref.ops(), ids=lambda op: f"{op.variant}/{op.keys}")
def test_verify_accepts_right_and_catches_wrong(op: Any) -> None:
    rng = np.random.default_rng(3)
    x = op.make_input(500, rng)
    y = op.make_output(500)
    out = op.call(x, y)()
    got = y if out is None else out
    assert numpy_ref.verify(op, x, got, rng) is None
    bad = got.copy()
    bad[123] = bad[124] if bad[123] != bad[124] else bad[123] + 1
    assert "differ, first at 123" in numpy_ref.verify(op, x, bad, rng)
    assert "expected" in numpy_ref.verify(op, x, got[:-1], rng)
    # the scalar reference on its own, independent of NumPy's conversion: it always checks the ends
    assert numpy_ref.sample_mismatch(op, x, got, rng) is None
    bad = got.copy()
    bad[-1] = bad[0] if bad[-1] != bad[0] else bad[-1] + 1
    assert numpy_ref.sample_mismatch(op, x, bad, rng).startswith("element 499: got")


def test_scalar_reference_rules() -> None:
    ops = {(op.variant, op.keys): op for op in numpy_ref.ops()}
    to_f16 = ops[("cast", "src:f32/dst:f16/path:numpy")]
    # 1 + 2^-11 is halfway between two halves: ties to even gives 1.0, 1 + 3*2^-11 gives up
    assert to_f16 and numpy_ref.scalar_ref(to_f16, np.array([1 + 2**-11], np.float32)) == 1.0
    assert numpy_ref.scalar_ref(to_f16, np.array([1 + 3 * 2**-11], np.float32)) == 1 + 2**-9
    to_i32 = ops[("cast", "src:f64/dst:i32/path:numpy")]
    assert numpy_ref.scalar_ref(to_i32, np.array([-2.7])) == -2
    swap2 = ops[("byteswap", "width:2/path:numpy")]
    assert numpy_ref.scalar_ref(swap2, np.array([0x0102], np.uint16)) == 0x0201
    u8 = ops[("cast", "src:u8/dst:f32/path:numpy")]
    assert numpy_ref.scalar_ref(u8, np.array([255], np.uint8)) == 255.0


def test_peak_bytes_sees_numpy_allocations() -> None:
    assert numpy_ref.peak_bytes(lambda: np.ones(1 << 20, np.uint8)) == pytest.approx(1 << 20,
                                                                                    rel=0.01)
    assert numpy_ref.peak_bytes(lambda: None) < 1024


def test_cache_sizes_from_sysfs(tmp_path: Path) -> None:
    for i, (level, kind, size) in enumerate([("1", "Data", "48K"), ("1", "Instruction", "32K"),
                                              ("2", "Unified", "2048K"), ("3", "Unified", "32M")]):
        d = tmp_path / f"index{i}"
        d.mkdir()
        (d / "level").write_text(level + "\n")
        (d / "type").write_text(kind + "\n")
        (d / "size").write_text(size + "\n")
    caches = numpy_ref.cache_sizes(tmp_path)
    assert caches == {"l1d_bytes": 48 << 10, "l2_bytes": 2 << 20, "l3_bytes": 32 << 20}
    sets = numpy_ref.working_sets(caches)
    assert sets == {"L1": 24 << 10, "L2": 1 << 20, "L3": 16 << 20, "DRAM": 128 << 20}
    assert numpy_ref.working_sets(caches, 7 << 20)["DRAM"] == 7 << 20


def test_an_unverified_result_fails_the_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture) -> None:
    monkeypatch.setattr(numpy_ref, "verify", lambda *a: "1 element(s) differ")
    out = tmp_path / "n.json"
    assert numpy_ref.main(["--levels", "L1", "--repetitions", "1", "--min-time", "0.0001",
                           "--out", str(out)]) == 1
    assert "not verified: 1 element(s) differ" in capsys.readouterr().err
    doc = json.loads(out.read_text())
    assert all(b["verified"] == 0.0 for b in runs(doc).values())
    problems, _ = check_json.check_doc(doc, [])
    assert problems and "not 1" in problems[0]


def test_default_output_does_not_replace_a_run(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(numpy_ref, "ROOT", tmp_path)
    first = numpy_ref.default_output("vm", "2026-01-02")
    assert first == tmp_path / "reports" / "numpy-vm-2026-01-02.json"
    first.parent.mkdir()
    first.write_text("{}")
    assert numpy_ref.default_output("vm", "2026-01-02").name == "numpy-vm-2026-01-02-2.json"


@pytest.mark.parametrize("args, message", [(["--levels", "L4"], "unknown level(s) L4"),
                                           (["--repetitions", "0"], "must be positive"),
                                           (["--dram-mib", "x"], "is not a number")])
def test_bad_options_are_usage_errors(args: list[str], message: str) -> None:
    proc = subprocess.run([sys.executable, str(SCRIPTS / "numpy_ref.py"), *args],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and message in proc.stderr
