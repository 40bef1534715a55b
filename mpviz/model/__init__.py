"""The pure model: records in, lesson state out (no I/O, no Textual).

``state.py`` holds the model; importing the handler modules here fills its
table of record kinds (see ``reducer.py``), so that any import of the model
comes with every handler.
"""

from mpviz.model import events, locks, pitfalls, pools, procs, queues, seen, turns  # noqa: F401  (each fills the handler table)
from mpviz.model.actors import Phase, Proc, Said, Stats
from mpviz.model.anomalies import find_anomalies
from mpviz.model.lines import describe, line
from mpviz.model.prims import Prim
from mpviz.model.state import Anomaly, Model

__all__ = ["Anomaly", "Model", "Phase", "Prim", "Proc", "Said", "Stats", "describe", "find_anomalies", "line"]
