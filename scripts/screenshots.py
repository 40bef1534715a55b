"""Regenerate screenshots/*.svg from the same recordings the snapshot tests use.

.venv/bin/python scripts/screenshots.py
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the tests' helpers

from helpers.gallery import SHOTS, Picture  # noqa: E402

from mpviz.runtime import prepare  # noqa: E402


async def take(shot: Picture, out: Path) -> None:
    app = shot.app()
    async with app.run_test(size=shot.size) as pilot:
        for key in shot.press:
            await pilot.press(key)
        await pilot.pause()
        app.save_screenshot(str(out / f"{shot.name}.svg"))


def main() -> None:
    prepare("spawn")
    out = ROOT / "screenshots"
    out.mkdir(exist_ok=True)
    for shot in SHOTS:
        asyncio.run(take(shot, out))
        print(f"screenshots/{shot.name}.svg  {shot.caption}")


if __name__ == "__main__":
    main()
