"""Runs at the start of every Python process of a watched program (it is on their PYTHONPATH).

It instruments the process for mpviz, then runs the ``sitecustomize`` this
one hides, if there is one, so that the interpreter behaves as it would
without mpviz.
"""

import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
# multiprocessing's own helper processes: not part of the program, and not watched.  Told apart
# here, before mpviz is imported: the resource tracker starts with a watched program's first
# spawned child, and would pay for mpviz's imports (~6 ms) for nothing.
HELPERS = ("multiprocessing.resource_tracker",)


def _leave_the_path() -> None:
    """This folder off ``sys.path``, which is then the plain run's: every later import of a module
    by name would look in it first (an empty folder there costs a process ~1 M instructions), and a
    program that prints its path sees its own.  (Its children still get it: PYTHONPATH is unchanged.)"""
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]


def _watch() -> None:
    if not os.environ.get("MPVIZ_ENDPOINT"):
        return
    command = " ".join(getattr(sys, "orig_argv", sys.argv))
    if any(helper in command for helper in HELPERS):
        return
    try:
        from mpviz.inject import install_from_env
    except ImportError as exc:  # another interpreter than mpviz's: it runs unwatched
        print(f"mpviz: this process is not watched: {exc}", file=sys.stderr)
        return
    install_from_env()


def _chain() -> None:
    """Run the next ``sitecustomize`` on the path, the one this file stands in front of."""
    import importlib.machinery

    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", sys.path)
    if spec is None or spec.loader is None:
        return
    import importlib.util  # (here: most programs have no sitecustomize of their own)

    module = importlib.util.module_from_spec(spec)
    sys.modules["sitecustomize"] = module
    spec.loader.exec_module(module)


_leave_the_path()
_watch()
_chain()
