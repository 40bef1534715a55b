"""Recordings: a run kept as JSONL, and everything that writes, reads, indexes or plays one.

* :mod:`~mpviz.recording.writer` — ``--record``: a header line, then a record a line, as the run goes;
* :mod:`~mpviz.recording.reader` — a recording's header and its records, every field checked, in time order;
* :mod:`~mpviz.recording.index` — checkpoints of the model along a recording, so a seek is quick;
* :mod:`~mpviz.recording.player` — a recording played back: pause, step, seek, speed (``mpviz replay``).

Nothing here draws or starts a process: the dashboard, ``mpviz stats`` and
``mpviz export`` read recordings through these modules.
"""
