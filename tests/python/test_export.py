"""scripts/export: the CSV parses back with the csv module into the rows that ran, with the name's
keys as columns, the same bytes every time; the github-action-benchmark JSON has exactly the
custom tools' shape, one direction per file; bad input is one line and exit 2, and the readable
inputs are still written."""
from __future__ import annotations

import csv
import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from dtypebench_results import EXIT_OK, EXIT_UNREADABLE, load, representative
from dtypebench_results.export import HEAD, MEASURES
from result_rows import agg, it, one_line

ROOT = Path(__file__).resolve().parents[2]
GEMM = ROOT / "reports" / "vm-2026-12-02-gemm.json"
CTX = {"cpu_model": "Test CPU 9000", "cpu_cores": "4", "hostname": "testbox",
       "git_commit": "0123456789abcdef0123456789abcdef01234567",
       "date": "2026-01-01T00:00:00+00:00"}
COPY = "baseline/copy/dtype:f64/level:DRAM/n:8/threads:4/real_time"
GEMM_ROW = "gemm/openblas/precision:f32.f32.f32/m:64/n:64/k:64/threads:4/real_time"
TIMED = "train/step/dtype:f32/value:3/real_time"  # no rate; its key clashes with a column


def fixture_run() -> dict[str, Any]:
    """Three repetitions of a copy (with median and cv), a GEMM and a timing-only row of one
    repetition, a skipped row and a derived one."""
    rows = [dict(it(COPY, t, bytes=b, verified=1), repetition_index=i, repetitions=3)
            for i, (t, b) in enumerate(((2.0, 4e9), (2.2, 3.6e9), (1.8, 4.4e9)))]
    rows += [dict(agg(COPY, "median", 2.0, bytes=4e9, verified=1), repetitions=3),
             dict(agg(COPY, "cv", 0.1, bytes=0.1, verified=0), repetitions=3,
                  aggregate_unit="percentage"),
             it(GEMM_ROW, 500.0, flops=2e11, bytes=3e9, verified=1, rel_error=1.5e-7),
             it(TIMED, 1500.0, peak_bytes=1024),
             it("transfer/h2d/dtype:f32/n:8/real_time", 0.0, label="skipped: no CUDA device"),
             dict(it("layout/derived/dtype:f64/level:DRAM/threads:4", 0.0), label="derived",
                  breakeven_passes=0.5)]
    return {"context": CTX, "benchmarks": rows}


def write(path: Path, doc: Any) -> Path:
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return path


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "scripts" / "export"), *args],
                          capture_output=True, text=True, check=False)


def read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(newline="", encoding="utf-8") as f:
        r = csv.DictReader(f)
        return list(r.fieldnames or []), list(r)


def check_github_schema(doc: Any) -> list[dict[str, Any]]:
    """What github-action-benchmark's customBiggerIsBetter / customSmallerIsBetter read: a list of
    {name: str, unit: str, value: number, range?: str, extra?: str}, names unique."""
    assert isinstance(doc, list) and doc
    for b in doc:
        assert set(b) <= {"name", "unit", "value", "range", "extra"} and {"name", "unit",
                                                                           "value"} <= set(b)
        assert isinstance(b["name"], str) and isinstance(b["unit"], str)
        assert isinstance(b["value"], (int, float)) and not isinstance(b["value"], bool)
        assert math.isfinite(b["value"])
        assert all(isinstance(b[k], str) for k in ("range", "extra") if k in b)
    assert len({b["name"] for b in doc}) == len(doc)
    return doc


def test_csv_parses_back_into_the_rows_that_ran(tmp_path: Path) -> None:
    f = write(tmp_path / "made-up.json", fixture_run())
    out = tmp_path / "out.csv"
    p = run_cli(str(f), "--csv", str(out))
    assert p.returncode == EXIT_OK, p.stderr
    assert p.stdout == f"export: {out} (3 rows)\n"
    header, rows = read_csv(out)
    keys = ["dtype", "level", "n", "threads", "precision", "m", "k", "key_value"]
    assert header == HEAD + keys + MEASURES + ["verified", "rel_error", "peak_bytes"]
    assert [r["name"] for r in rows] == [COPY, GEMM_ROW, TIMED]  # no skipped, no derived row
    copy, gemm, timed = rows
    assert copy["file"] == "made-up.json"
    assert copy["machine"] == "Test CPU 9000, 4 cores, host testbox"
    assert copy["commit"] == CTX["git_commit"] and copy["date"] == CTX["date"]
    assert (copy["family"], copy["variant"], copy["dtype"], copy["level"], copy["n"],
            copy["threads"], copy["precision"]) == ("baseline", "copy", "f64", "DRAM", "8", "4", "")
    assert (copy["value"], copy["unit"], copy["disposition"]) == ("4", "GB/s", "verified")
    assert float(copy["time_s"]) == pytest.approx(2e-9)
    assert (copy["cv"], copy["repetitions"], copy["bytes_per_s"]) == ("0.1", "3", "4000000000")
    assert copy["flops_per_s"] == "" and copy["verified"] == "1"
    assert (gemm["unit"], gemm["value"], gemm["m"], gemm["rel_error"]) == ("GFLOP/s", "200",
                                                                           "64", "1.5e-07")
    assert gemm["cv"] == "" and gemm["bytes_per_s"] == "3000000000"
    assert (timed["unit"], timed["value"], timed["key_value"]) == ("us", "1.5", "3")
    assert timed["peak_bytes"] == "1024" and timed["disposition"] == "unchecked"


def test_csv_is_the_same_bytes_twice(tmp_path: Path) -> None:
    for d in ("a", "b"):
        assert run_cli(str(GEMM), "--csv", str(tmp_path / f"{d}.csv")).returncode == EXIT_OK
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()


def test_committed_run(tmp_path: Path) -> None:
    out, gh = tmp_path / "gemm.csv", tmp_path / "gemm.json"
    p = run_cli(str(GEMM), "--csv", str(out), "--github-benchmark", str(gh))
    assert p.returncode == EXIT_OK, p.stderr
    reps = [r for r in representative(load(GEMM)["benchmarks"]) if r.get("label") != "derived"]
    header, rows = read_csv(out)
    assert len(rows) == len(reps) > 50 and len(set(header)) == len(header)
    assert all(len(r) == len(header) and None not in r for r in rows)
    assert all(math.isfinite(float(r["value"])) and float(r["time_s"]) > 0 for r in rows)
    benches = check_github_schema(json.loads(gh.read_text(encoding="utf-8")))
    assert {b["unit"] for b in benches} <= {"GFLOP/s", "GB/s", "G elements/s", "subject / ref"}
    fma = next(b for b in benches if b["name"] == "baseline/fma_peak/dtype:f32/threads:2/real_time")
    assert fma["value"] == pytest.approx(380.118, rel=1e-5) and fma["unit"] == "GFLOP/s"
    assert fma["range"] == "± 6.35" and "cv: 1.7% of 5 repetitions" in fma["extra"]


def test_github_rate_is_bigger_is_better_and_leaves_out_time_only_rows(tmp_path: Path) -> None:
    f = write(tmp_path / "made-up.json", fixture_run())
    out = tmp_path / "bench.json"
    p = run_cli(str(f), "--github-benchmark", str(out))
    assert p.returncode == EXIT_OK, p.stderr
    assert "2 benchmarks for customBiggerIsBetter, 1 without a rate left out" in p.stdout
    benches = check_github_schema(json.loads(out.read_text(encoding="utf-8")))
    assert [(b["name"], b["unit"], b["value"]) for b in benches] == [
        (COPY, "GB/s", 4.0), (GEMM_ROW, "GFLOP/s", 200.0)]
    copy, gemm = benches
    assert copy["range"] == "± 0.4" and "range" not in gemm  # one repetition: no spread
    assert copy["extra"] == ("machine: Test CPU 9000, 4 cores, host testbox\ncommit: "
                             f"{CTX['git_commit']}\ncv: 10.0% of 3 repetitions\nverified")


def test_github_time_is_smaller_is_better_and_keeps_every_row(tmp_path: Path) -> None:
    f = write(tmp_path / "made-up.json", fixture_run())
    out = tmp_path / "bench.json"
    p = run_cli(str(f), "--github-benchmark", str(out), "--metric", "time")
    assert p.returncode == EXIT_OK, p.stderr
    assert "3 benchmarks for customSmallerIsBetter" in p.stdout
    benches = check_github_schema(json.loads(out.read_text(encoding="utf-8")))
    assert [(b["name"], b["unit"], b["value"]) for b in benches] == [
        (COPY, "ns", 2.0), (GEMM_ROW, "ns", 500.0), (TIMED, "ns", 1500.0)]
    assert benches[0]["range"] == "± 0.2"


def test_a_name_in_two_inputs_keeps_the_first(tmp_path: Path) -> None:
    a = write(tmp_path / "a.json", fixture_run())
    doc = fixture_run()
    doc["context"] = dict(CTX, git_commit="fedcba")
    b = write(tmp_path / "b.json", doc)
    out, gh = tmp_path / "out.csv", tmp_path / "out.json"
    p = run_cli(str(a), str(b), "--csv", str(out), "--github-benchmark", str(gh))
    assert p.returncode == EXIT_OK, p.stderr
    assert "2 repeated names left out" in p.stdout
    assert [r["file"] for r in read_csv(out)[1]] == ["a.json"] * 3 + ["b.json"] * 3
    benches = check_github_schema(json.loads(gh.read_text(encoding="utf-8")))
    assert len(benches) == 2 and all(CTX["git_commit"] in x["extra"] for x in benches)


BAD = {
    "malformed": "{not json",
    "not_a_result": '{"hello": 1}',
    "benchmarks_not_a_list": '{"benchmarks": 5}',
    "string_time": json.dumps({"benchmarks": [it(COPY, 1.0), it(COPY, "slow")]}),
}


@pytest.mark.parametrize("kind", sorted(BAD))
def test_a_bad_input_is_one_line_and_the_rest_is_written(tmp_path: Path, kind: str) -> None:
    good = write(tmp_path / "good.json", fixture_run())
    bad = write(tmp_path / "bad.json", BAD[kind])
    out, gh = tmp_path / "out.csv", tmp_path / "out.json"
    p = run_cli(str(good), str(bad), "--csv", str(out), "--github-benchmark", str(gh))
    assert p.returncode == EXIT_UNREADABLE
    assert one_line(p).startswith(f"export: {bad}: ")
    assert len(read_csv(out)[1]) == 3
    assert len(check_github_schema(json.loads(gh.read_text(encoding="utf-8")))) == 2


def test_nothing_to_export(tmp_path: Path) -> None:
    bad = write(tmp_path / "bad.json", BAD["malformed"])
    out = tmp_path / "out.csv"
    p = run_cli(str(bad), str(tmp_path / "missing.json"), "--csv", str(out))
    assert p.returncode == EXIT_UNREADABLE and "Traceback" not in p.stderr
    assert p.stderr.count("\n") == 3 and "nothing written" in p.stderr
    skipped = write(tmp_path / "skipped.json", {"context": CTX, "benchmarks": [
        it("transfer/h2d/n:8/real_time", 0.0, label="skipped: no CUDA device")]})
    p = run_cli(str(skipped), "--csv", str(out))
    assert p.returncode == EXIT_UNREADABLE
    assert one_line(p) == "export: no benchmark in the inputs ran: nothing written"
    assert not out.exists()


def test_no_rate_and_unwritable_outputs(tmp_path: Path) -> None:
    timed = write(tmp_path / "timed.json", {"context": CTX, "benchmarks": [it(TIMED, 1.0)]})
    gh = tmp_path / "out.json"
    p = run_cli(str(timed), "--github-benchmark", str(gh))
    assert p.returncode == EXIT_UNREADABLE
    assert one_line(p) == (f"export: no row has a rate: {gh} not written (--metric time "
                           "exports every row)")
    assert not gh.exists()
    p = run_cli(str(timed), "--csv", str(tmp_path / "no" / "such" / "dir.csv"))
    assert p.returncode == EXIT_UNREADABLE
    assert one_line(p).startswith(f"export: cannot write {tmp_path / 'no' / 'such' / 'dir.csv'}")
    assert list(tmp_path.iterdir()) == [timed]  # no temporary file left


def test_csv_to_stdout_and_an_output_that_is_an_input(tmp_path: Path) -> None:
    run = write(tmp_path / "run.json", fixture_run())
    before = run.read_bytes()
    p = subprocess.run([sys.executable, str(ROOT / "scripts" / "export"), str(run), "--csv", "-"],
                       capture_output=True, text=True, check=False, cwd=tmp_path)
    assert p.returncode == EXIT_OK, p.stderr
    header, *rows = p.stdout.splitlines()
    assert header.startswith("file,machine,commit,date,name") and len(rows) == 3
    assert not (tmp_path / "-").exists()
    for option in ("--csv", "--github-benchmark"):
        p = run_cli(str(run), option, str(run))
        assert p.returncode == EXIT_UNREADABLE
        assert one_line(p).startswith(f"export: {run}: is also an input")
    assert run.read_bytes() == before and sorted(tmp_path.iterdir()) == [run]


def test_usage() -> None:
    p = run_cli(str(GEMM))
    assert p.returncode == EXIT_UNREADABLE and "nothing to write" in p.stderr
    p = run_cli(str(GEMM), "--csv", "x.csv", "--metric", "speed")
    assert p.returncode == EXIT_UNREADABLE and "invalid choice" in p.stderr
    p = run_cli("--help")
    assert p.returncode == EXIT_OK
    assert "customBiggerIsBetter" in p.stdout and "--metric" in p.stdout
