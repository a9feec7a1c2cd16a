"""The conv family's plug-in (its derivations and the side-by-side with a peer) on hand-made rows
with known answers, and scripts/torch_conv.py's refusals and its one line without PyTorch."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

from dtypebench_results.derive import derive  # noqa: E402
from dtypebench_results.families import conv, plugin  # noqa: E402
from result_rows import agg, one_line  # noqa: E402

NAME = "conv/onednn/layer:r50_3x3_64/pass:fwd/precision:{p}/layout:{l}/batch:2/threads:2/real_time"
SHAPE = dict(conv_n=2, conv_c=64, conv_h=56, conv_w=56, conv_k=64, conv_r=3, conv_s=3,
             conv_stride=1, conv_pad=1, conv_dilation=1)


def conv_row(p: str, layout: str, seconds: float, reorder: float) -> dict:
    flops = 2.0 * 2 * 64 * 64 * 9 * 56 * 56
    return agg(NAME.format(p=p, l=layout), "median", seconds * 1e9, flops=flops / seconds,
               reorder_seconds=reorder, label="verified: x", **SHAPE)


def fixture() -> list[dict]:
    rows = []
    # f32: nchw 4 ms, nhwc 2 ms, blocked 1 ms (+3 ms of reorders); bf16 twice as fast in each
    for p, scale in (("f32.f32.f32", 1.0), ("bf16.f32.f32", 0.5)):
        for layout, t, r in (("nchw", 4e-3, 0.0), ("nhwc", 2e-3, 0.0), ("blocked", 1e-3, 3e-3)):
            rows.append(conv_row(p, layout, t * scale, r * scale))
    rows.append(agg("baseline/fma_peak/dtype:f32/threads:2/real_time", "median", 1e6,
                    flops=1e12, label="verified"))
    rows.append(agg("baseline/bf16_dot_peak/dtype:bf16/threads:2/real_time", "median", 1e6,
                    flops=4e12, label="verified"))
    return rows


def test_the_plug_in_is_found_by_name() -> None:
    assert plugin("conv") is conv
    assert conv.SMOKE_ARGS


def test_derived_ratios_have_known_values() -> None:
    rows = [r for r in derive(fixture()) if r["name"].startswith("conv/derived/")]
    assert [r["name"] for r in rows] == [
        "conv/derived/layer:r50_3x3_64/pass:fwd/batch:2/threads:2"]
    d = rows[0]
    assert d["bf16_over_f32_nhwc"] == pytest.approx(2.0)
    assert d["nhwc_over_nchw_f32"] == pytest.approx(2.0)
    assert d["blocked_over_nchw_f32"] == pytest.approx(4.0)
    # with its 3 ms of reorders, blocked's 1 ms becomes 4 ms: no better than nchw
    assert d["blocked_with_reorder_over_nchw_f32"] == pytest.approx(1.0)
    flops = 2.0 * 2 * 64 * 64 * 9 * 56 * 56
    assert d["share_of_baseline_peak_f32_nhwc"] == pytest.approx(flops / 2e-3 / 1e12)
    assert d["share_of_baseline_peak_bf16_nhwc"] == pytest.approx(flops / 1e-3 / 4e12)
    # useful_flops, where a row has it, is what the share counts (padded taps left out)


def test_side_by_side_matches_row_for_row() -> None:
    suite = {"benchmarks": fixture()}
    peer_name = ("torch/conv2d/layer:r50_3x3_64/pass:fwd/precision:f32.f32.f32/layout:nhwc/"
                 "batch:2/threads:2")
    nchw = peer_name.replace("nhwc", "nchw")
    peer = {"benchmarks": [agg(peer_name, "median", 4e6, flops=1e11),
                           agg(nchw, "median", 4e6, flops=1e11),
                           agg(peer_name.replace("batch:2", "batch:9"), "median", 1, flops=1e9)]}
    lines = conv.side_by_side(peer, suite)
    assert len(lines) == 5
    flops = 2.0 * 2 * 64 * 64 * 9 * 56 * 56
    assert lines[2].endswith(f"| - | {flops / 2e-3 / 1e11:.3g} |")  # nhwc: its own row alone
    # nchw: its 4 ms primitive, or blocked's 1 ms with 3 ms of reorders: 4 ms either way
    assert lines[3].endswith(f"| {flops / 4e-3 / 1e9:.3g} | {flops / 4e-3 / 1e9:.3g} | "
                             f"{flops / 4e-3 / 1e11:.3g} |")
    assert "not in the suite's run" in lines[4]


def run_torch_conv(*args: str, python: str = sys.executable,
                   env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([python, str(ROOT / "scripts" / "torch_conv.py"), *args],
                          capture_output=True, text=True, env=env, timeout=120)


def test_torch_conv_refuses_in_one_line(tmp_path: Path) -> None:
    empty = tmp_path / "empty.json"
    empty.write_text(json.dumps({"context": {"git_commit": "abc"}, "benchmarks": []}))
    p = run_torch_conv("--suite", str(empty))
    assert p.returncode == 2 and "no verified conv/onednn rows" in one_line(p)
    p = run_torch_conv("--suite", str(tmp_path / "missing.json"))
    assert p.returncode == 2 and "cannot read" in one_line(p)
    p = run_torch_conv("--suite", str(empty), "--out", str(tmp_path))
    assert p.returncode == 2 and "is a directory" in one_line(p)
    p = run_torch_conv("--suite", str(empty), "--repetitions", "0")
    assert p.returncode == 2 and "--repetitions" in one_line(p)


def test_torch_conv_without_torch_says_so(tmp_path: Path) -> None:
    suite = tmp_path / "run.json"
    suite.write_text(json.dumps({"context": {"git_commit": "abc"}, "benchmarks": fixture()}))
    probe = subprocess.run(["python3", "-c", "import torch"], capture_output=True)
    if probe.returncode == 0:
        pytest.skip("python3 has PyTorch: the missing-torch line cannot be shown with it")
    env = dict(os.environ, DTYPEBENCH_IN_VENV="1")  # no hand-over to .venv
    p = run_torch_conv("--suite", str(suite), python="python3", env=env)
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("torch_conv: skipped: PyTorch is not installed")
    assert len(p.stdout.splitlines()) == 1


def test_the_report_sets_the_peer_beside_the_suite(tmp_path: Path) -> None:
    from dtypebench_results.report import build, markdown, read_runs
    suite, peer = tmp_path / "run.json", tmp_path / "torch.json"
    suite.write_text(json.dumps({"context": {"git_commit": "abc", "cpu_model": "X"},
                                 "benchmarks": fixture()}))
    name = ("torch/conv2d/layer:r50_3x3_64/pass:fwd/precision:f32.f32.f32/layout:nhwc/batch:2/"
            "threads:2")
    peer.write_text(json.dumps({"context": {"library": "torch"},
                                "benchmarks": [agg(name, "median", 4e6, flops=1e11)]}))
    text = markdown(build(read_runs([str(suite), str(peer)]), plots=False))
    assert text.count("conv: ours beside torch (torch.json)") == 1  # under the suite run only
    flops = 2.0 * 2 * 64 * 64 * 9 * 56 * 56
    assert f"| 100 | {flops / 2e-3 / 1e9:.3g} | - | {flops / 2e-3 / 1e11:.3g} |" in text
    alone = markdown(build(read_runs([str(suite)]), plots=False))
    assert "ours beside" not in alone


def test_gpu_rows_derive_against_the_heuristic_strict_f32_and_the_gemm_peak() -> None:
    name = "conv/cudnn/layer:r50_3x3_64/pass:fwd/precision:{p}/layout:nhwc/batch:256/algo:{a}"
    rows = [agg(name.format(p="f32.f32.f32", a="best") + "/manual_time", "median", 1, flops=1e13),
            agg(name.format(p="f16.f32.f16", a="best") + "/manual_time", "median", 1,
                flops=6e14, useful_flops=5e14),
            agg(name.format(p="f16.f32.f16", a="heuristic") + "/manual_time", "median", 1,
                flops=3e14),
            agg("gemm/cublaslt_peak/precision:f16.f32.f16/m:8192/manual_time", "median", 1,
                flops=8e14)]
    d = [r for r in derive(rows) if r["name"].startswith("conv/derived/")]
    assert [r["name"] for r in d] == ["conv/derived/layer:r50_3x3_64/pass:fwd/batch:256/threads:gpu"]
    assert d[0]["best_over_heuristic_f16_f32_f16_nhwc"] == pytest.approx(2.0)
    assert d[0]["f16_f32_f16_over_f32_nhwc"] == pytest.approx(60.0)
    assert d[0]["share_of_achievable_peak_f16_f32_f16_nhwc"] == pytest.approx(5e14 / 8e14)
