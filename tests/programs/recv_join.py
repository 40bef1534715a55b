"""A child waits in socket.recv for a message nobody sends, while main joins it."""

import socket
from multiprocessing import Process


def listen(sock):
    print("got", sock.recv(1024))  # the other end never sends


if __name__ == "__main__":
    ours, theirs = socket.socketpair()
    listener = Process(target=listen, args=(theirs,), name="listener")
    listener.start()
    listener.join()
