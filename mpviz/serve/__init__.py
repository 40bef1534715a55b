"""``mpviz serve``: the dashboard in a browser, each visitor their own.

textual-serve starts one dashboard process per open page (one websocket) and
relays its screen and keys. What mpviz adds is that visits are bounded and
leave nothing behind. Every visitor's dashboard starts real lesson processes,
so a visit is ended by ending every process it started: found by a mark in
their environment, which every descendant inherits (a lesson process whose
dashboard died has been adopted by init and is no longer in its tree), and by
the tree below any marked process (a program may clear its environment).

Nothing a browser sends is trusted: a page's messages are checked (a bad one
ends its visit with one line in the log), a terminal size is bounded, a
connection that does not send its request in time is closed, and connections
and each visitor's lesson processes are capped.

Imported only when ``mpviz serve`` runs: it pulls in aiohttp and textual-serve.

Here: the command itself.  A visit's processes, found and ended:
:mod:`mpviz.serve.visits`; the server, its visits and what their pages send:
:mod:`mpviz.serve.server`; the listening socket and its bounded connections:
:mod:`mpviz.serve.connections`.
"""

from __future__ import annotations

import ipaddress
import sys

from mpviz.serve.connections import listen
from mpviz.serve.server import ClassroomServer, Limits
from mpviz.serve.visits import dashboard_command, end_visits


def serve(host: str, port: int, limits: Limits, lang: str, dashboard_args: list[str]) -> int:
    """``mpviz serve``: serve until stopped; 2 when it cannot listen."""
    try:
        listener = listen(host, port)
    except ValueError as exc:
        print(f"mpviz: error: {exc}", file=sys.stderr)
        return 2
    address, port = listener.getsockname()[:2]
    if not ipaddress.ip_address(address).is_loopback:
        print(
            f"mpviz: warning: listening on {address}: anyone who reaches it can start processes on this machine",
            file=sys.stderr,
            flush=True,
        )
    url_host = f"[{address}]" if ":" in address else address
    server = ClassroomServer(dashboard_command(lang, dashboard_args), f"http://{url_host}:{port}", limits)
    try:
        server.run(listener)
    finally:
        # However the server ended, no visitor's process outlives it.
        end_visits(server.owns, 0)
    return 0
