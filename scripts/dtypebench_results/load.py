"""Reading a result file: path -> document, or one ResultsError line a user can act on.

Every way a file can fail to be a result (missing, unreadable, not UTF-8, not JSON, JSON of the
wrong shape) ends here as ResultsError, so a script prints one line and exits instead of showing a
traceback from inside the library.
"""
from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any, Iterable, Union

PathLike = Union[str, Path]


class ResultsError(Exception):
    """A file that cannot be used as a result; str() is one line: '<path>: <reason>'."""

    def __init__(self, path: PathLike, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}" if self.path else reason)


def read_json(path: PathLike) -> Any:
    """The parsed JSON of a file, whatever its shape (check_json reports shapes itself)."""
    try:
        raw = Path(path).read_bytes()
    except OSError as e:
        raise ResultsError(path, f"cannot read: {e.strerror or e}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ResultsError(path, f"not UTF-8 text (byte 0x{raw[e.start]:02x} at offset "
                                 f"{e.start})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise ResultsError(path, f"not valid JSON: {e.msg} at line {e.lineno} column "
                                 f"{e.colno}") from None
    except RecursionError:
        raise ResultsError(path, "not valid JSON: nested too deeply") from None


def validate(doc: Any, path: PathLike = "") -> dict[str, Any]:
    """doc itself when it has the shape of a Google Benchmark result: an object whose
    "benchmarks" is a list of objects. Names and counters are the readers' business."""
    if not isinstance(doc, dict) or "benchmarks" not in doc:
        raise ResultsError(path, 'not a result file (no "benchmarks" list)')
    if not isinstance(doc["benchmarks"], list):
        raise ResultsError(path, 'not a result file ("benchmarks" is not a list)')
    if not all(isinstance(b, dict) for b in doc["benchmarks"]):
        raise ResultsError(path, 'a "benchmarks" item is not an object')
    return doc


def load(path: PathLike) -> dict[str, Any]:
    """A result document read from path; ResultsError when it is not one."""
    return validate(read_json(path), path)


# the outside references' runs (scripts/numpy_ref.py, numpy_gemm.py, torch_gemm.py) say so in their
# context's "library"; the dtypebench binary writes git_commit, and run_suite keeps its context
REFERENCE_LIBRARIES = ("numpy", "torch")


def dtypebench_run(doc: dict[str, Any], path: PathLike = "") -> dict[str, Any]:
    """doc itself when this suite wrote it: a context with the binary's git_commit (the rule
    history adds runs by) or an outside reference's library; another program's Google Benchmark
    JSON has neither and is refused with ResultsError."""
    context = context_of(doc)
    commit = context.get("git_commit")
    if (isinstance(commit, str) and commit.strip()) or \
            context.get("library") in REFERENCE_LIBRARIES:
        return doc
    raise ResultsError(path, "not a dtypebench run (no git_commit in its context: another "
                             "program's Google Benchmark output?)")


def load_run(path: PathLike) -> dict[str, Any]:
    """A result this suite wrote, read from path; ResultsError otherwise (load, dtypebench_run)."""
    return dtypebench_run(load(path), path)


def same_file(a: PathLike, b: PathLike) -> bool:
    """Whether two paths name one file (a link or another spelling of it too)."""
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist yet
        return Path(a).resolve() == Path(b).resolve()


def check_output(path: PathLike, inputs: Iterable[PathLike] = ()) -> None:
    """ResultsError (one line) when an output file cannot go to path, found before any work: path
    is one of inputs (writing it would replace that input), a directory, or in a folder that cannot
    be written (read-only, no permission). The folder is tried by making a file in it, which
    permission bits alone do not tell for root; folders that do not exist yet are made by save()
    and judged by the nearest one that does."""
    out = Path(path)
    for other in inputs:
        if same_file(out, other):
            also = "" if str(other) == str(path) else f" ({other})"
            raise ResultsError(path, f"is also an input{also}; writing it would replace it: give "
                                     "another output file")
    if out.is_dir():
        raise ResultsError(path, "is a directory; give a file name")
    folder = out.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise ResultsError(path, f"cannot make its folder: {folder} is not a directory")
    try:
        fd, probe = tempfile.mkstemp(prefix=out.name + ".", suffix=".probe", dir=folder)
    except OSError as e:
        raise ResultsError(path, f"cannot write in {folder}: {e.strerror or e}") from None
    os.close(fd)
    os.unlink(probe)


def strict(value: Any) -> Any:
    """value without NaN or infinities (which strict JSON parsers refuse): a counter that could
    not be computed is left out of its object, as the binary leaves it out; in a list it is null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: strict(v) for k, v in value.items()
                if not (isinstance(v, float) and not math.isfinite(v))}
    if isinstance(value, list):
        return [strict(v) for v in value]
    return value


def write_atomic(path: PathLike, data: Union[str, bytes]) -> None:
    """Writes data (text as UTF-8) to path through a temporary file of its own beside it
    (<stem>.<random>.partial<suffix>, so two writers never share one) and a rename, so path
    always holds either the old or the new complete file: a run in progress is readable at any
    moment, and a report interrupted or refused by a full disk leaves the last one whole. The
    file gets the mode open() would give it; its folder must exist (save makes a result's)."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=path.stem + ".", suffix=".partial" + path.suffix,
                               dir=path.parent)
    umask = os.umask(0)
    os.umask(umask)
    os.fchmod(fd, 0o666 & ~umask)  # mkstemp makes 0600
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode("utf-8") if isinstance(data, str) else data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def save(path: PathLike, doc: Any) -> None:
    """Writes doc as strict JSON (indented, NaN and infinities left out: strict()) through
    write_atomic, its folder made when missing."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, json.dumps(strict(doc), indent=2, allow_nan=False) + "\n")


def context_of(doc: dict[str, Any]) -> dict[str, Any]:
    """The document's context, or {} when it has none (a hand-made or torn file)."""
    context = doc.get("context")
    return context if isinstance(context, dict) else {}
