"""The shared Q-table and checkpoints."""

import os

import numpy as np

from ._errors import check, InvalidArgument
from ._ffi import ffi, lib, owned

DISCIPLINES = {"cas": lib.DQ_MODE_CAS, "hogwild": lib.DQ_MODE_HOGWILD,
               "locked": lib.DQ_MODE_LOCKED}
_MODE_NAMES = {v: k for k, v in DISCIPLINES.items()}


def _u32(x, what):
    try:
        v = int(x)
    except (TypeError, ValueError):
        raise TypeError(f"{what} must be an integer, not {x!r}") from None
    if v != x or not 0 <= v < 1 << 32:
        raise InvalidArgument(f"{what} {x!r} is not in [0, 2^32)", -34)
    return v


def _discipline(d):
    if d not in DISCIPLINES:
        raise InvalidArgument(f"discipline must be one of "
                              f"{', '.join(DISCIPLINES)}, not {d!r}", -22)
    return DISCIPLINES[d]


class Table:
    """The shared Q-table: S x A doubles that any number of agents (C
    threads of :func:`distq.train`, :class:`distq.Agent` handles in
    Python threads) update at once under ``discipline`` ("cas", the
    default: no update lost; "hogwild"; "locked").

    ``Table((S, A))`` or ``Table(S, A)``; every entry starts at ``q0``.
    """

    def __init__(self, shape, n_actions=None, *, discipline="cas", q0=0.0,
                 pad_rows=False, _channels=1, _visit_counts=False):
        if n_actions is None:
            try:
                S, A = shape
            except (TypeError, ValueError):
                raise TypeError("shape must be (n_states, n_actions)") \
                    from None
        else:
            S, A = shape, n_actions
        cfg = ffi.new("dq_table_config *")
        lib.dq_table_config_init(cfg)
        cfg.n_states = _u32(S, "n_states")
        cfg.n_actions = _u32(A, "n_actions")
        cfg.mode = _discipline(discipline)
        try:
            cfg.q0 = float(q0)
        except (TypeError, ValueError):
            raise TypeError(f"q0 must be a number, not {q0!r}") from None
        cfg.pad_rows = bool(pad_rows)
        # a checkpoint's table (distq.load): channel 0 is the values
        cfg.channels = _channels
        cfg.visit_counts = bool(_visit_counts)
        out = ffi.new("dq_table **")
        check(lib.dq_table_create(out, cfg), "table", detail=True)
        self._t = owned(out[0], lib.dq_table_destroy)
        self.shape = (int(S), int(A))
        self.discipline = discipline
        self.q0 = float(q0)

    @property
    def n_states(self):
        return self.shape[0]

    @property
    def n_actions(self):
        return self.shape[1]

    def to_numpy(self):
        """A copy of the values, shape (S, A), float64 (each entry read
        atomically; consistent per entry while agents write)."""
        out = np.empty(self.shape, np.float64)
        check(lib.dq_table_snapshot(self._t, ffi.from_buffer(
            "double[]", out), out.size))
        return out

    def load(self, values):
        """Overwrite every entry from an (S, A) array (finite values)."""
        arr = np.ascontiguousarray(values, dtype=np.float64)
        if arr.shape != self.shape:
            raise InvalidArgument(f"values of shape {arr.shape}, the table "
                                  f"is {self.shape}", -22)
        check(lib.dq_table_load(self._t, ffi.from_buffer("double[]", arr),
                                arr.size), "load")

    @classmethod
    def from_numpy(cls, values, *, discipline="cas", pad_rows=False):
        """A new table holding a copy of ``values`` (S, A)."""
        arr = np.asarray(values, dtype=np.float64)
        if arr.ndim != 2:
            raise InvalidArgument(f"values must be 2-D (S, A), not of shape "
                                  f"{arr.shape}", -22)
        t = cls(arr.shape, discipline=discipline, pad_rows=pad_rows)
        t.load(arr)
        return t

    def fill(self, value):
        check(lib.dq_table_fill(self._t, float(value)), "fill")

    def policy(self):
        """The greedy policy (lowest action on ties), shape (S,), uint32."""
        out = np.empty(self.shape[0], np.uint32)
        check(lib.dq_table_policy(self._t, ffi.from_buffer("uint32_t[]", out),
                                  out.size))
        return out

    def __getitem__(self, sa):
        s, a = sa
        v = ffi.new("double *")
        check(lib.dq_table_get(self._t, _u32(s, "state"), _u32(a, "action"),
                               v))
        return v[0]

    def __setitem__(self, sa, value):
        s, a = sa
        check(lib.dq_table_set(self._t, _u32(s, "state"), _u32(a, "action"),
                               float(value)))

    def save(self, path, env=None, *, gamma=0.95, alpha=0.1, epsilon=0.1,
             seed=1, steps=0, episodes=0, seconds=0.0, tiles=None):
        """Write a checkpoint (atomically; the format of ``distq train
        --save``, readable by ``distq eval``/``inspect`` and
        :func:`distq.load`). ``env`` (an Env or a name) is recorded in it;
        the other keywords describe the run. ``tiles``: the
        :class:`Tiles` coder whose weights the table holds, recorded in
        the file (dq_checkpoint_save_tiles())."""
        meta = ffi.new("dq_checkpoint_meta *")
        if env is not None:
            name, params = (env.name, env.params) if hasattr(env, "name") \
                else (str(env).partition(":")[0], str(env).partition(":")[2])
            nb, pb = name.encode(), params.encode()
            if len(nb) >= 64 or len(pb) >= 256:
                raise InvalidArgument("environment name or parameters too "
                                      "long for a checkpoint", -22)
            meta.env = nb
            meta.params = pb
        meta.mode = _discipline(self.discipline)
        meta.gamma, meta.alpha, meta.epsilon = gamma, alpha, epsilon
        meta.seed, meta.steps, meta.episodes = seed, steps, episodes
        meta.seconds = seconds
        p = os.fsencode(path)
        rc = lib.dq_checkpoint_save(p, self._t, meta) if tiles is None \
            else lib.dq_checkpoint_save_tiles(p, self._t, meta, tiles._tc)
        check(rc, f"{path}", detail=True, filename=os.fsdecode(path))

    def __repr__(self):
        return (f"distq.Table(({self.shape[0]}, {self.shape[1]}), "
                f"discipline={self.discipline!r})")


class Checkpoint:
    """What :func:`load` read: ``table`` and the header fields (``env``,
    ``params``, ``gamma``, ``alpha``, ``epsilon``, ``seed``, ``steps``,
    ``episodes``, ``seconds``, ``n_agents``, ``version``), and ``tiles``:
    the :class:`Tiles` coder of a tile-coded run's table, else None."""

    def __init__(self, table, meta):
        self.table = table
        self.tiles = None
        self.env = ffi.string(meta.env).decode()
        self.params = ffi.string(meta.params).decode()
        for k in ("gamma", "alpha", "epsilon", "seed", "steps", "episodes",
                  "seconds", "n_agents", "version"):
            setattr(self, k, getattr(meta, k))

    @property
    def env_spec(self):
        return f"{self.env}:{self.params}" if self.params else self.env

    def __repr__(self):
        return (f"<distq.Checkpoint {self.env_spec!r} {self.table.shape} "
                f"steps={self.steps}>")


def load(path):
    """Read a checkpoint (written by :meth:`Table.save`, ``distq train
    --save`` or a C program): a :class:`Checkpoint`."""
    p = os.fsencode(path)
    fn = os.fsdecode(path)
    meta = ffi.new("dq_checkpoint_meta *")
    check(lib.dq_checkpoint_read_meta(p, meta), fn, detail=True, filename=fn)
    mode = _MODE_NAMES.get(meta.mode, "cas")
    t = Table((meta.n_states, meta.n_actions), discipline=mode,
              _channels=meta.channels, _visit_counts=meta.visit_counts)
    check(lib.dq_checkpoint_load(p, t._t, meta), fn, detail=True,
          filename=fn)
    ck = Checkpoint(t, meta)
    from ._tiles import read_tiles
    ck.tiles = read_tiles(p)
    return ck
