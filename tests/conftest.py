"""Shared fixtures.  Real processes everywhere; every wait has a generous timeout."""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest

from mpviz import lang
from mpviz.recording.reader import read_all
from mpviz.runtime import prepare
from mpviz.telemetry import Event

# The Textual trap of docs/ARCHITECTURE.md: start multiprocessing's helpers before any test
# runs an app, while stderr is still a real file.
prepare("spawn")

ROOT = Path(__file__).resolve().parent.parent


def wait_for(
    condition: Callable[[], object], timeout: float = 30.0, every: float = 0.05, what: str = "condition"
) -> object:
    """Poll until ``condition()`` is truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(every)


def mpviz(*args: str, timeout: float = 120, **kwargs: object) -> subprocess.CompletedProcess[str]:
    """Run the installed CLI as a user would (``python -m mpviz`` in this venv)."""
    return subprocess.run(
        [sys.executable, "-m", "mpviz", *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT, **kwargs
    )


def load(path: Path) -> tuple[dict, list[Event]]:
    """A recording's header (as written) and its records, read as ``mpviz replay`` reads them:
    every field checked, in time order."""
    header, stream = read_all(path)
    try:
        return header.raw, list(stream)
    finally:
        stream.close()


def descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def prim_id(events: list[Event], name: str) -> str:
    """The id of the primitive created with ``name`` (its records carry the id)."""
    ids = {e.obj for e in events if e.kind == "prim.new" and e.data.get("name") == name}
    assert len(ids) == 1, f"one primitive named {name!r}, not {len(ids)}"
    return ids.pop()


def lesson_pids(events: list[Event]) -> set[int]:
    return {e.pid for e in events if e.kind == "proc.spawn"}


def none_alive(pids: set[int]) -> bool:
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                return False
        except psutil.NoSuchProcess:
            continue
    return True


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    """Every test starts and ends in English, whatever language the one before chose."""
    lang.use(lang.Lang.EN)
    yield
    lang.use(lang.Lang.EN)


@pytest.fixture
def run_dir(tmp_path: Path) -> Iterator[Path]:
    old = os.getcwd()
    os.chdir(tmp_path)
    try:
        yield tmp_path
    finally:
        os.chdir(old)


# Root ignores file permissions through three capabilities; dropped from the
# bounding set before exec, the program and every process it starts are held
# to the permission bits, as an unprivileged user is.
PR_CAPBSET_DROP = 24
CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER, CAP_SYS_PTRACE = 1, 2, 3, 19


def _drop(*caps: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in caps:
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def _as_a_user() -> None:
    _drop(CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER)


def _without_ptrace() -> None:
    _drop(CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER, CAP_SYS_PTRACE)


@pytest.fixture
def as_a_user(tmp_path: Path) -> dict[str, object]:
    """Keyword arguments for ``mpviz(...)`` that run it as a user who cannot write read-only files.

    Not root: nothing to do.  Root (CI, containers): root without its override
    of file permissions; skipped only where root cannot drop it.
    """
    if os.geteuid() != 0:
        return {}
    probe = tmp_path / "read-only probe"
    probe.touch(mode=0o444)
    check = [sys.executable, "-c", "import os, sys; sys.exit(os.access(sys.argv[1], os.W_OK))", str(probe)]
    try:
        done = subprocess.run(check, preexec_fn=_as_a_user, timeout=60)
    except subprocess.SubprocessError:
        pytest.skip("root here cannot give up its override of file permissions (no CAP_SETPCAP)")
    finally:
        probe.unlink()
    if done.returncode != 0:
        pytest.skip("root here keeps its override of file permissions")
    return {"preexec_fn": _as_a_user}


@pytest.fixture
def without_ptrace() -> dict[str, object]:
    """Keyword arguments for ``mpviz(...)`` that run it without the right to read other users'
    processes: root (CI, containers) gives up CAP_SYS_PTRACE as ``as_a_user`` gives up its
    override of file permissions (root in a container started without SYS_PTRACE is so).  Not
    root: nothing to do, another user's processes are out of reach already."""
    if os.geteuid() != 0:
        return {}
    try:
        done = subprocess.run([sys.executable, "-c", "pass"], preexec_fn=_without_ptrace, timeout=60)
    except (subprocess.SubprocessError, OSError):
        done = None
    if done is None or done.returncode != 0:
        pytest.skip("root here cannot give up CAP_SYS_PTRACE (no CAP_SETPCAP)")
    return {"preexec_fn": _without_ptrace}
