"""scripts/report: the committed runs and small made-up runs give report.md, a self-contained
report.html and PNGs that decode; the Markdown is the same bytes every time; several machines
line up in columns; bad input is one line and exit 2, and leaves no half-written report."""
from __future__ import annotations

import os
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from dtypebench_results import EXIT_UNREADABLE, report
from result_rows import agg, it, one_line

ROOT = Path(__file__).resolve().parents[2]
REPORTS = ROOT / "reports"
GEMM = REPORTS / "vm-2026-12-02-gemm.json"
QUICK = REPORTS / "vm-2026-12-01-quick.json"
AMD = REPORTS / "vm-2026-11-26-3.json"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

CTX = {"cpu_model": "Test CPU 9000", "cpu_cores": "4", "hostname": "testbox",
       "git_commit": "0123456789abcdef0123456789abcdef01234567", "l1d_bytes": "32768",
       "l2_bytes": "1048576", "l3_bytes": "16777216", "date": "2026-01-01T00:00:00+00:00"}


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "scripts" / "report"), *args],
                          capture_output=True, text=True, check=False)


def check_figures(out: Path) -> list[Path]:
    """Every PNG decodes, is of a plot's size and not blank, and is in the HTML once as data."""
    image = pytest.importorskip("matplotlib.image")
    pngs = sorted(out.glob("*.png"))
    page = (out / "report.html").read_text(encoding="utf-8")
    imgs = re.findall(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert len(imgs) == len(pngs)
    assert "<script" not in page and 'src="http' not in page and ".png\"" not in page
    md = (out / "report.md").read_text(encoding="utf-8")
    for png in pngs:
        data = png.read_bytes()
        assert data.startswith(PNG_MAGIC)
        pixels = image.imread(png)
        assert pixels.shape[0] >= 300 and pixels.shape[1] >= 400
        assert pixels.std() > 0.01  # something was drawn
        assert f"]({png.name})" in md
    return pngs


def write(path: Path, doc: Any) -> Path:
    path.write_text(json.dumps(doc))
    return path


def test_gemm_run(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    report.report([str(GEMM)], tmp_path)
    md = (tmp_path / "report.md").read_text()
    assert "Intel(R) Xeon(R) Processor, 2 cores, host vm" in md
    assert "commit c3a61161eff6-dirty" in md
    for section in ("## baseline", "## gemm", "## roofline"):
        assert section in md
    # no baseline family in this run: no share of its FMA peak
    assert "| f64.f64.f64 | openblas | 2 | 2048 | 0.145 | 0.719 (fma) | - | 1.00 |" in md
    assert "| fma_peak | f32 | 2 | 380 |" in md
    assert "no DRAM copy/triad row, so no bandwidth slope" in md
    names = {p.name for p in check_figures(tmp_path)}
    assert names == {"gemm-cpu-speed-error.png", "roofline-cpu.png"}


def test_gemm_shows_the_share_of_the_runs_baseline_peak(tmp_path: Path) -> None:
    # scripts/README says the GEMM table shows share_of_baseline_fma_peak beside the row's own
    run = REPORTS / "vm-epyc-2026-12-02-full.json"
    report.report([str(run)], tmp_path, plots=False)
    md = (tmp_path / "report.md").read_text()
    header = next(line for line in md.splitlines() if line.startswith("| precision | lib |"))
    cols = [c.strip() for c in header.strip("|").split("|")]
    assert cols[5:7] == ["share of roof", "share of baseline"], cols
    doc = json.loads(run.read_text())
    want = next(b for b in doc["benchmarks"]
                if b["name"].startswith("gemm/derived/lib:openblas/precision:f64.f64.f64/threads:2"))
    row = next(line for line in md.splitlines()
               if line.startswith("| f64.f64.f64 | openblas | 2 |"))
    shown = [c.strip() for c in row.strip("|").split("|")][6]
    assert shown == report.fmt(want["share_of_baseline_fma_peak"]) != "-", row


def test_quick_run(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    report.report([str(QUICK)], tmp_path)
    md = (tmp_path / "report.md").read_text()
    assert "Intel(R) Xeon(R) Processor" in md and "f6fd76c1a1ff-dirty" in md
    for section in ("## baseline", "## layout", "## convert", "## roofline"):
        assert section in md
    assert "| copy_nt | f64 | 83.7 | 42.2 |" in md  # GB/s at L2 and DRAM
    assert "| stride_plateau_bytes | - | 256 |" in md
    assert "| astype_chunked src:f64 dst:f32 chunk_mib:16 | DRAM | 2 |" in md
    assert "ridge at 7.88 FLOP/byte" in md
    # every table and plot says which machine and commit it shows
    captions = [line for line in md.splitlines() if line.startswith(("*", "!["))]
    assert captions and all("Intel(R) Xeon(R)" in c and "f6fd76c1a1ff" in c for c in captions)
    names = {p.name for p in check_figures(tmp_path)}
    assert names == {"baseline-cpu-bandwidth.png", "layout-stride.png",
                     "convert-peak-memory.png", "roofline-cpu.png"}


def test_markdown_is_the_same_bytes_twice(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    for d in ("a", "b"):
        report.report([str(QUICK), str(GEMM)], tmp_path / d)
    first, second = ((tmp_path / d / "report.md").read_bytes() for d in ("a", "b"))
    assert first == second
    p = run_cli(str(QUICK), str(GEMM), "-o", str(tmp_path / "c"), "--no-plots")
    assert p.returncode == 0, p.stderr
    # without plots only the figure lines differ
    def text(d: str) -> list[str]:
        return [x for x in (tmp_path / d / "report.md").read_text().splitlines()
                if x and not x.startswith("![")]

    assert text("c") == text("a")


def test_two_machines_in_columns(tmp_path: Path) -> None:
    report.report([str(AMD), str(QUICK)], tmp_path, plots=False)
    md = (tmp_path / "report.md").read_text()
    assert "## run 1: AMD EPYC (vm-2026-11-26-3)" in md
    assert "## run 2: Intel(R) Xeon(R) Processor (vm-2026-12-01-quick)" in md
    assert "## across machines" in md
    header = ("| benchmark | unit | AMD EPYC (vm-2026-11-26-3) | "
              "Intel(R) Xeon(R) Processor (vm-2026-12-01-quick) |")
    assert md.count(header) == 3  # baseline, layout, convert
    # lined up although n differs (each machine sized DRAM from its own L3)
    row = next(x for x in md.splitlines()
               if x.startswith("| layout/colsum_naive/dtype:f64/order:C/level:DRAM/threads:max |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[1] == "GB/s" and "-" not in cells[2:] and cells[2] != cells[3]


def fixture_run() -> dict[str, Any]:
    """A made-up run: a family the report has never heard of, a GEMM with an exact f64, a family
    whose every row was skipped, and no baseline."""
    rows = []
    for v, t in (("im2col", 2000.0), ("winograd", 1000.0)):
        name = f"stencil/{v}/dtype:f32/n:64/threads:4/real_time"
        rows += [it(name, t * 1.1, flops=4e11, bytes=2e10), agg(name, "median", t, flops=5e11,
                                                                  bytes=2e10)]
    rows.append(it("transfer/h2d/dtype:f32/n:8/real_time", 1.0, error_occurred=True,
                   error_message="skip: no CUDA device", label="skipped: no CUDA device"))
    for p, flops, err in (("f64.f64.f64", 1e11, 0.0), ("f32.f32.f32", 2e11, 4e-7),
                          ("bf16.f32.f32", 8e11, 2e-3)):
        d = {"flops": flops, "m": 2048.0, "share_of_fma_peak": 0.7,
             "rel_error_unrounded_median": err, "rel_error_median": err}
        if p != "f64.f64.f64":
            d["speedup_over_f64"] = flops / 1e11
        rows.append(dict(it(f"gemm/derived/lib:openblas/precision:{p}/threads:4", 0.0),
                         label="derived", **d))
    return {"context": CTX, "benchmarks": rows}


def test_made_up_run(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    f = write(tmp_path / "made-up.json", fixture_run())
    out = tmp_path / "out"
    p = run_cli(str(f), "-o", str(out))
    assert p.returncode == 0, p.stderr
    md = (out / "report.md").read_text()
    assert "Machine: Test CPU 9000, 4 cores, host testbox. Commit: 0123456789ab." in md
    assert "## stencil" in md and \
        "| stencil/im2col/dtype:f32/n:64/threads:4 | 2.00 | 20.0 | 500 |" in md
    assert "## transfer" in md and "Nothing in this family ran" in md
    assert "1 benchmark: 1 skipped. Skipped: no CUDA device (1)." in md
    assert "No baseline rows in this run" in md
    assert "an error of 0 (exact to the reference) is drawn at 4.00e-08" in md
    assert "| f64.f64.f64 | openblas | 4 | 2048 | 0.1 | 0.7 (fma) | - | 1.00 | 0 | 0 |" in md
    assert {p.name for p in check_figures(out)} == {"gemm-cpu-speed-error.png"}


def test_help() -> None:
    p = run_cli("--help")
    assert p.returncode == 0
    assert "report.md" in p.stdout and "--no-plots" in p.stdout


BAD = {
    "truncated": '{"context": {}, "benchmarks": [{"name": "baseline/copy',
    "malformed": "{not json",
    "not_a_result": '{"hello": 1}',
    "list": "[]",
    "empty": '{"context": {}, "benchmarks": []}',
    "nameless": '{"benchmarks": [{"real_time": 1}]}',
}


@pytest.mark.parametrize("kind", sorted(BAD))
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, kind: str) -> None:
    f = tmp_path / "bad.json"
    f.write_text(BAD[kind])
    out = tmp_path / "out"
    p = run_cli(str(QUICK), str(f), "-o", str(out), "--no-plots")
    assert p.returncode == EXIT_UNREADABLE
    assert one_line(p).startswith(f"report: {f}: ")
    assert not (out / "report.md").exists()


def test_non_utf8_and_missing_files(tmp_path: Path) -> None:
    f = tmp_path / "r.json"
    f.write_bytes(b"\xff\xfe{\"benchmarks\": []}")
    p = run_cli(str(f), "-o", str(tmp_path / "out"))
    assert p.returncode == 2 and "not UTF-8" in one_line(p)
    p = run_cli(str(tmp_path / "missing.json"), "-o", str(tmp_path / "out"))
    assert p.returncode == 2 and "cannot read" in one_line(p)


def test_unwritable_output_is_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    p = run_cli(str(QUICK), "-o", str(blocker / "out"), "--no-plots")
    assert p.returncode == 2 and one_line(p).startswith("report: cannot write")


def test_a_failure_leaves_the_old_report_whole(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    report.report([str(QUICK)], tmp_path, plots=False)
    before = (tmp_path / "report.md").read_bytes()

    real_replace = os.replace

    def full_disk(src: str, dst: Any) -> None:
        if Path(dst).name == "report.html":  # written before report.md
            raise OSError(28, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", full_disk)
    with pytest.raises(OSError):
        report.report([str(GEMM)], tmp_path, plots=False)
    assert (tmp_path / "report.md").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html", "report.md"]


def test_number_formats() -> None:
    assert [report.fmt(x) for x in (0.0, 1234567.0, 380.4, 42.21, 1.004, 0.05123, 4e-7, None)] == \
        ["0", "1.23e+06", "380", "42.2", "1.00", "0.0512", "4.00e-07", "-"]
    assert report.line_up("layout/copy/dtype:f64/n:248/level:L2/threads:2/real_time", 2) == \
        "layout/copy/dtype:f64/level:L2/threads:max"
    assert report.line_up("gemm/openblas/m:8/n:8/k:8/threads:1/real_time", 2) == \
        "gemm/openblas/m:8/n:8/k:8/threads:1"


def test_without_matplotlib_says_so(tmp_path: Path) -> None:
    # a matplotlib that cannot be imported, first on the path: as a python without it sees it
    fake = tmp_path / "matplotlib"
    fake.mkdir()
    (fake / "__init__.py").write_text("raise ImportError('No module named matplotlib')\n")
    env = {"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin", "DTYPEBENCH_IN_VENV": "1"}
    p = subprocess.run([sys.executable, str(ROOT / "scripts" / "report"), str(QUICK), "-o",
                        str(tmp_path / "out")], capture_output=True, text=True, env=env,
                       check=False)
    assert p.returncode == 2 and "matplotlib is not installed" in one_line(p)
    assert not (tmp_path / "out" / "report.md").exists()
    p = subprocess.run([sys.executable, str(ROOT / "scripts" / "report"), str(QUICK), "-o",
                        str(tmp_path / "out"), "--no-plots"], capture_output=True, text=True,
                       env=env, check=False)
    assert p.returncode == 0, p.stderr
