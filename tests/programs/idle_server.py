"""A server waiting for its first client, its workers waiting for work: idle, not stuck."""

import socket
from multiprocessing import Process, Queue


def work(jobs):
    while True:
        print("job", jobs.get())


if __name__ == "__main__":
    jobs = Queue()
    for _ in range(2):
        Process(target=work, args=(jobs,), daemon=True).start()
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    while True:
        client, _ = server.accept()
        jobs.put(client.recv(100))
