"""The lessons, one module each, by name."""

from mpviz.scenarios.base import Lesson
from mpviz.scenarios.ktv import Ktv
from mpviz.scenarios.prodcons import ProdCons
from mpviz.scenarios.traffic import Traffic

LESSONS: dict[str, type[Lesson]] = {cls.name: cls for cls in (Ktv, Traffic, ProdCons)}

__all__ = ["LESSONS", "Lesson"]
