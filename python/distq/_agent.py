"""An agent handle for a Python simulator that owns its loop: batched
act/observe over NumPy arrays, one C call per batch."""

import threading

import numpy as np

from ._errors import check, InvalidArgument
from ._ffi import ffi, lib, owned
from ._table import Table


def schedule(c, value, what):
    """Fill a dq_schedule from a number (constant) or a tuple
    (start, end, "linear"|"exp", steps)."""
    if isinstance(value, (tuple, list)):
        try:
            start, end, kind, steps = value
        except ValueError:
            raise InvalidArgument(f"{what}: a number or (start, end, kind, "
                                  f"steps), not {value!r}", -22) from None
        kinds = {"linear": lib.DQ_SCHEDULE_LINEAR,
                 "exp": lib.DQ_SCHEDULE_EXP,
                 "constant": lib.DQ_SCHEDULE_CONSTANT}
        if kind not in kinds:
            raise InvalidArgument(f"{what}: schedule kind must be linear or "
                                  f"exp, not {kind!r}", -22)
        c.kind, c.start, c.end, c.steps = kinds[kind], float(start), \
            float(end), float(steps)
    else:
        c.kind = lib.DQ_SCHEDULE_CONSTANT
        c.start = c.end = float(value)
        c.steps = 1.0


def uint(v, what, bits=32):
    """v as an unsigned integer of ``bits`` bits, or ValueError/TypeError
    (cffi would raise OverflowError for a negative value)."""
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
        raise TypeError(f"{what} must be an integer, not {v!r}")
    if not 0 <= v < 1 << bits:
        raise InvalidArgument(f"{what} {v} is not in [0, 2^{bits})", -34)
    return int(v)


def agent_config(cfg, gamma, alpha, epsilon, seed, sync_every=0,
                 random_ties=True, return_window=100):
    cfg.gamma = float(gamma)
    schedule(cfg.alpha, alpha, "alpha")
    schedule(cfg.epsilon, epsilon, "epsilon")
    cfg.seed = uint(seed, "seed", 64)
    cfg.sync_every = uint(sync_every, "sync_every")
    cfg.random_ties = bool(random_ties)
    cfg.return_window = uint(return_window, "return_window")


def replay_target(cfg, replay=None, target_table=None):
    """Experience replay and a target table (docs/replay.md).
    ``replay``: CAP or (CAP, B=4, K=1): keep the last CAP transitions,
    replay K minibatches of B after each step. ``target_table``: C (a copy
    every C total steps) or ("polyak", TAU, C=1)."""
    if replay is not None:
        r = tuple(replay) if isinstance(replay, (tuple, list)) else (replay,)
        if not 1 <= len(r) <= 3:
            raise InvalidArgument(f"replay: CAP or (CAP, B, K), not "
                                  f"{replay!r}", -22)
        r = r + (4, 1)[len(r) - 1:]
        cfg.replay_capacity = uint(r[0], "replay capacity")
        cfg.replay_batch = uint(r[1], "replay batch")
        cfg.replay_minibatches = uint(r[2], "replay minibatches")
    if target_table is not None:
        t = target_table
        if isinstance(t, (tuple, list)) and len(t) in (2, 3) and \
                t[0] == "polyak":
            cfg.target_tau = float(t[1])
            cfg.target_every = uint(t[2] if len(t) == 3 else 1,
                                    "target_table period")
        else:
            cfg.target_every = uint(t, "target_table period")


def rule_config(cfg, algo="q", nstep=None, lam=None, trace=None,
                softmax=None, trace_max=None):
    """The learning rule by its name (``distq train --algo``: "q",
    "sarsa", "expected-sarsa", "nstep-q", "nstep-sarsa", "q-lambda";
    "double-q" needs a two-channel table, which Table does not make yet),
    n of the n-step rules, lambda and the trace kind ("accumulating" or
    "replacing") of q-lambda, and ``softmax``: None for epsilon-greedy,
    else the softmax temperature (a number or a schedule tuple), which
    replaces epsilon.

    ``nstep`` (None: 3), ``lam`` (None: 0.9), ``trace`` (None:
    "accumulating") and ``trace_max`` are refused with a rule that would
    ignore them, as ``distq train`` refuses ``--nstep``, ``--lambda``,
    ``--trace`` and ``--trace-max``."""
    if algo in ("qlearning", "q-learning"):
        algo = "q"
    rule = ffi.new("dq_rule *")
    if not isinstance(algo, str) or \
            lib.dq_rule_from_name(algo.encode(), rule) != 0:
        raise InvalidArgument(f"algo {algo!r}: not a rule (q, sarsa, "
                              "expected-sarsa, nstep-q, nstep-sarsa, "
                              "q-lambda)", -22)
    if rule[0] == lib.DQ_RULE_DOUBLE_Q:
        raise InvalidArgument("algo 'double-q' needs a table with two "
                              "channels, which distq.Table does not make "
                              "yet", -22)
    cfg.rule = rule[0]
    owners = {"nstep": (lib.DQ_RULE_NSTEP_Q, lib.DQ_RULE_NSTEP_SARSA),
              "lam": (lib.DQ_RULE_Q_LAMBDA,),
              "trace": (lib.DQ_RULE_Q_LAMBDA,)}
    for name, v in (("nstep", nstep), ("lam", lam), ("trace", trace)):
        if v is not None and cfg.rule not in owners[name]:
            raise InvalidArgument(f"{name} is not a parameter of algo "
                                  f"{algo!r}", -22)
    cfg.nstep = uint(3 if nstep is None else nstep, "nstep")
    setattr(cfg, "lambda", 0.9 if lam is None else float(lam))  # keyword
    if trace is None:
        trace = "accumulating"
    traces = {"accumulating": lib.DQ_TRACE_ACCUMULATING,
              "replacing": lib.DQ_TRACE_REPLACING}
    if trace not in traces:
        raise InvalidArgument(f"trace must be 'accumulating' or "
                              f"'replacing', not {trace!r}", -22)
    cfg.trace = traces[trace]
    trace_max_config(cfg, trace_max)
    if softmax is not None:
        cfg.policy = lib.DQ_POLICY_SOFTMAX
        schedule(cfg.epsilon, softmax, "softmax")


def trace_max_config(cfg, trace_max):
    """``trace_max``: the most traces q-lambda keeps per agent, 1 to
    65536 (``distq train --trace-max``; None: the library's 64); refused
    with other rules."""
    if trace_max is None:
        return
    if cfg.rule != lib.DQ_RULE_Q_LAMBDA:
        raise InvalidArgument("trace_max is q-lambda's: it needs "
                              "algo='q-lambda'", -22)
    cfg.trace_max = uint(trace_max, "trace_max")  # the library checks it


def _u32_array(x, what):
    a = np.asarray(x)
    if a.dtype == np.uint32:
        return np.ascontiguousarray(a).reshape(-1)
    if a.dtype.kind not in "iub":
        raise TypeError(f"{what} must be integers, not {a.dtype}")
    if a.size and (a.min() < 0 or a.max() >= 1 << 32):
        raise InvalidArgument(f"{what}: a value is not in [0, 2^32)", -34)
    return np.ascontiguousarray(a, dtype=np.uint32).reshape(-1)


class Agent:
    """Epsilon-greedy Q-learning on a shared :class:`Table`, driven by
    your own simulator: ``actions = agent.act(states)`` then
    ``agent.observe(states, actions, rewards, next_states, terminated)``.

    Both take NumPy arrays (or scalars) and make one C call per batch, in
    which the GIL is released: several Python threads, each with its own
    Agent on one Table, learn in parallel while their simulators step.
    An Agent is used by one thread at a time (a lock makes a second one
    wait). A batch's transitions may come from many environment copies
    (a vectorised simulator): each is one Q-learning update, in order.
    """

    def __init__(self, table, *, gamma=0.95, alpha=0.1, epsilon=0.1, seed=1,
                 stream=0, sync_every=0, random_ties=True,
                 return_window=100, replay=None, target_table=None,
                 algo="q", nstep=None, lam=None, trace=None,
                 softmax=None, trace_max=None):
        if not isinstance(table, Table):
            raise TypeError("table must be a distq.Table")
        cfg = ffi.new("dq_agent_config *")
        lib.dq_agent_config_init(cfg)
        agent_config(cfg, gamma, alpha, epsilon, seed, sync_every,
                     random_ties, return_window)
        rule_config(cfg, algo, nstep, lam, trace, softmax, trace_max)
        cfg.stream = uint(stream, "stream")
        replay_target(cfg, replay, target_table)
        out = ffi.new("dq_agent **")
        check(lib.dq_agent_create(out, table._t, cfg), "agent", detail=True)
        # The table outlives its agents.
        self._a = owned(out[0], lib.dq_agent_destroy, table._t)
        self.table = table
        self._lock = threading.Lock()
        self._done = ffi.new("size_t *")
        self._act = ffi.new("uint32_t *")

    def act(self, states):
        """Actions for ``states`` (an array, or one int -> one int)."""
        if type(states) is int:  # the scalar fast path: one C call
            if not 0 <= states < 1 << 32:
                raise InvalidArgument(f"state {states} is not in "
                                      "[0, 2^32)", -34)
            with self._lock:
                check(lib.dq_agent_act(self._a, states, self._act), "act")
                return self._act[0]
        scalar = np.ndim(states) == 0
        s = _u32_array(states, "states")
        out = np.empty(s.size, np.uint32)
        with self._lock:
            check(lib.dq_agent_act_batch(
                self._a, ffi.from_buffer("uint32_t[]", s),
                ffi.from_buffer("uint32_t[]", out), s.size), "act")
        return int(out[0]) if scalar else out

    def observe(self, states, actions, rewards, next_states, terminated):
        """Learn from a batch of transitions (equal lengths; scalars
        allowed). A bad batch (a state or action out of range, a
        non-finite reward) raises ValueError and changes nothing."""
        if type(states) is int and type(actions) is int and \
                type(next_states) is int:  # the scalar fast path
            if not (0 <= states < 1 << 32 and 0 <= actions < 1 << 32 and
                    0 <= next_states < 1 << 32):
                raise InvalidArgument("observe: a state or action is not "
                                      "in [0, 2^32)", -34)
            with self._lock:
                check(lib.dq_agent_observe(self._a, states, actions,
                                           float(rewards), next_states,
                                           bool(terminated)), "observe")
            return
        s = _u32_array(states, "states")
        a = _u32_array(actions, "actions")
        s2 = _u32_array(next_states, "next_states")
        r = np.ascontiguousarray(rewards, dtype=np.float64).reshape(-1)
        t = np.asarray(terminated)
        if t.dtype != np.bool_ and t.dtype != np.uint8:
            if t.dtype.kind not in "iub":
                raise TypeError("terminated must be booleans")
            t = t != 0
        t = np.ascontiguousarray(t).reshape(-1).view(np.uint8)
        n = s.size
        if not (a.size == r.size == s2.size == t.size == n):
            raise InvalidArgument(
                f"observe: arrays of different lengths ({n}, {a.size}, "
                f"{r.size}, {s2.size}, {t.size})", -22)
        with self._lock:
            check(lib.dq_agent_observe_batch(
                self._a, ffi.from_buffer("uint32_t[]", s),
                ffi.from_buffer("uint32_t[]", a),
                ffi.from_buffer("double[]", r),
                ffi.from_buffer("uint32_t[]", s2),
                ffi.from_buffer("uint8_t[]", t), n, self._done), "observe")

    def end_episode(self):
        """End the episode without a terminal transition (truncation):
        for the statistics, and the n-step rules write their pending
        updates (bootstrapping), q-lambda drops its traces."""
        with self._lock:
            check(lib.dq_agent_episode_end(self._a))

    def sync(self):
        """Replica mode (sync_every > 0): write pending updates back."""
        with self._lock:
            check(lib.dq_agent_sync(self._a), "sync")

    @property
    def stats(self):
        """Counters: steps, episodes, cas_retries, mean_return, epsilon,
        alpha."""
        st = ffi.new("dq_stats *")
        with self._lock:
            check(lib.dq_agent_stats_get(self._a, st))
        return stats_dict(st)


def stats_dict(st):
    return {"steps": st.steps, "episodes": st.episodes,
            "cas_retries": st.cas_retries, "mean_return": st.mean_return,
            "epsilon": st.epsilon, "alpha": st.alpha}
