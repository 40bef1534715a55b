"""The keys every run screen has, described in the current language, and when each works.

A lesson's own keys come from its actions and toggles (see
``mpviz.ui.screens.run.screen_class``); these are the rest.
"""

from __future__ import annotations

from dataclasses import replace

from textual.binding import Binding, BindingType

from mpviz.lang import T

KEYS = {
    "help": T("Help", "帮助"),
    "restart": T("Restart", "重来"),
    "speed": T("Speed", "速度"),
    "speed_tip": T("lesson time runs twice as fast (+) or half as fast (-)", "课程时间快一倍(+)或慢一半(-)"),
    "slower": T("Slower", "慢一点"),
    "slower_tip": T("slower: lesson time runs half as fast", "慢一点:课程时间慢一半"),
    "pause": T("Pause/resume", "暂停/继续"),
    "pause_all": T("Pause all", "全部暂停"),
    "kill": T("Kill", "杀掉"),
    "exited": T("Exited", "已退出"),
    "exited_tip": T("show the exited processes, or fold them into one line", "显示已退出的进程,或折成一行"),
    "sort": T("Sort", "排序"),
    "sort_tip": T("sort the processes by CPU, state, PID (< back)", "按 CPU、状态、PID 排序(< 往回)"),
    "sort_back": T("Sort back", "往回排序"),
    "filter": T("Filter", "筛选"),
    "clear_filter": T("Clear the filter", "清除筛选"),
    "filter_tip": T("show only the processes whose name has what you type", "只显示名字里有你输入的字的进程"),
    "play": T("Play/pause", "播放/暂停"),
    "step": T("Step", "单步"),
    "waits": T("Waits", "等待图"),
    "waits_tip": T("the wait-for graph: who holds what, who waits, deadlocks", "等待图:谁持有什么,谁在等,死锁"),
    "stats": T("Stats", "统计"),
    "stacks": T("Stacks", "调用栈"),
    "stacks_tip": T(
        "the selected process's Python stacks, every thread, innermost last, read again each second (d again: the timeline)",
        "选中进程的 Python 调用栈,每个线程,最内层在最后,每秒重读(再按 d:回到时间线)",
    ),
    "stats_tip": T("contention: waits and holds, each process's time", "争用:等待与持有,每个进程的时间"),
    "seek": T("Seek", "跳转"),
    "seek_tip": T("replay: back or on 1 s", "回放:后退或前进 1 秒"),
    "on1": T("On 1 s", "前进 1 秒"),
    "back10": T("replay: back 10 s", "回放:后退 10 秒"),
    "on10": T("replay: on 10 s", "回放:前进 10 秒"),
    "start": T("replay: the start", "回放:开头"),
    "end": T("replay: the end", "回放:结尾"),
    "home": T("Lessons", "课程"),
    "go": T("Go", "走"),
    "go_tip": T(
        "step mode: let the process of that row go to its next point (Enter: the selected process)",
        "单步模式:让那一行的进程走到它的下一个调度点(回车:选中的进程)",
    ),
    "until": T("Until blocked", "走到阻塞"),
    "until_tip": T(
        "step mode: let the selected process (or row 1) go, and on, until it would block",
        "单步模式:让选中的进程(或第 1 行)一直走,直到它会阻塞",
    ),
    "free": T("Free/step", "自由/单步"),
    "free_tip": T("step mode: run free, or one at a time again", "单步模式:自由运行,或又一次一个"),
    "stepping": T("Step mode", "单步模式"),
    "stepping_tip": T(
        "restart the run in step mode: every process waits at each operation until you let it go",
        "以单步模式重来:每个进程在每个操作前等你让它走",
    ),
    "spike": T("Spike", "峰值"),
    "spike_tip": T(
        "replay: back to the moment the selected process's CPU was highest (click a sparkline: that moment)",
        "回放:回到选中进程 CPU 最高的时刻(点一下火花线:那个时刻)",
    ),
    "detach": T("Detach", "脱离"),
    "detach_tip": T("leave the program running as it was, untouched", "让程序照旧运行,不碰它"),
}


def common_keys() -> list[BindingType]:
    """The keys every lesson has, described in the current language.

    Most take precedence (``priority``): the app runs the action as the key comes in, instead of
    handing the key to the focused widget, which hands it to the screen, which hands it back to the
    app (three trips through three queues, each behind whatever the event loop has to do: under a
    flood of records, 195 ms at p99). Not those that act on the selected process: they must come
    after the table's own keys typed before them (↓ then z pauses the row below). A text box with
    focus keeps its characters (see ``RunScreen.check_action``)."""
    return [
        binding if binding.action.partition("(")[0] in ON_SELECTED else replace(binding, priority=True)
        for binding in _common_keys()
    ]


def _common_keys() -> list[Binding]:
    return [
        Binding("question_mark", "help", str(KEYS["help"])),
        Binding("r", "restart", str(KEYS["restart"])),
        # One footer slot teaches both speed keys.
        Binding("plus,equals_sign", "faster", str(KEYS["speed"]), key_display="+/-", tooltip=str(KEYS["speed_tip"])),
        Binding("minus", "slower", str(KEYS["slower"]), key_display="-", show=False, tooltip=str(KEYS["slower_tip"])),
        Binding("z", "pause", str(KEYS["pause"])),
        Binding("Z", "pause_all", str(KEYS["pause_all"]), show=False),
        Binding("k", "kill", str(KEYS["kill"])),
        Binding("h", "exited", str(KEYS["exited"]), tooltip=str(KEYS["exited_tip"])),
        Binding(
            "greater_than_sign",
            "sort(1)",
            str(KEYS["sort"]),
            key_display="</>",
            show=False,
            tooltip=str(KEYS["sort_tip"]),
        ),
        Binding("less_than_sign", "sort(-1)", str(KEYS["sort_back"]), show=False, tooltip=str(KEYS["sort_tip"])),
        Binding("slash", "filter", str(KEYS["filter"]), show=False, tooltip=str(KEYS["filter_tip"])),
        Binding("space", "replay_pause", str(KEYS["play"])),
        Binding("n", "step", str(KEYS["step"])),
        Binding("w", "view('graph')", str(KEYS["waits"]), tooltip=str(KEYS["waits_tip"])),
        Binding("s", "view('contention')", str(KEYS["stats"]), tooltip=str(KEYS["stats_tip"])),
        Binding("d", "stacks", str(KEYS["stacks"]), tooltip=str(KEYS["stacks_tip"])),
        # A replay's scrubber, before the process table's own keys (in a replay only).
        Binding("left", "seek(-1)", str(KEYS["seek"]), key_display="←/→", priority=True, tooltip=str(KEYS["seek_tip"])),
        Binding("right", "seek(1)", str(KEYS["on1"]), show=False, priority=True),
        Binding("shift+left", "seek(-10)", str(KEYS["back10"]), show=False, priority=True, tooltip=str(KEYS["back10"])),
        Binding("shift+right", "seek(10)", str(KEYS["on10"]), show=False, priority=True, tooltip=str(KEYS["on10"])),
        Binding("home", "seek_edge(0)", str(KEYS["start"]), show=False, priority=True, tooltip=str(KEYS["start"])),
        Binding("end", "seek_edge(1)", str(KEYS["end"]), show=False, priority=True, tooltip=str(KEYS["end"])),
        Binding("left_square_bracket", "spike", str(KEYS["spike"]), key_display="[", tooltip=str(KEYS["spike_tip"])),
        Binding("escape", "home", str(KEYS["home"]), show=False),
        # Step mode (a scheduled run): a row's key, Enter for the selected process (before the table's own).
        *(
            Binding(
                str(n), f"go_row({n})", str(KEYS["go"]), show=n == 1, key_display="1-9", tooltip=str(KEYS["go_tip"])
            )
            for n in range(1, 10)
        ),
        Binding("enter", "go_selected", str(KEYS["go"]), show=False, priority=True, tooltip=str(KEYS["go_tip"])),
        Binding("u", "until_blocked", str(KEYS["until"]), tooltip=str(KEYS["until_tip"])),
        Binding("F", "free", str(KEYS["free"]), tooltip=str(KEYS["free_tip"])),
        Binding("S", "step_mode", str(KEYS["stepping"]), show=False, tooltip=str(KEYS["stepping_tip"])),
    ]


def detach_key() -> BindingType:
    """``q`` for a program mpviz attached to: it detaches, the program goes on."""
    return Binding("q", "detach", str(KEYS["detach"]), tooltip=str(KEYS["detach_tip"]), priority=True)


# Keys for a live run only, and for a replay only (``check_action``).
LIVE_ONLY = {"pause", "pause_all", "kill", "lesson", "flip", "step_mode", "detach"}  # a replay's q quits
# Keys that would signal processes mpviz did not start, change their time or start them again:
# never for an attached program (``Lesson.detaches``).
NOT_OURS = {"pause", "pause_all", "kill", "faster", "slower", "restart", "step_mode"}
REPLAY_ONLY = {"replay_pause", "step", "seek", "seek_edge", "spike"}
# Keys that act on the process selected in the table: in the order typed, after the table's own.
ON_SELECTED = {"pause", "kill", "spike", "stacks", "until_blocked"}  # (and a lesson's own, see screen_class)
# Keys that act even while a text box has focus (the others type into it).
OVER_TEXT = {"seek", "seek_edge", "go_selected"}
# Keys of a live scheduled run (step mode).
STEPPING = {"go_row", "go_selected", "until_blocked", "free"}
