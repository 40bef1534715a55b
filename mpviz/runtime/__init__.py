"""Running lessons: the supervisor, its channels, the psutil sampler, and the wiring of one run."""

from mpviz.runtime.prepare import prepare
from mpviz.runtime.run import LessonRun, Settings
from mpviz.runtime.sampler import Sampler
from mpviz.runtime.supervisor import Supervisor

__all__ = ["LessonRun", "Sampler", "Settings", "Supervisor", "prepare"]
