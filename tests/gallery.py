"""Every screen worth a picture: used by the snapshot tests and by scripts/screenshots.py.

Each is a recording of a real run, frozen at a moment, in a fixed terminal
size, with keys pressed before the picture is taken.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mpviz.ui.app import MpvizApp, make_app
from mpviz.ui.sources import ReplaySource

RECORDINGS = Path(__file__).parent / "recordings"
SIZE = (120, 40)


@dataclass(frozen=True)
class Shot:
    name: str
    recording: str | None = None  # None: the home screen
    at: float = 0.0
    size: tuple[int, int] = SIZE
    press: tuple[str, ...] = ()
    caption: str = ""

    def app(self) -> MpvizApp:
        if self.recording is None:
            return make_app()
        return make_app(ReplaySource(RECORDINGS / f"{self.recording}.jsonl", at=self.at, frozen=True))


SHOTS = [
    Shot("home", caption="Pick a lesson"),
    Shot("home-prodcons", press=("down", "down"), caption="Each lesson explained before it starts"),
    Shot("ktv-full", "ktv", 1.5, caption="ktv: four rooms taken, three groups wait at the door"),
    Shot("ktv-late", "ktv", 5.0, caption="ktv: the last groups sing"),
    Shot("traffic-red", "traffic", 8.6, caption="traffic: red, three cars blocked in e.wait()"),
    Shot("traffic-green", "traffic", 9.5, caption="traffic: set() wakes them all at once"),
    Shot("prodcons", "prodcons", 5.0, caption="prodcons: two producers, three consumers, one queue"),
    Shot("prodcons-end", "prodcons", 16.5, caption="prodcons: end signals delivered, every consumer exited"),
    Shot("prodcons-naive", "prodcons-naive", 14.5, caption="prodcons --naive: the hang, named"),
    Shot("tickets", "tickets", 1.5, caption="tickets: one buyer holds the lock, the rest wait in line"),
    Shot("tickets-oversold", "tickets-oversold", 2.1, caption="tickets --no-lock: five tickets sold of three, caught"),
    Shot(
        "tickets-deadlock",
        "tickets-deadlock",
        2.0,
        caption="tickets: the lock holder killed, its waiters stuck for good",
    ),
    Shot("printlock", "printlock", 2.2, caption="printlock: nothing, a Lock, join(): concurrent becomes serial"),
    Shot("chat", "chat", 2.5, caption="chat: a server, a process per connection, three clients"),
    Shot("pingpong", "pingpong", 1.02, caption="pingpong: 'hi' down, 'hello' back, through one queue"),
    Shot("pingpong-race", "pingpong-race", 0.2, caption="pingpong --no-sleep: main takes its own 'hi' back"),
    Shot("ktv-80x24", "ktv", 1.5, size=(80, 24), caption="80×24"),
    Shot("ktv-200x60", "ktv", 1.5, size=(200, 60), caption="200×60"),
    Shot("help", "traffic", 8.6, press=("question_mark",), caption="? explains the lesson and every key"),
    Shot(
        "details", "ktv", 1.5, press=("down", "down", "down"), caption="The selected process: its time and its events"
    ),
]
