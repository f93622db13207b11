"""Timing shared by the Python benches: every candidate is timed in interleaved rounds with
the thread's CPU clock, so load on a busy machine hits all candidates alike; the figure per
candidate is the median over rounds of CPU nanoseconds per call."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def calibrate(fn: Callable[[], object], round_s: float) -> int:
    """Calls per round so one round takes about `round_s` seconds of CPU."""
    n = 1
    while True:
        start = time.thread_time()
        for _ in range(n):
            fn()
        took = time.thread_time() - start
        if took >= round_s / 4:
            return max(1, int(n * round_s / max(took, 1e-9)))
        n *= 4


def measure(
    candidates: dict[str, Callable[[], object]], rounds: int, round_s: float
) -> dict[str, float]:
    """Median CPU ns per call of each candidate, rounds interleaved."""
    counts = {name: calibrate(fn, round_s) for name, fn in candidates.items()}
    samples: dict[str, list[float]] = {name: [] for name in candidates}
    for _ in range(rounds):
        for name, fn in candidates.items():
            n = counts[name]
            start = time.thread_time_ns()
            for _ in range(n):
                fn()
            samples[name].append((time.thread_time_ns() - start) / n)
    return {name: statistics.median(s) for name, s in samples.items()}
