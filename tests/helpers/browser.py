"""``mpviz serve`` run as a teacher would, and Debian's Chromium driven by Selenium as a learner's browser."""

from __future__ import annotations

import contextlib
import re
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import psutil
from conftest import ROOT, wait_for
from selenium import webdriver
from selenium.common.exceptions import JavascriptException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
VISIT_MARK = "MPVIZ_SERVE_VISIT"

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Nothing but this machine: a page that asked for anything else would fail here, visibly.
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
    "--window-size=1400,1000",
]

# textual.js keeps its terminal views to itself; this keeps each one reachable
# (it sets view.fitAddon once, in its constructor) so that the tests read the
# screen the page shows from xterm's own buffer.
KEEP_VIEWS = """
window.mpvizViews = [];
Object.defineProperty(Object.prototype, "fitAddon", {
  configurable: true,
  set(value) {
    window.mpvizViews.push(this);
    Object.defineProperty(this, "fitAddon", {value, writable: true, configurable: true, enumerable: true});
  },
});
"""

READ_SCREEN = """
const view = window.mpvizViews && window.mpvizViews[0];
if (!view) return "";
const buffer = view.terminal.buffer.active;
const lines = [];
for (let y = 0; y < view.terminal.rows; y++) {
  const line = buffer.getLine(buffer.viewportY + y);
  lines.push(line ? line.translateToString(true) : "");
}
return lines.join("\\n");
"""

# A row of the process table: "│ 12345    group 3      ..."
# A row of the process table: its PID, then who, after its tree lines and fold mark ("├ ", "▾ ").
PID_ROW = re.compile(r"│ (\d+) +(?:[│├└▾▸] +)*(main|group \d+) ")


def have_chromium() -> bool:
    return CHROMIUM.exists() and CHROMEDRIVER.exists()


def _marked(test: Callable[[str], bool]) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter():
        try:
            if proc.status() != psutil.STATUS_ZOMBIE and test(proc.environ().get(VISIT_MARK, "")):
                found.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return found


def marked(mark: str) -> list[psutil.Process]:
    """Live processes of one visit: those whose environment carries its mark."""
    return _marked(lambda m: m == mark)


class Serve:
    """``mpviz serve --port 0 ARGS`` in the background, its output in files."""

    def __init__(self, tmp: Path, *args: str) -> None:
        self.out = tmp / "serve.out"
        self.err = tmp / "serve.err"
        with self.out.open("w") as out, self.err.open("w") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "mpviz", "serve", "--port", "0", *args], stdout=out, stderr=err, cwd=ROOT
            )
        found = wait_for(self._address, 60, every=0.1, what="mpviz serve's address")
        self.url = f"{found}/"

    def _address(self) -> str:
        if self.proc.poll() is not None:
            raise AssertionError(f"mpviz serve ended: {self.err.read_text()}")
        match = re.search(r"(http://[\d.]+:\d+)", self.out.read_text())
        return match.group(1) if match else ""

    def processes(self) -> list[psutil.Process]:
        """Every live process of every visitor of this server."""
        return _marked(lambda m: m.startswith(f"{self.proc.pid}."))

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(60)

    def close(self) -> None:
        self.stop()
        # Whatever happened in a test, no visitor's process outlives it.
        for proc in self.processes():
            with contextlib.suppress(psutil.NoSuchProcess):
                proc.kill()


class Browser:
    """A headless Chromium of its own (own profile), one tab."""

    def __init__(self) -> None:
        options = webdriver.ChromeOptions()
        options.binary_location = str(CHROMIUM)
        self.profile = tempfile.TemporaryDirectory(prefix="mpviz-chromium-", ignore_cleanup_errors=True)
        for flag in [*CHROMIUM_FLAGS, f"--user-data-dir={self.profile.name}"]:
            options.add_argument(flag)
        # A driver path of our own: Selenium Manager (which downloads drivers) is never asked.
        self.driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
        self.driver.set_page_load_timeout(60)
        self.driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": KEEP_VIEWS})

    def open(self, url: str) -> None:
        self.driver.get(url)

    def new_tab(self, url: str) -> str:
        """Open ``url`` in a new tab and stay there; return the tab left behind."""
        left = self.driver.current_window_handle
        self.driver.switch_to.new_window("tab")
        self.driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": KEEP_VIEWS})
        self.open(url)
        return left

    def close_tab(self, back_to: str) -> None:
        self.driver.close()
        self.driver.switch_to.window(back_to)

    def screen(self) -> str:
        """The text of the dashboard's screen as the page shows it."""
        try:
            return self.driver.execute_script(READ_SCREEN)
        except JavascriptException:  # the page is still loading
            return ""

    def page_text(self) -> str:
        return self.driver.find_element(By.TAG_NAME, "body").text

    def wait_screen(self, text: str, timeout: float = 90) -> str:
        return wait_for(lambda: text in (s := self.screen()) and s, timeout, every=0.2, what=f"{text!r} on the page")

    def wait_page(self, text: str, timeout: float = 90) -> str:
        return wait_for(lambda: text in (s := self.page_text()) and s, timeout, every=0.2, what=f"{text!r} on the page")

    def press(self, keys: str) -> None:
        self.driver.find_element(By.CSS_SELECTOR, ".xterm-helper-textarea").send_keys(keys)

    def pids(self) -> dict[str, int]:
        """Who → PID, from the process table on the page."""
        return {who: int(pid) for pid, who in PID_ROW.findall(self.screen())}

    def wait_lesson(self, timeout: float = 90) -> dict[str, int]:
        """Wait until the page shows a lesson's main and at least one group with their PIDs."""
        return wait_for(
            lambda: (p := self.pids()) and "main" in p and len(p) > 1 and p, timeout, every=0.2, what="a lesson's PIDs"
        )

    def process(self) -> psutil.Process:
        """This Chromium's browser process (chromedriver's child)."""
        return psutil.Process(self.driver.service.process.pid).children()[0]

    def quit(self) -> None:
        with contextlib.suppress(WebDriverException):  # a browser killed by a test has no session left to end
            self.driver.quit()
        self.profile.cleanup()


def visit_of(pid: int) -> str:
    """The visit mark of a visitor's dashboard process."""
    return psutil.Process(pid).environ()[VISIT_MARK]
