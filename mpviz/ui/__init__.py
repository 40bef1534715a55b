"""The Textual dashboard.  Imported only by the command line, never by a lesson process."""

from __future__ import annotations

import os
import shutil
import sys

# The smallest terminal the dashboard is usable in.
MIN_SIZE = (60, 18)


def terminal_problem(plain: str = "mpviz run LESSON --headless") -> str:
    """Why the dashboard cannot run here (empty if it can); ``plain``: the command that prints instead."""
    if os.environ.get("TEXTUAL_DRIVER"):
        return ""  # Textual draws through a driver of its own (mpviz serve's browser page), not a terminal
    # Textual reads keys from stdin and draws on stderr.
    if not (sys.stdin.isatty() and sys.stderr.isatty()):
        return f"the dashboard needs a terminal; for plain output use: {plain}"
    cols, rows = shutil.get_terminal_size()
    if cols < MIN_SIZE[0] or rows < MIN_SIZE[1]:
        return f"the terminal is {cols}×{rows}; the dashboard needs at least {MIN_SIZE[0]}×{MIN_SIZE[1]}"
    return ""
