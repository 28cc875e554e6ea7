"""distq: fast parallel tabular Q-learning (libdistq) from Python.

    import distq
    env = distq.make("taxi")
    result = distq.train(env, threads=2, seconds=2)
    q = result.table.to_numpy()
    best = distq.solve(env, gamma=0.95)
    print(distq.evaluate(env, result.table))

See docs/python.md.
"""

from ._ffi import ffi as _cffi, lib as _lib, library_path
from ._errors import (Error, InvalidArgument, FileError, FileFormatError,
                      UnknownEnvironment,
                      OutOfMemory, NotSupported, Timeout, Busy,
                      EnvironmentError_ as RunError, strerror)
from ._env import Env, Discrete, Model
from ._table import Table, Checkpoint, load
from ._agent import Agent
from ._tiles import Tiles, AUTO as TILES_AUTO
from ._learn import (train, solve, evaluate, cores, TrainResult, Solution,
                     Evaluation)

__version__ = "0.1.0"
library_version = _cffi.string(_lib.dq_version_string()).decode()

ENVIRONMENTS = ("maze4x3", "taxi", "frozenlake4x4", "frozenlake4x4-det",
                "frozenlake8x8", "frozenlake8x8-det", "cliffwalking",
                "cartpole", "scalable", "mountaincar", "acrobot", "snake",
                "maxbias")

# Gymnasium's ids of the environments built in (with their parameters).
_GYM_IDS = {"Taxi-v3": "taxi", "FrozenLake-v1": "frozenlake4x4",
            "FrozenLake8x8-v1": "frozenlake8x8",
            "CliffWalking-v0": "cliffwalking", "CartPole-v1": "cartpole",
            "MountainCar-v0": "mountaincar", "Acrobot-v1": "acrobot"}


def make(name, **params):
    """A built-in environment with Gymnasium's API: ``make("taxi")``,
    ``make("maze4x3", slip=0.1)``, ``make("frozenlake8x8:slippery=0")``;
    Gymnasium's ids ``Taxi-v3``, ``FrozenLake-v1`` (``map_name="8x8"``,
    ``is_slippery=False``), ``CliffWalking-v0``, ``CartPole-v1``,
    ``MountainCar-v0``, ``Acrobot-v1`` also work. An unknown name raises
    UnknownEnvironment (a ValueError and a LookupError) listing the
    known names; bad parameters raise InvalidArgument (a ValueError)
    naming what is wrong."""
    if name in _GYM_IDS:
        name = _GYM_IDS[name]
        if name.startswith("frozenlake"):
            if params.pop("map_name", "4x4") == "8x8":
                name = "frozenlake8x8"
            if "is_slippery" in params:
                params["slippery"] = bool(params.pop("is_slippery"))
    return Env(name, **params)


__all__ = ["make", "Env", "Discrete", "Model", "Table", "Agent", "train",
           "solve", "evaluate", "load", "Checkpoint", "cores",
           "TrainResult", "Solution", "Evaluation", "Error",
           "InvalidArgument", "UnknownEnvironment", "FileError", "FileFormatError", "OutOfMemory",
           "NotSupported", "Timeout", "Busy", "RunError", "strerror",
           "ENVIRONMENTS", "library_path", "library_version", "Tiles",
           "TILES_AUTO"]
