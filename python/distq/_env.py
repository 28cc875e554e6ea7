"""Built-in environments with Gymnasium's API, and their exact models."""

import errno
import secrets
import threading

import numpy as np

from ._errors import check, InvalidArgument
from ._errors import UnknownEnvironment
from ._ffi import ffi, lib, owned


class Discrete:
    """A minimal stand-in for gymnasium.spaces.Discrete: ``n`` values,
    0..n-1."""

    def __init__(self, n, seed=None):
        self.n = int(n)
        self.shape = ()
        self.dtype = np.int64
        self._rng = np.random.default_rng(seed)

    def sample(self):
        return int(self._rng.integers(self.n))

    def seed(self, seed=None):
        self._rng = np.random.default_rng(seed)

    def contains(self, x):
        try:
            v = int(x)
        except (TypeError, ValueError):
            return False
        return v == x and 0 <= v < self.n

    __contains__ = contains

    def __eq__(self, other):
        return getattr(other, "n", None) == self.n and \
            type(other).__name__ == "Discrete"

    def __repr__(self):
        return f"Discrete({self.n})"


def _param_str(value):
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _unknown_env(spec, rc):
    """UnknownEnvironment for @p spec, naming the built-in environments."""
    from . import ENVIRONMENTS  # at call time: the package is loaded

    known = ", ".join(ENVIRONMENTS)
    name = spec.split(":", 1)[0]
    return UnknownEnvironment(f"unknown environment {name!r} (known: "
                              f"{known}; Gymnasium ids: Taxi-v3, "
                              f"FrozenLake-v1, FrozenLake8x8-v1, "
                              f"CliffWalking-v0, CartPole-v1, "
                              f"MountainCar-v0, Acrobot-v1)", rc)


def env_spec(name, params):
    """"name:key=value,..." as dq_env_open_name() takes it."""
    if not isinstance(name, str) or not name:
        raise InvalidArgument(f"environment name must be a non-empty "
                              f"string, not {name!r}", -22)
    if not params:
        return name
    if ":" in name:
        raise InvalidArgument("give parameters either after a colon in the "
                              "name or as keywords, not both", -22)
    for k in params:
        if not k.isidentifier():
            raise InvalidArgument(f"bad parameter name {k!r}", -22)
    return name + ":" + ",".join(f"{k}={_param_str(v)}"
                                 for k, v in params.items())


class Model:
    """The exact model of an environment, as NumPy arrays.

    Per outcome (COO form, in (state, action) order, as ``distq model``
    prints it): ``state``, ``action``, ``prob``, ``next_state``,
    ``reward``, ``terminated``. Dense forms (computed on first use):
    ``P[s, a, s']`` the probability of landing in s', ``P_terminal[s, a,
    s']`` the part of it that ends the episode (no bootstrap: the Bellman
    equation is ``Q = R + gamma * (P - P_terminal) @ V``), ``R[s, a]`` the
    expected reward. ``start`` is the start distribution. Gymnasium's
    ``env.P`` dictionary is ``Env.P``.
    """

    def __init__(self, n_states, n_actions, state, action, prob, next_state,
                 reward, terminated, start):
        self.n_states = n_states
        self.n_actions = n_actions
        self.state = state
        self.action = action
        self.prob = prob
        self.next_state = next_state
        self.reward = reward
        self.terminated = terminated
        self.start = start
        self._dense = None

    def _densify(self):
        if self._dense is None:
            S, A = self.n_states, self.n_actions
            if S * A * S > 1 << 27:
                raise MemoryError(f"dense P would hold {S * A * S} entries; "
                                  "use the per-outcome arrays")
            P = np.zeros((S, A, S))
            Pt = np.zeros((S, A, S))
            R = np.zeros((S, A))
            np.add.at(P, (self.state, self.action, self.next_state),
                      self.prob)
            t = self.terminated
            np.add.at(Pt, (self.state[t], self.action[t],
                           self.next_state[t]), self.prob[t])
            np.add.at(R, (self.state, self.action), self.prob * self.reward)
            self._dense = (P, Pt, R)
        return self._dense

    @property
    def P(self):
        return self._densify()[0]

    @property
    def P_terminal(self):
        return self._densify()[1]

    @property
    def R(self):
        return self._densify()[2]


class Env:
    """A built-in environment with Gymnasium's interface. Make one with
    :func:`distq.make`. One instance, stepped from Python; the learner
    (:func:`distq.train`) makes its own instances in C."""

    metadata = {"render_modes": []}
    render_mode = None

    def __init__(self, name, **params):
        self.spec_string = env_spec(name, params)
        out = ffi.new("dq_env **")
        rc = lib.dq_env_open_name(out, self.spec_string.encode())
        if rc == -errno.ENOENT:  # an unknown name: a bad argument
            raise _unknown_env(self.spec_string, rc)
        check(rc, f"environment {self.spec_string!r}", detail=True)
        self._env = owned(out[0], lib.dq_env_close)
        spec = ffi.new("dq_env_spec *")
        check(lib.dq_env_spec_get(self._env, spec))
        nm = ffi.new("const char **")
        check(lib.dq_env_name(self._env, nm))
        self.name = ffi.string(nm[0]).decode()
        self.params = self.spec_string.partition(":")[2]
        self.n_states = spec.n_states
        self.n_actions = spec.n_actions
        self.max_episode_steps = spec.max_episode_steps or None
        self.has_model = spec.max_outcomes > 0
        self._max_outcomes = spec.max_outcomes
        self.observation_space = Discrete(self.n_states)
        self.action_space = Discrete(self.n_actions)
        inst = ffi.new("dq_env_instance **")
        check(lib.dq_env_instance_create(self._env, inst))
        self._inst = owned(inst[0], lib.dq_env_instance_destroy, self._env)
        self._rng = ffi.new("dq_rng *")
        check(lib.dq_rng_seed(self._rng, secrets.randbits(64), 0))
        self._step = ffi.new("dq_step *")
        self._state_p = ffi.new("uint32_t *")
        self._lock = threading.Lock()
        self._elapsed = None
        self._model = None
        self._cmodel = None

    # -- Gymnasium's API ------------------------------------------------
    def reset(self, *, seed=None, options=None):
        """Start an episode: ``(observation, info)``. ``seed`` re-seeds the
        environment's random stream (stream 0 of that seed, as ``distq
        eval --seed``)."""
        with self._lock:
            if seed is not None:
                check(lib.dq_rng_seed(self._rng, int(seed) % (1 << 64), 0))
                self.action_space.seed(seed)
            check(lib.dq_env_instance_reset(self._inst, self._rng,
                                            self._state_p), "reset")
            self._elapsed = 0
            s = int(self._state_p[0])
        return s, {"prob": 1.0}

    def step(self, action):
        """Take ``action``: ``(observation, reward, terminated, truncated,
        info)``. Episodes are truncated at the environment's step limit,
        as Gymnasium's TimeLimit wrapper does."""
        a = int(action)
        if a != action or not 0 <= a < self.n_actions:
            raise InvalidArgument(f"action {action!r} is not in "
                                  f"[0, {self.n_actions})", -34)
        with self._lock:
            if self._elapsed is None:
                raise RuntimeError("call reset() before step()")
            st = self._step
            check(lib.dq_env_instance_step(self._inst, a, self._rng, st),
                  "step")
            self._elapsed += 1
            trunc = bool(st.truncated)
            if (self.max_episode_steps and
                    self._elapsed >= self.max_episode_steps):
                trunc = True
            term = bool(st.terminated)
            # As Gymnasium's TimeLimit: truncated at the limit, also on
            # a step that terminates.
            out = (int(st.next_state), float(st.reward), term, trunc, {})
            if term or trunc:
                self._elapsed = None
        return out

    def set_state(self, s):
        """Put the environment in state ``s`` (where it allows it)."""
        with self._lock:
            check(lib.dq_env_instance_set_state(self._inst, int(s)),
                  "set_state")
            self._elapsed = 0

    def success(self, last_step):
        """Whether an episode ending with ``(obs, reward, terminated,
        truncated)`` succeeded, in the environment's meaning; None when it
        does not say."""
        st = ffi.new("dq_step *")
        st.next_state, st.reward, st.terminated, st.truncated = \
            int(last_step[0]), float(last_step[1]), bool(last_step[2]), \
            bool(last_step[3])
        ok = ffi.new("bool *")
        rc = lib.dq_env_success(self._env, st, ok)
        if rc == -errno.ENOTSUP:
            return None
        check(rc)
        return bool(ok[0])

    def render(self):
        return None

    def close(self):
        pass

    @property
    def unwrapped(self):
        return self

    def __repr__(self):
        return f"distq.make({self.spec_string!r})"

    # -- the exact model -------------------------------------------------
    def model(self):
        """The exact model (:class:`Model`); NotSupported (a
        NotImplementedError) when the environment exports none."""
        if self._model is not None:
            return self._model
        S, A = self.n_states, self.n_actions
        start = np.zeros(S)
        check(lib.dq_env_start_probs(self._env, ffi.from_buffer(
            "double[]", start), S), "model")
        cap = self._max_outcomes
        buf = ffi.new("dq_outcome[]", cap)
        cols = ([], [], [], [], [], [])
        for s in range(S):
            for a in range(A):
                n = check(lib.dq_env_outcomes(self._env, s, a, buf, cap),
                          "model")
                for o in buf[0:min(n, cap)]:
                    for c, v in zip(cols, (s, a, o.prob, o.next_state,
                                           o.reward, o.terminated)):
                        c.append(v)
        self._model = Model(S, A, np.array(cols[0], np.uint32),
                            np.array(cols[1], np.uint32),
                            np.array(cols[2], np.float64),
                            np.array(cols[3], np.uint32),
                            np.array(cols[4], np.float64),
                            np.array(cols[5], bool), start)
        return self._model

    @property
    def P(self):
        """Gymnasium's toy-text model: ``P[s][a]`` is a list of ``(prob,
        next_state, reward, terminated)``."""
        m = self.model()
        P = {s: {a: [] for a in range(self.n_actions)}
             for s in range(self.n_states)}
        for i in range(len(m.prob)):
            P[int(m.state[i])][int(m.action[i])].append(
                (float(m.prob[i]), int(m.next_state[i]),
                 float(m.reward[i]), bool(m.terminated[i])))
        return P

    def _c_model(self):
        if self._cmodel is None:
            out = ffi.new("dq_model **")
            check(lib.dq_model_create(out, self._env), "model",
                  detail=True)
            self._cmodel = owned(out[0], lib.dq_model_destroy, self._env)
        return self._cmodel


def as_env(env):
    if isinstance(env, Env):
        return env
    if isinstance(env, str):
        return Env(env)
    raise TypeError(f"expected a distq environment (distq.make(...)) or a "
                    f"name, not {type(env).__name__}")
