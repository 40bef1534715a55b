"""The collector paused while records are read or applied (mpviz/model/collector.py): by two threads
at once, it runs again only when both are out; never started if it was off."""

from __future__ import annotations

import gc
import threading

from mpviz.model.collector import paused


def test_paused_until_the_last_one_is_out() -> None:
    assert gc.isenabled()
    inside, leave = threading.Event(), threading.Event()

    def other() -> None:
        with paused():
            inside.set()
            leave.wait(60)

    thread = threading.Thread(target=other)
    with paused():
        thread.start()
        assert inside.wait(60)
    assert not gc.isenabled(), "the other thread is still inside"
    leave.set()
    thread.join(60)
    assert gc.isenabled()


def test_never_started_if_it_was_off() -> None:
    gc.disable()
    try:
        with paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()
