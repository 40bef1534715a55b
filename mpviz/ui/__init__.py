"""The Textual dashboard.  Imported only by the command line, never by a lesson process."""

from __future__ import annotations

import shutil
import sys

# The smallest terminal the dashboard is usable in.
MIN_SIZE = (60, 18)


def terminal_problem() -> str:
    """Why the dashboard cannot run here (empty if it can)."""
    # Textual reads keys from stdin and draws on stderr.
    if not (sys.stdin.isatty() and sys.stderr.isatty()):
        return "the dashboard needs a terminal; for plain output use: mpviz run LESSON --headless"
    cols, rows = shutil.get_terminal_size()
    if cols < MIN_SIZE[0] or rows < MIN_SIZE[1]:
        return f"the terminal is {cols}×{rows}; the dashboard needs at least {MIN_SIZE[0]}×{MIN_SIZE[1]}"
    return ""
