"""The selected process's Python stacks (the ``d`` key): every thread, innermost frame last.

As a traceback shows them, the way ``py-spy dump`` does, with each thread's
heading saying what it waits for — from its records when they say, else from
its stack (``mpviz.model.stacks.infer``) — and the innermost frame of the
user's own code marked.  A process that could not answer says why.
"""

from __future__ import annotations

import os

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll

from mpviz.lang import T
from mpviz.model import Model
from mpviz.model.stacks import Folded, folded, thread_heading, user_frame
from mpviz.ui.theme import duration
from mpviz.ui.widgets.text_view import TextView

SAY = {
    "select": T("Select a process in the table (↑/↓) to see its stacks.", "在表格里选一个进程(↑/↓)看它的调用栈。"),
    "asking": T("Asking {name} for its stacks…", "正在向 {name} 要调用栈……"),
    "none": T("No stack of {name} yet.", "还没有 {name} 的调用栈。"),
    "title": T("{name} (pid {pid}), read {ago} ago", "{name}(pid {pid}),{ago} 前读取"),
    "missing": T("No stack: {why}", "没有调用栈:{why}"),
    "exited": T("{name} has ended.", "{name} 已结束。"),
}


def stacks_text(model: Model, pid: int | None, now_ns: int, asked: bool) -> Text:
    proc = model.procs.get(pid) if pid is not None else None
    if proc is None:
        return Text(str(SAY["select"]), style="dim")
    if not proc.stacks_ns:
        if not proc.alive:
            return Text(SAY["exited"](name=proc.name), style="dim")
        return Text((SAY["asking"] if asked else SAY["none"])(name=proc.name), style="dim")
    text = Text(SAY["title"](name=proc.name, pid=proc.pid, ago=duration(now_ns - proc.stacks_ns)), style="dim")
    if proc.stacks_missing:
        text.append("\n" + SAY["missing"](why=proc.stacks_missing), style="bold red1")
        return text
    known = proc.recorded()
    for stack in proc.stacks:
        text.append("\n\n")
        text.append(thread_heading(stack, known.get(stack.tid, "")), style="bold")
        mine = user_frame(stack.frames)
        for frame in folded(stack):
            if isinstance(frame, Folded):
                text.append(f"\n  {frame.words}", style="dim italic")
                continue
            ours = frame is mine
            place = f'\n  File "{os.path.basename(frame.file)}", line {frame.line}, in '
            text.append(place, style="" if ours else "dim")
            text.append(frame.function, style="bold" if ours else "")
            if frame.text:
                text.append(f"\n    {frame.text}", style="bold yellow" if ours else "")
    return text


class StackView(VerticalScroll, can_focus=False):
    """The stacks of the process selected in the table (the ``d`` key), scrolling when they are long."""

    def compose(self) -> ComposeResult:
        yield TextView()

    def present(self, model: Model, pid: int | None, now_ns: int, asked: bool = False) -> None:
        self.query_one(TextView).show(stacks_text(model, pid, now_ns, asked))
