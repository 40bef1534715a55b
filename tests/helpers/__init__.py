"""What the tests share besides ``conftest.py``: none of these modules is a test.

* ``dashboard`` — driving the dashboard in a test: a live lesson, waiting for a condition, reading what a widget shows;
* ``terminal`` — mpviz in a real pseudo-terminal, as a user runs it;
* ``browser`` — ``mpviz serve`` and a headless Chromium;
* ``gallery`` — every screen worth a picture (the snapshot tests and ``scripts/screenshots.py``);
* ``plainly`` — a program run plainly and watched, what each printed (the comparisons of a watched run with a plain one);
* ``watching`` — records of processes started in the test process itself;
* ``workers`` — targets for those processes (importable by name in a spawned child);
* ``cpython_tests`` — CPython's own multiprocessing tests, run on ``mpviz.sync``.
"""
