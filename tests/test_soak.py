"""Soak: every lesson for a long time at high speed; memory and descriptors stay flat, nothing leaks.

Outside the default run:  pytest -m soak  (MPVIZ_SOAK_SECONDS per lesson, default 600).
The dashboard restarts each lesson every few seconds (the r key), so processes,
pipes and primitives come and go for the whole time.
"""

from __future__ import annotations

import os
import time

import psutil
import pytest
from conftest import none_alive, wait_for
from helpers.terminal import Terminal

from mpviz.registry import NAMES, lesson_class

SECONDS = float(os.environ.get("MPVIZ_SOAK_SECONDS", "600"))


@pytest.mark.soak
@pytest.mark.timeout(SECONDS + 300)
@pytest.mark.parametrize("lesson", NAMES)
def test_soak(lesson: str) -> None:
    term = Terminal(lesson, *lesson_class(lesson).busy)
    try:
        dash = psutil.Process(term.proc.pid)
        wait_for(lambda: b"Processes" in term.output, 60, what="the dashboard")
        samples: list[tuple[float, int, int]] = []
        seen: set[int] = set()
        start = time.monotonic()
        while time.monotonic() - start < SECONDS:
            time.sleep(5)
            seen |= term.lesson_pids()
            term.type(b"r")  # a fresh run of the lesson, in the same dashboard
            samples.append((time.monotonic() - start, dash.memory_info().rss, dash.num_fds()))
            term.output.clear()  # the test's own buffer must not grow either
        # Over the second half, flat: caches fill in the first (Textual keeps up
        # to 1024 old widgets' style caches in an lru_cache: about 30 restarts).
        steady = [s for s in samples if s[0] >= SECONDS / 2]
        first, last = steady[0], steady[-1]
        assert last[1] <= first[1] * 1.1, f"RSS grew from {first[1] >> 20} MB to {last[1] >> 20} MB"
        assert last[2] <= first[2] + 8, f"descriptors grew from {first[2]} to {last[2]}"
        term.type(b"q")
        assert term.proc.wait(60) == 0
        assert none_alive(seen), "no lesson process outlives the dashboard"
    finally:
        term.close()
