#!/usr/bin/env python3
"""Coherence transactions per step of two agents updating one shared table
directly, in a simple model (docs/performance.md, "Lines per step at 10^5
entries"): each agent, in turn, reads the row of a uniformly random next
state (one of LINES cache lines) and, on its next step, writes an entry of
that row. Each agent's cache holds a line shared or exclusive (MSI; the
table fits in a core's cache, so every miss after warm-up is a coherence
miss). Counted per agent-step after a quarter of the steps: reads that miss
(the other agent wrote the line since this one last touched it) and writes
that must upgrade a shared line (the other agent read it since).

    python3 bench/coherence_model.py [LINES [STEPS]]   (default 12500 400000)

A model, not a measurement of the machine: it gives the number of
transfers, which the measured time lost per step is divided by.
"""
import random
import sys


def simulate(lines, steps, seed=1):
    rng = random.Random(seed)
    valid = [[False] * lines, [False] * lines]
    excl = [[False] * lines, [False] * lines]
    prev = [None, None]
    warm = steps // 4
    rd_miss = upgrades = 0
    for t in range(steps):
        if t == warm:
            rd_miss = upgrades = 0
        a, b = t & 1, 1 - (t & 1)
        p = prev[a]
        if p is not None:  # the write into the row read last step
            if valid[a][p] and not excl[a][p] and valid[b][p]:
                upgrades += 1
            valid[a][p] = excl[a][p] = True
            valid[b][p] = excl[b][p] = False
        line = rng.randrange(lines)  # the next state's row
        if not valid[a][line]:
            rd_miss += 1
            valid[a][line] = True
            excl[a][line] = not valid[b][line]
            excl[b][line] = False
        prev[a] = line
    n = steps - warm
    return rd_miss / n, upgrades / n


def main():
    lines = int(sys.argv[1]) if len(sys.argv) > 1 else 12500
    steps = int(sys.argv[2]) if len(sys.argv) > 2 else 400000
    r, u = simulate(lines, steps)
    print("lines %d: per agent-step %.3f read misses, %.3f upgrades, "
          "%.3f transactions" % (lines, r, u, r + u))


if __name__ == "__main__":
    main()
