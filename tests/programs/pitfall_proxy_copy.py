"""A Manager's dict and list whose values are changed in place: the changes are made to copies, and lost.

Each wrong line beside a right one that must never be named."""

from multiprocessing import Manager, Process


def add(d, rows, lock, i):
    with lock:
        d["wrong"].append(i)  # a copy: lost
        d.setdefault("seen", []).append(i)  # a copy: lost
        rows[0]["n"] = i  # a copy: lost
        lst = d["right"]
        lst.append(i)
        d["right"] = lst  # written back: kept
        d["also_right"] += [i]  # read, added to, written back: kept
        d["shared"].append(i)  # a Manager's own list: its proxy, kept
        print(len(d["right"]), d["right"].count(i), sep=" ")


if __name__ == "__main__":
    with Manager() as m:
        d = m.dict({"wrong": [], "right": [], "also_right": [], "shared": m.list()})
        rows = m.list([{"n": 0}])
        lock = m.Lock()
        ps = [Process(target=add, args=(d, rows, lock, i)) for i in range(1, 3)]
        for p in ps:
            p.start()
        for p in ps:
            p.join()
        print("wrong", d["wrong"], "seen" in d, rows[0]["n"])
        print("right", sorted(d["right"]), sorted(d["also_right"]), sorted(d["shared"]))
