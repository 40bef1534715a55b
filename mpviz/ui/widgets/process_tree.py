"""The processes as a tree: each child under its parent with tree lines, subtrees folded, and the
figures a folded subtree adds up to.  Pure functions of a model, for the process table.

A process is in the tree while it lives, or while a living process is under
it (so that the living hang from their real parents); the other exited
processes come after the tree, as the table's exited rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from mpviz.model import Model

# A subtree shown, and folded: what goes before its root's name.
OPEN, SHUT = "▾ ", "▸ "


class Branch(NamedTuple):
    """One row of the tree: the tree lines before the name (``│ ├ ``), the fold mark, and how many
    processes a folded row hides (0: not folded)."""

    pid: int
    lines: str
    mark: str  # OPEN, SHUT, or "" for a process with nothing under it
    hidden: int

    @property
    def prefix(self) -> str:
        return self.lines + self.mark


class Tree(NamedTuple):
    rows: list[Branch]  # in tree order: parent first, then its children depth first
    rest: list[int]  # the exited with nothing living under them, in the model's order
    under: dict[int, list[int]]  # each process's children in the tree


def tree(model: Model, folded: set[int]) -> Tree:
    """The model's processes as a tree; the subtrees of ``folded`` shown as one row each."""
    children: dict[int | None, list[int]] = {}
    for pid, proc in model.procs.items():
        parent = proc.ppid if proc.ppid in model.procs and proc.ppid != pid else None
        children.setdefault(parent, []).append(pid)
    order = _preorder(children, list(model.procs))
    # Bottom up: who has a living process at or under it.
    living: dict[int, bool] = {}
    for pid in reversed(order):
        living[pid] = model.procs[pid].alive or any(living.get(c, False) for c in children.get(pid, ()))
    under = {pid: [c for c in children.get(pid, ()) if living.get(c)] for pid in order if living[pid]}
    rows: list[Branch] = []
    seen: set[int] = set()

    def grow(roots: list[int]) -> None:
        stack: list[tuple[int, str, bool, bool]] = [(pid, "", True, True) for pid in reversed(roots)]
        while stack:
            pid, above, last, root = stack.pop()
            if pid in seen:
                continue
            seen.add(pid)
            lines = "" if root else above + ("└ " if last else "├ ")
            kids = under.get(pid, [])
            if not kids:
                rows.append(Branch(pid, lines, "", 0))
            elif pid in folded:
                hidden = below(pid, under)
                seen.update(hidden)
                rows.append(Branch(pid, lines, SHUT, len(hidden) - 1))
            else:
                rows.append(Branch(pid, lines, OPEN, 0))
                deeper = "" if root else above + ("  " if last else "│ ")
                stack.extend((kid, deeper, i == len(kids) - 1, False) for i, kid in reversed(list(enumerate(kids))))

    grow([pid for pid in order if living[pid] and not _has_parent_in(pid, model, under)])
    grow([pid for pid in order if living[pid] and pid not in seen])  # a cycle of parents (reused pids)
    return Tree(rows, [pid for pid in model.procs if not living.get(pid)], under)


def below(pid: int, under: dict[int, list[int]]) -> list[int]:
    """``pid`` and every process under it in the tree."""
    out, todo, seen = [], [pid], set()
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        out.append(p)
        todo.extend(under.get(p, ()))
    return out


def _preorder(children: dict[int | None, list[int]], every: Iterable[int]) -> list[int]:
    """Every process, parent before child; those in a cycle of parents (reused pids) at the end."""
    out: list[int] = []
    done: set[int] = set()
    stack = list(reversed(children.get(None, [])))
    while stack:
        pid = stack.pop()
        if pid in done:
            continue
        done.add(pid)
        out.append(pid)
        stack.extend(reversed(children.get(pid, [])))
    out += [pid for pid in every if pid not in done]
    return out


def _has_parent_in(pid: int, model: Model, under: dict[int, list[int]]) -> bool:
    parent = model.procs[pid].ppid
    return parent is not None and parent != pid and pid in under.get(parent, ())
