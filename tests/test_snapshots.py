"""Every screen and panel, as SVG, from recordings of real runs: deterministic by construction.

The replays are frozen at a moment (no timers, the clock standing at that
moment), the psutil figures are the ones recorded, the terminal size is fixed.
"""

from __future__ import annotations

import pytest
from helpers.gallery import SHOTS, Picture


@pytest.mark.parametrize("shot", SHOTS, ids=[s.name for s in SHOTS])
def test_screen(snap_compare, shot: Picture) -> None:
    assert snap_compare(shot.app(), press=list(shot.press), terminal_size=shot.size)
