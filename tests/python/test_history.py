"""Tests for scripts/history (scripts/dtypebench_results/history.py): made-up runs with known
steps, flat noisy ones, re-adds, bad inputs, and the committed runs; every history test runs on
SQLite and on a PostgreSQL server started here (skipped, with the reason, without its binaries)."""
from __future__ import annotations

import itertools
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Iterator, Optional, Sequence

import pytest
from result_rows import agg

from dtypebench_results import EXIT_OK, EXIT_UNREADABLE, Bench
from dtypebench_results import history as hist

pytest.importorskip("ruptures")  # step detection (scripts/setup.sh puts it in .venv)

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "history"
REPORTS = ROOT / "reports"
PG_BIN = Path("/usr/lib/postgresql/15/bin")
CONTEXT = {"cpu_model": "Intel(R) Xeon(R) Processor", "cpu_cores": "2", "hostname": "vm"}
MACHINE = "intel-r-xeon-r-processor-2c"  # ci/regression's class of CONTEXT
STEPPED = "baseline/triad/dtype:f64/level:DRAM/n:1048576/threads:2/real_time"
FLAT = "baseline/copy/dtype:f64/level:DRAM/n:1048576/threads:2/real_time"
BYTES = 25_165_824  # triad's bytes per iteration at n = 1 Mi f64 elements


# ---- made-up runs -----------------------------------------------------------------------------


def rows(name: str, seconds: float, cv: Optional[float] = 0.01) -> list[dict[str, Any]]:
    """A run's median aggregate (and cv aggregate) as the binary writes them, with a bytes rate."""
    out = [agg(name, "median", seconds * 1e9, bytes=BYTES / seconds, label="verified")]
    if cv is not None:
        out.append(agg(name, "cv", cv, bytes=cv, label="verified"))
    return out


def commit(i: int) -> str:
    return f"commit-{i:02d}"  # not a sha: history orders it by the run's date


def result(path: Path, i: int, runs: dict[str, float], **context: Any) -> str:
    doc = {"context": {**CONTEXT, "git_commit": commit(i),
                       "date": f"2026-01-{i + 1:02d}T12:00:00+00:00", **context},
           "benchmarks": [r for name, t in runs.items() for r in rows(name, t)]}
    path.write_text(json.dumps(doc))
    return str(path)


def noisy(n: int, cv: float, seed: int, step_at: Optional[int] = None,
          step: float = 0.0) -> list[float]:
    """n times around 1 ms with relative noise cv, (1 + step) x from index step_at on."""
    rng = random.Random(seed)
    return [1e-3 * (1 + (step if step_at is not None and i >= step_at else 0.0))
            * (1 + rng.gauss(0, cv)) for i in range(n)]


def series_files(tmp_path: Path, seed: int = 3, n: int = 12) -> list[str]:
    """n commits: STEPPED 18% slower from commit 6 on, FLAT without a step, both with 2% noise."""
    stepped = noisy(n, 0.02, seed, step_at=6, step=0.18)
    flat = noisy(n, 0.02, seed + 1000)
    return [result(tmp_path / f"run-{i}.json", i, {STEPPED: stepped[i], FLAT: flat[i]})
            for i in range(n)]


# ---- a PostgreSQL server of the tests' own ----------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def postgres() -> Iterator[str]:
    """The URL of a server started for these tests (trust auth on 127.0.0.1, its socket in its
    own temporary directory), stopped and removed at the end. initdb refuses root, so as root it
    runs as the postgres user the Debian package makes."""
    if not (PG_BIN / "initdb").exists():
        pytest.skip(f"no PostgreSQL 15 in {PG_BIN} (apt-get install postgresql)")
    pytest.importorskip("psycopg")
    as_user: list[str] = []
    root = Path(tempfile.mkdtemp(prefix="dtypebench-pg-"))  # not pytest's: 0700 to postgres
    if os.geteuid() == 0:
        as_user = ["runuser", "-u", "postgres", "--"]
        shutil.chown(root, "postgres")
    data, port = root / "data", free_port()
    try:
        subprocess.run([*as_user, str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres",
                        "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"],
                       check=True, capture_output=True, timeout=120)
        subprocess.run([*as_user, str(PG_BIN / "pg_ctl"), "-D", str(data), "-l",
                        str(root / "server.log"), "-w", "-t", "60", "-o",
                        f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off",
                        "start"], check=True, capture_output=True, timeout=120)
        yield f"postgresql://postgres@127.0.0.1:{port}"
    finally:
        subprocess.run([*as_user, str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate",
                        "-w", "stop"], capture_output=True, timeout=60, check=False)
        shutil.rmtree(root, ignore_errors=True)


DATABASES = itertools.count()


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty history: an SQLite path, or a new database on the tests' server."""
    if request.param == "sqlite":
        return str(tmp_path / "history.sqlite")
    import psycopg

    server = request.getfixturevalue("postgres")
    name = f"history_{next(DATABASES)}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return f"{server}/{name}"


def history(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = hist.main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def one_line(err: str) -> str:
    assert "Traceback" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


def step_rows(markdown: str) -> list[list[str]]:
    """The cells of the steps table's rows."""
    return [[c.strip() for c in line.strip("|").split("|")] for line in markdown.splitlines()
            if line.startswith("| `")]


# ---- add, list, show, steps on both backends --------------------------------------------------


def test_add_stores_each_run_once(db: str, tmp_path: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    files = series_files(tmp_path, n=4)
    status, out, _ = history(capsys, "add", "--db", db, *files)
    assert status == EXIT_OK
    # per run and benchmark: real_time and bytes
    assert out.count("stored 4 values") == 4 and MACHINE in out
    status, out, _ = history(capsys, "add", "--db", db, files[0], files[0])
    assert status == EXIT_OK and out.count("already stored") == 2
    with hist.Store(db, create=False) as store:
        assert len(store.runs()) == 4
        assert len(store.values("real_time", None)) == 8
        assert {r[6] for r in store.values("bytes", MACHINE)} == {0.01}  # the cv aggregate
    status, out, _ = history(capsys, "list", "--db", db)
    assert status == EXIT_OK and "4 run(s) of 4 commit(s) on 1 machine(s)" in out
    assert f"| `{STEPPED}` | {MACHINE} | 4 |" in out


def test_steps_finds_the_known_step_and_not_the_flat_series(
        db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    history(capsys, "add", "--db", db, *series_files(tmp_path))
    status, out, _ = history(capsys, "steps", "--db", db)
    assert status == EXIT_OK
    found = step_rows(out)
    assert len(found) == 1, out
    name, machine, at, before, after, change = found[0]
    assert name == f"`{STEPPED}`" and machine == MACHINE and at.startswith(f"`{commit(6)}`")
    assert 15.0 < float(change.rstrip("%")) < 21.0
    assert "2 series: 1 with a step (1 step(s)), 1 without, 0 too short" in out
    # the same step in the rate: slower is fewer bytes per second
    status, out, _ = history(capsys, "steps", "--db", db, "--counter", "bytes")
    (found,) = step_rows(out)
    assert found[2].startswith(f"`{commit(6)}`") and -18.0 < float(found[5].rstrip("%")) < -13.0


def test_show_tables_the_series_and_plots_it(db: str, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("matplotlib")
    history(capsys, "add", "--db", db, *series_files(tmp_path))
    png = tmp_path / "trend.png"
    status, out, _ = history(capsys, "show", "--db", db, "triad|copy", "--plot", str(png))
    assert status == EXIT_OK
    assert out.count("| `commit-") == 24  # 12 commits x 2 series, in order
    assert out.index(f"| 1 | `{commit(0)}`") < out.index(f"| 12 | `{commit(11)}`")
    assert f"## `{STEPPED}` on {MACHINE}" in out and "No step" in out
    stepped = out[out.index(f"## `{STEPPED}`"):].splitlines()
    marked = [line for line in stepped if line.endswith("%** |")]
    assert len(marked) == 1 and marked[0].startswith(f"| 7 | `{commit(6)}` |")
    assert any(line.startswith("1 step(s)") and f"at `{commit(6)}` (#7)" in line
               for line in stepped)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_short_series_is_too_short_not_a_guess(db: str, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    # a 50% step over 3 commits: no noise estimate to judge it by
    files = [result(tmp_path / f"r{i}.json", i, {STEPPED: t}) for i, t in
             enumerate((1e-3, 1.5e-3, 1.5e-3))]
    history(capsys, "add", "--db", db, *files)
    status, out, _ = history(capsys, "show", "--db", db, "triad")
    assert status == EXIT_OK and "Too short: 3 commit(s), step detection needs 4." in out
    status, out, _ = history(capsys, "steps", "--db", db)
    assert not step_rows(out) and "1 too short (fewer than 4 commits)" in out


def test_add_keeps_the_good_files_and_names_the_bad_one(
        db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = [result(tmp_path / f"r{i}.json", i, {FLAT: 1e-3}) for i in range(2)]
    torn = tmp_path / "torn.json"
    torn.write_text(Path(good[0]).read_text()[:-40])
    status, out, err = history(capsys, "add", "--db", db, good[0], str(torn), good[1])
    assert status == EXIT_UNREADABLE
    line = one_line(err)
    assert line.startswith(f"history: {torn}: not valid JSON") and line.endswith("not stored")
    assert out.count("stored 2 values") == 2
    status, out, _ = history(capsys, "list", "--db", db)
    assert "2 run(s) of 2 commit(s)" in out


def test_empty_history_and_unmatched_names_are_one_line(
        db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for command in (["list"], ["show", "triad"], ["steps"]):  # no table yet
        status, _, err = history(capsys, *command, "--db", db)
        assert status == EXIT_UNREADABLE and "history add RUN.json" in one_line(err)
    history(capsys, "add", "--db", db, *series_files(tmp_path, n=4))
    cases = {("show", "gemm/"): "no benchmark matches 'gemm/' among the 2 series",
             ("show", "triad", "--counter", "flops"): "no values of 'flops'",
             ("steps", "--machine", "nvidia-h200"): f"no run of machine 'nvidia-h200' (stored: "
                                                    f"{MACHINE})",
             ("steps", "(",): "'(' is not a regular expression"}
    for args, message in cases.items():
        status, _, err = history(capsys, *args, "--db", db)
        assert status == EXIT_UNREADABLE and message in one_line(err), err


# ---- bad inputs, SQLite -----------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["truncated", "not_json", "another_tool", "no_benchmarks",
                                  "unknown_commit", "no_date", "nothing_usable", "missing"])
def test_bad_run_is_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                    kind: str) -> None:
    f = tmp_path / "run.json"
    good = json.loads(Path(result(f, 0, {FLAT: 1e-3})).read_text())
    docs: dict[str, Any] = {
        "not_json": "\xff not json",
        "another_tool": {"context": {"date": "2026-01-01T00:00:00+00:00", "tool": "numpy_gemm"},
                         "benchmarks": good["benchmarks"]},
        "no_benchmarks": {"context": good["context"], "results": []},
        "unknown_commit": {**good, "context": {**good["context"], "git_commit": "unknown"}},
        "no_date": {**good, "context": {**good["context"], "date": "yesterday"}},
        "nothing_usable": {**good, "benchmarks": [{**b, "real_time": "slow", "bytes": None}
                                                  for b in good["benchmarks"]]},
    }
    if kind == "truncated":
        f.write_text(f.read_text()[:len(f.read_text()) // 2])
    elif kind == "missing":
        f.unlink()
    else:
        doc = docs[kind]
        f.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    status, out, err = history(capsys, "add", "--db", str(tmp_path / "h.sqlite"), str(f))
    assert status == EXIT_UNREADABLE and not out
    assert one_line(err).startswith(f"history: {f}: ")


@pytest.mark.parametrize("kind", ["missing", "not_sqlite", "unreachable_postgresql"])
def test_bad_database_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                  kind: str) -> None:
    not_db = tmp_path / "notes.sqlite"
    not_db.write_text("not a database\n" * 100)
    args, message = {
        "missing": (["list", "--db", str(tmp_path / "none.sqlite")], "no history there"),
        "not_sqlite": (["steps", "--db", str(not_db)], "file is not a database"),
        # nothing listens on a port just freed; the password stays out of the message
        "unreachable_postgresql": (["add", "--db", f"postgresql://u:secret@127.0.0.1:"
                                    f"{free_port()}/h", "run.json"], "cannot connect"),
    }[kind]
    if kind == "unreachable_postgresql":
        pytest.importorskip("psycopg")
    status, _, err = history(capsys, *args)
    line = one_line(err)
    assert status == EXIT_UNREADABLE and message in line and "secret" not in line, line


def run(*args: str, env: Optional[dict[str, str]] = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True,
                          env=env, check=False)


@pytest.mark.parametrize("module,args", [
    ("psycopg", ["list", "--db", "postgresql://127.0.0.1:1/h"]),
    ("ruptures", ["steps"]),
])
def test_missing_module_is_one_line(tmp_path: Path, module: str, args: Sequence[str]) -> None:
    # a module that cannot be imported, first on the path: as a python without it sees it
    fake = tmp_path / "fake" / module
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text(f"raise ImportError('No module named {module}')\n")
    db = tmp_path / "h.sqlite"
    subprocess.run([sys.executable, str(SCRIPT), "add", "--db", str(db),
                    result(tmp_path / "r.json", 0, {FLAT: 1e-3})], check=True,
                   capture_output=True)
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "fake"), "DTYPEBENCH_HISTORY": str(db)}
    p = run(*args, env=env)
    assert p.returncode == EXIT_UNREADABLE
    assert one_line(p.stderr).startswith(f"history: {module} is not installed")


def test_help_names_the_library_and_why() -> None:
    p = run("--help")
    assert p.returncode == EXIT_OK
    assert "ruptures" in p.stdout and "numpy<2" in p.stdout and "numpy==2.2.0" in p.stdout


# ---- the detection itself ---------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(10))
def test_flat_noisy_series_has_no_step(seed: int) -> None:
    steps, sigma = hist.find_steps(noisy(12, 0.02, seed), [None] * 12)
    assert steps == [] and 0.005 < sigma < 0.05


@pytest.mark.parametrize("seed", range(10))
def test_known_step_is_found_at_its_index(seed: int) -> None:
    values = noisy(12, 0.02, seed, step_at=7, step=-0.15)
    (step,), _ = hist.find_steps(values, [None] * 12)
    assert step.index == 7 and -0.19 < step.change < -0.11


def test_min_effect_and_stored_spreads_hold_back_small_steps() -> None:
    values = noisy(12, 0.002, 1, step_at=6, step=0.03)  # a clear 3% step
    assert hist.find_steps(values, [None] * 12)[0] == []  # below 5%
    (step,), _ = hist.find_steps(values, [None] * 12, hist.Detection(min_effect=0.02))
    assert step.index == 6
    # the same step in runs whose own spread is 4%: within the noise
    assert hist.find_steps(values, [0.04] * 12, hist.Detection(min_effect=0.02))[0] == []


def test_two_steps_and_the_newest_commit() -> None:
    values = [1.0] * 5 + [1.3] * 5 + [1.0] * 5
    steps, _ = hist.find_steps(values, [None] * 15)
    assert [(s.index, round(s.change, 3)) for s in steps] == [(5, 0.3), (10, -0.231)]
    newest = [1.0, 1.01, 0.99, 1.0, 1.01, 0.99, 1.4]
    assert hist.find_steps(newest, [None] * 7)[0] == []  # one commit: maybe an outlier
    (step,), _ = hist.find_steps(newest, [None] * 7, hist.Detection(min_commits=1))
    assert step.index == 6


def test_machine_class_is_ci_regressions_or_the_gpus() -> None:
    context = {**CONTEXT, "gpu_name": "NVIDIA H200"}
    cpu_row = {"run_name": FLAT}
    gpu_row = {"run_name": "baseline/gpu_copy/dtype:f32/level:DRAM/n:134217728/manual_time"}
    assert hist.machine_of(context, Bench(cpu_row)) == MACHINE
    assert hist.machine_of(context, Bench(gpu_row)) == "nvidia-h200"
    assert hist.machine_of(CONTEXT, Bench(gpu_row)) == MACHINE  # no GPU in the run


# ---- the committed runs -----------------------------------------------------------------------

AMD_RUNS = ["vm-2026-11-26.json", "vm-2026-11-26-2.json", "vm-2026-11-26-strided.json",
            "vm-2026-11-26-3.json", "vm-2026-11-26-4.json"]  # five commits on one AMD VM
STRIDE2 = "layout/strided/dtype:bf16/stride:2/n:67108864/level:DRAM/threads:2/real_time"


def test_committed_runs_show_the_stride_sweeps_step(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "h.sqlite")
    files = [str(REPORTS / f) for f in AMD_RUNS] + [str(REPORTS / "vm-2026-12-01-quick.json"),
                                                   str(REPORTS / "vm-2026-12-02-gemm.json")]
    status, out, _ = history(capsys, "add", "--db", db, *files)
    assert status == EXIT_OK and out.count("stored") == 7
    # 8db283c: "the stride sweep walks with eight add chains (one chain's add latency, not
    # lines, set stride 2's cost)": stride 2 from DRAM got much faster at that commit
    status, out, _ = history(capsys, "steps", "--db", db, "layout/strided/dtype:bf16/stride:2/")
    (row,) = [r for r in step_rows(out) if r[0] == f"`{STRIDE2}`"]
    assert row[1] == "amd-epyc-2c" and row[2].startswith("`8db283cb1f3a`")
    assert float(row[5].rstrip("%")) < -50
    # the FMA peak did not move on the AMD VM; the Intel VM's doubled (256- to 512-bit FMAs)
    # but only two of its commits ran it: too short to call
    status, out, _ = history(capsys, "show", "--db", db, "fma_peak/dtype:f64/threads:2/",
                             "--counter", "flops")
    amd, intel = out.split("## `")[1:]
    assert "on amd-epyc-2c" in amd and "No step" in amd
    assert f"on {MACHINE}" in intel and "Too short: 2 commit(s)" in intel
