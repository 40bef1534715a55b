"""``mpviz`` with its drawing counted: ``python bench/tally.py OUT.json ARGS...`` runs ``mpviz ARGS...``
and, every second, writes to OUT.json what it has drawn so far, per widget (lines rendered), how
often the run screen was brought up to its model, and how long record batches waited in the
screen's queue before they were applied.

A measuring harness for bench/run.py, not part of mpviz: Textual's line renderer and three of the
run screen's methods are wrapped from outside, so that the dashboard measured is the one shipped.
(Everything is done under ``__main__``: a spawned child imports this file again, as multiprocessing
does with any main module, and must find nothing in it to run.)
"""

from __future__ import annotations

import asyncio
import gc
import json
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def counted(out: Path) -> None:
    from textual._styles_cache import StylesCache
    from textual.app import App
    from textual.events import Key
    from textual.screen import Screen
    from textual.widget import Widget

    from mpviz.model import Model
    from mpviz.runtime.sampler import Sampler
    from mpviz.ui.screens.run import RunScreen
    from mpviz.ui.widgets.details import Details
    from mpviz.ui.widgets.event_log import EventLog
    from mpviz.ui.widgets.process_table import ProcessTable
    from mpviz.ui.widgets.text_view import TextView

    lines: Counter[str] = Counter()  # lines drawn, by widget (class#id)
    calls: Counter[str] = Counter()
    spent: Counter[str] = Counter()  # seconds of CPU (thread time) in some methods

    calls_timed: list[tuple[float, str, float, float]] = []  # (when, name, wall, CPU) of each timed call

    @contextmanager
    def timed(name: str) -> Iterator[None]:
        start, wall = time.thread_time(), time.monotonic()
        try:
            yield
        finally:
            cpu = time.thread_time() - start
            spent[name] += cpu
            now = time.monotonic()
            calls_timed.append((now, name, round(1000 * (now - wall), 1), round(1000 * cpu, 1)))

    def collected(phase: str, info: dict[str, int]) -> None:
        """The cycle collector's runs by generation (gc0, gc1, gc2), and their CPU."""
        if phase == "start":
            collected.started = time.thread_time()  # type: ignore[attr-defined]
        else:
            calls[f"gc{info['generation']}"] += 1
            spent[f"gc{info['generation']}"] += time.thread_time() - collected.started  # type: ignore[attr-defined]

    gc.callbacks.append(collected)

    lags: list[tuple[float, float]] = []  # (when, seconds from a batch's posting to its handling)
    drawing = ["?"]
    render_widget, render_line = StylesCache.render_widget, StylesCache.render_line
    post, arrived, refresh = RunScreen.post_message, RunScreen.on_records_arrived, RunScreen.refresh_views

    def counting_widget(self: StylesCache, widget: Any, crop: Any) -> Any:
        drawing[0] = f"{type(widget).__name__}#{widget.id or ''}"
        if not widget.id and widget.parent is not None:  # a scrollbar: whose
            drawing[0] += f" of {type(widget.parent).__name__}#{widget.parent.id or ''}"
        calls[f"render {drawing[0]}"] += 1
        return render_widget(self, widget, crop)

    def counting_line(self: StylesCache, *args: Any, **kwargs: Any) -> Any:
        lines[drawing[0]] += 1
        return render_line(self, *args, **kwargs)

    def stamped_post(self: RunScreen, message: Any) -> bool:
        message._tally_posted = time.monotonic()
        return post(self, message)

    def timed_arrival(self: RunScreen, message: Any) -> None:
        now = time.monotonic()
        lags.append((now, now - getattr(message, "_tally_posted", now)))
        calls["batches"] += 1
        calls["records"] += len(message.events)
        with timed("on_records_arrived"):
            arrived(self, message)

    def counted_refresh(self: RunScreen) -> None:
        calls["refresh_views"] += 1
        with timed("refresh_views"):
            refresh(self)

    def timing(cls: Any, name: str) -> None:
        """``cls.name`` timed: the seconds spent in it, and its calls."""
        method = getattr(cls, name)

        def timed_method(*args: Any, **kwargs: Any) -> Any:
            calls[name] += 1
            with timed(name):
                return method(*args, **kwargs)

        setattr(cls, name, timed_method)

    for cls, name in (
        (Screen, "_compositor_refresh"),
        (Screen, "_refresh_layout"),
        (Model, "apply"),
        (Sampler, "sample"),
        (RunScreen, "_tick"),
        (RunScreen, "_apply_slice"),
        (EventLog, "add"),
        (ProcessTable, "sync"),
        (RunScreen, "_show_alerts"),
        (RunScreen, "_sync_view"),
        (Details, "present"),
        (TextView, "show"),
    ):
        timing(cls, name)

    # A key's way: into the app, its action run, the screen written with it.
    keys: list[dict[str, float]] = []
    app_event, set_speed, display = App.on_event, RunScreen._set_speed, App._display

    async def key_in(self: App, event: Any) -> None:
        if isinstance(event, Key) and event.key in ("plus", "minus"):
            keys.append({"in": time.monotonic(), "read": event.time})
        await app_event(self, event)

    def key_acted(self: RunScreen, factor: float) -> None:
        if keys and "acted" not in keys[-1]:
            keys[-1]["acted"] = time.monotonic()
        set_speed(self, factor)

    def displayed(self: App, screen: Any, update: Any) -> None:
        display(self, screen, update)
        if keys and "acted" in keys[-1] and "shown" not in keys[-1]:
            keys[-1]["shown"] = time.monotonic()

    # The event loop's longest turns (a key waits for the turn in progress), with what took them.
    slow: list[tuple[float, float, str]] = []
    handle_run = asyncio.events.Handle._run

    def timed_run(self: asyncio.events.Handle) -> None:
        start, cpu = time.monotonic(), time.thread_time()
        handle_run(self)
        took = time.monotonic() - start
        if took > 0.05:
            owner = getattr(self._callback, "__self__", None)  # a task woken: which coroutine
            what = repr(self)[:120]
            if isinstance(owner, asyncio.Task):
                coro = owner.get_coro()
                pump = coro.cr_frame.f_locals.get("self") if coro.cr_frame is not None else None
                what = f"{coro.__qualname__} of {type(pump).__name__}"
            slow.append((round(1000 * took, 1), round(1000 * (time.thread_time() - cpu), 1), what))

    asyncio.events.Handle._run = timed_run  # type: ignore[method-assign]
    App.on_event = key_in  # type: ignore[method-assign]
    RunScreen._set_speed = key_acted  # type: ignore[method-assign]
    App._display = displayed  # type: ignore[method-assign]
    # Who asks for a layout of the screen (the costliest pass there is).
    widget_refresh = Widget.refresh

    def refresh_asked(self: Widget, *regions: Any, layout: bool = False, **kwargs: Any) -> Any:
        if layout:
            calls[f"layout by {type(self).__name__}#{self.id or ''}"] += 1
        return widget_refresh(self, *regions, layout=layout, **kwargs)

    Widget.refresh = refresh_asked  # type: ignore[method-assign]
    StylesCache.render_widget = counting_widget  # type: ignore[method-assign]
    StylesCache.render_line = counting_line  # type: ignore[method-assign]
    RunScreen.post_message = stamped_post  # type: ignore[method-assign]
    RunScreen.on_records_arrived = timed_arrival  # type: ignore[method-assign]
    RunScreen.refresh_views = counted_refresh  # type: ignore[method-assign]

    def write() -> None:
        while True:
            time.sleep(1)
            now = time.monotonic()
            recent = sorted(lag for when, lag in lags[-3000:] if when > now - 10)
            longest: dict[str, tuple[float, float]] = {}  # in the last 10 s, by wall time: (wall, CPU)
            cpus: dict[str, list[float]] = {}
            for when, name, wall, cpu in calls_timed[-5000:]:
                if when > now - 10:
                    cpus.setdefault(name, []).append(cpu)
                    if wall > longest.get(name, (0.0, 0.0))[0]:
                        longest[name] = (wall, cpu)
            # CPU ms of each in the last 10 s: median, 90th percentile, most
            spread = {name: [sorted(v)[len(v) // 2], sorted(v)[int(0.9 * len(v))], max(v)] for name, v in cpus.items()}
            figures = {
                "t": now,
                "lines": dict(lines),
                "calls": dict(calls),
                "spent_s": dict(spent),
                "longest_ms_10s": longest,
                "cpu_ms_10s": spread,
                "keys_ms": [
                    {k: round(1000 * (v - key["read"]), 1) for k, v in key.items() if k != "read"}
                    for key in keys[-100:]
                ],
                "slow_turns_ms": slow[-30:],
                "lag_ms_10s": [round(1000 * x, 1) for x in recent[-5:]],  # the longest of the last 10 s
            }
            part = out.with_suffix(".part")
            part.write_text(json.dumps(figures))
            part.replace(out)

    threading.Thread(target=write, name="tally", daemon=True).start()


if __name__ == "__main__":
    counted(Path(sys.argv.pop(1)))
    from mpviz.cli import main

    raise SystemExit(main())
