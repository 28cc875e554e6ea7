"""Training with the C learner's threads, the exact solver, evaluation."""

import math
import signal
import sys
import threading
import time

import numpy as np

from ._agent import agent_config, replay_target, rule_config, stats_dict, uint
from ._env import as_env
from ._errors import check, make_error, InvalidArgument
from ._ffi import ffi, lib, owned
from ._table import Table
from ._tiles import tile_table, auto_settings, Default

REASONS = {lib.DQ_STOP_NONE: "none", lib.DQ_STOP_STEPS: "steps",
           lib.DQ_STOP_EPISODES: "episodes", lib.DQ_STOP_TIME: "time",
           lib.DQ_STOP_CALLBACK: "callback",
           lib.DQ_STOP_REQUEST: "request", lib.DQ_STOP_TARGET: "target",
           lib.DQ_STOP_ERROR: "error", lib.DQ_STOP_RETURN: "return"}

# The fields of each evaluator record kept in TrainResult.curve.
CURVE_FIELDS = ("seconds", "steps", "episodes", "run_steps", "mean_return",
                "return_se", "mean_discounted", "discounted_se",
                "exact_value", "optimal_value", "gap", "epsilon", "alpha",
                "eval_seconds", "final")
EVAL_UNITS = {"seconds": 0, "steps": 1, "episodes": 2}


class TrainResult:
    """What :func:`train` returns. ``table`` (the trained
    :class:`Table`), ``reason`` ("steps", "time", "episodes", "target",
    "callback"), ``seconds``, ``steps`` (total, earlier runs included),
    ``run_steps``, ``episodes``, ``mean_return`` (last 100 episodes of
    each agent, while exploring), ``cas_retries``, ``epsilon``,
    ``alpha``, ``target_fraction``, ``target_seconds``, ``target_steps``,
    ``pin_failures``, ``threads``, ``share_pushes``, ``share_entries`` (a
    sync policy's pushes and the entries they carried; 0 without one),
    and ``history``: a dict of arrays (``seconds``, ``steps``, ``episodes``, ``mean_return``, ``epsilon``,
    ``target_fraction``) sampled every progress interval, a learning
    curve. With ``eval_every``: ``curve``, a dict of arrays, one entry
    per evaluation of the greedy policy (``seconds``, ``steps``,
    ``episodes``, ``run_steps``, ``mean_return``, ``return_se``,
    ``mean_discounted``, ``discounted_se``, ``exact_value``,
    ``optimal_value``, ``gap``, ``epsilon``, ``alpha``, ``eval_seconds``,
    ``final``; see dq_eval_record), else None; ``return_seconds`` and
    ``return_steps`` (when ``target_return`` was reached; NaN and 0 if
    not); ``tiles``, the tile coder of a tile-coded run, else None."""

    def __repr__(self):
        return (f"<distq.TrainResult {self.env_spec!r} reason={self.reason} "
                f"steps={self.steps} seconds={self.seconds:.3f} "
                f"mean_return={self.mean_return:.4g}>")

    @property
    def steps_per_second(self):
        return self.run_steps / self.seconds if self.seconds > 0 else math.nan

    def policy(self):
        return self.table.policy()

    def save(self, path):
        """Checkpoint the table with this run's description (and its tile
        coder, for a tile-coded run)."""
        self.table.save(path, self.env, gamma=self.gamma,
                        alpha=self.alpha, epsilon=self.epsilon,
                        seed=self.seed, steps=self.steps,
                        episodes=self.episodes, seconds=self.seconds,
                        tiles=self.tiles)


SHARE_GRAMMAR = ("'auto', 'direct', a window length K >= 0, or a sync "
                 "policy: 'none', 'distql[:tau=N][:all|partial][:eta=X]"
                 "[:decay=X][:epsilon-decay=on|off]', "
                 "'average[:steps=N|:seconds=S]'")


def _sync_policy(share, epsilon):
    """``share`` as a sync policy (``distq train --share``'s grammar,
    parsed by the C library), or None when it names a write path. A
    scheduled ``epsilon`` turns DistQL's per-episode epsilon decay off
    unless the policy names ``epsilon-decay`` (as the CLI does)."""
    if not isinstance(share, str) or share in ("auto", "direct"):
        return None
    pol = ffi.new("dq_share_config *")
    if lib.dq_share_parse(share.encode(), pol) != 0:
        raise InvalidArgument(f"share {share!r}: not {SHARE_GRAMMAR}", -22)
    if pol.kind == lib.DQ_SHARE_DISTQL and \
            not isinstance(epsilon, (int, float)) and \
            "epsilon-decay=" not in share:
        pol.flags &= ~2  # DQ_SHARE_EPSILON_DECAY: needs a constant epsilon
    return pol


def _has_tqdm():
    try:
        import tqdm  # noqa: F401
    except ImportError:
        return False
    return True


class _Bar:
    """tqdm when it is importable, else one line rewritten on stderr."""

    def __init__(self, total_steps, kind):
        self.tqdm = None
        self.last = 0
        self.width = 0
        tqdm = None
        if kind is True:
            try:
                from tqdm.auto import tqdm
            except ImportError:
                pass
        if tqdm is not None:
            self.tqdm = tqdm(total=total_steps or None, unit="step",
                             unit_scale=True, leave=True, file=sys.stderr)

    def update(self, p):
        ret = p.total.mean_return
        ret_s = "-" if math.isnan(ret) else f"{ret:.4g}"
        if self.tqdm is not None:
            self.tqdm.update(p.total.steps - self.last)
            self.last = p.total.steps
            post = {"eps": f"{p.total.epsilon:.3g}", "return": ret_s}
            if not math.isnan(p.target_fraction):
                post["optimal"] = f"{100 * p.target_fraction:.1f}%"
            self.tqdm.set_postfix(post, refresh=False)
            if p.final:
                self.tqdm.close()
            return
        line = (f"\r  {p.seconds:6.1f}s  {p.total.steps / 1e6:8.3f}M steps  "
                f"{p.steps_per_second / 1e6:7.2f}M steps/s  "
                f"eps {p.total.epsilon:.2f}  return {ret_s}")
        if not math.isnan(p.target_fraction):
            line += f"  optimal {100 * p.target_fraction:.1f}%"
        pad = " " * max(0, self.width - len(line))
        self.width = len(line)
        sys.stderr.write(line + pad + ("\n" if p.final else ""))
        sys.stderr.flush()


def train(env, *, threads=None, steps=None, seconds=None, episodes=None,
          target=None, algo="q", share="auto", seed=1,
          gamma=Default(0.95), alpha=Default(0.1), epsilon=Default(0.1),
          q0=0.0, discipline="cas", table=None,
          pin="cores", max_episode_steps=0, progress=True,
          progress_interval=0.1, callback=None, eval_every=None,
          eval_unit="seconds", eval_episodes=100, target_return=None,
          replay=None, target_table=None, nstep=None, lam=None,
          trace=None, softmax=None, tiles=None,
          trace_max=None):
    """Train a shared Q-table on a built-in environment with ``threads``
    C agent threads (default: one per physical core, ``distq.cores()``).

    Stop conditions (the first reached ends the run; with none, 10M
    steps): ``steps``, ``seconds``, ``episodes``, ``target`` (the greedy
    policy is optimal from this fraction of the start distribution; needs
    a model). ``alpha``/``epsilon``: a number or (start, end, "linear" or
    "exp", steps). ``share``: "auto" (the library chooses the write path),
    "direct", or an int K (write-back windows of K steps). ``table``: go
    on training an existing Table. ``progress``: a progress bar (tqdm if
    importable, else a line rewritten on stderr when it is a terminal;
    "line" forces that line, False shows nothing). ``share`` may also
    name a sync policy, as ``distq train --share`` takes it (docs/share.md):
    ``"distql:tau=10:all"`` (agents learn on local tables with a per-entry
    eta and push a blend every tau episodes; the table made has the second
    channel that holds eta_c: a ``table`` given must come from a DistQL
    run; gamma stays as given, the study's is 0.9) or
    ``"average:steps=1000"``; the result's ``share_pushes`` and
    ``share_entries`` count the pushes and the entries they blended or
    added. ``callback(info)``: called with a
    dict every progress interval, a true result stops the run.
    ``replay``: CAP or (CAP, B, K), experience replay per agent;
    ``target_table``: C or ("polyak", TAU, C), a target table shared by
    the agents (docs/replay.md; neither is saved in checkpoints).
    ``algo``: the learning rule, as ``distq train --algo`` names it ("q",
    "sarsa", "expected-sarsa", "nstep-q", "nstep-sarsa", "q-lambda");
    ``nstep``: their n (None: 3); ``lam``, ``trace``: q-lambda's lambda
    (None: 0.9) and traces ("accumulating", the default, or "replacing");
    each is refused with a rule that ignores it; ``trace_max``: the most traces
    q-lambda keeps per agent (1 to 65536; None: 64); ``softmax``: a temperature (number
    or schedule tuple) for softmax action selection instead of
    epsilon-greedy.
    ``tiles``: tile coding of the environment's continuous observation
    (cartpole, mountaincar, acrobot): a :class:`Tiles`, or its spec
    ("8x4,4,8,8", "auto"); the table (new, or ``table``) then has one row
    per tile (``Tiles.rows``), ``q0`` is Q's start (each weight q0 / T),
    and ``result.save()`` records the coder (docs/python.md, "Tile
    coding").

    The GIL is released while the C agents run; Ctrl-C stops the run
    cleanly (threads joined) and raises KeyboardInterrupt, whose
    ``result`` attribute holds the :class:`TrainResult` so far.

    ``eval_every`` (in ``eval_unit``: "seconds", "steps" or "episodes"):
    the C evaluator plays ``eval_episodes`` greedy episodes of a snapshot
    of the table that often (and once at the start and the end), with its
    own random stream, and evaluates the policy exactly where the
    environment has a model: ``result.curve``. ``target_return``: stop
    when an evaluation's mean return reaches it (reason "return"; needs
    ``eval_every``).
    """
    env = as_env(env)
    alpha, epsilon, gamma = auto_settings(env, tiles, alpha, epsilon, gamma)
    if tiles is not None:
        tiles, table = tile_table(env, tiles, table, discipline, q0)
    policy = _sync_policy(share, epsilon)
    if table is None:
        table = Table((env.n_states, env.n_actions), discipline=discipline,
                      q0=q0, _channels=1 + (policy is not None and
                                            policy.kind ==
                                            lib.DQ_SHARE_DISTQL))
    elif not isinstance(table, Table):
        raise TypeError("table must be a distq.Table")
    if tiles is None and table.shape != (env.n_states, env.n_actions):
        raise InvalidArgument(f"table of shape {table.shape}, environment "
                              f"{(env.n_states, env.n_actions)}", -22)
    cfg = ffi.new("dq_learner_config *")
    lib.dq_learner_config_init(cfg)
    if threads is None or threads == "all":
        threads = lib.dq_cores()
    cfg.n_threads = int(threads)
    if not 1 <= cfg.n_threads <= 4096 or cfg.n_threads != threads:
        raise InvalidArgument(f"threads must be in [1, 4096], not "
                              f"{threads!r}", -22)
    sync = 0
    if share == "auto":
        cfg.write_path = lib.DQ_WRITE_AUTO
    elif share == "direct":
        cfg.write_path = lib.DQ_WRITE_DIRECT
    elif isinstance(share, int) and not isinstance(share, bool) and \
            share >= 0:
        sync = share
        cfg.write_path = lib.DQ_WRITE_DIRECT if share == 0 else \
            lib.DQ_WRITE_AUTO
    elif policy is not None:
        cfg.write_path = lib.DQ_WRITE_AUTO
        cfg.share = policy[0]
    else:
        raise InvalidArgument(f"share must be {SHARE_GRAMMAR}, not "
                              f"{share!r}", -22)
    agent_config(cfg.agent, gamma, alpha, epsilon, seed, sync)
    replay_target(cfg.agent, replay, target_table)
    rule_config(cfg.agent, algo, nstep, lam, trace, softmax, trace_max)
    if tiles is not None:
        cfg.agent.tiles = tiles._tc
    if steps is None and seconds is None and episodes is None and \
            target is None:
        steps = 10_000_000
    for name, v in (("steps", steps), ("episodes", episodes)):
        if v is not None and (int(v) != v or v <= 0):
            raise InvalidArgument(f"{name} must be a positive integer, not "
                                  f"{v!r}", -22)
    cfg.max_steps = int(steps or 0)
    cfg.max_episodes = int(episodes or 0)
    if seconds is not None:
        if not 0 < float(seconds) < math.inf:
            raise InvalidArgument(f"seconds must be positive and finite, "
                                  f"not {seconds!r}", -22)
        cfg.max_seconds = float(seconds)
    if target is not None:
        if not 0 < float(target) <= 1:
            raise InvalidArgument(f"target must be in (0, 1], not "
                                  f"{target!r}", -22)
        cfg.target_fraction = float(target)
    cfg.max_episode_steps = uint(max_episode_steps, "max_episode_steps")
    pins = {"cores": lib.DQ_PIN_CORES, "none": lib.DQ_PIN_NONE}
    if pin not in pins:
        raise InvalidArgument(f"pin must be 'cores' or 'none', not {pin!r}",
                              -22)
    cfg.pin = pins[pin]
    if not 0 < float(progress_interval) < math.inf:
        raise InvalidArgument("progress_interval must be positive and "
                              f"finite, not {progress_interval!r}", -22)
    cfg.progress_interval = float(progress_interval)
    if eval_every is not None:
        if not 0 < float(eval_every) < math.inf:
            raise InvalidArgument("eval_every must be positive and finite, "
                                  f"not {eval_every!r}", -22)
        if eval_unit not in EVAL_UNITS:
            raise InvalidArgument("eval_unit must be 'seconds', 'steps' or "
                                  f"'episodes', not {eval_unit!r}", -22)
        cfg.eval_every = float(eval_every)
        cfg.eval_unit = EVAL_UNITS[eval_unit]
        cfg.eval_episodes = uint(eval_episodes, "eval_episodes")
    if target_return is not None:
        if eval_every is None:
            raise InvalidArgument("target_return needs eval_every", -22)
        if not math.isfinite(float(target_return)):
            raise InvalidArgument("target_return must be finite", -22)
        cfg.target_return = float(target_return)

    hist = {k: [] for k in ("seconds", "steps", "episodes", "mean_return",
                            "epsilon", "target_fraction")}
    state = {"interrupted": False, "error": None, "by_callback": False}
    bar = None
    if progress == "line" or (progress and (_has_tqdm() or
                                            sys.stderr.isatty())):
        bar = _Bar(cfg.max_steps, progress)

    def on_error(exc, val, tb):
        if state["error"] is None:
            state["error"] = val if val is not None else exc()
        return None

    def should_stop(_arg):
        if state["interrupted"] or state["error"] is not None or \
                state["by_callback"]:
            return 1
        return 0

    def on_progress(p, _arg):
        hist["seconds"].append(p.seconds)
        hist["steps"].append(p.total.steps)
        hist["episodes"].append(p.total.episodes)
        hist["mean_return"].append(p.total.mean_return)
        hist["epsilon"].append(p.total.epsilon)
        hist["target_fraction"].append(p.target_fraction)
        if bar is not None:
            bar.update(p)
        if callback is not None and not p.final and not \
                (state["error"] or state["by_callback"]):
            if callback({"seconds": p.seconds,
                         "steps_per_second": p.steps_per_second,
                         "target_fraction": p.target_fraction,
                         **stats_dict(p.total)}):
                state["by_callback"] = True

    cb_stop = ffi.callback("int(void *)", should_stop, error=1,
                           onerror=on_error)
    cb_prog = ffi.callback("void(const dq_progress *, void *)", on_progress,
                           onerror=on_error)
    cfg.should_stop = cb_stop
    cfg.progress = cb_prog
    curve = {k: [] for k in CURVE_FIELDS}

    def on_eval(rec, _arg):
        for k in CURVE_FIELDS:
            curve[k].append(getattr(rec, k))

    cb_eval = ffi.callback("void(const dq_eval_record *, void *)", on_eval,
                           onerror=on_error)
    if eval_every is not None:
        cfg.eval_callback = cb_eval

    out = ffi.new("dq_learner **")
    check(lib.dq_learner_create(out, table._t, env._env, cfg), "learner",
          detail=True)
    learner = out[0]
    res = ffi.new("dq_run_result *")
    old_handler = None
    main = threading.current_thread() is threading.main_thread()
    if main and signal.getsignal(signal.SIGINT) is \
            signal.default_int_handler:
        def on_sigint(signum, frame):
            # Runs in this (the monitor) thread when a callback runs
            # Python code: the next should_stop returns 1.
            state["interrupted"] = True
        old_handler = signal.signal(signal.SIGINT, on_sigint)
    try:
        rc = lib.dq_learner_run(learner, res)
        err = ffi.new("dq_run_error *")
        lib.dq_learner_error(learner, err)
        if res.reason == lib.DQ_STOP_TARGET:
            q = np.empty(table.shape, np.float64)
            if lib.dq_learner_target_table(
                    learner, ffi.from_buffer("double[]", q), q.size) == 0:
                table.load(q)
    finally:
        if old_handler is not None:
            signal.signal(signal.SIGINT, old_handler)
        lib.dq_learner_destroy(learner)
    if rc < 0:
        what = "learner"
        if err.code:
            what = (f"agent {err.agent} failed at step {err.step} in "
                    f"{ffi.string(err.what).decode() if err.what else '?'}")
        raise make_error(rc, what)

    r = TrainResult()
    r.table = table
    r.tiles = tiles
    r.env = env
    r.env_spec = env.spec_string
    r.threads = cfg.n_threads
    r.gamma, r.seed = float(gamma), int(seed)
    r.reason = REASONS.get(res.reason, "unknown")
    r.seconds = res.seconds
    r.steps = res.total.steps
    r.run_steps = res.run_steps
    r.episodes = res.total.episodes
    r.mean_return = res.total.mean_return
    r.cas_retries = res.total.cas_retries
    r.epsilon = res.total.epsilon
    r.alpha = res.total.alpha
    r.target_fraction = res.target_fraction
    r.target_seconds = res.target_seconds
    r.target_steps = res.target_steps
    r.pin_failures = res.pin_failures
    r.share_pushes = res.share_pushes
    r.share_entries = res.share_entries
    r.history = {k: np.array(v, dtype=np.float64) for k, v in hist.items()}
    r.curve = None
    if eval_every is not None:
        r.curve = {k: np.array(v, dtype=bool if k == "final" else
                               np.uint64 if k in ("steps", "episodes",
                                                  "run_steps")
                               else np.float64)
                   for k, v in curve.items()}
    r.return_seconds = res.return_seconds
    r.return_steps = res.return_steps
    if state["interrupted"]:
        r.reason = "interrupted"
        e = KeyboardInterrupt()
        e.result = r
        raise e
    if state["error"] is not None:
        raise state["error"]
    return r


class Solution:
    """What :func:`solve` returns: ``V`` (S,), ``Q`` (S, A), ``policy``
    (S,) (an optimal one, lowest action within 1e-9 of the best),
    ``gamma``, ``sweeps``, ``start_value`` (V* under the start
    distribution)."""

    def __repr__(self):
        return (f"<distq.Solution gamma={self.gamma} "
                f"start_value={self.start_value:.6g} sweeps={self.sweeps}>")


def _solve_cfg(gamma, tolerance=1e-12, max_sweeps=None):
    cfg = ffi.new("dq_solve_config *")
    lib.dq_solve_config_init(cfg)
    cfg.gamma = float(gamma)
    cfg.tolerance = float(tolerance)
    if max_sweeps is not None:
        cfg.max_sweeps = int(max_sweeps)
    return cfg


def solve(env, gamma=0.95, *, tolerance=1e-12, max_sweeps=None):
    """Value iteration on the environment's exact model: a
    :class:`Solution` with V*, Q* and an optimal policy."""
    env = as_env(env)
    m = env._c_model()
    S, A = env.n_states, env.n_actions
    cfg = _solve_cfg(gamma, tolerance, max_sweeps)
    Q = np.empty((S, A))
    V = np.empty(S)
    pi = np.empty(S, np.uint32)
    sweeps = ffi.new("uint64_t *")
    check(lib.dq_model_solve(m, cfg, ffi.from_buffer("double[]", Q), Q.size,
                             ffi.from_buffer("double[]", V), S,
                             ffi.from_buffer("uint32_t[]", pi), S, sweeps),
          "solve")
    sv = ffi.new("double *")
    check(lib.dq_model_start_value(m, ffi.from_buffer("double[]", V), S, sv))
    s = Solution()
    s.V, s.Q, s.policy, s.gamma = V, Q, pi, float(gamma)
    s.sweeps, s.start_value = sweeps[0], sv[0]
    return s


class Evaluation:
    """What :func:`evaluate` returns. From ``episodes`` greedy episodes:
    ``returns`` (each episode's undiscounted return), ``lengths``,
    ``mean_return``, ``mean_length``, ``success_rate`` (None when the
    environment does not say what success is), ``terminated``,
    ``truncated`` (fractions). With a model and ``exact``: ``start_value``
    (the policy's exact expected discounted return from the start
    distribution), ``optimal_start_value``, ``random_start_value``,
    ``progress`` (from random, 0, to optimal, 1), ``optimal_fraction``
    (of the start distribution, within 1e-6)."""

    def __repr__(self):
        extra = ""
        if getattr(self, "start_value", None) is not None:
            extra = (f" start_value={self.start_value:.6g} "
                     f"optimal={self.optimal_start_value:.6g}")
        return (f"<distq.Evaluation mean_return={self.mean_return:.4g} "
                f"success_rate={self.success_rate}{extra}>")


def _as_policy(env, policy):
    if isinstance(policy, Table):
        if policy.shape != (env.n_states, env.n_actions):
            shape = (env.n_states, env.n_actions)
            raise InvalidArgument(f"table of shape {policy.shape}, "
                                  f"environment {shape}", -22)
        return policy.policy()
    if hasattr(policy, "table") and isinstance(policy.table, Table):
        return _as_policy(env, policy.table)
    pi = np.asarray(policy)
    if pi.shape != (env.n_states,) or pi.dtype.kind not in "iu":
        raise InvalidArgument(f"policy must be a Table or {env.n_states} "
                              "integer actions", -22)
    if pi.size and (pi.min() < 0 or pi.max() >= env.n_actions):
        raise InvalidArgument("policy: an action is out of range", -34)
    return np.ascontiguousarray(pi, dtype=np.uint32)


def evaluate(env, policy, *, episodes=1000, seed=1, max_steps=None,
             gamma=0.95, exact=True, tol=1e-6):
    """Run ``episodes`` greedy episodes of ``policy`` (a :class:`Table`,
    whose greedy policy with ties to the lowest action is used, a
    TrainResult, or an array of S actions) on ``env``, as ``distq eval``
    does, and where the environment has a model also evaluate it exactly
    at ``gamma``. Returns an :class:`Evaluation`."""
    env = as_env(env)
    pi = _as_policy(env, policy)
    episodes = int(episodes)
    if episodes < 0:
        raise InvalidArgument("episodes must be >= 0", -22)
    limit = int(max_steps) if max_steps is not None else \
        (env.max_episode_steps or 10000)
    if limit <= 0:
        raise InvalidArgument("max_steps must be positive", -22)
    inst = ffi.new("dq_env_instance **")
    check(lib.dq_env_instance_create(env._env, inst))
    inst = owned(inst[0], lib.dq_env_instance_destroy, env._env)
    rng = ffi.new("dq_rng *")
    check(lib.dq_rng_seed(rng, int(seed) % (1 << 64), 0))
    st = ffi.new("dq_step *")
    sp = ffi.new("uint32_t *")
    okp = ffi.new("bool *")
    returns = np.zeros(episodes)
    lengths = np.zeros(episodes, np.int64)
    n_term = n_trunc = n_succ = 0
    says_success = True
    reset, step = lib.dq_env_instance_reset, lib.dq_env_instance_step
    for e in range(episodes):
        check(reset(inst, rng, sp), "reset")
        s = sp[0]
        ret = 0.0
        n = 0
        while True:
            check(step(inst, int(pi[s]), rng, st), "step")
            ret += st.reward
            n += 1
            s = st.next_state
            if st.terminated or st.truncated or n >= limit:
                break
        if not st.terminated:
            st.truncated = True
        n_term += bool(st.terminated)
        n_trunc += bool(st.truncated)
        if says_success:
            rc = lib.dq_env_success(env._env, st, okp)
            if rc < 0:
                says_success = False
            else:
                n_succ += bool(okp[0])
        returns[e], lengths[e] = ret, n
    r = Evaluation()
    r.returns, r.lengths = returns, lengths
    r.episodes = episodes
    r.mean_return = float(returns.mean()) if episodes else math.nan
    r.mean_length = float(lengths.mean()) if episodes else math.nan
    r.success_rate = (n_succ / episodes if episodes else math.nan) \
        if says_success else None
    r.terminated = n_term / episodes if episodes else math.nan
    r.truncated = n_trunc / episodes if episodes else math.nan
    r.start_value = r.optimal_start_value = r.random_start_value = None
    r.progress = r.optimal_fraction = None
    if exact and env.has_model:
        m = env._c_model()
        S = env.n_states
        cfg = _solve_cfg(gamma, 1e-12)
        v_star = np.empty(S)
        v_pi = np.empty(S)
        v_rand = np.empty(S)
        out = ffi.new("double *")
        check(lib.dq_model_solve(m, cfg, ffi.NULL, 0,
                                 ffi.from_buffer("double[]", v_star), S,
                                 ffi.NULL, 0, ffi.NULL), "solve")
        check(lib.dq_model_start_value(m, ffi.from_buffer("double[]",
                                                          v_star), S, out))
        r.optimal_start_value = out[0]
        check(lib.dq_model_evaluate(m, cfg, ffi.from_buffer("uint32_t[]",
                                                             pi), S,
                                    ffi.from_buffer("double[]", v_pi), S,
                                    out, ffi.NULL), "evaluate")
        r.start_value = out[0]
        check(lib.dq_model_optimal_fraction(
            m, ffi.from_buffer("double[]", v_star),
            ffi.from_buffer("double[]", v_pi), S, float(tol), out))
        r.optimal_fraction = out[0]
        if lib.dq_model_evaluate_random(m, cfg, ffi.from_buffer(
                "double[]", v_rand), S, out, ffi.NULL) == 0:
            r.random_start_value = out[0]
            span = r.optimal_start_value - r.random_start_value
            r.progress = (r.start_value - r.random_start_value) / span \
                if span else 1.0
    return r


def cores():
    """dq_cores(): physical cores this process may use."""
    return lib.dq_cores()
