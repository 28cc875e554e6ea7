"""Experience replay and a target table over tiles from Python:
train(tiles=..., replay=..., target_table=...) (docs/replay.md, "Over
tiles")."""

import numpy as np
import pytest

import distq


def run(**kw):
    args = dict(tiles="auto", threads=1, steps=5000, seed=3, gamma=1.0,
                epsilon=0.05, pin="none", progress=False)
    args.update(kw)
    return distq.train(distq.make("cartpole"), **args)


def test_train_with_replay_and_target_over_tiles():
    a = run(replay=(1000, 4, 1), target_table=500)
    b = run(replay=(1000, 4, 1), target_table=500)
    plain = run()
    assert a.tiles == plain.tiles and a.table.shape == (16200, 2)
    assert a.steps == 5000
    wa = a.table.to_numpy()
    # one agent, one seed: the same weights bit for bit
    assert np.array_equal(wa, b.table.to_numpy())
    # the replays and the target changed what was learnt
    assert not np.array_equal(wa, plain.table.to_numpy())
    assert np.abs(wa).sum() > 0
    c = run(algo="expected-sarsa", replay=256,
            target_table=("polyak", 0.5, 100), threads=2)
    assert c.steps >= 5000


def test_on_policy_rules_refused_over_tiles():
    with pytest.raises(distq.Error, match="off-policy"):
        run(algo="sarsa", replay=64)
    with pytest.raises(distq.Error, match="off-policy"):
        run(algo="nstep-q", target_table=10)
