"""Runs at the start of every Python process of a watched program (it is on their PYTHONPATH).

It instruments the process for mpviz, then runs the ``sitecustomize`` this
one hides, if there is one, so that the interpreter behaves as it would
without mpviz.
"""

import importlib.machinery
import importlib.util
import os
import sys


def _watch() -> None:
    if not os.environ.get("MPVIZ_ENDPOINT"):
        return
    try:
        from mpviz.inject import install_from_env
    except ImportError as exc:  # another interpreter than mpviz's: it runs unwatched
        print(f"mpviz: this process is not watched: {exc}", file=sys.stderr)
        return
    install_from_env()


def _chain() -> None:
    """Run the next ``sitecustomize`` on the path, the one this file stands in front of."""
    here = os.path.dirname(os.path.abspath(__file__))
    path = [p for p in sys.path if os.path.abspath(p or os.curdir) != here]
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", path)
    if spec is None or spec.loader is None:
        return
    module = importlib.util.module_from_spec(spec)
    sys.modules["sitecustomize"] = module
    spec.loader.exec_module(module)


_watch()
_chain()
