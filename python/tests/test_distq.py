"""The distq package: every public function, against the C library and,
where it is installed, against Gymnasium."""

import errno
import os
import pathlib
import signal
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest

import distq
from distq._ffi import ffi, lib
from conftest import TREE, distq_program

PKG_DIR = str(pathlib.Path(distq.__file__).resolve().parents[1])


# ------------------------------------------------------------ environments

def test_make_gymnasium_api():
    env = distq.make("taxi")
    assert env.observation_space.n == 500 and env.action_space.n == 6
    obs, info = env.reset(seed=3)
    assert isinstance(obs, int) and 0 <= obs < 500 and isinstance(info, dict)
    out = env.step(0)
    assert len(out) == 5
    obs, reward, terminated, truncated, info = out
    assert isinstance(obs, int) and isinstance(reward, float)
    assert isinstance(terminated, bool) and isinstance(truncated, bool)
    assert isinstance(info, dict)
    assert env.observation_space.contains(obs)
    assert env.action_space.sample() in env.action_space
    # Same seed, same episode.
    def run(seed):
        o, _ = env.reset(seed=seed)
        traj = [o]
        for a in [0, 1, 2, 3, 0, 1, 2, 3]:
            traj.append(env.step(a))
        return traj
    assert run(7) == run(7)
    # Truncated at Taxi-v3's 200 steps: an illegal pickup never ends it.
    env.reset(seed=1)
    for i in range(200):
        _, r, term, trunc, _ = env.step(4)
        assert not term and trunc == (i == 199)
    with pytest.raises(RuntimeError):
        env.step(0)


def test_make_params_and_gymnasium_ids():
    env = distq.make("maze4x3", slip=0.0, living_reward=0)
    assert env.spec_string == "maze4x3:slip=0.0,living_reward=0"
    assert env.n_states == 11 and env.has_model
    det = distq.make("FrozenLake-v1", map_name="8x8", is_slippery=False)
    assert det.n_states == 64 and det.spec_string == \
        "frozenlake8x8:slippery=0"
    m = det.model()
    assert set(np.unique(m.prob)) == {1.0}
    assert distq.make("frozenlake4x4:slippery=0").n_states == 16
    assert distq.make("CartPole-v1").has_model is False
    with pytest.raises(NotImplementedError):
        distq.make("cartpole").model()


def test_make_errors():
    with pytest.raises(ValueError, match="unknown environment") as e:
        distq.make("nosuch")
    assert isinstance(e.value, distq.Error)
    with pytest.raises(ValueError, match="unknown key 'slipp'"):
        distq.make("maze4x3", slipp=0.1)
    with pytest.raises(ValueError, match="slip"):
        distq.make("maze4x3", slip=2)
    with pytest.raises(ValueError):
        distq.make("")
    with pytest.raises(TypeError):
        distq.solve(42)
    env = distq.make("maze4x3")
    env.reset(seed=1)
    for bad in (4, -1, 1.5):
        with pytest.raises(ValueError):
            env.step(bad)


def _c_outcomes(env, s, a):
    buf = ffi.new("dq_outcome[]", 16)
    n = lib.dq_env_outcomes(env._env, s, a, buf, 16)
    assert 0 < n <= 16
    return [(o.prob, o.next_state, o.reward, bool(o.terminated))
            for o in buf[0:n]]


@pytest.mark.parametrize("name", ["maze4x3", "taxi", "frozenlake4x4",
                                  "cliffwalking"])
def test_model_arrays_against_c(name):
    env = distq.make(name)
    m = env.model()
    S, A = env.n_states, env.n_actions
    assert m.P.shape == (S, A, S) and m.R.shape == (S, A)
    assert m.P_terminal.shape == (S, A, S) and m.start.shape == (S,)
    np.testing.assert_allclose(m.P.sum(axis=2), 1.0, atol=1e-12)
    assert abs(m.start.sum() - 1) < 1e-12
    # Outcome by outcome, as the C model gives them.
    P = env.P
    for s in range(S):
        for a in range(A):
            c = _c_outcomes(env, s, a)
            assert P[s][a] == c
            for p, s2, r, t in c:
                assert m.P[s, a, s2] >= p - 1e-15
    # Value iteration on the arrays gives the C solver's Q*.
    gamma = 0.9
    sol = distq.solve(env, gamma)
    Pc = m.P - m.P_terminal
    Q = np.zeros((S, A))
    for _ in range(2000):
        Qn = m.R + gamma * Pc @ Q.max(axis=1)
        if np.abs(Qn - Q).max() < 1e-13:
            break
        Q = Qn
    np.testing.assert_allclose(Q, sol.Q, atol=1e-9)


def test_model_against_cli(tmp_path):
    prog = distq_program()
    if prog is None:
        pytest.skip("the distq program was not found (make builds it)")
    out = subprocess.run([prog, "model", "taxi"], capture_output=True,
                         text=True, check=True).stdout.splitlines()
    m = distq.make("taxi").model()
    rows = np.array([line.split("\t") for line in out[1:]], dtype=float)
    assert len(rows) == len(m.prob)
    np.testing.assert_array_equal(rows[:, 0], m.state)
    np.testing.assert_array_equal(rows[:, 1], m.action)
    np.testing.assert_array_equal(rows[:, 2], m.prob)
    np.testing.assert_array_equal(rows[:, 3], m.next_state)
    np.testing.assert_array_equal(rows[:, 4], m.reward)
    np.testing.assert_array_equal(rows[:, 5], m.terminated)


# ------------------------------------------------------------------ solver

def test_solve():
    env = distq.make("maze4x3")
    sol = distq.solve(env, gamma=1.0)
    # Russell & Norvig's 4x3 utilities plus 0.04 (docs/cli.md).
    assert abs(sol.V[0] - 0.85155821917808128) < 1e-9
    np.testing.assert_allclose(sol.V, sol.Q.max(axis=1), atol=0)
    assert (sol.Q[np.arange(11), sol.policy] >= sol.V - 1e-9).all()
    assert abs(sol.start_value - env.model().start @ sol.V) < 1e-12
    with pytest.raises(ValueError):
        distq.solve(env, gamma=1.5)
    with pytest.raises(NotImplementedError):
        distq.solve(distq.make("cartpole"))


# ------------------------------------------------------------------- table

def test_table():
    t = distq.Table((5, 3), discipline="hogwild", q0=1.5)
    assert t.shape == (5, 3) and t.discipline == "hogwild" and t.q0 == 1.5
    q = t.to_numpy()
    assert q.shape == (5, 3) and q.dtype == np.float64 and (q == 1.5).all()
    t[2, 1] = 7.0
    assert t[2, 1] == 7.0 and t.to_numpy()[2, 1] == 7.0
    assert list(t.policy()) == [0, 0, 1, 0, 0]
    vals = np.arange(15.0).reshape(5, 3)
    u = distq.Table.from_numpy(vals)
    assert u.shape == (5, 3) and u.discipline == "cas"
    np.testing.assert_array_equal(u.to_numpy(), vals)
    assert list(u.policy()) == [2] * 5
    u.fill(-1)
    assert (u.to_numpy() == -1).all()
    assert distq.Table(4, 2).shape == (4, 2)


def test_table_errors():
    with pytest.raises(ValueError):
        distq.Table((0, 3))
    with pytest.raises(ValueError):
        distq.Table((-1, 3))
    with pytest.raises(ValueError):
        distq.Table((3, 3), discipline="fast")
    with pytest.raises(ValueError):
        distq.Table((3, 3), q0=float("nan"))
    with pytest.raises(TypeError):
        distq.Table("big")
    with pytest.raises(ValueError):
        distq.Table((1 << 31, 1 << 31))  # S x A overflows
    t = distq.Table((2, 2))
    with pytest.raises(ValueError):
        t[2, 0]
    with pytest.raises(ValueError):
        t[0, 0] = float("inf")
    with pytest.raises(ValueError):
        t.load(np.zeros((3, 2)))
    bad = np.zeros((2, 2))
    bad[1, 1] = np.nan
    with pytest.raises(ValueError):
        t.load(bad)
    assert (t.to_numpy() == 0).all()  # unchanged
    with pytest.raises(ValueError):
        distq.Table.from_numpy(np.zeros(4))


# ------------------------------------------------------------- checkpoints

def test_checkpoint_round_trip(tmp_path):
    env = distq.make("maze4x3")
    t = distq.Table.from_numpy(np.random.default_rng(1).normal(size=(11, 4)))
    path = tmp_path / "maze.dq"
    t.save(path, env, gamma=0.9, steps=123, seed=5)
    ck = distq.load(path)
    np.testing.assert_array_equal(ck.table.to_numpy(), t.to_numpy())
    assert ck.env == "maze4x3" and ck.gamma == 0.9 and ck.steps == 123
    assert ck.seed == 5 and ck.table.discipline == "cas"
    prog = distq_program()
    if prog:  # the C program reads what Python wrote
        out = subprocess.run([prog, "inspect", "--q", str(path)],
                             capture_output=True, text=True, check=True)
        q = np.array([line.split("\t")[2] for line in
                      out.stdout.splitlines()[1:]], float).reshape(11, 4)
        np.testing.assert_array_equal(q, t.to_numpy())


def test_checkpoint_errors(tmp_path):
    with pytest.raises(OSError) as e:
        distq.load(tmp_path / "missing.dq")
    assert e.value.errno == errno.ENOENT and isinstance(e.value, distq.Error)
    assert "missing.dq" in str(e.value)
    junk = tmp_path / "junk.dq"
    junk.write_bytes(b"not a checkpoint at all" * 10)
    with pytest.raises(ValueError, match="not a libdistq file"):
        distq.load(junk)
    with pytest.raises(OSError) as e:
        distq.Table((2, 2)).save(tmp_path / "nodir" / "x.dq")
    assert e.value.errno == errno.ENOENT
    with pytest.raises(OSError) as e:
        distq.Table((2, 2)).save(tmp_path)
    assert e.value.errno == errno.EISDIR


# ----------------------------------------------------------------- training

def _reachable(model, policy):
    """States the policy can reach from the start distribution."""
    S = model.n_states
    P = model.P - model.P_terminal
    seen = model.start > 0
    frontier = np.flatnonzero(seen)
    while frontier.size:
        nxt = P[frontier, policy[frontier], :].sum(axis=0) > 0
        frontier = np.flatnonzero(nxt & ~seen)
        seen |= nxt
    return np.flatnonzero(seen)


@pytest.mark.parametrize("name,gamma", [("taxi", 0.95),
                                        ("frozenlake4x4", 0.95)])
def test_trained_policy_is_the_solvers(name, gamma):
    env = distq.make(name)
    r = distq.train(env, threads=2, target=1.0, seconds=20, gamma=gamma,
                    seed=3, progress=False)
    assert r.reason == "target", r
    assert r.target_fraction == 1.0
    sol = distq.solve(env, gamma)
    pi = r.policy()
    where = _reachable(env.model(), pi)
    # Optimal wherever the policy goes ...
    q = sol.Q[where, pi[where]]
    assert (q >= sol.V[where] - 1e-6).all()
    # ... and the solver's own action where the optimum is unique.
    srt = np.sort(sol.Q[where], axis=1)
    unique = srt[:, -1] - srt[:, -2] > 1e-6
    np.testing.assert_array_equal(pi[where][unique],
                                  sol.policy[where][unique])
    ev = distq.evaluate(env, r.table, episodes=200, gamma=gamma)
    assert abs(ev.start_value - ev.optimal_start_value) < 1e-6
    assert ev.optimal_fraction == 1.0


def test_train_result_and_stops():
    env = distq.make("maze4x3")
    r = distq.train(env, threads=1, steps=50_000, seed=2, progress=False,
                    progress_interval=0.001, alpha=(0.5, 0.05, "linear",
                                                    50_000))
    assert r.reason == "steps" and r.run_steps == 50_000 == r.steps
    assert r.episodes > 0 and r.threads == 1
    assert abs(r.alpha - 0.05) < 1e-9
    assert r.table.shape == (11, 4)
    h = r.history
    assert len(h["steps"]) >= 1 and h["steps"][-1] == 50_000
    assert (np.diff(h["steps"]) >= 0).all()
    # Same seed, one thread, step limit: the same table bit for bit.
    r2 = distq.train(env, threads=1, steps=50_000, seed=2, progress=False,
                     alpha=(0.5, 0.05, "linear", 50_000))
    np.testing.assert_array_equal(r.table.to_numpy(), r2.table.to_numpy())
    # Going on with the same table.
    r3 = distq.train(env, threads=1, episodes=10, table=r.table,
                     progress=False)
    assert r3.reason == "episodes" and r3.table is r.table
    r4 = distq.train(env, threads=1, seconds=0.05, progress=False,
                     share=8)
    assert r4.reason == "time"
    calls = []
    r5 = distq.train(env, threads=1, seconds=10, progress=False,
                     progress_interval=0.01,
                     callback=lambda info: calls.append(info) or
                     len(calls) >= 3)
    assert r5.reason == "callback" and len(calls) == 3
    assert {"steps", "mean_return", "epsilon"} <= set(calls[0])


def test_train_curve_and_target_return():
    env = distq.make("frozenlake4x4-det")
    r = distq.train(env, threads=1, steps=20_000_000, seed=3, progress=False,
                    eval_every=500, eval_unit="steps", eval_episodes=5,
                    target_return=1.0)
    assert r.reason == "return"
    c = r.curve
    assert len(c["steps"]) >= 2 and c["final"][-1] and not c["final"][0]
    assert (np.diff(c["run_steps"]) >= 0).all()
    assert c["run_steps"][0] == 0
    assert 0 < r.return_steps <= r.run_steps
    assert np.isfinite(c["exact_value"]).all()
    hit = np.flatnonzero((c["mean_return"] >= 1.0) & ~c["final"])[0]
    assert c["seconds"][hit] == r.return_seconds
    r2 = distq.train(env, threads=1, steps=1000, progress=False)
    assert r2.curve is None and r2.return_steps == 0
    with pytest.raises(distq.InvalidArgument):
        distq.train(env, steps=10, progress=False, target_return=1.0)


def test_train_errors():
    env = distq.make("taxi")
    with pytest.raises(ValueError):
        distq.train(env, threads=0, steps=10)
    with pytest.raises(ValueError):
        distq.train(env, steps=-5)
    with pytest.raises(ValueError):
        distq.train(env, steps=10, gamma=1.5, threads=1)
    with pytest.raises(ValueError):
        distq.train(env, steps=10, alpha=0, threads=1)
    with pytest.raises(ValueError):
        distq.train(env, steps=10, algo="qq", threads=1)
    with pytest.raises(ValueError):
        distq.train(env, steps=10, share="sometimes", threads=1)
    with pytest.raises(ValueError):
        distq.train(env, steps=10, table=distq.Table((3, 3)), threads=1)
    with pytest.raises(NotImplementedError):
        distq.train("cartpole", target=1.0, threads=1)
    with pytest.raises(ValueError, match="seconds"):
        distq.train(env, seconds=float("inf"), threads=1)
    for kw in ({"seed": -1}, {"max_episode_steps": -1}, {"share": -2},
               {"progress_interval": 0}, {"target": 1.5}, {"pin": "x"}):
        with pytest.raises(ValueError):
            distq.train(env, steps=10, threads=1, **kw)
    with pytest.raises(TypeError):
        distq.train(env, steps=10, threads=1, seed="one")

    def boom(info):
        raise ZeroDivisionError("from the callback")
    with pytest.raises(ZeroDivisionError):
        distq.train(env, threads=1, seconds=5, progress=False,
                    progress_interval=0.01, callback=boom)


def test_progress_line(capfd):
    distq.train("maze4x3", threads=1, steps=20_000, progress="line",
                progress_interval=0.001)
    err = capfd.readouterr().err
    assert "steps/s" in err and err.endswith("\n")
    distq.train("maze4x3", threads=1, steps=1000, progress=False)
    assert capfd.readouterr().err == ""


def test_tqdm_progress(capfd):
    pytest.importorskip("tqdm", reason="tqdm is not installed: the plain "
                        "progress line is used (test_progress_line)")
    distq.train("maze4x3", threads=1, steps=20_000, progress=True)
    assert "step" in capfd.readouterr().err


def test_gil_released_while_training():
    count = [0]
    stop = threading.Event()

    def spin():
        while not stop.is_set():
            count[0] += 1
    th = threading.Thread(target=spin)
    th.start()
    time.sleep(0.2)
    c0, t0 = count[0], time.perf_counter()
    time.sleep(0.3)
    free = (count[0] - c0) / (time.perf_counter() - t0)
    # Sampled from the progress callback, i.e. while the C run is under
    # way (the callback itself runs with the GIL, in the calling thread).
    samples = []
    distq.train("taxi", threads=1, seconds=0.4, progress=False, pin="none",
                progress_interval=0.05,
                callback=lambda info: samples.append(
                    (time.perf_counter(), count[0])))
    stop.set()
    th.join()
    assert len(samples) >= 3
    during = (samples[-1][1] - samples[0][1]) / \
        (samples[-1][0] - samples[0][0])
    # Held, the other thread would not run at all during the C call.
    assert during > 0.3 * free, (during, free)


def test_ctrl_c_stops_the_run():
    code = textwrap.dedent("""
        import os, signal, sys, threading, time
        import distq
        threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT)).start()
        t0 = time.perf_counter()
        try:
            distq.train("taxi", threads=1, seconds=60, progress=False)
        except KeyboardInterrupt as e:
            took = time.perf_counter() - t0
            assert e.result.reason == "interrupted", e.result.reason
            assert e.result.steps > 0
            assert signal.getsignal(signal.SIGINT) is \\
                signal.default_int_handler
            print("interrupted after %.2f s" % took)
            sys.exit(0 if took < 10 else 3)
        sys.exit(4)
        """)
    env = dict(os.environ, PYTHONPATH=PKG_DIR)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True,
                       text=True, env=env, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "interrupted after" in r.stdout


# --------------------------------------------------------------- evaluation

def test_evaluate():
    env = distq.make("taxi")
    sol = distq.solve(env, 0.95)
    ev = distq.evaluate(env, sol.policy, episodes=300, seed=4)
    assert ev.success_rate == 1.0 and ev.terminated == 1.0
    assert ev.returns.shape == (300,) and ev.lengths.max() <= 200
    assert abs(ev.start_value - ev.optimal_start_value) < 1e-9
    assert abs(ev.progress - 1) < 1e-9 and ev.optimal_fraction == 1.0
    # A table's greedy policy (ties to the lowest action).
    ev0 = distq.evaluate(env, distq.Table((500, 6)), episodes=5)
    assert ev0.success_rate == 0.0 and ev0.truncated == 1.0
    assert ev0.progress < 1 and ev0.start_value < ev.start_value
    ev2 = distq.evaluate(env, sol.policy, episodes=300, seed=4)
    np.testing.assert_array_equal(ev.returns, ev2.returns)
    cp = distq.evaluate("cartpole", np.zeros(324, int), episodes=3)
    assert cp.start_value is None and cp.mean_length < 500
    with pytest.raises(ValueError):
        distq.evaluate(env, np.zeros(499, int))
    with pytest.raises(ValueError):
        distq.evaluate(env, np.full(500, 6))
    with pytest.raises(ValueError):
        distq.evaluate(env, distq.Table((5, 6)))


# ------------------------------------------------- own loop: batched agents

def corridor_step(cells, s, a):
    """The corridor of examples/own_loop.c, vectorised."""
    nxt = np.where(a == 1, (s + 1) % cells, np.maximum(s, 1) - 1)
    done = (a == 1) & (s == cells - 1)
    r = np.where(done, 1.0, -0.01)
    return np.where(done, 0, nxt).astype(np.uint32), r, done


def test_agent_batch_equals_single_calls():
    t1, t2 = distq.Table((8, 2)), distq.Table((8, 2))
    g1 = distq.Agent(t1, epsilon=0.3, seed=9)
    g2 = distq.Agent(t2, epsilon=0.3, seed=9)
    rng = np.random.default_rng(0)
    for _ in range(20):
        s = rng.integers(0, 8, 64).astype(np.uint32)
        a1 = np.array([g1.act(int(x)) for x in s])
        a2 = g2.act(s)
        np.testing.assert_array_equal(a1, a2)
        s2, r, d = corridor_step(8, s, a2)
        for i in range(64):
            g1.observe(s[i], a1[i], r[i], s2[i], d[i])
        g2.observe(s, a2, r, s2, d)
    np.testing.assert_array_equal(t1.to_numpy(), t2.to_numpy())
    assert g1.stats == g2.stats or (
        np.isnan(g1.stats["mean_return"]) and
        np.isnan(g2.stats["mean_return"]))
    assert g2.stats["steps"] == 20 * 64


def test_agent_two_python_threads():
    cells, batch, rounds = 16, 64, 400
    table = distq.Table((cells, 2))
    errors = []

    def simulate(i):
        try:
            ag = distq.Agent(table, gamma=0.95, seed=1, stream=i,
                             epsilon=0.2)
            s = np.zeros(batch, np.uint32)
            for _ in range(rounds):
                a = ag.act(s)
                s2, r, done = corridor_step(cells, s, a)
                ag.observe(s, a, r, s2, done)
                s = s2
            assert ag.stats["steps"] == batch * rounds
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)
    th = [threading.Thread(target=simulate, args=(i,)) for i in range(2)]
    for x in th:
        x.start()
    for x in th:
        x.join()
    assert not errors, errors
    # Moving right is optimal everywhere.
    assert (table.policy() == 1).all(), table.to_numpy()


def test_agent_bad_arguments():
    t = distq.Table((4, 2))
    ag = distq.Agent(t)
    with pytest.raises(ValueError):
        ag.act([0, 4])
    with pytest.raises(ValueError):
        ag.act([-1])
    with pytest.raises(ValueError):
        ag.act([1 << 32])
    with pytest.raises(TypeError):
        ag.act([0.5])
    with pytest.raises(ValueError, match="different lengths"):
        ag.observe([0, 1], [0], [0.0, 0.0], [1, 2], [False, False])
    with pytest.raises(ValueError):
        ag.observe([0, 1], [0, 2], [0.0, 0.0], [1, 2], [0, 0])
    with pytest.raises(ValueError):
        ag.observe([0, 1], [0, 1], [0.0, np.nan], [1, 2], [0, 0])
    # The scalar fast path checks the same.
    for bad in (4, -1, 1 << 32):
        with pytest.raises(ValueError):
            ag.act(bad)
    with pytest.raises(ValueError):
        ag.observe(0, 2, 0.0, 1, False)
    with pytest.raises(ValueError):
        ag.observe(0, 1, float("nan"), 1, False)
    with pytest.raises(ValueError):
        ag.observe(-1, 1, 0.0, 1, False)
    assert ag.stats["steps"] == 0 and (t.to_numpy() == 0).all()
    assert ag.act(3) in (0, 1) and ag.act(np.uint32(3)) in (0, 1)
    ag.observe(0, 1, 1.0, 1, True)
    ag.end_episode()
    ag.sync()
    assert ag.stats["steps"] == 1 and ag.stats["episodes"] == 1
    assert ag.act(np.array([], np.uint32)).shape == (0,)
    with pytest.raises(TypeError):
        distq.Agent(np.zeros((4, 2)))
    with pytest.raises(ValueError):
        distq.Agent(t, gamma=2)
    with pytest.raises(ValueError):
        distq.Agent(t, stream=-1)
    with pytest.raises(ValueError):
        distq.Agent(t, stream=1 << 21)  # the library's stream limit
    with pytest.raises(ValueError):
        distq.Agent(t, epsilon=(1, 0, "cubic", 10))
    with pytest.raises(ValueError):
        distq.Agent(distq.Table((1 << 23, 1)), sync_every=4)


def test_rules_by_name():
    """The rules and their parameters through the config, by the names
    distq train --algo takes: n-step Q's truncation flush by hand (n = 2,
    alpha 1, gamma 0.5: Q(0,0) <- 1 + .5 (2 + .5 x 8) = 4 when s2 is
    observed, Q(1,0) <- 2 + .5 x 8 = 6 at end_episode), and each rule,
    softmax included, trains."""
    t = distq.Table((3, 2))
    t[2, 1] = 8.0
    a = distq.Agent(t, algo="nstep-q", nstep=2, alpha=1.0, gamma=0.5,
                    epsilon=0.0, random_ties=False)
    a.observe(0, 0, 1.0, 1, False)
    assert t[0, 0] == 0.0
    a.observe(1, 0, 2.0, 2, False)
    assert t[0, 0] == 4.0
    a.end_episode()
    assert t[1, 0] == 6.0
    env = distq.make("maze4x3")
    for algo, kw in (("nstep-sarsa", {"nstep": 4}),
                     ("q-lambda", {"lam": 0.5, "trace": "replacing"}),
                     ("expected-sarsa", {"softmax": (2.0, 0.1, "exp", 5e3)}),
                     ("q", {"softmax": 0.5})):
        r = distq.train(env, threads=1, steps=20_000, algo=algo,
                        progress=False, **kw)
        assert r.steps == 20_000
    with pytest.raises(ValueError):
        distq.train(env, steps=10, algo="double-q", threads=1)
    with pytest.raises(ValueError):
        distq.train(env, steps=10, algo="nstep-q", nstep=0, threads=1)
    with pytest.raises(ValueError):
        distq.train(env, steps=10, algo="q-lambda", trace="dutch",
                    threads=1)


def test_agent_keeps_its_table_alive():
    ag = distq.Agent(distq.Table((3, 2)), epsilon=0)
    import gc
    gc.collect()
    ag.observe([0], [1], [2.0], [1], [True])
    assert ag.table[0, 1] == pytest.approx(0.2)


# -------------------------------------------------------------- Gymnasium

GYM_PAIRS = [("Taxi-v3", {}, "taxi"),
             ("FrozenLake-v1", {"is_slippery": True}, "frozenlake4x4"),
             ("FrozenLake-v1", {"map_name": "8x8"}, "frozenlake8x8"),
             ("CliffWalking-v0", {}, "cliffwalking")]


@pytest.mark.parametrize("gym_id,kw,name", GYM_PAIRS)
def test_against_gymnasium(gym_id, kw, name):
    gym = pytest.importorskip(
        "gymnasium", reason="Gymnasium is not installed: the built-in "
        "environments are not compared with it")
    ref = gym.make(gym_id, **kw)
    env = distq.make(gym_id, **kw)
    assert env.n_states == ref.observation_space.n
    assert env.n_actions == ref.action_space.n
    if ref.spec.max_episode_steps is not None:
        assert env.max_episode_steps == ref.spec.max_episode_steps
    P = env.P
    # States only entered by terminating transitions are never stepped
    # from; their rows are a convention (absorbing here, plain moves in
    # Gymnasium's CliffWalking), not compared.
    m = env.model()
    entered = np.zeros(env.n_states, bool)
    entered[m.next_state[~m.terminated]] = True
    stepped = entered | (m.start > 0)
    for s in np.flatnonzero(stepped):
        s = int(s)
        for a in range(env.n_actions):
            want = {}
            for p, s2, r, t in ref.unwrapped.P[s][a]:
                k = (int(s2), float(r), bool(t))
                want[k] = want.get(k, 0.0) + p
            got = {}
            for p, s2, r, t in P[s][a]:
                got[(s2, r, t)] = got.get((s2, r, t), 0.0) + p
            assert got.keys() == want.keys(), (s, a)
            for k in got:
                assert abs(got[k] - want[k]) < 1e-12
    # Step both from the same state with the same actions (deterministic
    # where the model has one outcome).
    obs, _ = ref.reset(seed=0)
    env.reset(seed=0)
    env.set_state(obs)
    rng = np.random.default_rng(0)
    for _ in range(50):
        a = int(rng.integers(env.n_actions))
        outs = P[obs][a]
        o1 = ref.step(a)
        if len(outs) == 1:
            o2 = env.step(a)
            assert o1[:4] == o2[:4]
        else:
            env.set_state(o1[0])
        obs = o1[0]
        if o1[2] or o1[3]:
            obs, _ = ref.reset()
            env.set_state(obs)


def test_objects_freed_in_any_order():
    # Environments, instances, models, tables and agents caught in
    # reference cycles: the collector frees them in any order; a
    # dependent freed after its parent would crash the interpreter.
    code = textwrap.dedent("""
        import gc
        import distq
        for i in range(200):
            env = distq.make("taxi")
            env._cycle = env
            env.reset(seed=i)
            env._c_model()
            t = distq.Table((env.n_states, env.n_actions))
            ag = distq.Agent(t)
            t.cycle = (t, ag, env)
            ag.cycle = ag
            del env, t, ag
            if i % 7 == 0:
                gc.collect()
        gc.collect()
        from distq import _ffi
        assert not _ffi._LIVE, len(_ffi._LIVE)
        print("ok")
        """)
    env = dict(os.environ, PYTHONPATH=PKG_DIR)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True,
                       text=True, env=env, timeout=60)
    assert r.returncode == 0 and r.stdout.strip() == "ok", \
        (r.returncode, r.stdout, r.stderr[-2000:])


# ------------------------------------------------------------- installing

def test_pip_install_offline(tmp_path):
    """pip install ./python into a virtual environment, without network
    (--no-index: pip may not look anything up), then import it from
    elsewhere with DISTQ_LIBRARY naming the library."""
    src = TREE / "python"
    if not (src / "setup.py").exists():
        pytest.skip("not run from the source tree")
    import importlib.util
    missing = [m for m in ("ensurepip", "pip", "setuptools")
               if importlib.util.find_spec(m) is None]
    if missing:
        pytest.skip(f"cannot test pip install without {missing} (Debian: "
                    "python3-pip python3-setuptools python3-venv)")
    import shutil
    copy = tmp_path / "src"
    shutil.copytree(src, copy, ignore=shutil.ignore_patterns(
        "build", "*.egg-info", "__pycache__"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages",
                    str(venv)], check=True, capture_output=True)
    py = venv / "bin" / "python"
    r = subprocess.run([str(py), "-m", "pip", "install", "--no-index",
                        "--no-cache-dir", "--quiet", str(copy)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["DISTQ_LIBRARY"] = distq.library_path
    r = subprocess.run([str(py), "-c",
                        "import distq; print(distq.__file__); "
                        "print(distq.train('maze4x3', threads=1, "
                        "steps=1000, progress=False).reason)"],
                       capture_output=True, text=True, env=env,
                       cwd=tmp_path, timeout=60)
    assert r.returncode == 0, r.stderr
    where, reason = r.stdout.split()
    assert where.startswith(str(venv)) and reason == "steps"


@pytest.mark.parametrize("script,args,expect", [
    ("train_taxi.py", ["--threads", "2", "--seconds", "10",
                       "--python-steps", "20000", "--quiet"],
     ["distq.train", "plain Python", "faster per step"]),
    ("own_loop.py", ["--seconds", "0.2", "--batches", "1,64"],
     ["distq.Agent\t64", "2 Python threads"]),
])
def test_examples(tmp_path, script, args, expect):
    path = TREE / "python" / "examples" / script
    if not path.exists():
        pytest.skip("not run from the source tree")
    env = dict(os.environ, PYTHONPATH=PKG_DIR)
    r = subprocess.run([sys.executable, str(path), *args,
                        *(["--plot", str(tmp_path / "c.png")]
                          if script == "train_taxi.py" else [])],
                       capture_output=True, text=True, env=env,
                       cwd=tmp_path, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    for e in expect:
        assert e in r.stdout, r.stdout


def test_replay_and_target_table():
    # train(): replay and a shared target still reach the exact optimum.
    env = distq.make("frozenlake4x4")
    r = distq.train(env, threads=2, steps=20_000_000, seconds=60, target=1.0,
                    seed=11, progress=False, replay=(64, 2, 2),
                    target_table=200)
    assert r.reason == "target"
    # Agent: bootstraps read the target (a copy taken at creation, all 0),
    # not the live row set to 10 since: 0.5 x (1 + 0.9 x 0) = 0.5.
    t = distq.Table((2, 2))
    g = distq.Agent(t, gamma=0.9, alpha=0.5, epsilon=0.0,
                    target_table=1000, replay=8)
    t[1, 1] = 10.0
    g.observe(0, 0, 1.0, 1, False)
    assert t[0, 0] == 0.5
    g2 = distq.Agent(distq.Table((2, 2)), target_table=("polyak", 0.25, 4))
    with pytest.raises(distq.Error):
        distq.Agent(distq.Table((2, 2)), replay=(8, 0))
    with pytest.raises(distq.Error):
        distq.Agent(distq.Table((2, 2)), target_table=("polyak", 2.0))
    del g, g2
