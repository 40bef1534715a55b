"""The tickets lesson: buyers you can add, restocking, and the lock switched off and on."""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from pathlib import Path
from typing import Any

from mpviz.lang import T, vocabulary
from mpviz.lesson import BROKEN, HELD, Action, Lesson, Param, Run, Sample, Shot, Verdict, all_exited
from mpviz.lessons.tickets.workers import Said, TicketFileError, buy_ticket, read_count, write_count
from mpviz.model import Model
from mpviz.sync import Lock, context
from mpviz.telemetry import emit

FILE = "ticket file"  # what main saw in the file, in the model's values
LOCK = "ticket"  # the lock's name

# How often main looks at the file, to show what it really holds.
WATCH_S = 0.25


# Main's words for what it saw in the file, and for the lock's switch; the numbers come from the record.
HOLDS = f"{FILE} holds {{count}}"
HOLDS_STOCK = f"{FILE} holds {{count}} (stock {{stock}})"
TAKE, SKIP = "buyers from now on take the lock", "buyers from now on skip the lock"

# The tutorial prints 'person{}查询当前余票', 'person{}购票成功' and '余票不足,person{}购票失败'.
vocabulary(
    {
        Said.CHECKS: "查询当前余票",
        Said.READ: "读取票文件",
        Said.BOUGHT: "购票成功",
        Said.SOLD_OUT: "余票不足,购票失败",
        "buyer": "person",
        HOLDS: "票文件里还剩 {count} 张",
        HOLDS_STOCK: "票文件里还剩 {count} 张(共 {stock} 张)",
        TAKE: "之后的买票人都要拿锁",
        SKIP: "之后的买票人都不拿锁",
    }
)
SAY = {
    "oversold": T(
        "oversold: {sold} tickets sold of {stock} in stock{who}", "超卖:一共 {stock} 张票,卖出了 {sold} 张{who}"
    ),
    "overlapped": T("; read–write windows overlapped: {names}", ";读写的时间段重叠了:{names}"),
    "broken_file": T("the ticket file is broken: {error}", "票文件坏了:{error}"),
    "counts": T(
        "{sold} sold, {left} left in the file, {stock} in stock", "卖出 {sold} 张,文件里剩 {left} 张,一共 {stock} 张"
    ),
    "wrong": T("sold + left != stock", "卖出 + 剩下 != 总数"),
    "right": T("sold + left == stock", "卖出 + 剩下 == 总数"),
}


class Tickets(Lesson):
    name = "tickets"
    title = T("Lock: the ticket rush", "锁:12306 抢票")
    teaches = T(
        "a Lock makes read-modify-write of a shared file serial; without it, tickets oversell",
        "锁让对共享文件的读-改-写变成串行;不加锁,票就会超卖",
    )
    watch = T(
        "one buyer holds the lock at a time; switch the lock off and watch the file oversell",
        "同一时间只有一个买票人拿着锁;把锁关掉,看文件超卖",
    )
    explain = T(
        "A JSON file holds the tickets left. Each buyer reads it, waits a moment, and writes "
        "count - 1. With the Lock, one buyer at a time does the whole read-wait-write, so the "
        "count is always right. Without it, buyers read the same count and each sells a ticket: "
        "more are sold than ever existed. multiprocessing's Lock has no owner: if its holder is "
        "killed, everyone waiting waits forever.",
        "一个 JSON 文件记着剩下的票数。每个买票人读它,等一会儿,再写回 count - 1。加锁时,同一时间只有一个"
        "买票人做完整个读-等-写,票数总是对的。不加锁,买票人读到同一个票数,各卖一张:卖出的比有的还多。"
        "multiprocessing 的锁没有主人:持有锁的进程被杀掉,等锁的进程就永远等下去。",
    )
    params = (
        Param(
            "stock",
            3,
            T("tickets in a new file (an existing --db keeps its count)", "新文件里的票数(已有的 --db 保留它的票数)"),
            0,
            1_000_000,
        ),
        Param("buyers", 5, T("buyers in the rush", "抢票的人数"), 0, 1000),
        Param(
            "db", "", T("the ticket file (default: a fresh temporary one)", "票文件(默认:一个新的临时文件)"), file=True
        ),
        Param("no_lock", False, T("buy without the lock: the file oversells", "不加锁买票:文件超卖")),
        Param(
            "read_delay",
            -1.0,
            T(
                "seconds between reading and writing (default: random(), as in the tutorial)",
                "读和写之间等几秒(默认:random(),和教程一样)",
            ),
            0,
            3600,
        ),
        Param(
            "write_delay",
            -1.0,
            T("seconds after writing, before releasing (default: random())", "写完后、释放锁前等几秒(默认:random())"),
            0,
            3600,
        ),
    )
    actions = (
        Action("b", "add_buyer", T("Add buyer", "加一个买票人"), T("another buyer joins the rush", "又一个人来抢票")),
        Action("B", "add_ten", T("Add 10", "加 10 个"), T("ten more buyers join the rush", "又来十个人抢票")),
        Action(
            "t",
            "restock",
            T("Restock", "补票"),
            T("main puts --stock more tickets into the file", "主进程往文件里再补 --stock 张票"),
        ),
        Action(
            "l",
            "toggle_lock",
            T("Lock on/off", "锁开/关"),
            T("buyers from now on use the lock, or not", "之后的买票人用锁,或不用"),
        ),
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
        """Refuse a --db mpviz could not use; create nothing (``__init__`` does, once the whole run is accepted)."""
        values = dict(values)
        db = values.get("db") or ""
        if not db:
            return values
        target = os.path.realpath(db)  # through a symlink: its target is what is written
        if os.path.exists(target):
            read_count(db)  # a bad file is refused, and left as it is
            if not os.access(target, os.W_OK):
                raise TicketFileError(f"cannot write {db}: {os.strerror(errno.EACCES)}")
        # Every write goes through a temp file beside the file: the folder must take one.
        folder = os.path.dirname(target)
        try:
            with tempfile.TemporaryFile(dir=folder):
                pass
        except OSError as exc:
            reason = exc.strerror or str(exc)
            if os.path.exists(target):
                raise TicketFileError(f"cannot write {db}: {folder} takes no temp file ({reason})") from None
            raise TicketFileError(f"cannot create {db}: {reason}") from None
        values["db"] = os.path.abspath(db)
        return values

    def __init__(self, run: Run, seed: int | None = None, **params: Any) -> None:
        super().__init__(run, seed, **params)
        if not self.values["db"]:
            folder = tempfile.mkdtemp(prefix="mpviz-tickets-")
            self.values.update(db=os.path.join(folder, "ticket"), temporary=folder)
        self.db: str = self.values["db"]
        if not os.path.exists(self.db):
            try:
                write_count(self.db, self.values["stock"])
            except OSError as exc:
                raise TicketFileError(f"cannot create {self.db}: {exc.strerror or exc}") from None
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
            {"count": stock, "stock": stock, "path": self.db, "lock": locked, "text": HOLDS_STOCK},
        )
        for _ in range(self.values["buyers"]):
            self.add_buyer()
        self.directing = False
        self.run.idle()  # (what follows is the dashboard's watch on the file, not the tutorial's main)
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
                emit("data.value", FILE, {"count": count, "settled": idle, "text": HOLDS})
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
        emit("data.value", FILE, {"count": count, "stock": self.stock, "text": HOLDS_STOCK})

    def toggle_lock(self) -> None:
        self.use_lock.value = 0 if self.use_lock.value else 1
        locked = bool(self.use_lock.value)
        emit("data.value", FILE, {"lock": locked, "text": TAKE if locked else SKIP})

    def finished(self, model: Model, now_ns: int) -> bool:
        settled = model.values.get(FILE, {}).get("settled", False)
        return not self.directing and all_exited(model, "buyer", self.buyers) and settled

    def stop(self) -> None:
        # Stray temp files of buyers killed mid-write (beside the file a link points to); the whole folder if it was ours.
        target = Path(os.path.realpath(self.db))
        for stray in target.parent.glob(f".{target.name}.*.tmp"):
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
            who = SAY["overlapped"](names=", ".join(overlaps)) if overlaps else ""
            return Verdict(False, f"{SAY['oversold'](sold=sold, stock=stock, who=who)}: {BROKEN}")
        if "error" in facts:
            return Verdict(False, f"{SAY['broken_file'](error=facts['error'])}: {BROKEN}")
        text = SAY["counts"](sold=sold, left=left, stock=stock)
        if final and left is not None and sold + left != stock:
            return Verdict(False, f"{text}: {SAY['wrong']}: {BROKEN}")
        return Verdict(True, f"{text}: {SAY['right']}, {HELD}") if final else Verdict(None, text)


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
