"""Tests for scripts/compare (scripts/dtypebench_results/compare.py) on result files made here
with known answers, and on the committed A/A pair of runs."""
from __future__ import annotations

import json
import random
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Optional, Sequence

import pytest
from result_rows import agg, it, one_line

from dtypebench_results import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_UNREADABLE
from dtypebench_results import compare as cmp

pytest.importorskip("scipy")  # the U test (scripts/setup.sh puts scipy in .venv)

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "compare"
PAIRS = ROOT / "reports" / "vm-2026-12-01-pairs"

SUBJECT = "layout/colsum_naive/dtype:f32/order:C/n:4096/level:DRAM/threads:2/real_time"
REF = "baseline/copy/dtype:f64/level:DRAM/threads:2/real_time"
REF_TEMPLATE = "baseline/copy/dtype:f64/level:{level}/threads:{threads}/.*"
CONTEXT = {"cpu_model": "Intel(R) Xeon(R) Processor", "hostname": "vm"}


def rows(name: str, times: Sequence[float], **counters: Any) -> list[dict[str, Any]]:
    """A run of len(times) repetitions as the binary writes it: the iteration rows, then the
    aggregates (which must not count as samples: their median is deliberately far off)."""
    out = [dict(it(name, t, **counters), repetition_index=i, label="verified")
           for i, t in enumerate(times)]
    for a in ("mean", "median", "stddev", "cv"):
        out.append(agg(name, a, 1e9))
    return out


def result(path: Path, runs: dict[str, Sequence[float]], context: Optional[dict] = None,
           extra: Sequence[dict] = ()) -> str:
    doc = {"context": dict(CONTEXT if context is None else context),
           "benchmarks": [r for name, times in runs.items() for r in rows(name, times)]
           + list(extra)}
    path.write_text(json.dumps(doc))
    return str(path)


def noisy(center: float, n: int, cv: float, seed: int) -> list[float]:
    rng = random.Random(seed)
    return [center * (1 + rng.gauss(0, cv)) for _ in range(n)]


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True,
                          check=False)


def verdicts(tmp_path: Path, base: Sequence[float], contender: Sequence[float],
             *options: str) -> tuple[int, dict[str, Any]]:
    """compare's exit status and its JSON entry for SUBJECT, one file per side."""
    a = result(tmp_path / "base.json", {SUBJECT: base})
    b = result(tmp_path / "contender.json", {SUBJECT: contender})
    out = tmp_path / "cmp.json"
    status = cmp.main([*options, "--json", str(out), "--out", str(tmp_path / "cmp.md"), a, "--",
                       b])
    entries = {e["name"]: e for e in json.loads(out.read_text())["benchmarks"]}
    return status, entries[SUBJECT]


# ---- the verdicts ------------------------------------------------------------------------------


def test_identical_samples_are_the_same(tmp_path: Path) -> None:
    times = noisy(100.0, 6, 0.01, seed=1)
    status, e = verdicts(tmp_path, times, times)
    assert (status, e["verdict"]) == (EXIT_OK, "same")
    assert e["change"] == 0.0 and e["p"] == 1.0


def test_a_25_percent_slower_contender_is_slower_and_fails(tmp_path: Path) -> None:
    status, e = verdicts(tmp_path, noisy(100.0, 6, 0.01, seed=1), noisy(125.0, 6, 0.01, seed=2))
    assert (status, e["verdict"]) == (EXIT_FAILED, "slower")
    assert e["change"] == pytest.approx(0.25, abs=0.02)
    assert e["p"] < 0.05
    assert e["base"]["n"] == 6  # the aggregates are not samples
    assert e["base"]["median"] == pytest.approx(100e-9, rel=0.02)  # real_time in seconds


def test_a_faster_contender_is_faster_and_passes(tmp_path: Path) -> None:
    status, e = verdicts(tmp_path, noisy(100.0, 6, 0.01, seed=1), noisy(80.0, 6, 0.01, seed=2))
    assert (status, e["verdict"]) == (EXIT_OK, "faster")
    assert e["change"] == pytest.approx(-0.2, abs=0.02)


def test_high_cv_is_noisy_even_with_a_large_change(tmp_path: Path) -> None:
    base = [100.0, 60.0, 140.0, 100.0, 70.0, 130.0]  # cv about 30%
    status, e = verdicts(tmp_path, base, [t * 1.5 for t in base])
    assert (status, e["verdict"]) == (EXIT_OK, "noisy")
    assert e["reason"].startswith("cv ") and "> 10%" in e["reason"]


def test_two_samples_are_noisy_with_the_reason(tmp_path: Path) -> None:
    status, e = verdicts(tmp_path, [100.0, 101.0], [150.0, 151.0, 152.0])
    assert (status, e["verdict"]) == (EXIT_OK, "noisy")
    assert e["p"] is None  # no U test
    assert "too few samples: 2 base, 3 contender" in e["reason"]


def test_three_against_three_cannot_be_significant(tmp_path: Path) -> None:
    # the exact two-sided U test's smallest p at 3 vs 3 is 2/C(6,3) = 0.1: a clear 25% is noisy
    status, e = verdicts(tmp_path, [100.0, 101.0, 99.0], [125.0, 126.0, 124.0])
    assert (status, e["verdict"]) == (EXIT_OK, "noisy")
    assert e["p"] == pytest.approx(0.1)
    assert "3 vs 3 samples cannot reach p < 0.05" in e["reason"]
    assert cmp.smallest_p(3, 3) == pytest.approx(0.1)
    assert cmp.smallest_p(4, 4) == pytest.approx(2 / 70)


def test_the_bar_grows_with_the_noise(tmp_path: Path) -> None:
    # cv about 4% on both sides: the bar is 2 x 4% = 8%, so a clear 6% change is not enough
    base, contender = noisy(100.0, 12, 0.04, seed=3), noisy(106.0, 12, 0.04, seed=4)
    s = cmp.Settings()
    e = cmp.judge(SUBJECT, base, contender, s, test=lambda a, b: 0.001)
    assert e.min_effect == pytest.approx(2 * cmp.pooled_cv(cmp.side(base), cmp.side(contender)))
    assert e.min_effect > 0.06
    assert e.verdict == "same"
    assert cmp.judge(SUBJECT, base, contender, cmp.Settings(k=0.5),
                     test=lambda a, b: 0.001).verdict == "slower"
    assert cmp.fraction("5%") == pytest.approx(0.05) and cmp.fraction("0.05") == 0.05


def test_a_counter_is_higher_is_better(tmp_path: Path) -> None:
    a = tmp_path / "a.json"
    b = tmp_path / "b.json"
    for path, gbs in ((a, 40e9), (b, 30e9)):  # the bandwidth fell: slower, though the rate fell
        doc = {"context": CONTEXT, "benchmarks": [
            dict(it(SUBJECT, 100.0, bytes=gbs * (1 + 0.001 * i)), repetition_index=i)
            for i in range(5)]}
        path.write_text(json.dumps(doc))
    status = cmp.main(["--counter", "bytes", "--json", str(tmp_path / "c.json"), str(a), "--",
                       str(b)])
    e = json.loads((tmp_path / "c.json").read_text())["benchmarks"][0]
    assert (status, e["verdict"]) == (EXIT_FAILED, "slower")
    assert e["change"] == pytest.approx(-0.25, abs=0.01)


def test_skipped_failed_derived_and_aggregate_rows_are_not_samples() -> None:
    doc = {"benchmarks": [
        dict(it(SUBJECT, 1.0), repetition_index=0),
        dict(it(SUBJECT, 2.0), repetition_index=1, label="skipped: no GPU"),
        dict(it(SUBJECT, 3.0), repetition_index=2, label="failed: 3 values wrong"),
        dict(it(SUBJECT, 4.0), repetition_index=3, error_occurred=True,
             error_message="skip: old"),
        dict(it("layout/derived/dtype:f32", 5.0), label="derived"),
        agg(SUBJECT, "median", 6.0),
        dict(it(SUBJECT, "fast"), repetition_index=4),  # not a number
    ]}
    assert cmp.file_samples(doc, None) == {SUBJECT: {(0, 0): 1e-9}}


def test_a_repeated_repetition_keeps_both_samples() -> None:
    doc = {"benchmarks": [dict(it(SUBJECT, 1.0), repetition_index=0),
                          dict(it(SUBJECT, 2.0), repetition_index=0), it(SUBJECT, 3.0)]}
    assert cmp.file_samples(doc, None) == {
        SUBJECT: {(0, 0): pytest.approx(1e-9), (0, 1): pytest.approx(2e-9),
                  (2, 0): pytest.approx(3e-9)}}  # no index: its ordinal among the name's rows


# ---- drift-normalized --------------------------------------------------------------------------


def drifting(path: Path, speed: Sequence[float], subject_factor: float = 1.0,
             seed: int = 0) -> str:
    """A file where the machine's speed at repetition i scales the reference and the subject
    alike (speed[i] = 1.3: everything takes 30% longer), plus 0.5% independent noise each."""
    rng = random.Random(seed)
    ref = [50.0 * s * (1 + rng.gauss(0, 0.005)) for s in speed]
    sub = [200.0 * s * subject_factor * (1 + rng.gauss(0, 0.005)) for s in speed]
    return result(path, {REF: ref, SUBJECT: sub})


def normalized_verdict(tmp_path: Path, base: Sequence[str], contender: Sequence[str],
                       *options: str) -> tuple[int, dict[str, dict[str, Any]]]:
    out = tmp_path / "n.json"
    status = cmp.main([*options, "--json", str(out), "--out", str(tmp_path / "n.md"), *base,
                       "--", *contender])
    return status, {e["name"]: e for e in json.loads(out.read_text())["benchmarks"]}


def test_a_machine_30_percent_slower_is_slower_plain_and_the_same_normalized(
        tmp_path: Path) -> None:
    steady = [1.0, 1.01, 0.99, 1.0, 1.02]
    base = [drifting(tmp_path / f"b{i}.json", steady, seed=i) for i in range(2)]
    contender = [drifting(tmp_path / f"c{i}.json", [1.3 * s for s in steady], seed=10 + i)
                 for i in range(2)]
    status, plain = normalized_verdict(tmp_path, base, contender)
    assert status == EXIT_FAILED
    assert plain[SUBJECT]["verdict"] == "slower" and plain[REF]["verdict"] == "slower"
    status, norm = normalized_verdict(tmp_path, base, contender, "--normalize", REF_TEMPLATE)
    assert status == EXIT_OK
    assert norm[SUBJECT]["verdict"] == "same"
    assert norm[SUBJECT]["reference"] == REF
    assert norm[SUBJECT]["base"]["n"] == 10  # 2 files x 5 repetitions, each paired
    assert norm[SUBJECT]["base"]["median"] == pytest.approx(4.0, rel=0.01)  # 200 / 50
    assert norm[REF]["verdict"] == "reference"


def test_a_regression_of_the_subject_only_is_slower_normalized(tmp_path: Path) -> None:
    # the machine swings 1.5x between repetitions: plain mode sees only noise
    swings = [1.0, 1.5, 1.1, 1.45, 1.05]
    base = [drifting(tmp_path / f"b{i}.json", swings[i:] + swings[:i], seed=i) for i in range(2)]
    contender = [drifting(tmp_path / f"c{i}.json", swings[::-1], subject_factor=1.25,
                          seed=10 + i) for i in range(2)]
    status, plain = normalized_verdict(tmp_path, base, contender)
    assert plain[SUBJECT]["verdict"] == "noisy"
    status, norm = normalized_verdict(tmp_path, base, contender, "--normalize", REF_TEMPLATE)
    assert status == EXIT_FAILED
    assert norm[SUBJECT]["verdict"] == "slower"
    assert norm[SUBJECT]["change"] == pytest.approx(0.25, abs=0.01)


def test_the_reference_is_found_at_the_benchmark_s_own_level(tmp_path: Path) -> None:
    l2_ref, l2_sub = REF.replace("DRAM", "L2"), SUBJECT.replace("DRAM", "L2")
    no_level = "gemm/openblas/precision:f64/m:64/threads:2/real_time"
    runs = {REF: [50.0] * 4, l2_ref: [10.0] * 4, SUBJECT: [200.0] * 4, l2_sub: [30.0] * 4,
            no_level: [1.0] * 4}
    a, b = result(tmp_path / "a.json", runs), result(tmp_path / "b.json", runs)
    status, e = normalized_verdict(tmp_path, [a], [b], "--normalize", REF_TEMPLATE)
    assert status == EXIT_OK
    assert e[SUBJECT]["reference"] == REF and e[SUBJECT]["base"]["median"] == pytest.approx(4.0)
    assert e[l2_sub]["reference"] == l2_ref and e[l2_sub]["base"]["median"] == pytest.approx(3.0)
    assert e[no_level]["verdict"] == "no reference"
    assert e[no_level]["reason"] == "name has no key level"
    assert cmp.find_reference("baseline/triad/.*", SUBJECT, list(runs))[0] is None
    assert "2 benchmarks match" in cmp.find_reference("baseline/copy/.*", SUBJECT, list(runs))[1]


def test_a_reference_missing_a_repetition_drops_only_that_sample() -> None:
    f = {SUBJECT: {(0, 0): 4.0, (1, 0): 6.0, (2, 0): 8.0}, REF: {(0, 0): 2.0, (2, 0): 4.0}}
    assert cmp.normalized([f], SUBJECT, REF) == [2.0, 2.0]


# ---- the output --------------------------------------------------------------------------------


def test_markdown_puts_regressions_first_and_counts_verdicts(tmp_path: Path) -> None:
    names = {f"layout/v{i}/dtype:f32/level:DRAM/threads:2": i for i in range(4)}
    base = {n: noisy(100.0, 6, 0.01, seed=i) for n, i in names.items()}
    factors = [0.8, 1.0, 1.25, 1.5]  # faster, same, slower, slower
    contender = {n: noisy(100.0 * factors[i], 6, 0.01, seed=10 + i) for n, i in names.items()}
    a = result(tmp_path / "a.json", base, extra=[it("layout/only_base/n:1", 1.0)])
    b = result(tmp_path / "b.json", contender)
    p = run(a, "--", b)
    assert p.returncode == EXIT_FAILED, p.stderr
    table = [line for line in p.stdout.splitlines() if line.startswith("| `")]
    assert [line.split("|")[6].strip() for line in table] == [
        "**slower**", "**slower**", "faster", "same"]
    assert "`layout/v3/" in table[0] and "`layout/v2/" in table[1]  # the worst first
    assert all(line.count(" | ") == 6 for line in table)  # no stray | in a cell
    assert p.stdout.strip().splitlines()[-1] == (
        "4 compared: slower 2, noisy 0, faster 1, same 1; not compared: 1 only in base, "
        "0 only in contender.")


def test_out_writes_the_markdown_and_json_the_same_data(tmp_path: Path) -> None:
    a = result(tmp_path / "a.json", {SUBJECT: noisy(100.0, 5, 0.01, seed=1)})
    b = result(tmp_path / "b.json", {SUBJECT: noisy(100.0, 5, 0.01, seed=2)})
    p = run("--out", str(tmp_path / "r.md"), "--json", str(tmp_path / "r.json"), a, "--", b)
    assert p.returncode == EXIT_OK, p.stderr
    assert p.stdout.startswith(f"compare: {tmp_path / 'r.md'}: 1 compared: ")
    assert f"`{SUBJECT}`" in (tmp_path / "r.md").read_text()
    doc = json.loads((tmp_path / "r.json").read_text())
    assert doc["metric"] == "real_time_seconds" and doc["higher_is_better"] is False
    assert doc["counts"]["same"] == 1 and doc["base_files"] == [a]


def test_help_explains_the_syntax() -> None:
    p = run("--help")
    assert p.returncode == 0
    assert "BASE.json [BASE.json ...] -- CONTENDER.json" in p.stdout
    assert "--normalize" in p.stdout and "Mann-Whitney" in p.stdout


# ---- inputs it refuses -------------------------------------------------------------------------


def good(tmp_path: Path, name: str = "good.json", **context: str) -> str:
    return result(tmp_path / name, {SUBJECT: [100.0, 101.0, 99.0]}, {**CONTEXT, **context})


@pytest.mark.parametrize("kind,text,says", [
    ("truncated", '{"context": {}, "benchmarks": [{"name": "a", "run_na', "not valid JSON"),
    ("not_a_result", '{"people": ["ann"]}', "not a result file"),
    ("list", "[]", "not a result file"),
    ("empty", '{"benchmarks": []}', "has no benchmark that ran"),
    ("aggregates_only", json.dumps({"benchmarks": [
        agg(SUBJECT, "median", 1.0), dict(it("layout/derived/dtype:f32", 0.0), label="derived")]}),
     "aggregates only"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, kind: str, text: str,
                                          says: str) -> None:
    bad = tmp_path / f"{kind}.json"
    bad.write_text(text)
    for args in ((str(bad), "--", good(tmp_path)), (good(tmp_path), "--", str(bad))):
        p = run(*args)
        assert p.returncode == EXIT_UNREADABLE
        line = one_line(p)
        assert line.startswith("compare: ") and says in line


def test_mixed_machines_are_refused_unless_allowed(tmp_path: Path) -> None:
    a = good(tmp_path, "a.json")
    b = good(tmp_path, "b.json", cpu_model="AMD EPYC 9654")
    p = run(a, "--", b)
    assert p.returncode == EXIT_UNREADABLE
    line = one_line(p)
    assert "mixed machines: cpu_model" in line and "AMD EPYC 9654" in line
    assert "--allow-mixed" in line
    assert run("--allow-mixed", a, "--", b).returncode == EXIT_OK
    # a key only one file has (no GPU in the other) is not a mismatch; host_name is hostname
    c = result(tmp_path / "c.json", {SUBJECT: [100.0] * 3},
               {"cpu_model": CONTEXT["cpu_model"], "host_name": "vm", "gpu_name": "NVIDIA H200"})
    assert run(a, "--", c).returncode == EXIT_OK
    d = good(tmp_path, "d.json", hostname="other")
    assert "hostname is 'vm'" in one_line(run(a, "--", d))


def test_nothing_in_common_is_refused(tmp_path: Path) -> None:
    a = good(tmp_path)
    b = result(tmp_path / "b.json", {REF: [1.0, 2.0, 3.0]})
    p = run(a, "--", b)
    assert p.returncode == EXIT_UNREADABLE
    assert "no benchmark in common" in one_line(p)


@pytest.mark.parametrize("args,says", [
    (["a.json", "b.json"], "give the contender files after --"),
    (["--", "b.json"], "no base file before --"),
    (["a.json", "--"], "no contender file after --"),
    (["a.json", "--", "b.json", "--json", "x"], "options go before --"),
    (["--alpha", "nan", "a.json", "--", "b.json"], "argument --alpha: must be 0 or more"),
    (["--threshold", "five", "a.json", "--", "b.json"], "not a fraction or a percentage"),
])
def test_bad_usage_exits_2(args: list[str], says: str) -> None:
    p = run(*args)
    assert p.returncode == EXIT_UNREADABLE
    assert "Traceback" not in p.stderr and says in p.stderr


@pytest.mark.parametrize("alpha", ["2", "1", "0", "100%", "-0.5"])
def test_alpha_outside_0_1_is_refused(tmp_path: Path, alpha: str) -> None:
    a = good(tmp_path)
    p = run("--alpha", alpha, a, "--", a)
    assert p.returncode == EXIT_UNREADABLE and "Traceback" not in p.stderr
    assert p.stderr.strip().splitlines()[-1].startswith("compare: error: argument --alpha: must")
    assert run("--alpha", "0.5", a, "--", a).returncode == EXIT_OK


@pytest.mark.parametrize("option", ["--out", "--json"])
def test_an_output_that_is_an_input_is_refused(tmp_path: Path, option: str) -> None:
    a, b = good(tmp_path, "a.json"), good(tmp_path, "b.json")
    link = tmp_path / "link.json"
    link.symlink_to(b)
    before = {f: Path(f).read_bytes() for f in (a, b)}
    for out in (a, b, str(tmp_path / "sub" / ".." / "a.json"), str(link)):
        if out.endswith("a.json"):
            (tmp_path / "sub").mkdir(exist_ok=True)
        p = run(option, out, a, "--", b)
        assert p.returncode == EXIT_UNREADABLE
        assert one_line(p).startswith(f"compare: {out}: is also an input")
    assert {f: Path(f).read_bytes() for f in (a, b)} == before


def test_without_scipy_it_says_so(tmp_path: Path) -> None:
    fake = tmp_path / "scipy"
    fake.mkdir()
    (fake / "__init__.py").write_text("raise ImportError('No module named scipy')\n")
    a = good(tmp_path)
    p = subprocess.run([sys.executable, str(SCRIPT), a, "--", a], capture_output=True,
                       text=True, env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"},
                       check=False)
    assert p.returncode == EXIT_UNREADABLE
    assert "scipy is not installed" in one_line(p)


def test_a_python_without_scipy_hands_over_to_the_venv(tmp_path: Path) -> None:
    # a copy of the scripts beside a .venv/bin/python that is this interpreter; python -S
    # (no site-packages, so no scipy) runs the copy, which must re-run itself under the venv
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "compare").write_text(SCRIPT.read_text())
    shutil.copytree(ROOT / "scripts" / "dtypebench_results",
                    tmp_path / "scripts" / "dtypebench_results",
                    ignore=shutil.ignore_patterns("__pycache__"))
    a = good(tmp_path)
    command = [sys.executable, "-S", str(tmp_path / "scripts" / "compare"), a, "--", a]
    p = subprocess.run(command, capture_output=True, text=True, check=False)
    assert "scipy is not installed" in one_line(p)  # no .venv yet: python -S has no scipy
    venv = tmp_path / ".venv" / "bin"
    venv.mkdir(parents=True)
    (venv / "python").write_text(f"#!/bin/sh\nexec {sys.executable} \"$@\"\n")
    (venv / "python").chmod(0o755)
    p = subprocess.run(command, capture_output=True, text=True, check=False)
    assert p.returncode == EXIT_OK, p.stderr
    assert p.stdout.strip().splitlines()[-1] == "1 compared: slower 0, noisy 0, faster 0, same 1."


def test_interrupted_is_130(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                            capsys: pytest.CaptureFixture[str]) -> None:
    def stop(*args: Any, **kwargs: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(cmp, "run", stop)
    assert cmp.main([good(tmp_path), "--", good(tmp_path)]) == EXIT_INTERRUPTED
    assert capsys.readouterr().err == "compare: interrupted\n"


# ---- the committed runs ------------------------------------------------------------------------


def test_the_committed_a_a_pair_compares(capsys: pytest.CaptureFixture[str]) -> None:
    # two runs of the same build, 3 repetitions each: nothing can be confirmed at 3 vs 3, so an
    # A/A comparison must not fail; the verdicts are printed for the record (pytest -s)
    a, b = str(PAIRS / "new-1.json"), str(PAIRS / "new-2.json")
    for options in ([], ["--counter", "subject_over_ref_bw"]):
        report = cmp.run([a], [b], cmp.Settings(counter=(options or [None, None])[1]))
        assert len(report.comparisons) == 25
        assert not report.regressed()
        with capsys.disabled():
            print(f"\nA/A new-1 -- new-2 {' '.join(options)}: {cmp.summary(report)}")
    p = run(a, "--", b)
    assert p.returncode == EXIT_OK, p.stderr
    assert p.stdout.strip().splitlines()[-1].startswith("25 compared: slower 0")


def drifting_runs(tmp_path: Path, prefix: str, levels: Sequence[float], factor: float = 1.0,
                  seed: int = 0) -> list[str]:
    """One file per entry of levels: a run whose 5 repetitions sit within 0.2% of each other
    around that run's own level (the machine drifts between runs, not within one)."""
    return [result(tmp_path / f"{prefix}{i}.json",
                   {SUBJECT: noisy(level * factor, 5, 0.002, seed + i)})
            for i, level in enumerate(levels)]


def test_per_run_judges_drift_between_runs_as_the_same_that_repetitions_call_slower(
        tmp_path: Path) -> None:
    levels = [1.00, 1.03, 0.97, 1.02, 0.98]  # run-to-run cv 2.5%
    base = drifting_runs(tmp_path, "b", levels)
    contender = drifting_runs(tmp_path, "c", levels[::-1], factor=1.065, seed=10)
    _, by_repetition = normalized_verdict(tmp_path, base, contender)
    assert by_repetition[SUBJECT]["verdict"] == "slower"  # 25 clustered samples a side
    assert by_repetition[SUBJECT]["p"] < 0.001
    status, by_run = normalized_verdict(tmp_path, base, contender, "--per-run", "--k", "3")
    assert status == EXIT_OK
    assert by_run[SUBJECT]["verdict"] == "same"
    assert by_run[SUBJECT]["base"]["n"] == 5
    assert by_run[SUBJECT]["min_effect"] > 0.065  # 3 x the run-to-run cv


def test_per_run_finds_a_slowdown_beyond_the_run_to_run_spread(tmp_path: Path) -> None:
    levels = [1.00, 1.02, 0.99, 1.01, 1.00]
    base = drifting_runs(tmp_path, "b", levels)
    contender = drifting_runs(tmp_path, "c", levels[::-1], factor=1.12, seed=10)
    status, by_run = normalized_verdict(tmp_path, base, contender, "--per-run", "--k", "3")
    assert status == EXIT_FAILED
    assert by_run[SUBJECT]["verdict"] == "slower"
    assert by_run[SUBJECT]["change"] == pytest.approx(0.12, abs=0.01)
    # three files a side cannot reach p < 0.05: the change is reported, not judged
    _, few = normalized_verdict(tmp_path, base[:3], contender[:3], "--per-run")
    assert few[SUBJECT]["verdict"] == "noisy" and "cannot reach" in few[SUBJECT]["reason"]
