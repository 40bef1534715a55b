"""The tutorial's 12306 ticket rush, on a real JSON file.

Each buyer checks the count without the lock, then takes the lock, reads the
file, waits (read delay), buys if any are left and writes the file back,
waits (write delay), releases.  With the lock, buying is serial and never
oversells; without it, buyers read the same count and sell tickets that do
not exist.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import tempfile
from enum import StrEnum
from pathlib import Path
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


def read_count(db: str) -> int:
    try:
        with open(db, encoding="utf-8") as f:
            data = json.load(f)
    except OSError as exc:
        raise TicketFileError(f"cannot read {db}: {exc.strerror or exc}") from None
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise TicketFileError(f"{db} is not valid JSON") from None
    if not isinstance(data, dict) or type(data.get("count")) is not int or data["count"] < 0:
        raise TicketFileError(f'{db} must hold a JSON object like {{"count": 3}}')
    return data["count"]


def write_count(db: str, count: int) -> None:
    """Write the file so that it is valid JSON at every instant.

    A temp file beside it, then ``os.replace``: a buyer killed mid-write
    leaves the old file whole (and a stray temp file, which main removes).
    """
    path = Path(db)
    try:
        mode = path.stat().st_mode & 0o777  # mkstemp makes 0600 files: keep the file's own mode
    except FileNotFoundError:
        mode = 0o644
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump({"count": count}, f)
        os.chmod(tmp, mode)
        os.replace(tmp, db)
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
