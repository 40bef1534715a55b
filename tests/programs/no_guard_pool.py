"""A pool made at the top of a module under spawn, with no main guard: every worker imports the
module again, makes a pool again, and fails the same way."""

import multiprocessing as mp


def double(x):
    return 2 * x


mp.set_start_method("spawn", force=True)
pool = mp.Pool(2)
print(pool.map(double, [1, 2, 3]))
pool.close()
pool.join()
