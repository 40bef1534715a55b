"""A process's psutil figures over time: the columns its sparklines draw, and its spikes."""

from __future__ import annotations

from mpviz.model.samples import KEEP_NS, SLACK_NS, Samples

S = 1_000_000_000


def test_a_column_shows_its_highest_sample_or_the_last_one_before_it() -> None:
    samples = Samples()
    for t, cpu in ((1, 5.0), (2, 80.0), (2.5, 10.0), (6, 0.0)):
        samples.add(int(t * S), cpu, 100)
    # Columns of 2 s from 0: [0,2) [2,4) [4,6) [6,8) [8,10)
    assert samples.columns("cpu", 0, 2 * S, 5) == [5.0, 80.0, 10.0, 0.0, 0.0]
    assert samples.columns("cpu", 0, 2 * S, 5, until_ns=5 * S) == [5.0, 80.0, 10.0, None, None], "not after its end"
    assert samples.columns("rss", -4 * S, 2 * S, 3) == [None, None, 100], "nothing before the first sample"
    assert samples.peak(0, 10 * S) == (2 * S, 80.0)
    assert samples.at(3 * S) == (10.0, 100) and samples.at(0) is None


def test_the_first_moment_of_a_plateau_is_its_peak_and_late_samples_are_dropped() -> None:
    samples = Samples()
    for t, cpu in ((1, 100.0), (2, 100.0), (3, 20.0)):
        samples.add(t * S, cpu, 0)
    samples.add(2 * S, 0.0, 0)
    assert len(samples) == 3 and samples.peak(0, 9 * S) == (S, 100.0)


def test_only_the_last_minutes_are_kept() -> None:
    samples = Samples()
    step = 10 * S
    for i in range((KEEP_NS + SLACK_NS) // step + 5):
        samples.add(i * step, float(i), i)
    last = samples.times[-1]
    assert last - KEEP_NS - SLACK_NS - step <= samples.times[0] <= last - KEEP_NS, "the window, and not much more"
    assert samples.columns("cpu", last - KEEP_NS, step, 1)[0] is not None
