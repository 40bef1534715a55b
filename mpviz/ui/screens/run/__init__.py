"""The screen of a run, live or replayed: processes, the lesson's picture, the timeline, the log.

One screen for lessons and watched programs alike: a program is a lesson
(:class:`~mpviz.program.Watched`) whose panel draws its primitives and which
asks for what its processes print, with a box to type into its stdin
(``Lesson.printed``).  The keys are in :mod:`mpviz.ui.keys`, the redraw
pacing in :mod:`mpviz.ui.pacing`.

The screen is built up in layers, each a class over the one below:
:mod:`.drawing` (the views brought up to the model, the clock), :mod:`.reading`
(the records in, applied in slices), :mod:`.actions` and :mod:`.steps` (what
the keys do), and :mod:`.screen` (the widgets laid out, a screen class per
lesson); the words are in :mod:`.words`.
"""

from mpviz.ui.screens.run.drawing import Alerts
from mpviz.ui.screens.run.screen import RunScreen, run_screen, screen_class

__all__ = ["Alerts", "RunScreen", "run_screen", "screen_class"]
