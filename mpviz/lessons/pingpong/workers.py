"""The tutorial's two-way messages: a Queue both ways (and its race), then a duplex Pipe.

The tutorial's exchange: main puts "hi", the child gets it and puts "hello"
back, main sleeps 0.5 s and gets.  Without the sleep, main can take its own
"hi" back out of the queue — a Queue has one end for everybody — and the
child waits forever.  A duplex Pipe has two ends: what main sends only the
child can receive, so the same exchange has no race.
"""

from __future__ import annotations

from enum import StrEnum

from mpviz.sync import Queue
from mpviz.sync.connection import Connection as PipeEnd
from mpviz.telemetry import report

HI, HELLO = "hi", "hello"


class Said(StrEnum):
    GOT = "got"
    TOOK_OWN = "took back its own message"
    GOT_REPLY = "got the reply"


def haha(q: Queue) -> None:
    print_ = q.get()  # print(q.get())
    report(Said.GOT, item=print_)
    q.put(HELLO)  # q.put('你好')


def haha_pipe(conn: PipeEnd) -> None:
    report(Said.GOT, item=conn.recv())  # print(conn.recv())
    conn.send(HELLO)
