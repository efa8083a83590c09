"""The README's `make serve` on what a clone holds, in a folder with nothing beside it.

A clone from GitHub has no ../shared and no node_modules: the build must install what it needs and
read nothing outside the repository. The browser tests run on this checkout's _site/; this test
proves a stranger's checkout builds and serves the same page.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _clone_files() -> list[str]:
    """The working tree's files a commit of it would hold (tracked and new, not ignored ones)."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.fail("this test copies what git would commit: run it in a git checkout with git installed")
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=ROOT, capture_output=True, check=True).stdout.decode()
    return [name for name in listed.split("\0") if name and (ROOT / name).is_file()]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def clone(tmp_path_factory) -> Path:
    # the clone is the only thing in its parent folder: no ../shared, no node_modules
    repo = tmp_path_factory.mktemp("alone") / "repo"
    for name in _clone_files():
        target = repo / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
    assert not (repo / "node_modules").exists() and not (repo / "_site").exists()
    return repo


def test_make_serve_installs_builds_and_serves_the_page(clone):
    port = _free_port()
    server = subprocess.Popen(["make", "serve", f"PORT={port}", f"PYTHON={sys.executable}"], cwd=clone,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        page = build = None
        deadline = time.monotonic() + 240  # npm ci and the wheel build come first
        while time.monotonic() < deadline and server.poll() is None:
            try:
                page = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5).read().decode()
                build = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/build.json", timeout=5).read())
                break
            except OSError:
                time.sleep(0.5)
        if page is None:
            server.kill()
            pytest.fail(f"make serve did not serve the page:\n{server.communicate()[0][-3000:]}")
        assert "app.js" in page and "Content-Security-Policy" in page
        assert (clone / "node_modules" / "pyodide").is_dir()  # make serve ran npm ci itself
        hashed = subprocess.run([sys.executable, "scripts/source_hash.py", str(clone)], cwd=clone,
                                capture_output=True, text=True, check=True).stdout.strip()
        assert build["source_sha256"] == hashed
        wheel = urllib.request.urlopen(f"http://127.0.0.1:{port}/wheels/{build['wheel']}", timeout=5).read()
        assert hashlib.sha256(wheel).hexdigest() == build["wheel_sha256"]
        shipped = sorted(p.name for p in (clone / "examples" / "traces").glob("*.jsonl"))
        served = sorted(p.name for p in (clone / "_site" / "traces").glob("*.jsonl"))
        assert shipped and served == shipped  # the page's samples come from the repository
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=10)


def test_the_trace_tests_pass_in_the_clone(clone):
    # they read the sample traces the repository ships, never ../shared
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_replay.py"],
                         cwd=clone, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
