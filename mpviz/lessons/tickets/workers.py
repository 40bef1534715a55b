"""The tutorial's 12306 ticket rush, on a real JSON file.

Each buyer checks the count without the lock, then takes the lock, reads the
file, waits (read delay), buys if any are left and writes the file back,
waits (write delay), releases.  With the lock, buying is serial and never
oversells; without it, buyers read the same count and sell tickets that do
not exist.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import random
import stat
import tempfile
from enum import StrEnum
from typing import Any

from mpviz.sync import Lock, sleep
from mpviz.telemetry import report


class Said(StrEnum):
    CHECKS = "checks the count"
    READ = "reads the file"
    BOUGHT = "bought a ticket"
    SOLD_OUT = "sold out"


class TicketFileError(ValueError):
    """The ticket file is missing, unreadable or not ``{"count": N}``."""


# A ticket file is a few bytes: anything bigger is not one, and is never read whole.
MOST_BYTES = 1 << 20


def load(db: str) -> tuple[str, int]:
    """The file's text and its count; TicketFileError, with one short reason, for anything else."""
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused just below).
        fd = os.open(db, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        raise TicketFileError(f"cannot read {db}: {exc.strerror or exc}") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        if stat.S_ISDIR(mode):
            raise TicketFileError(f"cannot read {db}: {os.strerror(errno.EISDIR)}")
        raise TicketFileError(f"{db} is not a regular file")
    with open(fd, "rb") as f:
        data = f.read(MOST_BYTES + 1)
    if len(data) > MOST_BYTES:
        raise TicketFileError(f"{db} is over 1 MiB: not a ticket file")
    try:
        text = data.decode("utf-8")
        obj = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise TicketFileError(f"{db} is not valid JSON") from None
    except RecursionError:
        raise TicketFileError(f"{db} is nested too deeply: not a ticket file") from None
    if not isinstance(obj, dict) or type(obj.get("count")) is not int or obj["count"] < 0:
        raise TicketFileError(f'{db} must hold a JSON object like {{"count": 3}}')
    return text, obj["count"]


def read_count(db: str) -> int:
    return load(db)[1]


def count_span(text: str) -> tuple[int, int]:
    """Where the value of the top-level "count" is in a ticket file's text (the last one, as json.loads keeps)."""

    def skip(i: int) -> int:  # past JSON's blanks
        while text[i] in " \t\n\r":
            i += 1
        return i

    decoder = json.JSONDecoder()
    i = skip(0) + 1  # past "{"
    span = (0, 0)
    while text[i := skip(i)] != "}":
        key, i = json.decoder.scanstring(text, i + 1)  # type: ignore[attr-defined]  # json's own, untyped
        i = skip(skip(i) + 1)  # past ":"
        _, end = decoder.raw_decode(text, i)
        if key == "count":
            span = (i, end)
        i = skip(end)
        if text[i] == ",":
            i += 1
    return span


def write_count(db: str, count: int) -> None:
    """Change the count, and nothing else: the other keys and the file's layout stay as they were.

    Through a symlink, its target is written.  A temp file beside the target,
    then ``os.replace``: the file is valid JSON at every instant, and a buyer
    killed mid-write leaves the old file whole (and a stray temp file, which
    main removes).
    """
    target = os.path.realpath(db)
    try:
        mode = os.stat(target).st_mode & 0o777  # mkstemp makes 0600 files: keep the file's own mode
    except FileNotFoundError:
        text, mode = json.dumps({"count": count}), 0o644
    else:
        text, _ = load(target)
        start, end = count_span(text)
        text = f"{text[:start]}{count}{text[end:]}"
    folder, name = os.path.split(target)
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def delay(fixed: float) -> float:
    return random.random() if fixed < 0 else fixed


def check_ticket(i: int, db: str) -> None:
    report(Said.CHECKS, count=read_count(db))  # print('person{}查询当前余票 : '.format(i), ...)


def buy_ticket(i: int, lock: Lock, db: str, use_lock: Any, read_delay: float, write_delay: float) -> None:
    check_ticket(i, db)
    locked = bool(use_lock.value)  # mpviz: a key switches the lock off and on
    if locked:
        lock.acquire()
    count = read_count(db)
    report(Said.READ, count=count)
    sleep(delay(read_delay))  # the read delay
    if count > 0:
        write_count(db, count - 1)
        report(Said.BOUGHT, left=count - 1)  # print('person{}购票成功'.format(i))
    else:
        report(Said.SOLD_OUT)  # print('余票不足,person{}购票失败'.format(i))
    sleep(delay(write_delay))  # the write delay
    if locked:
        lock.release()
