"""Two processes that talk through a socket pair: mpviz sees no operation between the send and the recv.

A scheduled run cannot order them: when the child goes first, it waits in
``recv`` for a send its parent makes only once let go, and mpviz sees no
point in between.  ``mpviz explore`` says it cannot be scheduled."""

import socket
import time
from multiprocessing import Process


def listen(sock):
    print("got", sock.recv(16))


if __name__ == "__main__":
    ours, theirs = socket.socketpair()
    child = Process(target=listen, args=(theirs,))
    child.start()
    time.sleep(0.1)
    ours.send(b"hello")
    child.join()
