"""Every screen worth a picture: used by the snapshot tests and by scripts/screenshots.py.

The home screen, and each lesson's shots (``Lesson.samples``): a recording of
a real run, frozen at a moment, in a fixed terminal size and language, with
keys pressed before the picture is taken.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mpviz import lang
from mpviz.registry import lessons
from mpviz.ui.app import MpvizApp, make_app
from mpviz.ui.sources import ReplaySource

RECORDINGS = Path(__file__).resolve().parent.parent / "recordings"


@dataclass(frozen=True)
class Picture:
    name: str
    recording: str | None  # None: the home screen
    at: float
    size: tuple[int, int]
    press: tuple[str, ...]
    caption: str
    language: str = "en"

    def app(self) -> MpvizApp:
        lang.use(self.language)  # every word of the app is in it, from its first screen on
        if self.recording is None:
            return make_app()
        return make_app(ReplaySource(RECORDINGS / f"{self.recording}.jsonl", at=self.at, frozen=True))


HOME = [
    Picture("home", None, 0.0, (120, 40), (), "Pick a lesson"),
    Picture("home-prodcons", None, 0.0, (120, 40), ("down", "down"), "Each lesson explained before it starts"),
    Picture("home-zh", None, 0.0, (120, 40), (), "mpviz --lang zh: the lessons in the tutorial's Chinese", "zh"),
]

# Watched programs: recordings of the tutorial's own programs and of programs nobody here
# wrote (tests/external/), run unmodified.
PROGRAMS = [
    Picture("ktv-program", "ktv-program", 1.5, (120, 40), (), "mpviz ktv.py: the tutorial's own program, watched"),
    Picture("ktv-program-80x24", "ktv-program", 1.5, (80, 24), (), "the same at 80×24"),
    Picture(
        "where-stacks",
        "unfed-consumer",
        1.74,
        (120, 40),
        ("down", "d"),
        "d: the consumer's stack, innermost last; its line, and what it waits in",
    ),
    Picture(
        "where-graph",
        "unfed-consumer",
        1.74,
        (120, 40),
        ("w",),
        "w: the wait-for graph of the same moment: main joins the consumer, the consumer waits on 'inbox'",
    ),
    Picture(
        "where-graph-80x24",
        "unfed-consumer",
        1.74,
        (80, 24),
        ("w",),
        "w at 80×24: the graph takes the primitives' place (the timeline has no room there)",
    ),
    Picture(
        "pymotw-prodcons-160x50",
        "pymotw-prodcons",
        0.3,
        (160, 50),
        (),
        "PyMOTW's producer–consumer, watched: Consumer-1 … Consumer-4, what each printed, the events",
    ),
    Picture("pymotw-prodcons", "pymotw-prodcons", 0.3, (120, 40), (), "the same at 120×40"),
    Picture("pymotw-prodcons-80x24", "pymotw-prodcons", 0.3, (80, 24), (), "the same at 80×24"),
    Picture(
        "pymotw-pool-160x50",
        "pymotw-pool",
        0.12,
        (160, 50),
        (),
        "PyMOTW's pool: its workers, named whole, waiting for a task or at work; main waiting for results",
    ),
]

# Step mode: a scheduled run waiting for a person's choice (scripts/record_samples.py, STEPPED).
STEPS = [
    Picture(
        "tickets-step",
        "tickets-step",
        2.0,
        (120, 40),
        (),
        "tickets --no-lock --step: buyers 0 and 1 both read 3; whoever writes first, one ticket is sold twice",
    ),
]

# An attached program (tests/programs/service.py): a tree, each process's last minute, a spike scrubbed back to.
ATTACHED = [
    Picture("attach", "attach", 20.0, (160, 48), (), "mpviz attach PID: a running program read from outside"),
    Picture(
        "attach-folded",
        "attach",
        20.0,
        (160, 48),
        ("down", "enter", "w"),
        "the crew folded into one row, its figures added up; w: what can be known from outside",
    ),
    Picture(
        "attach-spike",
        "attach",
        20.0,
        (160, 48),
        ("down",) * 6 + ("left_square_bracket",),
        "[ on the bursting job: the replay back to its spike, every process as it was then",
    ),
]

SHOTS = (
    HOME
    + PROGRAMS
    + STEPS
    + ATTACHED
    + [
        Picture(shot.name, sample.name, shot.at, shot.size, shot.press, shot.caption, shot.lang)
        for cls in lessons()
        for sample in cls.samples
        for shot in sample.shots
    ]
)
