"""The dashboard's process runs the cycle collector less often; a child it forks runs it as Python does."""

from __future__ import annotations

import subprocess
import sys

CHILD = """
import gc, os
from mpviz.ui.launch import COLLECTS_AT, collect_less

default = gc.get_threshold()
collect_less()
assert gc.get_threshold() == (COLLECTS_AT, *default[1:]), gc.get_threshold()
read, write = os.pipe()
pid = os.fork()
if pid == 0:
    os.write(write, repr(gc.get_threshold()).encode())
    os._exit(0)
os.close(write)
assert os.waitpid(pid, 0)[1] == 0
print(default, os.read(read, 100).decode(), gc.get_threshold(), sep="|")
"""


def test_the_dashboard_collects_less_and_its_forked_children_as_python_does() -> None:
    done = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    default, child, dashboard = done.stdout.strip().split("|")
    assert child == default
    assert dashboard != default and dashboard.startswith("(10000,")
