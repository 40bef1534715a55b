"""``mpviz serve`` in a real browser: Debian's Chromium, driven by Selenium.

Every visitor gets their own dashboard and lesson processes; closing the tab,
losing the browser, idling or stopping the server ends all of them.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest
from conftest import none_alive, wait_for
from helpers.browser import Browser, Serve, have_chromium, marked, visit_of
from selenium.webdriver.common.keys import Keys

pytestmark = pytest.mark.browser

HOME = "Lessons: pick one"


@pytest.fixture(autouse=True)
def _chromium() -> None:
    if not have_chromium():
        why = "needs Debian's chromium and chromium-driver: apt-get install chromium chromium-driver"
        if os.environ.get("CI"):
            pytest.fail(why)  # .ci/run installs them: their absence there is a failure, not a skip
        pytest.skip(why)


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., Serve]]:
    servers: list[Serve] = []

    def start(*args: str) -> Serve:
        servers.append(Serve(tmp_path, *args))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


@pytest.fixture
def browsers() -> Iterator[Callable[[], Browser]]:
    opened: list[Browser] = []

    def open_one() -> Browser:
        opened.append(Browser())
        return opened[-1]

    yield open_one
    for browser in opened:
        browser.quit()


def open_lesson(browser: Browser) -> tuple[str, dict[str, int]]:
    """From the home screen, Enter opens the first lesson (ktv); its visit mark and the PIDs on the page."""
    browser.wait_screen(HOME)
    browser.press(Keys.ENTER)
    pids = browser.wait_lesson()
    return visit_of(pids["main"]), pids


def test_a_visitor_opens_a_lesson_presses_a_key_and_closing_the_tab_ends_every_process(
    serve: Callable[..., Serve], browsers: Callable[[], Browser]
) -> None:
    server = serve()
    browser = browsers()
    first_tab = browser.new_tab(server.url)
    mark, pids = open_lesson(browser)
    assert mark.startswith(f"{server.proc.pid}.")
    assert psutil.Process(pids["main"]).ppid() == server.proc.pid  # the visitor's own dashboard

    def live_group_of_this_visitor() -> bool:
        mine = {p.pid for p in marked(mark)}
        return any(pid in mine for who, pid in browser.pids().items() if who.startswith("group"))

    wait_for(live_group_of_this_visitor, 60, every=0.2, what="a live group process of this visitor on the page")

    browser.press("a")  # ktv: another group arrives
    browser.wait_screen("group 5")
    browser.press(Keys.ESCAPE)  # back to the lessons, and into one again
    assert open_lesson(browser)[0] == mark

    seen = {p.pid for p in marked(mark)} | set(browser.pids().values())
    assert len(seen) >= 3
    browser.close_tab(first_tab)
    wait_for(lambda: not marked(mark) and none_alive(seen), 30, what="no process of the visitor left")
    wait_for(lambda: "visitor 1 left" in server.err.read_text(), 30, what="the server noting it")


def test_two_browsers_get_two_independent_dashboards(
    serve: Callable[..., Serve], browsers: Callable[[], Browser]
) -> None:
    server = serve()
    alice, bob = browsers(), browsers()
    alice.open(server.url)
    bob.open(server.url)
    alice_mark, alice_pids = open_lesson(alice)
    bob_mark, bob_pids = open_lesson(bob)
    assert alice_mark != bob_mark
    assert not set(alice_pids.values()) & set(bob_pids.values())

    alice.press("a")  # a key in one dashboard changes that one only
    alice.wait_screen("group 5")
    assert "group 5" not in bob.screen()

    # Alice's browser dies: her connection is lost, and her processes end with it.
    alice_seen = {p.pid for p in marked(alice_mark)} | set(alice_pids.values())
    os.kill(alice.process().pid, signal.SIGKILL)
    wait_for(lambda: not marked(alice_mark) and none_alive(alice_seen), 30, what="no process of alice's left")
    assert psutil.Process(bob_pids["main"]).is_running()
    bob.press("a")
    bob.wait_screen("group 5")


def test_past_max_visitors_the_next_visitor_gets_a_page_saying_so(
    serve: Callable[..., Serve], browsers: Callable[[], Browser]
) -> None:
    server = serve("--max-visitors", "1")
    first, second = browsers(), browsers()
    first.open(server.url)
    first.wait_screen(HOME)
    second.open(server.url)
    text = second.wait_page("mpviz is full")
    assert "Every place is taken: 1 visitor at once is the most" in text and "Try again" in text

    first.quit()
    wait_for(lambda: "visitor 1 left (0 of 1 places taken)" in server.err.read_text(), 30, what="a place free")
    assert not server.processes()
    second.open(server.url)  # "Try again"
    second.wait_screen(HOME)


def test_an_idle_visitor_is_ended_with_a_page_saying_why(
    serve: Callable[..., Serve], browsers: Callable[[], Browser]
) -> None:
    # "-- ktv": every dashboard opens that lesson, as 'mpviz ktv' does in a terminal.
    server = serve("--idle-timeout", "5", "--", "ktv", "--groups", "8")
    browser = browsers()
    browser.open(server.url)
    pids = browser.wait_lesson()
    mark = visit_of(pids["main"])
    seen = {p.pid for p in marked(mark)} | set(pids.values())
    text = browser.wait_page("without a key or the mouse", 60)
    assert "Closed after 5 s without a key or the mouse" in text
    wait_for(lambda: not marked(mark) and none_alive(seen), 30, what="no process of the idle visitor left")


def test_three_visitors_a_browser_killed_and_the_server_stopped_leave_no_process_within_5_s(
    serve: Callable[..., Serve], browsers: Callable[[], Browser]
) -> None:
    server = serve()
    visitors = [browsers() for _ in range(3)]
    for browser in visitors:
        browser.open(server.url)
    marks = [open_lesson(browser)[0] for browser in visitors]
    assert len(set(marks)) == 3
    seen = {p.pid for p in server.processes()}
    assert len(seen) >= 3 * 3  # three dashboards, each with lesson processes

    os.kill(visitors[2].process().pid, signal.SIGKILL)
    server.proc.send_signal(signal.SIGTERM)
    wait_for(lambda: not server.processes() and none_alive(seen), 5, what="no process of any visitor left")
    assert server.proc.wait(30) == 0
    for browser in visitors[:2]:
        browser.wait_page("mpviz serve has stopped.", 30)


def test_even_sigkill_of_the_server_leaves_no_process_of_a_visitor(
    serve: Callable[..., Serve], browsers: Callable[[], Browser]
) -> None:
    server = serve()
    browser = browsers()
    browser.open(server.url)
    open_lesson(browser)
    seen = {p.pid for p in server.processes()}
    server.proc.kill()  # no time to end anything: the kernel tells each dashboard (setpriv --pdeathsig)
    wait_for(lambda: not server.processes() and none_alive(seen), 10, what="no process of the visitor left")
