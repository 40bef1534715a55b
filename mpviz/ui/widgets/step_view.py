"""Step mode: who waits at a scheduling point, what each is about to do, and who went.

In a scheduled run (``--step``, ``S``) every process waits at each operation
until it is let go.  This view draws the offer the scheduler makes (the
``turn.*`` records in the model, so a replay draws it too): a row per process
at a point, numbered for its key, with what it last said and what it is about
to do — ``buyer 2: read the ticket file … then sleep at ticket.py:22`` — and
those whose operation would block shown as such; then the last decisions.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widget import Widget

from mpviz import lang
from mpviz.lang import T
from mpviz.model import Model
from mpviz.model.words import doing, said
from mpviz.ui.widgets.text_view import TextView

# The most rows with a key of their own (1 … 9).
KEYED = 9

SAY = {
    "choose": T(
        "Who goes next? 1–{n} or Enter (the selected process) · u: until it blocks · F: run free",
        "下一个谁走?1–{n} 或回车(选中的进程)· u:走到它阻塞为止 · F:自由运行",
    ),
    "runs": T("{who} runs to its next point …", "{who} 在走,直到它的下一个调度点 …"),
    "waits": T("waiting for a process to come to its first point …", "等一个进程到达它的第一个调度点 …"),
    "free": T(
        "Running free: everyone goes as soon as it may · F: one at a time again", "自由运行:谁能走谁就走 · F:又一次一个"
    ),
    "then": T("{said} … then {doing}", "{said} … 然后{doing}"),
    "blocks": T("would block", "会阻塞"),
    "stuck": T("Nobody can go on: {who}", "谁都走不了:{who}"),
    "ran_free": T("ran free (did not come back to a point in time): {who}", "自由运行了(没有按时回到调度点):{who}"),
    "made": T("{n} decision{s} · the last ones:", "已做 {n} 次决定 · 最近的:"),
    "ended": T("{who} has ended · nobody waits at a point", "{who} 已结束 · 没有谁在调度点等着"),
    "none": T("no decision yet", "还没有决定"),
}


def step_text(model: Model, free: bool = False) -> Text:
    """The offer, or who runs; then the last decisions."""
    turns = model.turns
    text = Text()
    if free:
        text.append(f"{SAY['free']}\n", style="bold")
    if turns.offer:
        keyed = sum(1 for option in turns.offer[:KEYED] if option[4])
        if not free:
            text.append(f"{SAY['choose'](n=max(keyed, 1))}\n", style="bold")
        n = 0
        for who, op, what, at, may in turns.offer:
            said = _said(model, who)
            words = doing(op, what, at)
            line = SAY["then"](said=said, doing=words) if said else words
            if may and n < KEYED:
                n += 1
                text.append(f" {n} ", style="reverse bold")
            else:
                text.append("   ")
            text.append(f" {lang.ljust(lang.label(who), 16)} ", style="bold" if may else "dim")
            text.append(line, style="" if may else "dim")
            if not may:
                text.append(f"  ({SAY['blocks']})", style="red")
            text.append("\n")
    elif turns.stuck:
        text.append(f"{SAY['stuck'](who=', '.join(turns.stuck))}\n", style="bold red")
    elif turns.recent and not free:
        last = turns.recent[-1]
        who = str(last.data.get("who", ""))
        proc = model.procs.get(last.pid)
        gone = proc is not None and not proc.alive
        text.append(f"{SAY['ended' if gone else 'runs'](who=who)}\n", style="italic")
    elif not free:
        text.append(f"{SAY['waits']}\n", style="italic")
    if turns.free:
        text.append(f"{SAY['ran_free'](who=', '.join(turns.free))}\n", style="dark_orange")
    text.append("\n")
    if not turns.recent:
        text.append(str(SAY["none"]), style="dim")
        return text
    text.append(f"{SAY['made'](n=turns.made, s='' if turns.made == 1 else 's')}\n", style="dim")
    for event in reversed(turns.recent):
        d = event.data
        text.append(f"  {d.get('step', '')}. ", style="dim")
        text.append(lang.label(str(d.get("who", ""))), style="bold")
        text.append(f": {doing(str(d.get('op', '')), str(d.get('what', '')), str(d.get('at', '')))}\n")
    return text


def _said(model: Model, who: str) -> str:
    """What the process last said it does (a lesson's words, in the current language)."""
    proc = next((p for p in model.procs.values() if p.label == who), None)
    if proc is None or not proc.alive or not proc.said:
        return ""
    fact = proc.facts.get(proc.said)
    return said(proc.said, fact.last if fact else {})


class StepView(VerticalScroll, can_focus=False):
    """The step view of a scheduled run (its home view, instead of the timeline)."""

    def compose(self) -> ComposeResult:
        yield TextView()

    def present(self, model: Model, free: bool = False) -> None:
        outer = self.parent.size.width if isinstance(self.parent, Widget) else self.size.width
        if outer > 0:
            self.query_one(TextView).show(step_text(model, free))

    def row(self, model: Model, n: int) -> str | None:
        """Who row ``n`` (1 …) lets go: the n-th of those who may go."""
        offered = [option[0] for option in model.turns.offer or () if option[4]]
        return offered[n - 1] if 0 < n <= min(len(offered), KEYED) else None
