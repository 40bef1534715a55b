"""Running lessons and programs: the supervisor, its channels, the psutil sampler, and the wiring of one run.

Its names load when first asked for (PEP 562): the command line starts a
watched program through :mod:`mpviz.runtime.program`, which is light, before
it loads the rest.
"""

from __future__ import annotations

import importlib

# Light, and imported here: the module's name is the function's, which must win.
from mpviz.runtime.prepare import prepare

TYPE_CHECKING = False  # (typing's import is not paid before a watched program starts)
if TYPE_CHECKING:
    from typing import Any

    from mpviz.runtime.run import Run, Settings
    from mpviz.runtime.sampler import Sampler
    from mpviz.runtime.supervisor import Supervisor

__all__ = ["Run", "Sampler", "Settings", "Supervisor", "prepare"]

_WHERE = {"Run": "run", "Settings": "run", "Sampler": "sampler", "Supervisor": "supervisor"}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"mpviz.runtime.{module}"), name)
    globals()[name] = value
    return value
