"""The tickets lesson: buyers you can add, restocking, and the lock switched off and on."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Any

from mpviz.lessons.base import Action, Lesson, Param, Run, Sample, Shot, Verdict, all_exited
from mpviz.lessons.tickets.workers import Said, TicketFileError, buy_ticket, read_count, write_count
from mpviz.model import Model
from mpviz.sync import Lock, context
from mpviz.telemetry import emit

FILE = "ticket file"  # what main saw in the file, in the model's values
LOCK = "ticket"  # the lock's name

# How often main looks at the file, to show what it really holds.
WATCH_S = 0.25


def holds(count: int, stock: int | None = None) -> str:
    """The log's line for what main saw in the file."""
    return f"{FILE} holds {count}" + ("" if stock is None else f" (stock {stock})")


class Tickets(Lesson):
    name = "tickets"
    title = "Lock: the ticket rush"
    teaches = "a Lock makes read-modify-write of a shared file serial; without it, tickets oversell"
    watch = "one buyer holds the lock at a time; switch the lock off and watch the file oversell"
    explain = (
        "A JSON file holds the tickets left. Each buyer reads it, waits a moment, and writes "
        "count - 1. With the Lock, one buyer at a time does the whole read-wait-write, so the "
        "count is always right. Without it, buyers read the same count and each sells a ticket: "
        "more are sold than ever existed. multiprocessing's Lock has no owner: if its holder is "
        "killed, everyone waiting waits forever."
    )
    params = (
        Param("stock", 3, "tickets in a new file (an existing --db keeps its count)", 0, 1_000_000),
        Param("buyers", 5, "buyers in the rush", 0, 1000),
        Param("db", "", "the ticket file (default: a fresh temporary one)"),
        Param("no_lock", False, "buy without the lock: the file oversells"),
        Param(
            "read_delay", -1.0, "seconds between reading and writing (default: random(), as in the tutorial)", 0, 3600
        ),
        Param("write_delay", -1.0, "seconds after writing, before releasing (default: random())", 0, 3600),
    )
    actions = (
        Action("b", "add_buyer", "Add buyer", "another buyer joins the rush"),
        Action("B", "add_ten", "Add 10", "ten more buyers join the rush"),
        Action("t", "restock", "Restock", "main puts --stock more tickets into the file"),
        Action("l", "toggle_lock", "Lock on/off", "buyers from now on use the lock, or not"),
    )
    facts = {"count": int, "stock": int, "path": str, "lock": bool, "settled": bool, "text": str, "error": str}
    quick = ("--buyers", "8", "--stock", "5", "--read-delay", "0.05", "--write-delay", "0.01", "--seed", "3")
    busy = ("--buyers", "20", "--speed", "50")
    samples = (
        Sample(
            "tickets",
            {"buyers": 5},
            seed=3,
            shots=(Shot("tickets", 1.5, "tickets: one buyer holds the lock, the rest wait in line"),),
        ),
        Sample(
            "tickets-oversold",
            {"buyers": 5, "no_lock": True, "read_delay": 1.0},
            seed=3,
            shots=(Shot("tickets-oversold", 2.1, "tickets --no-lock: five tickets sold of three, caught"),),
        ),
        Sample(
            "tickets-deadlock",
            {"buyers": 4, "read_delay": 2.0},
            seed=3,
            kill_holder=(LOCK, 3),
            after_done=3.0,
            limit=12.0,
            shots=(Shot("tickets-deadlock", 2.0, "tickets: the lock holder killed, its waiters stuck for good"),),
        ),
    )

    @classmethod
    def prepare(cls, values: dict[str, Any]) -> dict[str, Any]:
        values = dict(values)
        db = values.get("db") or ""
        if not db:
            folder = tempfile.mkdtemp(prefix="mpviz-tickets-")
            db = os.path.join(folder, "ticket")
            write_count(db, values.get("stock", 3))
            values["temporary"] = folder
        elif not os.path.exists(db):
            try:
                write_count(db, values.get("stock", 3))
            except OSError as exc:
                raise TicketFileError(f"cannot create {db}: {exc.strerror or exc}") from None
        else:
            read_count(db)  # a bad file is refused, and left as it is
        values["db"] = os.path.abspath(db)
        return values

    def __init__(self, run: Run, seed: int | None = None, **params: Any) -> None:
        super().__init__(run, seed, **params)
        self.db: str = self.values["db"]
        self.lock = Lock(name=LOCK)
        self.use_lock = context().RawValue("b", 0 if self.values["no_lock"] else 1)
        self.buyers = 0
        self.pids: list[int] = []
        self.stock = 0

    def direct(self) -> None:
        self.stock = stock = read_count(self.db)
        locked = bool(self.use_lock.value)
        emit(
            "data.value",
            FILE,
            {"count": stock, "stock": stock, "path": self.db, "lock": locked, "text": holds(stock, stock)},
        )
        for _ in range(self.values["buyers"]):
            self.add_buyer()
        self.directing = False
        # Keep showing what the file really holds, until the lesson stops; and
        # once no buyer is left, say so with a last look ("settled").
        last, settled = stock, False
        while self.run.sleep_real(WATCH_S):
            idle = not any(self.run.alive(pid) for pid in self.pids)
            try:
                count = read_count(self.db)
            except TicketFileError as exc:
                emit("data.value", FILE, {"error": str(exc)})
                continue
            if count != last or idle != settled:
                emit("data.value", FILE, {"count": count, "settled": idle, "text": holds(count)})
                last, settled = count, idle

    def add_buyer(self) -> None:
        i = self.buyers
        self.buyers += 1
        args = (i, self.lock, self.db, self.use_lock, self.values["read_delay"], self.values["write_delay"])
        self.pids.append(self.run.start(buy_ticket, args, role="buyer", label=f"buyer {i}"))

    def add_ten(self) -> None:
        for _ in range(10):
            self.add_buyer()

    def restock(self) -> None:
        with self.lock:
            count = read_count(self.db) + self.values["stock"]
            write_count(self.db, count)
            self.stock += self.values["stock"]
        emit("data.value", FILE, {"count": count, "stock": self.stock, "text": holds(count, self.stock)})

    def toggle_lock(self) -> None:
        self.use_lock.value = 0 if self.use_lock.value else 1
        locked = bool(self.use_lock.value)
        emit(
            "data.value", FILE, {"lock": locked, "text": f"buyers from now on {'take' if locked else 'skip'} the lock"}
        )

    def finished(self, model: Model, now_ns: int) -> bool:
        settled = model.values.get(FILE, {}).get("settled", False)
        return not self.directing and all_exited(model, "buyer", self.buyers) and settled

    def stop(self) -> None:
        # Stray temp files of buyers killed mid-write; the whole folder if it was ours.
        folder = Path(self.db).parent
        for stray in folder.glob(f".{Path(self.db).name}.*.tmp"):
            with contextlib.suppress(OSError):
                stray.unlink()
        temporary = self.values.get("temporary")
        if temporary:
            with contextlib.suppress(OSError):
                os.unlink(self.db)
                os.rmdir(temporary)

    @classmethod
    def judge(cls, model: Model, values: dict[str, Any], now_ns: int, final: bool = False) -> Verdict:
        facts = model.values.get(FILE, {})
        stock = facts.get("stock", 0)
        left = facts.get("count")
        sold = model.said(Said.BOUGHT)
        if sold > stock:
            overlaps = overlapping_buyers(model)
            who = f"; read–write windows overlapped: {', '.join(overlaps)}" if overlaps else ""
            return Verdict(False, f"oversold: {sold} tickets sold of {stock} in stock{who}: invariant broken")
        if "error" in facts:
            return Verdict(False, f"the ticket file is broken: {facts['error']}: invariant broken")
        text = f"{sold} sold, {left} left in the file, {stock} in stock"
        if final and left is not None and sold + left != stock:
            return Verdict(False, f"{text}: sold + left != stock: invariant broken")
        return Verdict(True, f"{text}: sold + left == stock, invariant held") if final else Verdict(None, text)


def windows(model: Model) -> list[tuple[int, int, str]]:
    """Each buyer's read–write window: from reading the file to writing it back."""
    out = []
    for proc in model.by_role("buyer"):
        read, wrote = proc.first_said(Said.READ), proc.first_said(Said.BOUGHT)
        if read is not None and wrote is not None:
            out.append((read, wrote, proc.name))
    return out


def overlapping_buyers(model: Model) -> list[str]:
    """Buyers whose read–write window overlapped another's: each sold from a stale count."""
    spans = sorted(windows(model))
    names: list[str] = []
    for i, (start, end, name) in enumerate(spans):
        if any(s < end and start < e for j, (s, e, _) in enumerate(spans) if j != i) and name not in names:
            names.append(name)
    return names


LESSON = Tickets
