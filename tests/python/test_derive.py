"""Tests for scripts/dtypebench_results/derive.py: made-up runs with known answers, and the derived
entries the C++ binary recorded in the committed reports, reproduced from their measured rows."""
from __future__ import annotations

import copy
import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any, Optional

import pytest

from dtypebench_results import derive, is_derived, load, with_derived
from dtypebench_results.derive import Derived
from dtypebench_results.families.gemm import derive as derive_gemm
from dtypebench_results.families.layout import breakeven_passes, stride_plateau
from dtypebench_results.load import strict

ROOT = Path(__file__).resolve().parents[2]
REPORTS = ROOT / "reports"
# Google Benchmark's own fields of a derived row; the rest are its values
OWN = {"name", "family_index", "per_family_instance_index", "run_name", "run_type", "repetitions",
       "repetition_index", "threads", "iterations", "real_time", "cpu_time", "time_unit", "label"}


def it(name: str, us: float, unit: str = "us", **counters: Any) -> dict[str, Any]:
    """An iteration row (one repetition) whose real time is `us` microseconds."""
    scale = {"ns": 1e3, "us": 1.0, "ms": 1e-3}[unit]
    return {"name": name, "run_name": name, "run_type": "iteration", "real_time": us * scale,
            "cpu_time": us * scale, "time_unit": unit, "label": "verified", **counters}


def repeated(name: str, median_us: float, **counters: Any) -> list[dict[str, Any]]:
    """Three repetitions and their aggregates; only the median carries median_us (the others
    carry nonsense, so reading the wrong row shows)."""
    rows = [it(name, 1e6 * (k + 1), **counters) for k in range(3)]
    for a in ("mean", "median", "stddev", "cv"):
        rows.append({**it(name, median_us if a == "median" else 7e5, **counters),
                     "name": f"{name}_{a}", "run_type": "aggregate", "aggregate_name": a})
    return rows


def values(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The derived rows by name, each reduced to its values."""
    return {b["name"]: {k: v for k, v in b.items() if k not in OWN} for b in derive(rows)}


L2 = "dtype:f64/n:10/level:L2/threads:2/real_time"  # n:10 -> 100 elements per 2-D pass
# strided sweep, n:1000: cost per element rises to its plateau at stride 8 with noise on it
SWEEP_US = {1: 1.0, 2: 2.0, 4: 4.0, 8: 6.0, 16: 8.0, 32: 7.5, 64: 8.0, 128: 7.9}


def layout_rows() -> list[dict[str, Any]]:
    o = "dtype:f64/order:{}/n:10/level:L2/threads:2/real_time"
    rows = (repeated("layout/rowsum_naive/" + o.format("C"), 100.0)
            + [it("layout/colsum_naive/" + o.format("C"), 400.0, unit="ns"),  # written in ns
               it("layout/colsum_aware/" + o.format("C"), 150.0),
               it("layout/colsum_naive/" + o.format("F"), 100.0, unit="ms"),  # written in ms
               it("layout/rowsum_naive/" + o.format("F"), 300.0),
               it("layout/copy/" + L2, 50.0),
               it("layout/to_fortran_blocked/" + L2, 100.0),
               it("layout/to_fortran_naive/" + L2, 500.0)])
    for s, us in SWEEP_US.items():
        rows.append(it(f"layout/strided/dtype:f64/stride:{s}/n:1000/level:L2/threads:2/real_time",
                       us * 1000, elements_per_line=8.0))
    return rows


def test_layout_ratios_breakeven_and_plateau() -> None:
    got = values(layout_rows())
    assert list(got) == ["layout/derived/dtype:f64/level:L2/threads:2"]
    v = got["layout/derived/dtype:f64/level:L2/threads:2"]
    assert v["colsum_strided_over_rowsum_C"] == pytest.approx(4.0)  # the median, not the reps
    assert v["colsum_aware_over_rowsum_C"] == pytest.approx(1.5)
    assert v["rowsum_strided_over_colsum_F"] == pytest.approx(3.0)
    assert v["to_fortran_blocked_over_copy_bw"] == pytest.approx(0.5)
    assert v["to_fortran_naive_over_copy_bw"] == pytest.approx(0.1)
    # converting costs 1 us/100 elements, each strided pass saves (4 - 1) us/100 elements
    assert v["breakeven_passes"] == pytest.approx(1 / 3)
    assert v["stride2_over_stride1"] == pytest.approx(2.0)
    assert v["stride128_over_stride1"] == pytest.approx(7.9)
    assert "stride1_over_stride1" not in v
    # 6 >= 8/sqrt(2) = 5.66: the plateau starts at stride 8, i.e. 8 elements * 8 bytes
    assert v["stride_plateau_bytes"] == 64.0
    assert len(v) == 14  # 5 ratios, breakeven, 7 stride ratios, plateau: nothing else


def test_breakeven_is_minus_one_when_strided_is_no_slower() -> None:
    o = "dtype:f32/order:{}/n:10/level:L1/threads:1/real_time"
    rows = [it("layout/colsum_naive/" + o.format("C"), 100.0),
            it("layout/colsum_naive/" + o.format("F"), 200.0),
            it("layout/to_fortran_blocked/dtype:f32/n:10/level:L1/threads:1/real_time", 50.0)]
    assert values(rows) == {"layout/derived/dtype:f32/level:L1/threads:1":
                            {"breakeven_passes": -1.0}}
    assert breakeven_passes(1.0, 2.0, 2.0) == -1.0
    assert breakeven_passes(1.0, 3.0, 1.0) == 0.5


def test_stride_plateau_rule() -> None:
    assert stride_plateau([]) == 0.0
    assert stride_plateau([(1.0, 0.0), (2.0, 0.0)]) == 0.0
    sweep = [(float(s), t) for s, t in SWEEP_US.items()]
    assert stride_plateau(sweep) == 8.0  # 6 is within 1/sqrt(2) of the top, 4 is not
    # exactly at 1/sqrt(2) counts; just under does not
    top = 8.0
    assert stride_plateau([(1.0, top / math.sqrt(2.0)), (2.0, top)]) == 1.0
    assert stride_plateau([(1.0, top / math.sqrt(2.0) * 0.999), (2.0, top)]) == 2.0
    assert stride_plateau([(1.0, 5.0), (2.0, 5.0)]) == 1.0  # flat from the start


def made_up_sweep(t: list[float]) -> list[tuple[float, float]]:
    """Seconds per element at strides 1, 2, 4, ... 128."""
    return [(float(1 << i), x) for i, x in enumerate(t)]


def test_stride_plateau_on_made_up_sweeps() -> None:
    # one line per element from 64 bytes of f64 (stride 8), lines fetched in pairs (16)
    assert stride_plateau(made_up_sweep([1, 2, 4, 8, 8, 8, 8, 8])) == 8
    assert stride_plateau(made_up_sweep([1, 2, 4, 8, 16, 16, 16, 16])) == 16
    # noise on the plateau (+-20%) does not move it; the doubling before it is never taken for it
    assert stride_plateau(made_up_sweep([1, 2, 4, 8, 15.8, 15.7, 19.3, 17.9])) == 16
    assert stride_plateau(made_up_sweep([1, 2.8, 3.7, 7.3, 22.7, 22.7, 23.9, 24.4])) == 16
    # instruction-bound: the scalar strided loop costs the same at every stride
    assert stride_plateau(made_up_sweep([1, 7.6, 7.5, 7.5, 7.6, 7.6, 7.5, 7.7])) == 2


def test_breakeven_passes_arithmetic() -> None:
    assert breakeven_passes(3.0, 10.0, 1.0) == 3.0 / 9.0
    assert breakeven_passes(3.0, 1.0, 1.0) == -1  # the strided pass is no slower
    assert breakeven_passes(3.0, 0.5, 1.0) == -1


def test_partial_sweep_has_ratios_but_no_plateau() -> None:
    # stride 128 was attempted and did not finish: the sweep the run has is not whole
    rows = [dict(r, label="failed: 3 values wrong") if "stride:128/" in r["name"] else r
            for r in layout_rows()]
    v = values(rows)["layout/derived/dtype:f64/level:L2/threads:2"]
    assert v["stride64_over_stride1"] == pytest.approx(8.0)
    assert "stride_plateau_bytes" not in v and "stride128_over_stride1" not in v
    skipped = [dict(r, label="skipped: no time") if "stride:128/" in r["name"] else r
               for r in layout_rows()]
    assert "stride_plateau_bytes" not in values(skipped)["layout/derived/dtype:f64/level:L2/threads:2"]


def test_the_sweep_is_the_runs_own() -> None:
    # a run of strides 1-64 only (no stride 128 row at all) is a whole sweep: its plateau is
    # found, from the strides the run has, not from a list copied from the binary
    rows = [r for r in layout_rows() if "stride:128/" not in r["name"]]
    v = values(rows)["layout/derived/dtype:f64/level:L2/threads:2"]
    assert "stride128_over_stride1" not in v
    assert v["stride_plateau_bytes"] == pytest.approx(values(layout_rows())[
        "layout/derived/dtype:f64/level:L2/threads:2"]["stride_plateau_bytes"])
    # a stride the binary may add later counts as the others do
    wider = layout_rows() + [it("layout/strided/dtype:f64/stride:256/n:1000/level:L2/threads:2/"
                                "real_time", 7.9e3, elements_per_line=8.0)]
    assert values(wider)["layout/derived/dtype:f64/level:L2/threads:2"][
        "stride256_over_stride1"] == pytest.approx(7.9)


def test_missing_or_failed_partners_give_no_value() -> None:
    o = "dtype:bf16/order:{}/n:10/level:DRAM/threads:2/real_time"
    rows = [it("layout/colsum_naive/" + o.format("C"), 400.0),  # no rowsum_naive/C partner
            it("layout/to_fortran_blocked/dtype:bf16/n:10/level:DRAM/threads:2/real_time", 10.0),
            {**it("layout/copy/dtype:bf16/n:10/level:DRAM/threads:2/real_time", 5.0),
             "label": "skipped: does not fit: 1 GiB", "error_occurred": True,
             "error_message": "skip: does not fit: 1 GiB"},
            it("layout/rowsum_naive/" + o.format("F"), 300.0),
            it("layout/colsum_naive/" + o.format("F"), 0.0)]  # 0 s is not a time
    assert values(rows) == {}  # and no entry without values


def test_inputs_are_picked_as_the_binary_did() -> None:
    o = "layout/{}/dtype:f64/order:C/n:10/level:L1/threads:1/real_time"
    rows = [it(o.format("rowsum_naive"), 100.0),
            {**it(o.format("rowsum_naive"), 100.0), "name": o.format("rowsum_naive") + "_median",
             "run_type": "aggregate", "aggregate_name": "median"},
            it(o.format("rowsum_naive"), 900.0),  # after its median: the median still counts
            it(o.format("colsum_naive"), 300.0), it(o.format("colsum_naive"), 200.0)]  # last
    v = values(rows)["layout/derived/dtype:f64/level:L1/threads:1"]
    assert v == {"colsum_strided_over_rowsum_C": pytest.approx(2.0)}
    # a point named twice (here n:20 and n:100) keeps the name that sorts last, as std::map did
    rows += [it(o.format("colsum_naive").replace("n:10", "n:20"), 400 * 4.0),
             it(o.format("colsum_naive").replace("n:10", "n:100"), 300 * 100.0)]
    v = values(rows)["layout/derived/dtype:f64/level:L1/threads:1"]
    assert v["colsum_strided_over_rowsum_C"] == pytest.approx(4.0)


def test_the_strided_sweep_is_per_element() -> None:
    rows = layout_rows()
    for r in rows:  # stride 1 at twice the elements and twice the time: the same cost each
        if "/stride:1/" in r["name"]:
            r["name"] = r["run_name"] = r["name"].replace("n:1000", "n:2000")
            r["real_time"] *= 2
    v = values(rows)["layout/derived/dtype:f64/level:L2/threads:2"]
    assert v["stride2_over_stride1"] == pytest.approx(2.0)


def test_gpu_entries_derive_among_themselves() -> None:
    g = "dtype:f32/n:10/level:DRAM/manual_time"
    rows = [it("layout/gpu_memcpy_d2d/" + g, 10.0),
            it("layout/gpu_transpose_tiled/dtype:f32/tile:32/n:10/level:DRAM/manual_time", 20.0),
            it("layout/gpu_transpose_regs/dtype:f32/rows_per_thread:8/n:10/level:DRAM/"
               "manual_time", 12.5),
            it("layout/gpu_transpose_naive/" + g, 100.0),
            it("layout/gpu_rowsum_coalesced/dtype:f32/order:C/n:10/level:DRAM/manual_time", 10.0),
            it("layout/gpu_rowsum_strided/dtype:f32/order:C/n:10/level:DRAM/manual_time", 30.0),
            # the CPU copy at the same dtype and level is not the GPU's partner
            it("layout/copy/dtype:f32/n:10/level:DRAM/threads:2/real_time", 1.0),
            it("layout/to_fortran_blocked/dtype:f32/n:10/level:DRAM/threads:2/real_time", 4.0)]
    rows_out = {b["name"]: b for b in derive(rows)}
    gpu = rows_out["layout/derived/dtype:f32/level:DRAM/threads:gpu"]
    assert gpu["gpu_transpose_tiled32_over_copy_bw"] == pytest.approx(0.5)
    assert gpu["gpu_transpose_regs8_over_copy_bw"] == pytest.approx(0.8)
    assert gpu["gpu_transpose_naive_over_copy_bw"] == pytest.approx(0.1)
    assert gpu["gpu_rowsum_strided_over_coalesced"] == pytest.approx(3.0)
    assert gpu["threads"] == 1  # no thread count in the name
    cpu = rows_out["layout/derived/dtype:f32/level:DRAM/threads:2"]
    assert cpu["to_fortran_blocked_over_copy_bw"] == pytest.approx(0.25) and cpu["threads"] == 2


def convert_rows() -> list[dict[str, Any]]:
    c = "n:100/level:L2/threads:1/real_time"
    return [it("convert/copy/dtype:f32/" + c, 1.0, bytes=10e9),
            it("convert/cast/src:f64/dst:f32/path:simd/" + c, 1.0, bytes=5e9),
            it("convert/astype_chunked/src:f64/dst:f32/n:100/level:L2/chunk_mib:16/threads:1/"
               "real_time", 1.0, bytes=2e9),
            it("convert/byteswap/width:4/path:portable/" + c, 1.0, bytes=1e9),
            it("convert/f16_range/method:fused/src:f32/dst:f16/" + c, 1.0, bytes=4e9),
            it("convert/view/src:f64/dst:f32/" + c, 1.0),  # no bytes counter: not a rate
            it("convert/cast/src:f64/dst:f32/path:simd/n:100/level:DRAM/threads:1/real_time",
               1.0, bytes=3e9),  # DRAM has no copy: no entry there
            it("convert/gpu_memcpy_d2d/bytes:1000/level:L2/manual_time", 1.0, bytes=100e9),
            it("convert/gpu_cast/src:f64/dst:f32/n:100/level:L2/manual_time", 1.0, bytes=50e9),
            it("convert/h2d/dtype:f64/memory:pinned/n:100/manual_time", 1.0, bytes=20e9),
            it("convert/h2d_cast/placement:zero_copy/memory:pinned/src:f64/dst:f32/n:100/"
               "manual_time", 1.0, bytes=10e9)]


def test_convert_over_copy() -> None:
    got = values(convert_rows())
    assert list(got) == ["convert/derived/level:L2/threads:1",
                         "convert/derived/level:L2/threads:gpu"]
    assert got["convert/derived/level:L2/threads:1"] == pytest.approx({
        "astype_chunked_f64_f32_16mib_over_copy_bw": 0.2,
        "byteswap_w4_portable_over_copy_bw": 0.1,
        "cast_f64_f32_simd_over_copy_bw": 0.5,
        "f16_range_fused_f32_f16_over_copy_bw": 0.4})
    assert got["convert/derived/level:L2/threads:gpu"] == pytest.approx(
        {"gpu_cast_f64_f32_over_copy_bw": 0.5})


def test_convert_op_names_of_transfers() -> None:
    from dtypebench_results.families.convert import convert_op
    assert convert_op("h2d", {"dtype": "f64", "memory": "pinned"}) == "h2d_f64_pinned"
    assert convert_op("h2d_cast", {"placement": "zero_copy", "memory": "pinned", "src": "f64",
                                   "dst": "f32"}) == "h2d_cast_zero_copy_pinned_f64_f32"


def test_convert_prefers_the_cpu_copy() -> None:
    rows = [it("convert/copy/dtype:f32/n:1/level:L2/real_time", 1.0, bytes=10e9),
            it("convert/gpu_memcpy_d2d/bytes:1000/level:L2/manual_time", 1.0, bytes=100e9),
            it("convert/gpu_cast/src:f64/dst:f32/n:1/level:L2/manual_time", 1.0, bytes=50e9)]
    assert values(rows) == {"convert/derived/level:L2/threads:gpu": {
        "gpu_cast_f64_f32_over_copy_bw": pytest.approx(5.0),
        "gpu_memcpy_d2d_over_copy_bw": pytest.approx(10.0)}}


def test_derived_rows_look_like_the_binarys() -> None:
    rows = derive(layout_rows() + convert_rows())
    assert [b["name"] for b in rows] == ["layout/derived/dtype:f64/level:L2/threads:2",
                                         "convert/derived/level:L2/threads:1",
                                         "convert/derived/level:L2/threads:gpu"]
    b = rows[0]
    assert list(b)[:12] == ["name", "family_index", "per_family_instance_index", "run_name",
                            "run_type", "repetitions", "repetition_index", "threads",
                            "iterations", "real_time", "cpu_time", "time_unit"]
    assert b["run_name"] == b["name"] and b["run_type"] == "iteration" and b["threads"] == 2
    assert b["label"] == "derived" and list(b)[-1] == "label" and is_derived(b)
    assert (b["iterations"], b["repetitions"], b["time_unit"]) == (1, 1, "us")
    assert [r["per_family_instance_index"] for r in rows] == [0, 1, 2]
    assert rows[1]["threads"] == 1


def test_values_that_cannot_be_computed_are_left_out() -> None:
    rows = convert_rows()
    rows[1]["bytes"] = float("inf")  # e.g. read from an older file's Infinity
    got = derive(rows)
    assert "cast_f64_f32_simd_over_copy_bw" not in got[0]
    assert "byteswap_w4_portable_over_copy_bw" in got[0]
    json.dumps(got, allow_nan=False)  # strict JSON


def test_a_derivation_sees_every_family() -> None:
    def gemm_over_peak(rows: list[dict[str, Any]]) -> list[Derived]:
        flops = {r["name"].split("/")[0]: r["flops"] for r in rows if "flops" in r}
        return [Derived("gemm/derived/threads:2", {"of_peak": flops["gemm"] / flops["baseline"]})]

    rows = [it("baseline/fma_peak/dtype:f32/threads:2/real_time", 1.0, flops=100e9),
            it("gemm/sgemm/dtype:f32/n:64/threads:2/real_time", 1.0, flops=25e9)]
    (b,) = derive(rows, [gemm_over_peak])
    assert b["name"] == "gemm/derived/threads:2" and b["of_peak"] == 0.25 and b["threads"] == 2


def test_with_derived_replaces_earlier_derived_rows() -> None:
    stale = {**it("layout/derived/dtype:f64/level:L2/threads:2", 0.0), "label": "derived",
             "colsum_strided_over_rowsum_C": 999.0, "stale_value": 1.0}
    rows = with_derived(layout_rows() + [stale])
    derived = [b for b in rows if is_derived(b)]
    assert len(derived) == 1 and rows[-1] is derived[0]
    assert derived[0]["colsum_strided_over_rowsum_C"] == pytest.approx(4.0)
    assert "stale_value" not in derived[0]
    assert with_derived(rows) == rows  # twice is once


# ---- the committed runs: what the C++ binary derived, reproduced -------------------------------


def mismatches(rows: list[dict[str, Any]]) -> list[str]:
    """How derive() over the measured rows differs from the derived rows recorded among them."""
    recorded = [b for b in rows if is_derived(b)]
    ours = derive([b for b in rows if not is_derived(b)])
    out = []
    if [b["name"] for b in ours] != [b["name"] for b in recorded]:
        out.append(f"names: {[b['name'] for b in ours]} != {[b['name'] for b in recorded]}")
    mine = {b["name"]: b for b in ours}
    for want in recorded:
        got: Optional[dict[str, Any]] = mine.get(want["name"])
        if got is None:
            continue
        w = {k: v for k, v in want.items() if k not in OWN}
        g = {k: v for k, v in got.items() if k not in OWN}
        if sorted(w) != sorted(g):
            out.append(f"{want['name']}: keys {sorted(set(w) ^ set(g))}")
        for k in set(w) & set(g):
            if not math.isclose(w[k], g[k], rel_tol=1e-6):
                out.append(f"{want['name']}: {k} = {g[k]}, recorded {w[k]}")
    return out


COMMITTED = ["vm-2026-11-26-4.json", "vm-2026-11-26-3.json", "vm-2026-11-26-strided.json",
             "nvidia-h200-2026-11-26/gpu-layout.json",
             "nvidia-h200-2026-11-26/gpu-layout-transposes.json",
             "nvidia-h200-2026-11-26/gpu-convert.json"]


@pytest.mark.parametrize("report", COMMITTED)
def test_committed_derived_entries_are_reproduced(report: str) -> None:
    rows = load(REPORTS / report)["benchmarks"]
    assert any(is_derived(b) for b in rows)
    assert mismatches(rows) == []


def test_the_full_run_has_known_values() -> None:
    """Values read off the full run by hand, so a change that moved every entry alike (and the
    recorded ones with it) would still show."""
    got = {b["name"]: b for b in derive(load(REPORTS / "vm-2026-11-26-4.json")["benchmarks"])}
    assert len(got) == 40
    f64 = got["layout/derived/dtype:f64/level:DRAM/threads:2"]
    assert f64["stride_plateau_bytes"] == 128.0 and f64["threads"] == 2  # lines fetched in pairs
    assert f64["colsum_strided_over_rowsum_C"] == pytest.approx(13.9588, rel=1e-5)
    # stride 8 at 5.2x is under 10.25/sqrt(2) = 7.25x: the plateau is stride 16, 16 f32 = 64 B
    f32 = got["layout/derived/dtype:f32/level:L2/threads:1"]
    assert f32["stride_plateau_bytes"] == 64.0 and f32["threads"] == 1
    assert f32["breakeven_passes"] == pytest.approx(0.248781, rel=1e-5)
    conv = got["convert/derived/level:DRAM/threads:2"]
    assert conv["cast_f32_f16_simd_over_copy_bw"] == pytest.approx(1.82249, rel=1e-5)
    assert conv["threads"] == 2 and len(conv) - len(OWN) == 31


def test_the_comparison_catches_a_changed_input() -> None:
    rows = copy.deepcopy(load(REPORTS / "vm-2026-11-26-3.json")["benchmarks"])
    target = "layout/rowsum_naive/dtype:f64/order:C/"
    changed = [b for b in rows if b.get("run_name", "").startswith(target)
               and "level:DRAM" in b["run_name"] and b.get("aggregate_name") == "median"]
    assert changed
    changed[0]["real_time"] *= 1.01
    found = mismatches(rows)
    assert found and all("dtype:f64/level:DRAM" in m for m in found)
    assert any("colsum_strided_over_rowsum_C" in m for m in found)


# ---- scripts/derive ----------------------------------------------------------------------------


def test_derive_cli_appends_to_a_binary_s_file(tmp_path: Path) -> None:
    doc = load(REPORTS / "vm-2026-11-26-3.json")
    measured = [b for b in doc["benchmarks"] if not is_derived(b)]
    src = tmp_path / "raw.json"
    src.write_text(json.dumps({"context": doc["context"], "benchmarks": measured}))
    out = tmp_path / "with.json"
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "derive"), str(src), "-o",
                           str(out)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "10 derived entries" in proc.stdout
    written = load(out)
    # as measured, less the NaN of the old binary's cv rows (strict JSON leaves them out)
    assert written["benchmarks"][:len(measured)] == strict(measured)
    assert "NaN" not in out.read_text()
    assert mismatches(written["benchmarks"]) == []
    assert json.loads(src.read_text())["benchmarks"] == measured  # -o leaves the input alone
    # in place, twice: the same file
    for _ in range(2):
        proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "derive"), str(out)],
                              capture_output=True, text=True)
        assert proc.returncode == 0 and "replacing 10" in proc.stdout
    assert load(out) == written


def test_derive_cli_help_and_usage() -> None:
    script = str(ROOT / "scripts" / "derive")
    proc = subprocess.run([sys.executable, script, "--help"], capture_output=True, text=True)
    assert proc.returncode == 0 and "derived entries" in proc.stdout and "-o FILE" in proc.stdout
    proc = subprocess.run([sys.executable, script], capture_output=True, text=True)
    assert proc.returncode == 2


def test_gemm_share_of_the_baseline_peak_across_families() -> None:
    sq = "gemm/{lib}/precision:{p}/shape:square/m:2048/n:2048/k:2048/layout:NN/threads:{t}"
    rows = [
        it(sq.format(lib="openblas", p="f64.f64.f64", t=2), 1.0, flops=90e9),
        it(sq.format(lib="openblas", p="f64.f64.f64", t=1), 1.0, flops=48e9),
        it(sq.format(lib="onednn", p="bf16.f32.bf16", t=2), 1.0, flops=380e9),
        it(sq.format(lib="onednn", p="i8xu8.i32.i32", t=2), 1.0, flops=760e9),
        it(sq.format(lib="openblas", p="f32.f32.f32", t=2), 1.0, flops=180e9),
        it("baseline/fma_peak/dtype:f64/threads:2", 1.0, flops=100e9),
        it("baseline/fma_peak/dtype:f64/threads:1", 1.0, flops=60e9),
        it("baseline/bf16_dot_peak/dtype:bf16/threads:2", 1.0, flops=400e9),
    ]
    got = {d.name: d.values for d in derive_gemm(rows)}
    share = lambda lib, p, t: got[f"gemm/derived/lib:{lib}/precision:{p}/threads:{t}"].get(
        "share_of_baseline_fma_peak")
    assert share("openblas", "f64.f64.f64", 2) == 0.9  # its own threads' peak, not the other
    assert share("openblas", "f64.f64.f64", 1) == 0.8
    assert share("onednn", "bf16.f32.bf16", 2) == 0.95  # bf16 inputs: the dot-product peak
    assert share("onednn", "i8xu8.i32.i32", 2) is None  # no integer peak
    assert share("openblas", "f32.f32.f32", 2) is None  # the run has no f32 peak row
    # without the baseline family there is nothing to divide by
    alone = {d.name: d.values for d in derive_gemm(rows[:5])}
    assert all("share_of_baseline_fma_peak" not in v for v in alone.values())


def test_gemm_share_of_a_starved_baseline_peak_is_not_derived() -> None:
    """A peak row whose median is below 90% of its best repetition measured a machine with a
    core taken away (as the 2-core VM did: 15 GFLOP/s in 3 of 5 repetitions of 215): no share
    from it. One slow repetition of five leaves the median, and the share, alone."""
    sq = "gemm/openblas/precision:{p}/shape:square/m:2048/n:2048/k:2048/layout:NN/threads:2"

    def peak(dtype: str, reps: list[float], median: float) -> list[dict[str, Any]]:
        name = f"baseline/fma_peak/dtype:{dtype}/threads:2/real_time"
        rows = [it(name, 1.0, flops=f * 1e9) for f in reps]
        rows.append({**it(name, 1.0, flops=median * 1e9), "name": name + "_median",
                     "run_type": "aggregate", "aggregate_name": "median"})
        return rows

    rows = [it(sq.format(p="f32.f32.f32"), 1.0, flops=200e9),
            it(sq.format(p="f64.f64.f64"), 1.0, flops=96e9),
            *peak("f32", [15.3, 15.7, 35.4, 218.9, 214.2], 35.4),
            *peak("f64", [74.4, 106.9, 109.5, 110.2, 106.2], 106.9)]
    got = {d.name: d.values for d in derive_gemm(rows)}
    f32 = got["gemm/derived/lib:openblas/precision:f32.f32.f32/threads:2"]
    f64 = got["gemm/derived/lib:openblas/precision:f64.f64.f64/threads:2"]
    assert "share_of_baseline_fma_peak" not in f32
    assert f64["share_of_baseline_fma_peak"] == 96e9 / 106.9e9


def test_gemm_summary_speedups_and_error_table() -> None:
    sq = "gemm/{lib}/precision:{p}/shape:square/m:{m}/n:{m}/k:{m}/layout:NN/threads:2"
    acc = "gemm/accuracy/lib:{lib}/precision:{p}/m:128/n:128/k:{k}/threads:2"
    rows = [
        it(sq.format(lib="openblas", p="f64.f64.f64", m=2048), 1.0, flops=100e9,
           share_of_fma_peak=0.9),
        it(sq.format(lib="openblas", p="f64.f64.f64", m=1024), 1.0, flops=90e9),
        it(sq.format(lib="openblas", p="f32.f32.f32", m=2048), 1.0, flops=200e9),
        it(sq.format(lib="onednn", p="bf16.f32.bf16", m=2048), 1.0, flops=1000e9),
        it(sq.format(lib="onednn", p="f32.f32.f32", m=2048), 1.0, flops=250e9),
        it(acc.format(lib="onednn", p="bf16.f32.bf16", k=256), 1.0, rel_error=1e-3,
           rel_error_unrounded=3e-3),
        it(acc.format(lib="onednn", p="bf16.f32.bf16", k=4096), 1.0, rel_error=2e-3,
           rel_error_unrounded=4e-3),
        it(acc.format(lib="onednn", p="bf16.f32.bf16", k=1024), 1.0, rel_error=5e-3,
           rel_error_unrounded=6e-3),
    ]
    got = {d.name: d.values for d in derive_gemm(rows)}
    f64 = got["gemm/derived/lib:openblas/precision:f64.f64.f64/threads:2"]
    assert f64["m"] == 2048 and f64["flops"] == 100e9 and f64["share_of_fma_peak"] == 0.9
    assert "speedup_over_f64" not in f64
    bf16 = got["gemm/derived/lib:onednn/precision:bf16.f32.bf16/threads:2"]
    assert bf16["speedup_over_f64"] == 10.0  # oneDNN has no f64: OpenBLAS's
    assert bf16["speedup_over_f32"] == 4.0   # its own f32 first
    assert bf16["rel_error_k256"] == 1e-3 and bf16["rel_error_unrounded_k4096"] == 4e-3
    assert bf16["rel_error_median"] == 2e-3


def test_gemm_gpu_share_of_the_achievable_peak() -> None:
    sq = "gemm/cublaslt/precision:{p}/algo:{a}/shape:square/m:8192/n:8192/k:8192/layout:NN"
    rows = [it(sq.format(p="bf16.f32.bf16", a="best"), 1.0, flops=700e12,
               share_of_datasheet_peak=0.7),
            it(sq.format(p="bf16.f32.bf16", a="heuristic"), 1.0, flops=650e12),
            it(sq.format(p="f64.f64.f64", a="best"), 1.0, flops=50e12),
            it("gemm/cublaslt_peak/precision:bf16.f32.bf16", 1.0, flops=800e12)]
    got = {d.name: d.values for d in derive_gemm(rows)}
    best = got["gemm/derived/lib:cublaslt/algo:best/precision:bf16.f32.bf16/threads:gpu"]
    assert best["share_of_achievable_peak"] == 700 / 800
    assert best["share_of_datasheet_peak"] == 0.7
    assert best["speedup_over_f64"] == 14.0
    assert "gemm/derived/lib:cublaslt/algo:heuristic/precision:bf16.f32.bf16/threads:gpu" in got
