"""The anchor docs/ARCHITECTURE.md names: a naive Textual DataTable + psutil monitor.

    python bench/naive_table.py PID [PID ...]

Every second it clears the table and refills it with psutil figures of the
given PIDs — the obvious way to write a process monitor in Textual.
"""

from __future__ import annotations

import sys

import psutil
from textual.app import App, ComposeResult
from textual.widgets import DataTable


class NaiveMonitor(App):
    def __init__(self, pids: list[int]) -> None:
        super().__init__()
        self.procs = [psutil.Process(pid) for pid in pids]

    def compose(self) -> ComposeResult:
        yield DataTable()

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns("PID", "Name", "Status", "CPU%", "RSS", "Threads")
        self.set_interval(1, self.sample)

    def sample(self) -> None:
        table = self.query_one(DataTable)
        table.clear()
        for p in self.procs:
            try:
                table.add_row(p.pid, p.name(), p.status(), p.cpu_percent(), p.memory_info().rss, p.num_threads())
            except psutil.NoSuchProcess:
                continue


if __name__ == "__main__":
    NaiveMonitor([int(a) for a in sys.argv[1:]]).run()
