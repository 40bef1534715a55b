"""The lessons, one module each, by name."""

from mpviz.scenarios.base import Lesson
from mpviz.scenarios.chat import Chat
from mpviz.scenarios.ktv import Ktv
from mpviz.scenarios.pingpong import PingPong
from mpviz.scenarios.printlock import PrintLock
from mpviz.scenarios.prodcons import ProdCons
from mpviz.scenarios.tickets import Tickets
from mpviz.scenarios.traffic import Traffic

LESSONS: dict[str, type[Lesson]] = {
    cls.name: cls for cls in (Ktv, Traffic, ProdCons, Tickets, PrintLock, Chat, PingPong)
}

__all__ = ["LESSONS", "Lesson"]
