"""What must happen in the dashboard process before any lesson process starts."""

from __future__ import annotations

import resource

_prepared: set[str] = set()


def prepare(method: str) -> None:
    """Start multiprocessing's helper processes now, while stderr is still a file.

    Inside a running Textual app ``sys.stderr.fileno()`` is -1, and starting
    the resource tracker (or the forkserver) then fails with "bad value(s) in
    fds_to_keep" (Textualize/textual#3593).  Started here, before the app,
    they are reused later.
    """
    if method in _prepared:
        return
    # Here, not at the top: the package imports this module, and a watched program run
    # headless starts before the package loads anything heavy (runtime/program.py).
    import multiprocessing
    import multiprocessing.forkserver
    import multiprocessing.resource_tracker

    from mpviz.registry import workers_modules

    _raise_file_limit()
    multiprocessing.resource_tracker.ensure_running()
    if method == "forkserver":
        context = multiprocessing.get_context("forkserver")
        # Lesson code a forkserver loads once, so each fork starts warm.
        context.set_forkserver_preload(["mpviz.sync", *workers_modules()])
        multiprocessing.forkserver.ensure_running()
    _prepared.add(method)


def _raise_file_limit() -> None:
    """Each child costs the dashboard two descriptors (its pipe and its sentinel):
    hundreds of children need more than the usual soft limit of 1024."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        hard = max(soft, 65536)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
