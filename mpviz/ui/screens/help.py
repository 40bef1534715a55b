"""``?``: what the lesson teaches, and what every key does."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

from mpviz.lang import T
from mpviz.lesson import Lesson
from mpviz.model.pitfall_words import SECTIONS, WHAT

LEGEND = T(
    """\
| on the timeline | means |
|---|---|
| `━━` blue | running: doing its own work |
| `╌╌` steel blue | sleeping (`time.sleep`) |
| `██` green | holding a lock or semaphore |
| `▒▒` red | blocked: waiting for a lock, a semaphore, an event, a queue, a pipe, a join — or, as its stack says, in a socket or a C call |
| `▚▚` magenta | paused (SIGSTOP) |
| `··` grey | starting up |
""",
    """\
| 时间线上 | 意思 |
|---|---|
| `━━` 蓝 | 运行:在做自己的事 |
| `╌╌` 钢蓝 | 睡眠(`time.sleep`)|
| `██` 绿 | 持有一把锁或一个信号量 |
| `▒▒` 红 | 阻塞:在等锁、信号量、事件、队列、管道、join——或者(看调用栈)在 socket 或 C 调用里 |
| `▚▚` 品红 | 暂停(SIGSTOP) |
| `··` 灰 | 启动中 |
""",
)


BODY = T(
    """\
{about}
## Keys

{rows}
- `enter` in the table, or a click on `▾`/`▸`: fold the selected process's subtree into its row (its CPU, RSS and threads added up), or unfold it
{quit}

## Reading the screen

Each row of **Processes** is a real PID, under the process that started it. *State* is what the process is doing
in the lesson's words; when it is blocked, the words come from the primitive
it waits on. *Status*, *CPU%*, *RSS* and *Thr* come from psutil once a second;
*CPU 1m* and *RSS 1m* are their last minute, and **Selected process** draws the
last minutes of the selected one. In a replay, a click on either (or `[`) goes
back to that moment. psutil cannot tell "blocked on a lock" from "sleeping":
the blocked states come from the records the primitives send.

{legend}
## What mpviz names

A **deadlock** (a ring of processes or threads, each waiting for what the
next one holds), a lock held by a **dead** or paused process, a **hang**
(a wait nobody can end), and, as warnings, a **potential deadlock** (two
takers of the same locks in opposite orders: this run did not deadlock,
another could) and the pitfalls of the docs' *Programming guidelines*:

{pitfalls}

Press `escape` or `?` to close.
""",
    """\
{about}
## 按键

{rows}
- 在表格里按 `enter`,或点 `▾`/`▸`:把选中进程的子树折进它这一行(CPU、RSS 和线程数相加),或展开
{quit}

## 怎么看这个界面

**进程** 的每一行是一个真实的 PID,排在启动它的进程下面。*状态* 用这一课的话说进程在做什么;阻塞时,
说的是它在等的那个同步原语。*系统状态*、*CPU%*、*RSS* 和 *Thr* 每秒从 psutil 读一次;
*CPU 1分* 和 *RSS 1分* 是它们最近一分钟,**选中的进程** 画出选中进程最近几分钟。
回放时,点一下(或按 `[`)就回到那个时刻。
psutil 分不清"阻塞在锁上"和"睡眠":阻塞状态来自同步原语发出的记录。

{legend}
## mpviz 会指出什么

**死锁**(进程或线程围成一圈,各自在等下一个持有的东西)、被**已死**或已暂停的进程持有的锁、
**卡死**(谁也结束不了的等待);以及警告:**潜在死锁**(两个进程或线程以相反顺序拿同样的锁:
这次没死锁,换个时机就会)和文档 *Programming guidelines* 里的陷阱:

{pitfalls}

按 `escape` 或 `?` 关闭。
""",
)


QUIT = T("- `q` quit: every process is stopped first", "- `q` 退出:先停掉每个进程")
DETACH = T(
    "- `q` detach: mpviz lets go, and every process of the program goes on exactly as it was (nothing is stopped or signalled)",
    "- `q` 脱离:mpviz 放手,程序的每个进程照旧运行(什么也不停,不发任何信号)",
)
TITLE = T("Help", "帮助")
CLOSE = T("escape to close", "escape 关闭")


def help_text(lesson: type[Lesson], name: str, keys: list[tuple[str, str]]) -> str:
    rows = "\n".join(f"- `{key}` {what}" for key, what in keys)
    pitfalls = "\n".join(f"- {WHAT[kind]} (*{section}*)" for kind, section in SECTIONS.items())
    quit = DETACH if lesson.detaches else QUIT
    return BODY(about=lesson.about(name), rows=rows, legend=LEGEND, pitfalls=pitfalls, quit=quit)


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,question_mark,q", "dismiss", str(CLOSE))]

    def __init__(self, lesson: type[Lesson], name: str, keys: list[tuple[str, str]]) -> None:
        super().__init__()
        self.lesson = lesson
        self.name_shown = name
        self.keys = keys

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Markdown(help_text(self.lesson, self.name_shown, self.keys))

    def on_mount(self) -> None:
        self.query_one("#help").border_title = str(TITLE)
        self.query_one("#help").border_subtitle = str(CLOSE)
