"""The redraw pacing: what each redraw brings up to date, as time passes and records come."""

from __future__ import annotations

from mpviz.ui.pacing import NS, PICTURE_NS, Pacer, Plan


def plan(pacer: Pacer, t_ns: int, moved: bool = False, said: bool = False) -> Plan | None:
    return pacer.plan(t_ns, moved, t_ns / NS, said)


def test_every_new_second_brings_the_clock_and_the_drawings() -> None:
    pacer = Pacer()
    first = plan(pacer, 10 * NS)
    assert first is not None and first.full and first.pictures and first.panel
    assert plan(pacer, 10 * NS + NS // 2) is None  # nothing moved, the same second: nothing to draw
    tick = plan(pacer, 11 * NS)
    assert tick is not None and tick.full and tick.pictures


def test_the_lesson_s_picture_follows_time_alone_every_second() -> None:
    """Its durations: every second, as the table's (drawn every 5 s, a wait of 4 s read "0s" there)."""
    pacer = Pacer()
    drawn = [t for t in range(10, 30) if (p := plan(pacer, t * NS)) is not None and p.panel]
    assert drawn == list(range(10, 30))


def test_what_records_say_is_drawn_at_once_and_psutil_s_figures_wait() -> None:
    pacer = Pacer()
    plan(pacer, 10 * NS)
    said = plan(pacer, 10 * NS + PICTURE_NS, moved=True, said=True)
    assert said is not None and said.pictures and said.panel
    # Records said too soon after (a flood): the drawings wait their turn, the picture with them.
    soon = plan(pacer, 10 * NS + PICTURE_NS + 1, moved=True, said=True)
    assert soon is not None and not soon.pictures and not soon.panel and soon.later
    turn = plan(pacer, 10 * NS + 2 * PICTURE_NS)
    assert turn is not None and turn.pictures and turn.panel
    # A sample of CPU moves a row, not the lesson's picture: that waits for the next second.
    sampled = plan(pacer, 10 * NS + 3 * PICTURE_NS, moved=True)
    assert sampled is not None and sampled.pictures and not sampled.panel
    tick = plan(pacer, 11 * NS)
    assert tick is not None and tick.panel


def test_a_reset_draws_everything_at_the_next_redraw() -> None:
    pacer = Pacer()
    plan(pacer, 10 * NS)
    assert plan(pacer, 10 * NS + NS // 2) is None
    pacer.reset()
    again = plan(pacer, 10 * NS + NS // 2 + 1)
    assert again is not None and again.full and again.pictures and again.panel
