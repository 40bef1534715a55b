"""What a Python stack says a thread waits in: the library call nearest the user's line, or the line's own call."""

from __future__ import annotations

import multiprocessing.connection
import multiprocessing.popen_fork
import multiprocessing.process
import multiprocessing.queues
import multiprocessing.synchronize
import subprocess
import threading

from mpviz.model.stacks import Frame, ThreadStack, from_record, infer, user_frame


def stack(*frames: Frame, call: str = "") -> ThreadStack:
    return ThreadStack(7, "MainThread", frames, call)


USER = Frame("/home/me/prog.py", 10, "consume", "item = inbox.get()")


def test_the_library_call_nearest_the_users_line_names_the_wait() -> None:
    """A get waits in Queue.get, not in the pipe read the get makes inside."""
    got = infer(
        stack(
            Frame("/home/me/prog.py", 30, "<module>", "consume(q)"),
            USER,
            Frame(multiprocessing.queues.__file__, 103, "get", "res = self._recv_bytes()"),
            Frame(multiprocessing.connection.__file__, 216, "recv_bytes", "buf = self._recv_bytes(maxlength)"),
        )
    )
    assert got is not None and (got.kind, got.what, got.frame) == ("queue", "multiprocessing Queue.get", USER)
    assert got.frame.site == "prog.py:10 in consume"


def test_a_wait_in_threading_and_in_subprocess() -> None:
    join = infer(
        stack(
            USER,
            Frame(threading.__file__, 1112, "join", ""),
            Frame(threading.__file__, 1150, "_wait_for_tstate_lock", ""),
        )
    )
    assert join is not None and join.kind == "thread" and join.frame == USER
    wait = infer(
        stack(USER, Frame(subprocess.__file__, 1264, "wait", ""), Frame(subprocess.__file__, 2000, "_wait", ""))
    )
    assert wait is not None and (wait.kind, wait.what) == ("subprocess", "subprocess wait")


def test_a_wait_in_a_c_call_is_named_by_the_users_line() -> None:
    """socket.recv and time.sleep are C: the innermost frame is the user's own line."""
    recv = infer(stack(Frame("/home/me/client.py", 12, "talk", "data = conn.recv(1024)")))
    assert recv is not None and (recv.kind, recv.what) == ("socket", "conn.recv()")
    said = infer(stack(Frame("/home/me/client.py", 12, "talk", "data = conn.recv(1024)"), call="conn.recv(1024)"))
    assert said is not None and said.what == "conn.recv(1024)", "the call as the process said it"
    nap = infer(stack(Frame("/home/me/prog.py", 3, "<module>", "time.sleep(5)")))
    assert nap is not None and nap.kind == "sleep"


def test_another_interpreters_standard_library_is_a_library_and_site_packages_is_not() -> None:
    other = Frame("/usr/lib/python3.9/multiprocessing/synchronize.py", 95, "__enter__", "")
    got = infer(stack(USER, other))
    assert got is not None and got.kind == "lock"
    vendored = Frame("/usr/lib/python3/dist-packages/queue.py", 5, "get", "")
    assert user_frame((USER, vendored)) == vendored, "a package's code is the user's side"


def test_no_frames_no_answer_and_a_record_read_back() -> None:
    assert infer(stack()) is None
    record = {"tid": 9, "name": "worker", "frames": [["/a.py", 3, "f", "x()"], ["/a.py", "bad", "g"], "junk"]}
    thread = from_record(record)
    assert thread.tid == 9 and thread.frames == (Frame("/a.py", 3, "f", "x()"),), "bad frames dropped"


def test_a_stack_read_from_outside_names_methods_with_their_class() -> None:
    """py-spy says ``Queue.get`` and ``BaseProcess.join`` where the code says ``get`` and ``join``;
    and there a condition's wait is told from an event's."""
    consume = Frame("/home/me/prog.py", 4, "consume", "item = q.get()")
    got = infer(
        stack(
            consume,
            Frame(multiprocessing.queues.__file__, 103, "Queue.get", ""),
            Frame(multiprocessing.connection.__file__, 216, "_ConnectionBase.recv_bytes", ""),
        )
    )
    assert got is not None and (got.kind, got.what, got.frame) == ("queue", "multiprocessing Queue.get", consume)
    parent = Frame("/home/me/prog.py", 17, "parent", "c.join()")
    join = infer(
        stack(
            parent,
            Frame(multiprocessing.process.__file__, 149, "BaseProcess.join", ""),
            Frame(multiprocessing.popen_fork.__file__, 43, "Popen.wait", ""),
            Frame(multiprocessing.popen_fork.__file__, 27, "Popen.poll", ""),
        )
    )
    assert join is not None and (join.kind, join.what) == ("join", "Process.join")
    synchronize = multiprocessing.synchronize.__file__
    cond = infer(stack(USER, Frame(synchronize, 261, "Condition.wait", "")))
    event = infer(stack(USER, Frame(synchronize, 356, "Event.wait", ""), Frame(synchronize, 261, "Condition.wait", "")))
    assert cond is not None and cond.kind == "cond"
    assert event is not None and event.kind == "event", "the outermost known call names the wait"


def test_a_forked_childs_stack_below_its_bootstrap_is_its_parents() -> None:
    """A forked child's stack goes on below multiprocessing's bootstrap into its parent's frames
    from before the fork: main's ``p.start()`` is not where the child waits (its exit's join of its
    queue's feeder thread).  Before: "waiting in Thread.join at prog.py:11 in <module>"."""
    start = Frame("/home/me/prog.py", 11, "<module>", "p.start()")
    fork = Frame(multiprocessing.popen_fork.__file__, 71, "_launch", "code = process_obj._bootstrap(...)")
    boot = Frame(multiprocessing.process.__file__, 332, "_bootstrap", "threading._shutdown()")
    join = Frame(threading.__file__, 1112, "join", "")
    frames = (start, fork, boot, join)
    assert user_frame(frames) is None
    got = infer(stack(*frames))
    assert got is not None and got.kind == "thread" and got.frame is None
    # Above the bootstrap, the child's own line is found as always.
    own = Frame("/home/me/prog.py", 5, "work", "q.put(x)")
    assert user_frame((start, fork, boot, own, join)) == own
