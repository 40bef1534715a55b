"""psutil figures of the lesson's processes, once a second."""

from __future__ import annotations

import contextlib
import time

import psutil

from mpviz.telemetry import Event, now_ns

# The thread count lives in a file of its own (/proc/PID/status) and seldom
# changes: it is read on every THREADS_EVERY-th sample, saving a third of the cost.
THREADS_EVERY = 5


class Sampler:
    """Samples the tracked PIDs with cached ``psutil.Process`` objects.

    It never calls ``Process.wait()``: that would reap a multiprocessing child
    and steal its exit code from the supervisor.
    """

    def __init__(self) -> None:
        self._procs: dict[int, psutil.Process] = {}
        self._rounds = 0
        self._seen: set[int] = set()
        # pid → (CPU seconds, when), for CPU % as a share of one core since the last sample.
        self._last: dict[int, tuple[float, float]] = {}
        # PIDs found gone (or zombie) since the last call of ``take_gone``.
        self._gone: list[int] = []

    def track(self, pid: int) -> None:
        with contextlib.suppress(psutil.NoSuchProcess):
            self._procs[pid] = psutil.Process(pid)

    def sample(self) -> list[Event]:
        t = now_ns()
        events = []
        with_threads = self._rounds % THREADS_EVERY == 0
        self._rounds += 1
        for pid, proc in list(self._procs.items()):
            try:
                with proc.oneshot():
                    status = proc.status()
                    if status == psutil.STATUS_ZOMBIE:
                        raise psutil.ZombieProcess(pid)
                    times = proc.cpu_times()
                    data = {
                        "cpu": self._percent(pid, times.user + times.system),
                        "rss": proc.memory_info().rss,
                        "status": status,
                    }
                    if with_threads or proc.pid not in self._seen:
                        data["threads"] = proc.num_threads()
                        self._seen.add(proc.pid)
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                del self._procs[pid]
                self._last.pop(pid, None)
                self._gone.append(pid)
                continue
            events.append(Event(t, pid, "proc.stats", "", data))
        return events

    def _percent(self, pid: int, cpu_s: float) -> float:
        """Like psutil's ``cpu_percent(None)``, without asking for the CPU count each time."""
        now = time.monotonic()
        last = self._last.get(pid)
        self._last[pid] = (cpu_s, now)
        if last is None or now <= last[1]:
            return 0.0
        return round(100 * (cpu_s - last[0]) / (now - last[1]), 1)

    def take_gone(self) -> list[int]:
        gone, self._gone = self._gone, []
        return gone
