#!/usr/bin/env python3
"""A Python simulator that owns its loop, learning into a shared distq
table through batched agent calls; prints steps/s at several batch sizes.

The world is examples/own_loop.c's corridor of 16 cells (moving right
from the last cell pays 1 and starts over; every other move costs 0.01),
here stepped by NumPy for a whole batch of copies at once: batch size B
means B copies of the world, one act() and one observe() call per B
transitions. Batch 1 is the plain scalar loop (Python ints, no NumPy).

    PYTHONPATH=python python3 python/examples/own_loop.py [--seconds S]
"""

import argparse
import threading
import time

import numpy as np

import distq

CELLS = 16


def world_step(s, a):
    nxt = np.where(a == 1, (s + 1) % CELLS, np.maximum(s, 1) - 1)
    done = (a == 1) & (s == CELLS - 1)
    r = np.where(done, 1.0, -0.01)
    return np.where(done, 0, nxt).astype(np.uint32), r, done


def run_batched(agent, batch, seconds):
    s = np.zeros(batch, np.uint32)
    steps = 0
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        for _ in range(16):
            a = agent.act(s)
            s2, r, done = world_step(s, a)
            agent.observe(s, a, r, s2, done)
            s = s2
        steps += 16 * batch
    return steps, time.perf_counter() - t0


def run_scalar(agent, seconds):
    s = 0
    steps = 0
    act, observe = agent.act, agent.observe
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        for _ in range(256):
            a = act(s)
            done = a == 1 and s == CELLS - 1
            s2 = 0 if done else ((s + 1) % CELLS if a == 1 else max(s, 1) - 1)
            observe(s, a, 1.0 if done else -0.01, s2, done)
            s = s2
        steps += 256
    return steps, time.perf_counter() - t0


def run_pure_python(seconds):
    """The same Q-learning written in Python over a NumPy table: what a
    user would write without the library."""
    q = np.zeros((CELLS, 2))
    rng = np.random.default_rng(1)
    s = 0
    steps = 0
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        for _ in range(256):
            a = int(rng.integers(2)) if rng.random() < 0.1 else \
                int(q[s].argmax())
            done = a == 1 and s == CELLS - 1
            s2 = 0 if done else ((s + 1) % CELLS if a == 1 else max(s, 1) - 1)
            r = 1.0 if done else -0.01
            target = r if done else r + 0.95 * q[s2].max()
            q[s, a] += 0.1 * (target - q[s, a])
            s = s2
        steps += 256
    return steps, time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=2.0,
                    help="per measurement (default 2)")
    ap.add_argument("--batches", default="1,64,4096")
    args = ap.parse_args()
    print(f"libdistq {distq.library_version} ({distq.library_path})")
    print("loop\tbatch\tthreads\tsteps/s")
    n, dt = run_pure_python(args.seconds)
    print(f"pure Python + NumPy table\t1\t1\t{n / dt:.3g}")
    for b in [int(x) for x in args.batches.split(",")]:
        table = distq.Table((CELLS, 2))
        agent = distq.Agent(table, gamma=0.95)
        n, dt = run_scalar(agent, args.seconds) if b == 1 else \
            run_batched(agent, b, args.seconds)
        print(f"distq.Agent\t{b}\t1\t{n / dt:.3g}")
        assert (table.policy() == 1).all(), "the corridor was not learned"
    # Two Python threads, one agent each, on one table.
    b = max(int(x) for x in args.batches.split(","))
    table = distq.Table((CELLS, 2))
    results = [None, None]

    def work(i):
        results[i] = run_batched(distq.Agent(table, stream=i), b,
                                 args.seconds)
    th = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for t in th:
        t.start()
    for t in th:
        t.join()
    total = sum(n for n, _ in results) / max(dt for _, dt in results)
    print(f"distq.Agent, 2 Python threads\t{b}\t2\t{total:.3g}")
    assert (table.policy() == 1).all()


if __name__ == "__main__":
    main()
