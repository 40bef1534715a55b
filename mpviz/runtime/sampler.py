"""psutil figures of the lesson's processes, once a second."""

from __future__ import annotations

import contextlib

import psutil

from mpviz.telemetry import Event, now_ns


class Sampler:
    """Samples the tracked PIDs with cached ``psutil.Process`` objects.

    It never calls ``Process.wait()``: that would reap a multiprocessing child
    and steal its exit code from the supervisor.
    """

    def __init__(self) -> None:
        self._procs: dict[int, psutil.Process] = {}
        # PIDs found gone (or zombie) since the last call of ``take_gone``.
        self._gone: list[int] = []

    def track(self, pid: int) -> None:
        with contextlib.suppress(psutil.NoSuchProcess):
            self._procs[pid] = psutil.Process(pid)

    def sample(self) -> list[Event]:
        t = now_ns()
        events = []
        for pid, proc in list(self._procs.items()):
            try:
                with proc.oneshot():
                    status = proc.status()
                    if status == psutil.STATUS_ZOMBIE:
                        raise psutil.ZombieProcess(pid)
                    data = {
                        "cpu": proc.cpu_percent(None),
                        "rss": proc.memory_info().rss,
                        "threads": proc.num_threads(),
                        "status": status,
                    }
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                del self._procs[pid]
                self._gone.append(pid)
                continue
            events.append(Event(t, pid, "proc.stats", "", data))
        return events

    def take_gone(self) -> list[int]:
        gone, self._gone = self._gone, []
        return gone
