"""psutil figures of the lesson's processes, once a second."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from mpviz.runtime.guardian import start_time
from mpviz.telemetry import Event, now_ns

if TYPE_CHECKING:
    import psutil

# Memory and threads live in files of their own (/proc/PID/statm, status). A
# process that has not run since the last sample cannot have changed them, so
# they are read only when it ran — and on every SLOW_EVERY-th round anyway.
# Most lesson processes are blocked most of the time: this halves the cost.
SLOW_EVERY = 5


class Sampler:
    """Samples the tracked PIDs with cached ``psutil.Process`` objects.

    It never calls ``Process.wait()``: that would reap a multiprocessing child
    and steal its exit code from the supervisor.

    psutil (~12 ms to import) is loaded at the first round, a second into the
    run: a process tracked before is known by its start time meanwhile, so
    that a short program's run never pays for it.
    """

    def __init__(self) -> None:
        self._procs: dict[int, psutil.Process] = {}
        # pid → its start time: tracked, and followed by psutil from the next round on.
        self._new: dict[int, int] = {}
        self._rounds = 0
        # pid → (CPU seconds, when), for CPU % as a share of one core since the last sample.
        self._last: dict[int, tuple[float, float]] = {}
        # PIDs found gone (or zombie) since the last call of ``take_gone``; the zombies, until reaped.
        self._gone: list[int] = []
        self._zombies: set[int] = set()
        # pid → the figures last sent: a process whose figures did not move sends nothing
        # (most lesson processes wait most of the time; the model keeps the last figures).
        self._sent: dict[int, dict[str, object]] = {}
        # PIDs that could not be followed when asked (no descriptor to spare): asked again each round.
        self._later: set[int] = set()

    def track(self, pid: int) -> None:
        start = start_time(pid)
        if start is None:
            self._gone.append(pid)  # ended already: said gone at the next round
        else:
            self._new[pid] = start

    def _follow_new(self) -> None:
        """The processes tracked since the last round, followed by psutil (still the processes
        that were tracked: a pid whose start time changed names another one now)."""
        for pid in list(self._new):
            start = self._new.pop(pid, None)  # (another thread may be here too: status())
            if start is None:
                continue
            if start_time(pid) == start:
                self._follow(pid)
            else:
                self._gone.append(pid)

    def _follow(self, pid: int) -> None:
        import psutil  # here: see the class

        try:
            self._procs[pid] = psutil.Process(pid)
        except psutil.NoSuchProcess:
            self._gone.append(pid)  # ended already: said gone at the next round
        except (psutil.Error, OSError):
            # Out of descriptors for a moment (psutil reads /proc): followed from the next round on.
            self._later.add(pid)

    def sample(self) -> list[Event]:
        import psutil

        self._follow_new()
        for pid in list(self._later):
            self._later.discard(pid)
            self._follow(pid)
        t = now_ns()
        events = []
        every = self._rounds % SLOW_EVERY == 0
        self._rounds += 1
        for pid, proc in list(self._procs.items()):
            try:
                with proc.oneshot():
                    status = proc.status()
                    if status == psutil.STATUS_ZOMBIE:
                        # Ended, not yet waited for by its parent: said once, and watched until it is.
                        if pid not in self._zombies:
                            self._zombies.add(pid)
                            self._gone.append(pid)
                            events.append(Event(t, pid, "proc.stats", "", {"status": status}))
                        continue
                    times = proc.cpu_times()
                    cpu_s = times.user + times.system
                    ran = self._last.get(pid, (None,))[0] != cpu_s  # a first sample counts as ran
                    data: dict[str, object] = {"cpu": self._percent(pid, cpu_s), "status": status}
                    if every or ran:
                        data["rss"] = proc.memory_info().rss
                        data["threads"] = proc.num_threads()
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                del self._procs[pid]
                self._last.pop(pid, None)
                self._sent.pop(pid, None)
                if pid in self._zombies:
                    self._zombies.discard(pid)
                    events.append(Event(t, pid, "proc.reaped", "", {}))
                else:
                    self._gone.append(pid)
                continue
            except OSError:  # out of file descriptors for a moment: this one waits for the next round
                continue
            sent = self._sent.get(pid)
            if sent is not None and all(sent.get(key) == value for key, value in data.items()):
                continue
            self._sent[pid] = sent | data if sent else data
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

    def status(self, pid: int) -> str:
        """A tracked process's status now ("" if it is not tracked or gone)."""
        import psutil

        self._follow_new()
        proc = self._procs.get(pid)
        try:
            return proc.status() if proc is not None else ""
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            return ""

    def take_gone(self) -> list[int]:
        gone, self._gone = self._gone, []
        return gone
