"""The pure model: records in, lesson state out (no I/O, no Textual)."""

from mpviz.model.reducer import Model
from mpviz.model.state import Anomaly, Phase, Prim, Proc, Said, Stats
from mpviz.model.words import describe, line

__all__ = ["Anomaly", "Model", "Phase", "Prim", "Proc", "Said", "Stats", "describe", "line"]
