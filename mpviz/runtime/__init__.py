"""Running lessons: the supervisor, its channels, the psutil sampler, and the wiring of one run."""

from mpviz.runtime.prepare import prepare
from mpviz.runtime.program import Program
from mpviz.runtime.run import LessonRun, ProgramRun, ProgramSettings, Settings
from mpviz.runtime.sampler import Sampler
from mpviz.runtime.supervisor import Supervisor

__all__ = ["LessonRun", "Program", "ProgramRun", "ProgramSettings", "Sampler", "Settings", "Supervisor", "prepare"]
