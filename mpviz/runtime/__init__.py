"""Running lessons and programs: the supervisor, its channels, the psutil sampler, and the wiring of one run."""

from mpviz.runtime.prepare import prepare
from mpviz.runtime.run import Run, Settings
from mpviz.runtime.sampler import Sampler
from mpviz.runtime.supervisor import Supervisor

__all__ = ["Run", "Sampler", "Settings", "Supervisor", "prepare"]
