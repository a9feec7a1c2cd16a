"""report.html in a real browser: headless Chromium (Debian `chromium`, which scripts/setup.sh
installs) opens the report of the committed gemm and quick runs, and every <img> has loaded at the
size its PNG says; a screenshot of the page is not blank. A page with a broken image fails the
same check. Chromium's profile, home and caches stay in the test's tmp_path (its TMPDIR is a
short directory removed after each start), and no process of it outlives the test."""
from __future__ import annotations

import base64
import html
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any, Optional

import pytest

from dtypebench_results import report

ROOT = Path(__file__).resolve().parents[2]
GEMM = ROOT / "reports" / "vm-2026-12-02-gemm.json"
QUICK = ROOT / "reports" / "vm-2026-12-01-quick.json"
CHROMIUM = shutil.which("chromium")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
DATA_PNG = re.compile(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"')
# on load, every image's state into the DOM, which --dump-dom prints
PROBE = ('<script>window.addEventListener("load", () => { const p = document.createElement("pre");'
         ' p.id = "probe"; p.textContent = JSON.stringify([...document.images].map(i => ({'
         'src: i.src.slice(0, 22), complete: i.complete, width: i.naturalWidth, '
         'height: i.naturalHeight}))); document.body.appendChild(p); });</script>')
WINDOW = (1280, 2000)

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (Debian "
                                "chromium; scripts/setup.sh installs it)")


def png_size(data: bytes) -> Optional[tuple[int, int]]:
    """(width, height) from a PNG's IHDR, which follows the 8-byte signature; None when data is
    not a PNG."""
    if len(data) < 24 or data[:8] != PNG_MAGIC or data[12:16] != b"IHDR":
        return None
    return struct.unpack(">II", data[16:24])


def chromium(tmp: Path, *args: str) -> str:
    """stdout of headless Chromium with its profile, home and caches under tmp; the whole
    process group is killed if it hangs, and none of it may be left running."""
    home = tmp / "chromium-home"
    home.mkdir(exist_ok=True)
    cmd = [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
           f"--user-data-dir={home / 'profile'}", "--virtual-time-budget=5000", *args]
    # its singleton socket goes in TMPDIR, and a socket path has at most 107 bytes: tmp_path's
    # is too long, so a short directory of its own, removed after
    with tempfile.TemporaryDirectory(prefix="chromium-") as short:
        env = dict(os.environ, HOME=str(home), TMPDIR=short, XDG_CONFIG_HOME=str(home / "config"),
                   XDG_CACHE_HOME=str(home / "cache"))
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=env, start_new_session=True)
        try:
            out, err = p.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.communicate()
            raise
    assert p.returncode == 0, err[-2000:]
    deadline = time.monotonic() + 5  # its crash handler may take a moment to follow it out
    while left_running(home) and time.monotonic() < deadline:
        time.sleep(0.1)
    stray = left_running(home)
    for pid in stray:
        os.kill(pid, signal.SIGKILL)
    assert not stray, f"chromium left processes {stray} running"
    return out


def left_running(home: Path) -> list[int]:
    """pids whose command line names home (Chromium's helpers carry --user-data-dir); a zombie
    has an empty one, and init reaps it."""
    pids = []
    for d in Path("/proc").iterdir():
        try:
            if d.name.isdigit() and str(home).encode() in (d / "cmdline").read_bytes():
                pids.append(int(d.name))
        except OSError:
            pass  # the process ended while we looked
    return pids


def loaded_images(page: Path, tmp: Path) -> list[dict[str, Any]]:
    """What the browser says of each <img> of page once the page has loaded."""
    text = page.read_text(encoding="utf-8")
    head, body, tail = text.rpartition("</body>")
    probe = tmp / f"probe-{page.name}"
    probe.write_text(head + PROBE + body + tail if body else text + PROBE, encoding="utf-8")
    dom = chromium(tmp, "--dump-dom", probe.as_uri())
    m = re.search(r'<pre id="probe">(.*?)</pre>', dom, re.S)
    assert m, f"the page never finished loading: {dom[-500:]}"
    return json.loads(html.unescape(m.group(1)))


def image_problems(page: Path, tmp: Path) -> list[str]:
    """Every <img> that is not an embedded PNG shown at the size of its IHDR; [] when all are."""
    text = page.read_text(encoding="utf-8")
    expected = [png_size(base64.b64decode(d)) for d in DATA_PNG.findall(text)]
    seen = loaded_images(page, tmp)
    problems = [] if len(seen) == len(expected) else [
        f"{len(seen)} images in the DOM, {len(expected)} embedded PNGs in the source"]
    for i, img in enumerate(seen):
        size = (img["width"], img["height"])
        if not img["src"].startswith("data:image/png;base64"):
            problems.append(f"image {i}: not an embedded PNG ({img['src']}...)")
        elif i < len(expected) and expected[i] is None:
            problems.append(f"image {i}: its data is not a PNG")
        if not img["complete"] or 0 in size:
            problems.append(f"image {i}: did not load (natural size {size})")
        elif i < len(expected) and size != expected[i]:
            problems.append(f"image {i}: natural size {size}, its PNG says {expected[i]}")
    return problems


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("matplotlib")
    out = tmp_path_factory.mktemp("report")
    report.report([str(GEMM), str(QUICK)], out)
    return out / "report.html"


def test_every_plot_loads_at_its_size(page: Path, tmp_path: Path) -> None:
    pngs = sorted(page.parent.glob("*.png"))
    assert len(pngs) == 6  # gemm: speed-error, roofline; quick: bandwidth, stride, memory, roofline
    seen = loaded_images(page, tmp_path)
    assert sorted((i["width"], i["height"]) for i in seen) == sorted(
        png_size(p.read_bytes()) for p in pngs)
    assert image_problems(page, tmp_path) == []


def test_screenshot_is_not_blank(page: Path, tmp_path: Path) -> None:
    image = pytest.importorskip("matplotlib.image")
    shot = tmp_path / "report.png"
    chromium(tmp_path, f"--screenshot={shot}", f"--window-size={WINDOW[0]},{WINDOW[1]}",
             "--hide-scrollbars", page.as_uri())
    assert png_size(shot.read_bytes()) == WINDOW
    pixels = image.imread(shot)
    assert pixels.std() > 0.05  # text, tables and a plot on white, not one colour
    assert len({tuple(p) for p in pixels[::8, ::8].reshape(-1, pixels.shape[2])}) > 50


def test_a_broken_image_is_found(page: Path, tmp_path: Path) -> None:
    text = page.read_text(encoding="utf-8")
    first = DATA_PNG.search(text)
    assert first
    # the first plot with its signature spoilt (a PNG cut short still shows its size: Chromium
    # draws what it has), and a file that is not there
    spoilt = base64.b64encode(b"\x89XNG" + base64.b64decode(first.group(1))[4:]).decode("ascii")
    broken = tmp_path / "broken.html"
    broken.write_text(text.replace(first.group(1), spoilt, 1)
                      .replace("</body>", '<img src="missing.png"></body>'), encoding="utf-8")
    problems = image_problems(broken, tmp_path)
    assert problems[:1] == ["7 images in the DOM, 6 embedded PNGs in the source"]
    assert "image 0: its data is not a PNG" in problems
    assert "image 0: did not load (natural size (0, 0))" in problems
    assert any(p.startswith("image 6: not an embedded PNG (file://") for p in problems)
    assert "image 6: did not load (natural size (0, 0))" in problems
    assert len(problems) == 5, problems
