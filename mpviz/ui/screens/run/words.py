"""The run screen's words, in English and the tutorial's Chinese."""

from __future__ import annotations

from mpviz.lang import T

SAY = {
    "stdin": T("a line for the program's stdin (Tab here, Enter)", "给程序 stdin 的一行(Tab 到这里,回车)"),
    "table_keys": T("⏎ fold · < > sort · / filter", "⏎ 折叠 · < > 排序 · / 筛选"),
    "processes": T("Processes", "进程"),
    "events": T("Events", "事件记录"),
    "selected": T("Selected process", "选中的进程"),
    "printed": T("Printed", "打印输出"),
    "filter": T(
        "only processes whose name has… (Enter keeps it, Esc clears)", "只看名字里有……的进程(回车保留,Esc 清除)"
    ),
    "record_error": T("⚠ recording stopped: {error}\n", "⚠ 录制停止了:{error}\n"),
    "status": T("{where} · speed ×{speed:g} · {n} {processes} alive", "{where} · 速度 ×{speed:g} · {n} 个进程活着"),
    "attached": T("{where} · attached: q detaches · {n} {processes} alive", "{where} · 已附加:q 脱离 · {n} 个进程活着"),
    "live": T("live", "实时"),
    "replay": T("replay", "回放"),
    "replay, paused": T("replay, paused", "回放,已暂停"),
    "a_replay": T("This is a replay: nothing to act on.", "这是回放:没有可以操作的。"),
    "select": T(
        "Select a running lesson process first (↑/↓ in the table).", "先选一个正在运行的课程进程(在表格里按 ↑/↓)。"
    ),
    "graph": T("Wait-for graph (w: back to the timeline)", "等待图(w:回到时间线)"),
    "contention": T("Contention (s: back to the timeline)", "争用统计(s:回到时间线)"),
    "live_history": T(
        "Live: the bars are the last minutes. In a replay (--record, then mpviz replay) a click moves there.",
        "实时:这些条是最近几分钟。回放时(--record,再 mpviz replay)点一下就跳到那里。",
    ),
    "no_samples": T(
        "This process has used no CPU so far: no spike to go back to.", "这个进程到现在没用过 CPU:没有峰值可回去。"
    ),
    "stacks": T("Stacks of the selected process (d: back to the timeline)", "选中进程的调用栈(d:回到时间线)"),
    "steps": T("Step mode: who goes next", "单步模式:下一个谁走"),
    "not_offered": T("{who} is not waiting at a point that it may go on from.", "{who} 不在可以走的调度点上。"),
    "no_row": T("No row {n}.", "没有第 {n} 行。"),
}
