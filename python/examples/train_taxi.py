#!/usr/bin/env python3
"""Train Taxi-v3 with libdistq's C threads, and set it beside the same
tabular Q-learning written in plain Python.

    PYTHONPATH=python python3 python/examples/train_taxi.py
    python3 train_taxi.py --threads 2 --python-steps 300000 --plot curve.png

1. distq.train(): the C agent threads learn until the greedy policy is
   optimal from every start state (target 1.0), or --seconds pass.
2. The same algorithm (epsilon-greedy Q-learning, alpha 0.1, epsilon
   0.1, gamma 0.95) as a Python loop over Gymnasium's Taxi-v3 when
   Gymnasium is installed, else over distq.make("taxi") stepped from
   Python, for --python-steps steps; its steps/s gives the time it would
   need for as many steps as distq took.
3. Both greedy policies are evaluated exactly against the optimum, and
   the learning curves are drawn with matplotlib when it is installed
   (--plot FILE; skipped, saying so, otherwise).
"""

import argparse
import time

import numpy as np

import distq


def python_q_learning(env, steps, seed, gamma=0.95, alpha=0.1, eps=0.1):
    """Plain-Python tabular Q-learning: the loop a user writes."""
    S, A = env.observation_space.n, env.action_space.n
    q = np.zeros((S, A))
    rng = np.random.default_rng(seed)
    s, _ = env.reset(seed=seed)
    ret, curve = 0.0, []
    t0 = time.perf_counter()
    for t in range(steps):
        if rng.random() < eps:
            a = int(rng.integers(A))
        else:
            row = q[s]
            a = int(rng.choice(np.flatnonzero(row == row.max())))
        s2, r, term, trunc, _ = env.step(a)
        target = r if term else r + gamma * q[s2].max()
        q[s, a] += alpha * (target - q[s, a])
        ret += r
        s = s2
        if term or trunc:
            curve.append((t + 1, ret))
            ret = 0.0
            s, _ = env.reset()
    return q, time.perf_counter() - t0, np.array(curve)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=None,
                    help="C agent threads (default: one per core)")
    ap.add_argument("--seconds", type=float, default=60,
                    help="time limit of distq.train (default 60)")
    ap.add_argument("--python-steps", type=int, default=200_000,
                    help="steps of the plain-Python loop (default 200k)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--plot", default="taxi_curve.png",
                    help="learning-curve file (default taxi_curve.png)")
    ap.add_argument("--quiet", action="store_true", help="no progress bar")
    args = ap.parse_args()
    gamma = 0.95

    env = distq.make("taxi")
    best = distq.solve(env, gamma)
    res = distq.train(env, threads=args.threads, target=1.0,
                      seconds=args.seconds, gamma=gamma, seed=args.seed,
                      progress=not args.quiet, progress_interval=0.0005)
    ev = distq.evaluate(env, res.table, episodes=1000, gamma=gamma)
    print(f"distq.train      {res.threads} threads: {res.run_steps:,} steps "
          f"in {res.seconds:.3f} s ({res.steps_per_second / 1e6:.2f}M "
          f"steps/s), stopped by {res.reason}")
    print(f"                 greedy start value {ev.start_value:.6f} "
          f"(optimal {best.start_value:.6f}), success "
          f"{100 * ev.success_rate:.1f}%")

    try:
        import gymnasium as gym
        py_env, where = gym.make("Taxi-v3"), "Gymnasium's Taxi-v3"
    except ImportError:
        py_env, where = distq.make("taxi"), \
            "distq.make('taxi') (Gymnasium is not installed)"
    q, dt, curve = python_q_learning(py_env, args.python_steps, args.seed,
                                     gamma)
    rate = args.python_steps / dt
    pv = distq.evaluate(env, distq.Table.from_numpy(q), episodes=0,
                        gamma=gamma)
    print(f"plain Python     over {where}: {args.python_steps:,} steps in "
          f"{dt:.2f} s ({rate / 1e3:.0f}k steps/s)")
    print(f"                 greedy start value {pv.start_value:.6f} "
          f"after those steps")
    print(f"                 {res.run_steps:,} steps would take "
          f"{res.run_steps / rate:.1f} s: distq is "
          f"{res.steps_per_second / rate:.0f}x faster per step")

    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: learning curve not drawn "
              "(Debian: python3-matplotlib)")
        return
    h = res.history
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(h["steps"], h["mean_return"], "o-", ms=3, label=f"distq, {res.threads} "
            "threads (mean of the last 100 episodes per agent)")
    if len(curve):
        k = min(100, len(curve))
        smooth = np.convolve(curve[:, 1], np.ones(k) / k, mode="valid")
        ax.plot(curve[k - 1:, 0], smooth, label="plain Python (same "
                "algorithm, 100-episode mean)")
    ax.axhline(ev.mean_return, ls=":", c="gray",
               label="distq's greedy policy")
    ax.set_xscale("log")
    ax.set_xlabel("steps")
    ax.set_ylabel("return per episode (while exploring)")
    ax.set_title("Taxi-v3: Q-learning, alpha 0.1, epsilon 0.1, gamma 0.95")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(args.plot, dpi=100)
    print(f"learning curve   {args.plot}")


if __name__ == "__main__":
    main()
