"""The lesson contract: what a lesson is — its parameters, its keys, its main process and its invariant.

A lesson's package (``mpviz/lessons/NAME/``, listed in :mod:`mpviz.registry`)
holds the tutorial's worker functions (run in child processes: they import
only ``mpviz.sync`` and ``mpviz.telemetry``) and a :class:`Lesson` subclass
that lives in the dashboard process.  The subclass creates the
primitives, plays the tutorial's ``if __name__ == '__main__':`` part in
:meth:`Lesson.direct` (a thread of the dashboard, starting processes through a
:class:`Run`), offers actions for keys, and judges the run from the model.
"""

from __future__ import annotations

import functools
import re
import signal
from collections.abc import Callable

from mpviz.lang import T, vocabulary
from mpviz.value import Value

TYPE_CHECKING = False  # (typing's import is not paid before a watched program starts)
if TYPE_CHECKING:  # the model is only read, never imported at run time
    import random
    from typing import Any, ClassVar, Protocol

    from mpviz.model import Model
else:
    Protocol = object  # Run is the type checker's: at run time, a class nobody makes or checks


class Param(Value):
    """A number or switch of a lesson, given as ``--name`` on the command line.

    ``above``: a lower bound the value must exceed (speed > 0); ``noun``: what a value is,
    when "a number" says too little; ``file``: a file the lesson writes, never the run's recording.
    """

    __match_args__ = ("name", "default", "help", "low", "high", "choices", "above", "noun", "file")
    __slots__ = __match_args__
    name: str
    default: int | float | bool | str
    help: str | T
    low: float | None
    high: float | None
    choices: tuple[str, ...]
    above: float | None
    noun: str
    file: bool

    def __init__(
        self,
        name: str,
        default: int | float | bool | str,
        help: str | T,
        low: float | None = None,
        high: float | None = None,
        choices: tuple[str, ...] = (),
        above: float | None = None,
        noun: str = "",
        file: bool = False,
    ) -> None:
        self.name, self.default, self.help = name, default, help
        self.low, self.high, self.choices, self.above = low, high, choices, above
        self.noun, self.file = noun, file

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    def parse(self, text: str) -> Any:
        """Turn command-line text into a value, or raise ValueError with a short reason."""
        if isinstance(self.default, bool):
            raise ValueError("takes no value")
        if self.choices:
            if text not in self.choices:
                raise ValueError(f"must be one of {', '.join(self.choices)}, not {text!r}")
            return text
        if isinstance(self.default, str):
            return text
        whole = isinstance(self.default, int)
        # Plain ASCII decimals only: int() and float() also take "5_0", " 3 " and other scripts' digits.
        if not (WHOLE if whole else DECIMAL).fullmatch(text):
            noun = self.noun or ("a whole number" if whole else "a number")
            raise ValueError(f"must be {noun}, not {text!r}")
        value: float = int(text) if whole else float(text)
        if value in (float("inf"), float("-inf")):
            raise ValueError(f"must be a finite number, not {text!r}")
        if self.above is not None and value <= self.above:
            raise ValueError(f"must be more than {_num(self.above)}, not {text}")
        if self.low is not None and value < self.low:
            raise ValueError(f"must be at least {_num(self.low)}, not {text}")
        if self.high is not None and value > self.high:
            raise ValueError(f"must be at most {_num(self.high)}, not {text}")
        return value

    def check(self, value: Any) -> Any:
        """A value read from a recording, checked as the same value typed on the command line is.

        Raises ValueError with a short reason (a recording may say anything)."""
        if type(value) is type(self.default) and value == self.default:
            return value  # what the command line gives without the option (-1: "random", say)
        if isinstance(self.default, bool):
            if type(value) is not bool:
                raise ValueError(f"must be true or false, not {value!r:.40}")
            return value
        if isinstance(self.default, str):
            if not isinstance(value, str):
                raise ValueError(f"must be text, not {value!r:.40}")
            return self.parse(value)
        whole = isinstance(self.default, int)
        if type(value) not in ((int,) if whole else (int, float)):
            noun = self.noun or ("a whole number" if whole else "a number")
            raise ValueError(f"must be {noun}, not {value!r:.40}")
        return self.parse(repr(value)) if whole else float(self.parse(repr(float(value))))


WHOLE = re.compile(r"[+-]?[0-9]+", re.ASCII)
DECIMAL = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?", re.ASCII)


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


class Action(Value):
    """Something a key does to a running lesson: calls ``Lesson.<method>()`` (with the selected
    process's pid if ``selected``)."""

    __match_args__ = ("key", "method", "description", "help", "selected")
    __slots__ = __match_args__
    key: str
    method: str
    description: str | T
    help: str | T
    selected: bool

    def __init__(self, key: str, method: str, description: str | T, help: str | T = "", selected: bool = False) -> None:
        self.key, self.method, self.description, self.help, self.selected = key, method, description, help, selected


class Toggle(Value):
    """A key that restarts the lesson with a switch flipped (``--naive``, ``--no-lock``)."""

    __match_args__ = ("key", "param", "description", "help")
    __slots__ = __match_args__
    key: str
    param: str
    description: str | T
    help: str | T

    def __init__(self, key: str, param: str, description: str | T, help: str | T = "") -> None:
        self.key, self.param, self.description, self.help = key, param, description, help


class Shot(Value):
    """A picture of a recorded run: the README's screenshots and the snapshot tests.

    ``at``: seconds into the recording; ``press``: keys pressed before the picture is taken;
    ``lang``: the language of the picture.
    """

    __match_args__ = ("name", "at", "caption", "size", "press", "lang")
    __slots__ = __match_args__
    name: str
    at: float
    caption: str
    size: tuple[int, int]
    press: tuple[str, ...]
    lang: str

    def __init__(
        self,
        name: str,
        at: float,
        caption: str,
        size: tuple[int, int] = (120, 40),
        press: tuple[str, ...] = (),
        lang: str = "en",
    ) -> None:
        self.name, self.at, self.caption, self.size, self.press, self.lang = name, at, caption, size, press, lang


class Sample(Value):
    """A real run of the lesson, recorded by ``scripts/record_samples.py`` for its pictures.

    ``kill_holder``: kill the holder of this lock once this many wait; ``after_done``: seconds to
    go on recording after it finished (or went wrong).
    """

    __match_args__ = ("name", "params", "seed", "shots", "kill_holder", "after_done", "limit")
    __slots__ = __match_args__
    name: str
    params: dict[str, Any]
    seed: int
    shots: tuple[Shot, ...]
    kill_holder: tuple[str, int] | None
    after_done: float
    limit: float

    def __init__(
        self,
        name: str,
        params: dict[str, Any],
        seed: int,
        shots: tuple[Shot, ...] = (),
        kill_holder: tuple[str, int] | None = None,
        after_done: float = 0.0,
        limit: float = 60.0,
    ) -> None:
        self.name, self.params, self.seed, self.shots = name, params, seed, shots
        self.kill_holder, self.after_done, self.limit = kill_holder, after_done, limit


class Verdict(Value):
    """Whether the lesson's invariant held; ``ok`` is None while it cannot be told yet.  ``warns``:
    it held, but not cleanly (a child failed, a pitfall was met): never shown with a ✔."""

    __match_args__ = ("ok", "text", "warns")
    __slots__ = __match_args__
    ok: bool | None
    text: str
    warns: bool

    def __init__(self, ok: bool | None, text: str, warns: bool = False) -> None:
        self.ok, self.text, self.warns = ok, text, warns


class Run(Protocol):
    """What a lesson's main part may do: the supervisor provides it."""

    @property
    def stopping(self) -> bool: ...

    def start(self, target: Callable[..., Any], args: tuple[Any, ...] = (), *, role: str, label: str) -> int: ...

    def sleep(self, seconds: float) -> bool:
        """Sleep in lesson time; False when the run is stopping."""
        ...

    def sleep_real(self, seconds: float) -> bool:
        """Sleep in real time (main's own chores); False when the run is stopping."""
        ...

    def alive(self, pid: int) -> bool: ...

    def idle(self) -> None:
        """Say that main's part is done (its ``directing`` False): from now on it only watches and waits for keys."""
        ...

    def send_signal(self, pid: int, sig: signal.Signals) -> bool:
        """Signal one lesson process (main ending a wait that would never end); False if it is gone."""
        ...

    def wait_exit(self, pids: list[int]) -> bool:
        """Wait (in real time) until all of ``pids`` have exited; False when the run is stopping."""
        ...

    def start_program(self, argv: list[str], stdin_pipe: bool) -> int:
        """Start a watched program's main, ``python ARGV`` (``stdin_pipe``: the dashboard types into its stdin)."""
        ...

    def write_stdin(self, line: str) -> None:
        """A line for the watched program's stdin (ValueError if its stdin is not the dashboard's)."""
        ...

    def attach(self, pid: int) -> None:
        """Watch the running program rooted at ``pid`` from outside, never signalling it."""
        ...


class Lesson:
    """A lesson while it runs.  Subclasses fill in the class attributes."""

    name: ClassVar[str]
    # Shown in the current language (``str(Lesson.title)``); ``heading()`` is the title as the options make it.
    title: ClassVar[T]
    teaches: ClassVar[T]
    watch: ClassVar[T]
    explain: ClassVar[T] = T("", "")
    params: ClassVar[tuple[Param, ...]] = ()
    actions: ClassVar[tuple[Action, ...]] = ()
    toggles: ClassVar[tuple[Toggle, ...]] = ()
    # Command-line options of a short headless run whose invariant holds (the
    # tests run it for every lesson), and of a long busy one (the soak).
    quick: ClassVar[tuple[str, ...]] = ()
    busy: ClassVar[tuple[str, ...]] = ()
    samples: ClassVar[tuple[Sample, ...]] = ()
    # What the main part reports about the lesson's world (``data.value``): the
    # type of each field, checked when a recording is read.
    facts: ClassVar[dict[str, type | tuple[type, ...]]] = {"text": str}
    # The module of its panel (``PANEL``): by default ``panel.py`` beside the lesson's module.
    panel_module: ClassVar[str] = ""
    # What the screen shows besides the panel: what the processes print, with a box for the main's stdin.
    printed: ClassVar[bool] = False
    # The main part runs in the dashboard, as the process "main" (a watched program's main is a
    # process of its own); a run that can no longer move is stopped headless (``stop_when_stuck``).
    main_is_here: ClassVar[bool] = True
    stop_when_stuck: ClassVar[bool] = False
    # Its processes are not mpviz's (an attached program): quitting detaches and leaves them
    # running, and no key signals them or changes their speed.
    detaches: ClassVar[bool] = False
    # What a run of it cannot see, said under the wait-for graph ("" : it sees everything it draws).
    unseen: ClassVar[T] = T("", "")
    # Headless: a line per process and per primitive before the verdict (a program's are not known
    # in advance); and what the verdict adds when the run was stopped before it finished.
    summary_at_end: ClassVar[bool] = False
    stopped_early: ClassVar[T] = T(
        "{text}; stopped before the lesson finished: no invariant broken so far",
        "{text};课程结束前被停止:目前没有违反不变式",
    )

    @classmethod
    def stopped(cls, text: str, pitfalls: int) -> str:
        """The verdict's words (``text``) when the run was stopped before it finished, ``pitfalls``
        named over the run."""
        return cls.stopped_early(text=text)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # A key's action is recorded by its English description (``ui.action``): shown in the current language.
        keys: list[Action | Toggle] = [*cls.actions, *cls.toggles]
        vocabulary({key.description.en: key.description.zh for key in keys if isinstance(key.description, T)})

    def __init__(self, run: Run, seed: int | None = None, **params: Any) -> None:
        self.run = run
        # The parameters, completed by prepare() (which may add its own keys).
        self.values = {**{p.name: p.default for p in self.params}, **params}
        self._seed = seed
        self.directing = True

    @functools.cached_property
    def rng(self) -> random.Random:
        """The main part's own random numbers (arrival gaps), seeded like the children's: made when
        first used (random's import is not paid at a watched program's start, which has none)."""
        import random

        return random.Random(None if self._seed is None else f"{self._seed}/main")

    def direct(self) -> None:
        """The tutorial's main part: start the processes.  Runs in a thread."""

    def finished(self, model: Model, now_ns: int) -> bool:
        """True when the lesson has nothing more to do (headless runs then end).

        ``now_ns`` is the time on the records' clock: live, ``monotonic_ns()``.
        """
        return False

    @classmethod
    def judge(cls, model: Model, values: dict[str, Any], now_ns: int, final: bool = False) -> Verdict:
        """The invariant's verdict from the model alone (live or replayed).

        ``final`` says the lesson has finished: what is missing then is missing for good.
        """
        return Verdict(None, "")

    def verdict(self, model: Model, now_ns: int, final: bool = False) -> Verdict:
        return self.judge(model, self.values, now_ns, final)

    def named(self) -> list[str]:
        """The pitfalls named over the run that its verdict still counts (a watched program's)."""
        return []

    def stop(self) -> None:
        """Called once when the run ends, before the processes are stopped."""

    @classmethod
    def prepare(cls, values: dict[str, Any]) -> dict[str, Any]:
        """Check the values before anything is created; return them completed.

        Raises ValueError with one short sentence for the user (a bad file).
        A refused run leaves nothing behind: what the lesson creates (a file,
        a socket) is created in ``__init__``.
        """
        return values

    @classmethod
    def flipped(cls, name: str, params: dict[str, Any]) -> Any:
        """The next value of a switch (a ``Toggle``): a flag flips, a choice moves on to the next one."""
        param = next(p for p in cls.params if p.name == name)
        value = params.get(name, param.default)
        if param.choices:
            return param.choices[(param.choices.index(value) + 1) % len(param.choices)]
        return not value

    @classmethod
    def heading(cls, values: dict[str, Any]) -> str:
        """The title, as the lesson's options make it ("Semaphore: 2 KTV rooms")."""
        return str(cls.title)

    @classmethod
    def summary(cls) -> str:
        return f"{cls.name:<10} {cls.teaches}"

    @classmethod
    def panel_title(cls, values: dict[str, Any]) -> str:
        """The title of its panel."""
        return cls.heading(values)

    @classmethod
    def called(cls, values: dict[str, Any]) -> str:
        """The run's name, in the title and the headless end line (a watched program's file name)."""
        return cls.name

    @classmethod
    def about(cls, name: str) -> str:
        """What the lesson teaches, for the help screen (Markdown)."""
        return ABOUT(title=cls.title, teaches=cls.teaches, explain=cls.explain, watch=cls.watch)

    @classmethod
    def header_fields(cls, values: dict[str, Any]) -> dict[str, Any]:
        """What a recording's header says the run was (read back by ``mpviz.recording.reader``)."""
        return {"lesson": cls.name, "params": values}

    def exit_code(self, model: Model, verdict: Verdict, ended_by_itself: bool) -> int:
        """The headless run's exit code: 1 when the invariant broke, else 0."""
        return 1 if verdict.ok is False else 0


ABOUT = T(
    "# {title}\n\n{teaches}.\n\n{explain}\n\n**Watch for:** {watch}.\n",
    "# {title}\n\n{teaches}。\n\n{explain}\n\n**注意看:** {watch}。\n",
)

# The end of every verdict.
HELD = T("invariant held", "不变式成立")
BROKEN = T("invariant broken", "不变式被打破")


def count(n: int, noun: str, plural: str = "") -> str:
    """``1 connection``, ``2 connections``."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"


def all_exited(model: Model, role: str, expected: int) -> bool:
    procs = model.by_role(role)
    return len(procs) >= expected and all(not p.alive for p in procs)
