"""A run's contention figures, from a model: as plain data (``mpviz stats --json``) and as a table.

The figures are kept as the run goes by the accumulators of ``timing.py``;
here they are read at a moment ``now_ns``, waits and holds still going on
counted up to it.
"""

from __future__ import annotations

import copy
from collections import Counter
from typing import Any

from mpviz.model.anomalies import find_anomalies
from mpviz.model.state import Model
from mpviz.model.timing import Activity, Durations, in_seconds

# The families that have contention figures, and the ones counted like a lock.
HELD_FAMILIES = ("lock", "rlock", "sem", "cond")
SHOWN_FAMILIES = (*HELD_FAMILIES, "queue", "pipe", "event", "barrier")


def contention(model: Model, now_ns: int) -> dict[str, Any]:
    """Every primitive's and every process's figures at ``now_ns``, as plain data (``mpviz stats --json``)."""
    prims = []
    for prim in model.prims.values():
        if prim.family not in SHOWN_FAMILIES:
            continue
        timing = prim.timing
        row: dict[str, Any] = {"name": prim.name, "kind": prim.word, "site": prim.site}
        if prim.family in HELD_FAMILIES:
            row |= {
                "acquisitions": prim.acquisitions,
                "waits": prim.waits,
                "wait": _ongoing(timing.waited, prim.waiters, now_ns).figures(),
                "hold": _ongoing(timing.held, prim.held_since, now_ns).figures(),
            }
        elif prim.family in ("queue", "pipe"):
            row |= {
                "puts": prim.puts,
                "gets": prim.gets,
                "deepest": prim.deepest,
                "get_blocked": _ongoing(timing.get_blocked, prim.blocked_get, now_ns).figures(),
                "put_blocked": _ongoing(timing.put_blocked, prim.blocked_put, now_ns).figures(),
            }
        elif prim.family == "event":
            row |= {
                "sets": prim.sets,
                "clears": prim.clears,
                "waits": prim.waits,
                "wait": _ongoing(timing.waited, prim.waiters, now_ns).figures(),
            }
        else:  # a barrier
            row |= {"passed": prim.passed, "wait": _ongoing(timing.waited, prim.waiters, now_ns).figures()}
        row["most_waiting"] = timing.most_waiting
        row["sites"] = {
            "waits": _sites(model, prim.wait_sites),
            **({"holds": _sites(model, prim.hold_sites)} if prim.family in HELD_FAMILIES else {}),
        }
        prims.append(row)
    procs = []
    for proc in model.procs.values():
        split = proc.split
        procs.append(
            {
                "pid": proc.pid,
                "name": proc.name,
                "role": proc.role,
                "alive": proc.alive,
                "lifetime_s": in_seconds(split.lifetime(now_ns)),
                "time_s": {activity.value: in_seconds(ns) for activity, ns in split.totals(now_ns).items()},
            }
        )
    start = model.t0 if model.t0 is not None else now_ns
    warned = find_anomalies(model, now_ns)
    return {
        "duration_s": in_seconds(max(0, now_ns - start)),
        "primitives": prims,
        "processes": procs,
        "potential_deadlocks": [a.text for a in warned if a.kind == "potential"],
        "pitfalls": [a.text for a in warned if a.kind in ("pitfall", "feeder")],
    }


def _sites(model: Model, counts: Counter[str]) -> list[dict[str, Any]]:
    """Where it was waited for (or taken), the most frequent first: ``{"site", "line", "count"}``."""
    out = []
    for site_id, n in counts.most_common():
        site = model.sites.get(site_id)
        if site is not None:
            out.append({"site": site.where, "line": site.text, "count": n})
    return out


def _ongoing(done: Durations, waiting: dict[int, int], now_ns: int) -> Durations:
    """``done`` with the waits (or holds) still going on counted up to ``now_ns``."""
    if not waiting:
        return done
    out = copy.deepcopy(done)
    for since in waiting.values():
        out.add(now_ns - since)
    return out


def seconds(s: float) -> str:
    """A duration for a person: ``2.41 s``, ``35 ms``, ``120 µs``."""
    if s >= 10:
        return f"{s:.1f} s"
    if s >= 1:
        return f"{s:.2f} s"
    if s >= 0.001:
        return f"{s * 1000:.0f} ms"
    if s > 0:
        return f"{s * 1e6:.0f} µs"
    return "0"


def table(figures: dict[str, Any]) -> list[str]:
    """The figures as lines of a plain table: ``mpviz stats`` and the end of ``--headless``."""
    out: list[str] = []
    prims = figures["primitives"]
    held = [p for p in prims if "hold" in p]
    if held:
        out.append(
            f"{'lock / semaphore / condition':<32}{'acquired':>9}{'waited':>8}{'wait p50':>10}{'p99':>9}{'max':>9}"
            f"{'hold p50':>10}{'max':>9}{'most waiting':>14}"
        )
        for p in held:
            w, h = p["wait"], p["hold"]
            out.append(
                f"{_label(p):<32}{p['acquisitions']:>9}{p['waits']:>8}{seconds(w['p50_s']):>10}"
                f"{seconds(w['p99_s']):>9}{seconds(w['max_s']):>9}{seconds(h['p50_s']):>10}{seconds(h['max_s']):>9}"
                f"{p['most_waiting']:>14}"
            )
    queues = [p for p in prims if "deepest" in p]
    if queues:
        out.append(
            f"{'queue / pipe':<32}{'put':>9}{'got':>8}{'deepest':>10}{'getters blocked':>18}{'putters blocked':>18}"
        )
        for p in queues:
            out.append(
                f"{_label(p):<32}{p['puts']:>9}{p['gets']:>8}{p['deepest']:>10}"
                f"{seconds(p['get_blocked']['total_s']):>18}{seconds(p['put_blocked']['total_s']):>18}"
            )
    events = [p for p in prims if "sets" in p]
    if events:
        out.append(f"{'event':<32}{'set':>9}{'cleared':>8}{'waits':>10}{'wait p50':>10}{'p99':>9}{'max':>9}")
        for p in events:
            w = p["wait"]
            out.append(
                f"{_label(p):<32}{p['sets']:>9}{p['clears']:>8}{p['waits']:>10}{seconds(w['p50_s']):>10}"
                f"{seconds(w['p99_s']):>9}{seconds(w['max_s']):>9}"
            )
    if figures["processes"]:
        head = "".join(f"{activity.value:>10}" for activity in Activity)
        longest = max(len(f"{p['name']} ({p['pid']})") for p in figures["processes"])
        width = min(max(24, longest + 1), PROCESS_WIDTH)
        out.append(f"{'process':<{width}}{'lifetime':>10}{head}")
        for p in figures["processes"]:
            parts = "".join(f"{seconds(p['time_s'][activity.value]):>10}" for activity in Activity)
            out.append(f"{_who(p, width - 1):<{width}}{seconds(p['lifetime_s']):>10}{parts}")
    out.extend(figures.get("potential_deadlocks", []))
    out.extend(figures.get("pitfalls", []))
    return out


# The widest the process column of :func:`table` grows (a long name is cut, its pid never).
PROCESS_WIDTH = 40


def _who(p: dict[str, Any], width: int) -> str:
    """``name (pid)`` in at most ``width`` characters: the name cut if need be, never the pid."""
    name = str(p["name"])
    if name == f"pid {p['pid']}":
        return name
    pid = f" ({p['pid']})"
    if name.endswith(f" (pid {p['pid']})"):  # named by what it runs ("prog.py (pid 7)"): the pid once
        name, pid = name.removesuffix(f" (pid {p['pid']})"), f" (pid {p['pid']})"
    if len(name) + len(pid) > width:
        name = name[: max(1, width - len(pid) - 1)] + "…"
    return name + pid


def _label(prim: dict[str, Any]) -> str:
    label = f"{prim['kind']} '{prim['name']}'"
    return label if len(label) <= 31 else label[:30] + "…"
