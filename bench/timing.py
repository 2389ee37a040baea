"""Timing shared by the benchmarks: the best of several runs, in this process."""

import time


def best_of(repeats, fn):
    """(the fastest of `repeats` runs of `fn`, in seconds, and the last run's result)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result
