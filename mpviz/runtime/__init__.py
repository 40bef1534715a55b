"""Running lessons: the supervisor, its channels and the psutil sampler."""

from mpviz.runtime.prepare import prepare
from mpviz.runtime.sampler import Sampler
from mpviz.runtime.supervisor import Supervisor

__all__ = ["Sampler", "Supervisor", "prepare"]
