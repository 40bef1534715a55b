"""A program to attach to (tests/test_attach.py): a process waiting in each of the waits a stack names —
a lock, a condition, an event, a full queue's put, a pipe's recv, a socket's recv; and a child that is
not Python at all.

Started by the test, never by mpviz; it runs until it is killed.
"""

import multiprocessing as mp
import socket
import subprocess
import time


def locked(lock):
    lock.acquire()  # main holds it


def conditioned(cond):
    with cond:
        cond.wait()  # nobody notifies


def evented(event):
    event.wait()  # nobody sets it


def putting(q):
    q.put(2)  # the queue holds one already: full


def piped(conn):
    conn.recv()  # nobody sends


def talking(sock):
    sock.recv(1)  # nobody sends


if __name__ == "__main__":
    mp.set_start_method("fork")
    lock, cond, event, q = mp.Lock(), mp.Condition(), mp.Event(), mp.Queue(1)
    lock.acquire()
    q.put(1)
    mine, theirs = mp.Pipe()
    ours, others = socket.socketpair()
    targets = [(locked, lock), (conditioned, cond), (evented, event), (putting, q), (piped, theirs), (talking, others)]
    workers = [mp.Process(target=target, args=(arg,)) for target, arg in targets]
    for w in workers:
        w.start()
    sleeper = subprocess.Popen(["sleep", "3600"])
    print("ready", *(w.pid for w in workers), sleeper.pid, flush=True)
    time.sleep(3600)
