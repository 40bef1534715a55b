"""Take screenshots/browser.png: mpviz serve in Debian's headless Chromium, the ktv lesson open.

.venv/bin/python scripts/browser_screenshot.py     (needs: apt-get install chromium chromium-driver)
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the tests' helpers

from helpers.browser import Browser, Serve  # noqa: E402


def main() -> None:
    out = ROOT / "screenshots" / "browser.png"
    with tempfile.TemporaryDirectory() as tmp:
        # A fixed seed, so that the picture shows the same moment each time.
        server = Serve(Path(tmp), "--", "ktv", "--seed", "1")
        browser = Browser()
        try:
            browser.open(server.url)
            browser.wait_screen("1 waiting in acquire()")  # four groups sing, the fifth waits at the door
            browser.driver.save_screenshot(str(out))
        finally:
            browser.quit()
            server.close()
    print(f"screenshots/{out.name}")


if __name__ == "__main__":
    main()
