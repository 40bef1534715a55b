"""The ticket file as it really is, what was sold, the lock, and each buyer."""

from __future__ import annotations

from typing import Any

from rich.text import Text

from mpviz.lang import T, ljust, word
from mpviz.lessons.tickets.lesson import FILE, LOCK, overlapping_buyers
from mpviz.lessons.tickets.workers import Said
from mpviz.model import Model
from mpviz.ui.theme import PHASE_STYLE
from mpviz.ui.widgets.lesson_panel import LessonPanel
from mpviz.ui.widgets.primitives import holders, waiters

SAY = {
    "file": T("Ticket file", "票文件"),
    "left": T("  left ", "  剩 "),
    "sold": T(" (in the file) · sold ", "(文件里)· 卖出 "),
    "stock": T(" · stock {stock}\n", " · 一共 {stock}\n"),
    "oversold": T("  OVERSOLD: {n} tickets that never existed\n", "  超卖:{n} 张根本不存在的票\n"),
    "buyers": T("  buyers ", "  买票人 "),
    "take": T("take the lock", "拿锁"),
    "skip": T("skip the lock", "不拿锁"),
    "lock": T("Lock '{name}'", "锁 '{name}'"),
    "who": T("Buyers", "买票人"),
    "stale": T("  ! sold from a stale count", "  ! 按过期的票数卖了票"),
}


class TicketsPanel(LessonPanel):
    """The file's count as the file says it, what was sold, the lock's holder and its line."""

    def show(self, model: Model, now_ns: int, values: dict[str, Any]) -> None:
        facts = model.values.get(FILE, {})
        sold = model.said(Said.BOUGHT)
        stock = facts.get("stock", 0)
        left = facts.get("count")
        text = Text.assemble((str(SAY["file"]), "bold"), f"  {facts.get('path', values.get('db', ''))}\n")
        if "error" in facts:
            text.append(f"  {facts['error']}\n", style="bold red")
        text.append(str(SAY["left"]))
        text.append("?" if left is None else str(left), style="bold")
        text.append(str(SAY["sold"]))
        text.append(str(sold), style="bold red" if sold > stock else "bold")
        text.append(SAY["stock"](stock=stock))
        if sold > stock:
            text.append(SAY["oversold"](n=sold - stock), style="bold red")
        locked = facts.get("lock", True)
        text.append(str(SAY["buyers"]))
        text.append(str(SAY["take" if locked else "skip"]), style="green3" if locked else "bold red")
        lock = model.prim(LOCK)
        text.append(f"\n\n{SAY['lock'](name=lock.name)}", style="bold")
        text.append_text(holders(model, lock, now_ns))
        text.append("\n")
        text.append_text(waiters(model, lock, now_ns))
        text.append(f"\n\n{SAY['who']}", style="bold")
        overlapped = set(overlapping_buyers(model)) if sold > stock else set()
        if overlapped:
            text.append(str(SAY["stale"]), style="bold red")
        for proc in model.by_role("buyer")[-14:]:
            style = PHASE_STYLE[proc.phase]
            text.append("\n!" if proc.name in overlapped else "\n ", style="bold red")
            text.append(ljust(proc.name, 10), style=style)
            # A buyer that is done shows what it did: bought, or found none.
            words = proc.said if not proc.alive and proc.said and proc.exit_code == 0 else proc.state
            said = proc.facts.get(words)
            detail = said.last if said is not None and not proc.blocked else {}
            text.append(
                word(words) + (f" ({', '.join(f'{k} {v}' for k, v in detail.items())})" if detail else ""),
                style=style,
            )
        self.part("main").show(text)


PANEL = TicketsPanel
