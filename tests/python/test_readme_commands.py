"""Every command README.md and scripts/README.md show runs as written.

Each command (a line of a fenced block, or an inline code span, that starts with one of the
suite's own commands) is one of:
- run: it runs as written, exit 0, in a sandbox directory that sees the repo's scripts, build, ci
  and committed reports (links to the files, so nothing is written into the repo), with /tmp/ and
  the examples' own runs/ directory inside the sandbox;
- measuring (stream-check): it runs as written, and its verdict on this machine may be no (exit
  1), not a usage error;
- slow: a command that takes minutes (a whole characterization, the test suite itself): its
  script must answer --help, and dtypebench's own arguments must be accepted
  (checked with --benchmark_list_tests, which starts nothing);
- a synopsis, with placeholders (FILE, RUN.json..., [options]): every --option it names must be
  in the command's --help.
A command that is none of these fails the test, so a new README command is checked or classified.
"""
from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", ROOT / "scripts" / "README.md"]
COMMAND = re.compile(r"^(scripts/[\w.-]+|build/dtypebench|ci/[\w-]+|\.ci/run|python3 scripts/\S+)"
                     r"(\s|$)")
PLACEHOLDER = re.compile(r"\[|\.\.\.|\b(FILE|DIR|RUN\.json|RESULT\.json|BASE\.json|NAME_REGEX|"
                         r"CONTENDER\.json|OUT\.csv|OUT\.json|PATH|TRIES|RUNS|OUT)\b")
# what takes minutes, and why it is not run here
SLOW = {
    "scripts/characterize": "a characterization: minutes",
    "scripts/test": "the test suite itself",
    ".ci/run": "the CI job itself",
}
# commands whose verdict is a measurement of this machine (exit 1: outside the tolerance): they
# must run, and may say no; their input, which a slow command before them writes, is a committed run
MEASURES = {"scripts/stream-check": ("dram.json", "vm-epyc-2026-12-02-quick.json")}
# dtypebench commands that would run benchmarks for minutes: their arguments are checked instead
LONG_BENCH = re.compile(r"--family=|--levels=|--quick")


def commands() -> list[tuple[str, str]]:
    """(doc, command) for every command shown, continuation lines joined, comments cut."""
    out = []
    for doc in DOCS:
        text = doc.read_text()
        blocks = re.findall(r"```[a-z]*\n(.*?)```", text, re.S)
        lines = []
        for block in blocks:
            lines += block.replace("\\\n", " ").splitlines()
        # inline: a span with arguments (a bare `scripts/report` names the script, it is no command)
        lines += [span for span in re.findall(r"`([^`\n]+)`",
                                              re.sub(r"```.*?```", "", text, flags=re.S))
                  if " " in span.strip()]
        for line in lines:
            line = re.sub(r"\s+#.*$", "", line.strip())
            if COMMAND.match(line):
                out.append((doc.name, " ".join(line.split())))
    return out


def sandbox(tmp: Path) -> Path:
    box = tmp / "box"
    box.mkdir()
    for d in ("scripts", "build", "ci", "tests", ".venv"):
        if (ROOT / d).exists():
            (box / d).symlink_to(ROOT / d)
    reports = box / "reports"
    reports.mkdir()
    for f in (ROOT / "reports").iterdir():
        if f.is_file():
            (reports / f.name).symlink_to(f)
    # the examples' own inputs, two runs a side (compare's runs/old-*.json -- runs/new-*.json):
    # the regression job's committed baseline runs, which keep every repetition
    runs = box / "runs"
    runs.mkdir()
    base = ROOT / "ci" / "baselines" / "amd-epyc-2c"
    for side, first in (("old", 1), ("new", 3)):
        for i in (1, 2):
            shutil.copy(base / f"run-{first + i - 1}.json", runs / f"{side}-{i}.json")
            (box / f"{side}-{i}.json").symlink_to(runs / f"{side}-{i}.json")
    (box / "tmp").mkdir()
    return box


def executable(cmd: str) -> str:
    return shlex.split(cmd)[0] if not cmd.startswith("python3 ") else shlex.split(cmd)[1]


def run(box: Path, argv: list[str], timeout: int = 300) -> subprocess.CompletedProcess:
    env = dict(os.environ, TMPDIR=str(box / "tmp"))
    return subprocess.run(argv, cwd=box, env=env, capture_output=True, text=True, timeout=timeout)


def options_of(cmd: str) -> set[str]:
    return set(re.findall(r"(?<![\w-])(--[a-z][\w-]*)", cmd))


ALL = commands()


def test_the_docs_show_commands() -> None:
    assert len(ALL) > 20, ALL


@pytest.mark.parametrize("doc,cmd", ALL, ids=[f"{d}:{c[:60]}" for d, c in ALL])
def test_command_runs_as_written(doc: str, cmd: str, tmp_path: Path) -> None:
    if not (ROOT / "build" / "dtypebench").exists():
        pytest.skip("no build/dtypebench (scripts/test builds it first)")
    box = sandbox(tmp_path)
    exe = executable(cmd)
    assert (ROOT / exe).exists(), f"{doc}: `{cmd}`: no {exe} in the repo"
    prefix = ["python3"] if cmd.startswith("python3 ") else []
    help_ = run(box, prefix + [exe, "--help"], timeout=60)
    if exe != ".ci/run":
        assert help_.returncode == 0, f"{doc}: `{exe} --help` exited {help_.returncode}"
    if PLACEHOLDER.search(cmd):  # a synopsis: the options it names are the command's own
        sub = cmd.split()[1] if exe in ("scripts/history",) and len(cmd.split()) > 1 else None
        text = help_.stdout + help_.stderr
        if sub and not sub.startswith("-"):
            sub_help = run(box, [exe, sub, "--help"], timeout=60)
            text += sub_help.stdout + sub_help.stderr
        missing = {o for o in options_of(cmd) if o not in text}
        # dtypebench's own flags pass through characterize (after --)
        if exe == "scripts/characterize" and " -- " in cmd:
            missing -= options_of(cmd.split(" -- ", 1)[1])
        assert not missing, f"{doc}: `{cmd}`: {sorted(missing)} not in `{exe} --help`"
        return
    if exe in SLOW:
        return  # --help answered above; the rest takes minutes (SLOW says why)
    line = cmd.replace("/tmp/", str(box / "tmp") + "/")
    if exe == "build/dtypebench" and LONG_BENCH.search(cmd):
        line += " --benchmark_list_tests"
    # as a shell runs it (globs); gpu-deps --commit records the checkout's commit, so in the repo
    ok = {0}
    if exe in MEASURES:
        given, committed = MEASURES[exe]
        (box / "tmp" / given).symlink_to(ROOT / "reports" / committed)
        ok = {0, 1}
    done = run(ROOT if exe == "scripts/gpu-deps" else box, ["bash", "-c", line])
    assert done.returncode in ok, f"{doc}: `{cmd}` exited {done.returncode}: " \
                                 f"{(done.stderr or done.stdout)[-500:]}"
