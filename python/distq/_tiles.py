"""Tile coding (<distq/tiles.h>): a coder over an environment's continuous
observation, Q(observation, action) from a table of its weights, and
checkpoints that carry the coder."""

import math
import os

import numpy as np

from ._env import as_env
from ._errors import check, InvalidArgument
from ._ffi import ffi, lib, owned



def tuned(name):
    """The coder and settings tuned for environment ``name``, as `distq
    train --tiles auto` takes them (dq_tiles_tuned(), the one table):
    (spec, alpha, epsilon, gamma), or None."""
    spec = ffi.new("const char **")
    v = ffi.new("double[3]")
    if lib.dq_tiles_tuned(str(name).encode(), spec, v, v + 1, v + 2):
        return None
    return (ffi.string(spec[0]).decode(), v[0], v[1], v[2])


# The tuned coders and settings: spec, alpha, epsilon, gamma.
AUTO = {n: tuned(n) for n in ("cartpole", "mountaincar", "acrobot")}


class Default(float):
    """A train() keyword's default value, told apart from the same value
    given: tiles="auto" replaces it by the tuned setting."""

    def __repr__(self):
        return float.__repr__(self)


def auto_settings(env, tiles, alpha, epsilon, gamma):
    """train()'s alpha, epsilon and gamma: with tiles="auto", each not
    given (a Default) is the tuned one; a value given always wins."""
    t = tuned(env.name) if isinstance(tiles, str) and tiles == "auto" \
        else None
    if t is None:
        return alpha, epsilon, gamma
    return tuple(t[i + 1] if isinstance(v, Default) else v
                 for i, v in enumerate((alpha, epsilon, gamma)))


class Tiles:
    """A tile coder (Sutton & Barto, section 9.5.4): ``n_tilings`` offset
    grids over the observation, ``bins[i]`` tiles across dimension i of
    its span ``low[i]..high[i]``, optionally hashed into ``hash_rows``
    rows. A tile-coded table has ``rows`` rows (one per tile) and one
    column per action; Q(obs, a) is the sum of the weights of obs's
    ``n_tilings`` active tiles.

    ``Tiles(spec, env)``: ``spec`` is ``distq train --tiles``'s text,
    ``"TxB1,B2,...[@lo:hi,...][/H]"`` (e.g. ``"8x4,4,8,8"``; one B for
    every dimension), or ``"auto"`` (the coder tuned for cartpole,
    mountaincar or acrobot); ``env`` (an Env or a name) gives the
    dimension and the span. Without ``env`` the spec must give every
    dimension's bins and ``@`` spans. ``spec`` (the property) is the
    definition in full, exact, as checkpoints hold it."""

    def __init__(self, spec, env=None):
        cfg = ffi.new("dq_tiles_config *")
        lib.dq_tiles_config_init(cfg)
        spec = str(spec)
        if env is not None:
            env = as_env(env)
            if spec == "auto":
                t = tuned(env.name)
                if t is None:
                    raise InvalidArgument(
                        f"tiles='auto': no tuned coder for {env.name!r} "
                        f"(give one, e.g. '8x6')", -22)
                spec = t[0]
            check(lib.dq_tiles_config_from_env(cfg, env._env, spec.encode()),
                  f"tiles {spec!r}", detail=True)
        elif spec == "auto":
            raise InvalidArgument("tiles='auto' needs the environment", -22)
        else:
            check(lib.dq_tiles_config_parse(cfg, spec.encode()),
                  f"tiles {spec!r}", detail=True)
            if "@" not in spec:
                raise InvalidArgument(f"tiles {spec!r}: without an "
                                      "environment, give the spans "
                                      "(@lo:hi,...)", -22)
        self._init_cfg(cfg)

    @classmethod
    def _from_config(cls, cfg):
        self = cls.__new__(cls)
        self._init_cfg(cfg)
        return self

    def _init_cfg(self, cfg):
        out = ffi.new("dq_tiles **")
        check(lib.dq_tiles_create(out, cfg), "tiles", detail=True)
        self._tc = owned(out[0], lib.dq_tiles_destroy)
        rows = ffi.new("uint32_t *")
        check(lib.dq_tiles_features(self._tc, rows))
        self.rows = rows[0]
        self.n_tilings = cfg.n_tilings
        self.dim = cfg.dim
        self.bins = tuple(cfg.bins[i] for i in range(cfg.dim))
        self.low = tuple(cfg.low[i] for i in range(cfg.dim))
        self.high = tuple(cfg.high[i] for i in range(cfg.dim))
        self.hash_rows = cfg.hash_rows or None
        n = lib.dq_tiles_format(self._tc, ffi.NULL, 0)
        buf = ffi.new("char[]", n + 1)
        lib.dq_tiles_format(self._tc, buf, n + 1)
        self.spec = ffi.string(buf).decode()

    def _obs(self, obs):
        x = np.ascontiguousarray(obs, dtype=np.float64)
        if x.shape != (self.dim,):
            raise InvalidArgument(f"an observation of {self.dim} values, "
                                  f"not of shape {x.shape}", -22)
        return x

    def active(self, obs):
        """The active tiles of ``obs``: ``n_tilings`` row indices
        (uint32), one per tiling."""
        x = self._obs(obs)
        out = np.empty(self.n_tilings, np.uint32)
        check(lib.dq_tiles_active(self._tc, ffi.from_buffer("double[]", x),
                                  ffi.from_buffer("uint32_t[]", out),
                                  out.size))
        return out

    def values(self, table, obs):
        """Q(obs, a) for every action, from ``table`` (a Table of
        ``rows`` rows): the sums of the active tiles' weights."""
        x = self._obs(obs)
        if table.shape[0] != self.rows:
            raise InvalidArgument(f"a table of {table.shape[0]} rows, the "
                                  f"coder has {self.rows}", -22)
        q = np.empty(table.shape[1], np.float64)
        check(lib.dq_tiles_values(self._tc, table._t,
                                  ffi.from_buffer("double[]", x),
                                  ffi.from_buffer("double[]", q), q.size))
        return q

    def q(self, table, obs, action):
        """Q(obs, action)."""
        return float(self.values(table, obs)[int(action)])

    def greedy(self, table, obs):
        """The greedy action in ``obs`` (lowest on ties)."""
        return int(np.argmax(self.values(table, obs)))

    def evaluate(self, env, table, *, episodes=100, seed=1, max_steps=None):
        """The mean undiscounted return of ``episodes`` greedy episodes of
        ``table`` on ``env``'s continuous observation (Gymnasium's step
        limit, or ``max_steps``)."""
        env = as_env(env)
        limit = int(max_steps) if max_steps is not None else \
            (env.max_episode_steps or 10000)
        inst = ffi.new("dq_env_instance **")
        check(lib.dq_env_instance_create(env._env, inst))
        inst = owned(inst[0], lib.dq_env_instance_destroy, env._env)
        rng = ffi.new("dq_rng *")
        check(lib.dq_rng_seed(rng, int(seed) % (1 << 64), 0))
        st = ffi.new("dq_step *")
        sp = ffi.new("uint32_t *")
        obs = np.empty(self.dim, np.float64)
        ob = ffi.from_buffer("double[]", obs)
        total = 0.0
        for _ in range(int(episodes)):
            check(lib.dq_env_instance_reset(inst, rng, sp), "reset")
            for _ in range(limit):
                check(lib.dq_env_instance_observe(inst, ob, self.dim))
                check(lib.dq_env_instance_step(
                    inst, self.greedy(table, obs), rng, st), "step")
                total += st.reward
                if st.terminated or st.truncated:
                    break
        return total / episodes if episodes else math.nan

    def __eq__(self, other):
        return isinstance(other, Tiles) and self.spec == other.spec

    def __hash__(self):
        return hash(self.spec)

    def __repr__(self):
        return f"distq.Tiles({self.spec!r})"


def as_tiles(tiles, env):
    """A Tiles from ``train(tiles=...)``: a Tiles, or a spec for env."""
    if isinstance(tiles, Tiles):
        return tiles
    return Tiles(tiles, env)


def tile_table(env, tiles, table, discipline, q0):
    """train()'s coder and table: a new table of the coder's rows (each
    weight q0 / n_tilings, so that Q starts at q0), or ``table``, which
    must have them."""
    from ._table import Table
    tiles = as_tiles(tiles, env)
    if table is None:
        table = Table((tiles.rows, env.n_actions), discipline=discipline,
                      q0=float(q0) / tiles.n_tilings)
    elif not isinstance(table, Table):
        raise TypeError("table must be a distq.Table")
    if table.shape != (tiles.rows, env.n_actions):
        raise InvalidArgument(f"table of shape {table.shape}, the coder "
                              f"{tiles.spec!r} needs "
                              f"{(tiles.rows, env.n_actions)}", -22)
    return tiles, table


def read_tiles(path):
    """The coder a checkpoint holds, or None (a tabular table)."""
    cfg = ffi.new("dq_tiles_config *")
    fn = os.fsdecode(path)
    check(lib.dq_checkpoint_read_tiles(os.fsencode(path), cfg), fn,
          detail=True, filename=fn)
    return Tiles._from_config(cfg) if cfg.dim else None
