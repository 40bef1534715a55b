"""Schedules: who goes at each decision of a scheduled run, how it is chosen, and its file.

* :mod:`~mpviz.schedule.world` — what the records say would block;
* :mod:`~mpviz.schedule.choice` — an offer, a choice, a step, a schedule's digest;
* :mod:`~mpviz.schedule.pct` — PCT, the search of ``mpviz explore``;
* :mod:`~mpviz.schedule.replay` — a schedule followed again, and where it stops fitting;
* :mod:`~mpviz.schedule.file` — the schedule file, checked as a recording is.

Pure: no processes, no terminal.  The scheduler that runs them is
:mod:`mpviz.runtime.scheduler`.
"""
