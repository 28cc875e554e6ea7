#!/usr/bin/env python3
"""libdistq beside a Numba peer: the same epsilon-greedy one-step
Q-learning loop compiled with Numba, stepping the same transition table,
at 1 and 2 threads, in the same run (bench/run.sh calls it).

    PYTHONPATH=python DISTQ_LIBRARY=build/libdistq.so.0 \\
        python3 bench/peer_numba.py [--steps N] [--reps R] [ENV...]

The peer is what a user who wants speed from Python writes instead of
libdistq: a @numba.njit loop over NumPy arrays. Its transition table is
the library's own model, exported through the Python binding
(distq.make(env).model(): per (s, a) the outcomes' probabilities, next
states, rewards and termination flags, and the start distribution), so
both learn the same MDP with the same algorithm: alpha 0.1, gamma 0.95,
epsilon 0.1, greedy ties broken at random (reservoir sampling, as the
library does), Q(s,a) += alpha (r + gamma max Q(s',.) - Q(s,a)) with no
bootstrap on termination, episodes truncated at the environment's limit
(taxi 200 steps). An outcome is drawn by scanning the cumulative
probabilities of (s, a) with one uniform draw.

Two threads: two Python threads, each running the compiled loop with
nogil=True, with its own random stream and episode, over ONE shared NumPy
Q table, without locks or atomics (Hogwild: a racing update may be lost).
Not numba.prange: prange splits the iterations of one loop over a thread
pool, which fits a data-parallel sweep, not two agents that each walk
their own episode and must keep their own state for the whole run; and
Numba has no atomic read-modify-write on float64 arrays, so unsynchronised
threads are what it offers. libdistq is measured twice in the same
repetition: with its defaults (cas, the automatic write path: no update is
lost) and with hogwild (direct unsynchronised stores, as the peer).

Each repetition runs the four (libdistq default, libdistq hogwild, Numba)
x (1, 2 threads) points back to back; the ratio reported is the median of
the per-repetition ratios. Numba's compilation is done before timing. The
library's threads are pinned to cores (its default); the peer's threads
are the operating system's to place.
"""

import argparse
import os
import statistics
import sys
import threading
import time

import numpy as np

try:
    import numba
except ImportError:  # pragma: no cover - run.sh checks first
    print("peer_numba: numba is not installed (Debian: python3-numba)",
          file=sys.stderr)
    sys.exit(3)

import distq

GAMMA, ALPHA, EPS = 0.95, 0.1, 0.1


@numba.njit(nogil=True, cache=False)
def q_loop(q, first, cum, nxt, rew, term, start_cum, limit, steps, seed):
    """`steps` steps of epsilon-greedy Q-learning on the shared `q`."""
    np.random.seed(seed)
    n_s, n_a = q.shape
    s = np.searchsorted(start_cum, np.random.random(), side="right")
    t = 0
    for _ in range(steps):
        # epsilon-greedy, ties at random
        if np.random.random() < EPS:
            a = np.random.randint(n_a)
        else:
            best = q[s, 0]
            a = 0
            ties = 1
            for b in range(1, n_a):
                v = q[s, b]
                if v > best:
                    best = v
                    a = b
                    ties = 1
                elif v == best:
                    ties += 1
                    if np.random.randint(ties) == 0:
                        a = b
        # one outcome of (s, a)
        k = s * n_a + a
        i = first[k]
        end = first[k + 1] - 1
        u = np.random.random()
        while i < end and u >= cum[i]:
            i += 1
        s2 = nxt[i]
        target = rew[i]
        if not term[i]:
            m = q[s2, 0]
            for b in range(1, n_a):
                if q[s2, b] > m:
                    m = q[s2, b]
            target += GAMMA * m
        q[s, a] += ALPHA * (target - q[s, a])
        t += 1
        if term[i] or (limit > 0 and t >= limit):
            s = np.searchsorted(start_cum, np.random.random(),
                                side="right")
            t = 0
        else:
            s = s2
    return 0


class Peer:
    """The exported model in the arrays q_loop() reads."""

    def __init__(self, env_name):
        env = distq.make(env_name)
        m = env.model()
        S, A = env.n_states, env.n_actions
        self.shape = (S, A)
        key = m.state.astype(np.int64) * A + m.action
        order = np.argsort(key, kind="stable")
        key = key[order]
        self.first = np.searchsorted(key, np.arange(S * A + 1))
        self.nxt = m.next_state[order].astype(np.int64)
        self.rew = m.reward[order].astype(np.float64)
        self.term = m.terminated[order].astype(np.bool_)
        prob = m.prob[order]
        self.cum = np.empty_like(prob)
        for k in range(S * A):
            a, b = self.first[k], self.first[k + 1]
            self.cum[a:b] = np.cumsum(prob[a:b])
        self.start_cum = np.cumsum(m.start)
        self.start_cum[-1] = 1.0
        self.limit = env.max_episode_steps or 0
        # compile before any timing
        self.run(1, 1000)

    def run(self, threads, steps):
        """Steps/s of `threads` threads sharing one table, `steps` in all."""
        q = np.zeros(self.shape)
        per = steps // threads
        args = [(q, self.first, self.cum, self.nxt, self.rew, self.term,
                 self.start_cum, self.limit, per, 1 + i)
                for i in range(threads)]
        t0 = time.perf_counter()
        if threads == 1:
            q_loop(*args[0])
        else:
            ths = [threading.Thread(target=q_loop, args=a) for a in args]
            for th in ths:
                th.start()
            for th in ths:
                th.join()
        return per * threads / (time.perf_counter() - t0)


def library(env_name, threads, steps, discipline, share):
    r = distq.train(env_name, threads=threads, steps=steps, seed=1,
                    discipline=discipline, share=share, progress=False)
    return r.steps_per_second


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("envs", nargs="*", default=["taxi", "frozenlake8x8"])
    ap.add_argument("--steps", type=int, default=4_000_000,
                    help="steps per point, all threads (default 4M)")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--csv", help="one row per point and repetition")
    ap.add_argument("--markdown", help="the table, in markdown")
    o = ap.parse_args()
    threads = [int(x) for x in o.threads.split(",")]
    rows, lines = [], []
    print(f"# numba peer: libdistq {distq.__version__}, numba "
          f"{numba.__version__}, {o.steps} steps per point, median of "
          f"{o.reps} repetitions; ratio = libdistq steps/s / Numba's")
    lines.append("| env | P | libdistq (default) | libdistq (hogwild) | "
                 "Numba | default / Numba | hogwild / Numba |")
    lines.append("|---|---:|---:|---:|---:|---:|---:|")
    for env_name in o.envs:
        peer = Peer(env_name)
        for p in threads:
            lib_d, lib_h, nb = [], [], []
            for rep in range(o.reps):
                lib_d.append(library(env_name, p, o.steps, "cas", "auto"))
                lib_h.append(library(env_name, p, o.steps, "hogwild",
                                     "direct"))
                nb.append(peer.run(p, o.steps))
                for what, v in (("libdistq", lib_d[-1]),
                                ("libdistq-hogwild", lib_h[-1]),
                                ("numba", nb[-1])):
                    rows.append(f"{env_name},{p},{what},{rep},{v:.0f}")
            rd = statistics.median(d / n for d, n in zip(lib_d, nb))
            rh = statistics.median(h / n for h, n in zip(lib_h, nb))
            med = [statistics.median(x) / 1e6 for x in (lib_d, lib_h, nb)]
            line = (f"| {env_name} | {p} | {med[0]:.2f}M | {med[1]:.2f}M | "
                    f"{med[2]:.2f}M | {rd:.2f}x | {rh:.2f}x |")
            lines.append(line)
            print(line if len(lines) > 3 else "\n".join(lines), flush=True)
    if o.csv:
        with open(o.csv, "w") as f:
            f.write("env,threads,peer,rep,steps_per_s\n")
            f.write("\n".join(rows) + "\n")
    if o.markdown:
        with open(o.markdown, "w") as f:
            f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
