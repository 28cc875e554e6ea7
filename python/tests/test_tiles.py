"""Tile coding from Python (distq.Tiles, train(tiles=...)) and checkpoints
that carry the coder (docs/python.md, "Tile coding")."""

import subprocess

import numpy as np
import pytest

import distq
from conftest import distq_program

CARTPOLE = ("8x4,4,8,8@-2.4:2.4,-3:3,-0.20943951023931953:"
            "0.20943951023931953,-3.5:3.5")


def test_coder():
    env = distq.make("cartpole")
    tc = distq.Tiles("auto", env)
    assert tc.spec == CARTPOLE
    assert tc.rows == 8 * 5 * 5 * 9 * 9
    assert tc.n_tilings == 8 and tc.dim == 4
    assert tc.bins == (4, 4, 8, 8) and tc.hash_rows is None
    assert distq.Tiles("8x4,4,8,8", "cartpole") == tc
    # without an environment: the full spec, exactly the same coder
    assert distq.Tiles(tc.spec) == tc
    assert distq.Tiles("4x3/101", env).rows == 101
    obs = np.array([0.1, -0.5, 0.02, 0.3])
    act = tc.active(obs)
    assert act.shape == (8,) and act.dtype == np.uint32
    assert (act < tc.rows).all() and len(set(act.tolist())) == 8
    with pytest.raises(distq.InvalidArgument):
        tc.active([0.0, 1.0])
    with pytest.raises(distq.InvalidArgument):
        distq.Tiles("8x4,4")  # no spans, no environment
    with pytest.raises(distq.InvalidArgument):
        distq.Tiles("auto", "taxi")
    with pytest.raises(distq.Error):
        distq.Tiles("8x4,4", env)  # 2 bin counts for 4 dimensions


def test_values_are_sums_of_active_weights():
    tc = distq.Tiles("4x3/97", "cartpole")
    rng = np.random.default_rng(5)
    w = rng.normal(size=(tc.rows, 2))
    t = distq.Table.from_numpy(w)
    for _ in range(20):
        obs = rng.uniform(-3, 3, size=4)
        f = tc.active(obs)
        q = tc.values(t, obs)
        np.testing.assert_allclose(q, w[f].sum(axis=0), rtol=0, atol=1e-12)
        assert tc.q(t, obs, 1) == q[1]
        assert tc.greedy(t, obs) == int(np.argmax(q))
    with pytest.raises(distq.InvalidArgument):
        tc.values(distq.Table((10, 2)), obs)


def test_train_save_load_continue(tmp_path):
    env = distq.make("cartpole")
    r = distq.train(env, tiles="auto", threads=1, episodes=300, seed=3,
                    gamma=1.0, epsilon=0.05, pin="none", progress=False)
    assert r.tiles.spec == CARTPOLE
    assert r.table.shape == (16200, 2)
    w = r.table.to_numpy()
    assert np.abs(w).sum() > 0
    before = r.tiles.evaluate(env, distq.Table((16200, 2)), episodes=5)
    after = r.tiles.evaluate(env, r.table, episodes=20)
    assert after > before  # it learnt something (9-10 steps untrained)
    path = tmp_path / "cp.ckp"
    r.save(path)
    ck = distq.load(path)
    assert ck.tiles == r.tiles and ck.tiles.spec == CARTPOLE
    assert np.array_equal(ck.table.to_numpy(), w)
    obs = [0.0, 0.1, 0.0, -0.1]
    assert ck.tiles.q(ck.table, obs, 0) == r.tiles.q(r.table, obs, 0)
    # go on training the loaded table under its coder
    r2 = distq.train(env, tiles=ck.tiles, table=ck.table, threads=1,
                     episodes=10, seed=4, pin="none", progress=False)
    assert r2.table is ck.table and r2.tiles == ck.tiles
    # another coder does not fit the table
    with pytest.raises(distq.InvalidArgument, match="coder"):
        distq.train(env, tiles="4x4", table=ck.table, steps=10,
                    progress=False)
    # a tabular checkpoint has no coder
    t = distq.train(env, threads=1, steps=1000, pin="none", progress=False)
    t.save(tmp_path / "tab.ckp")
    assert distq.load(tmp_path / "tab.ckp").tiles is None


def test_cli_reads_and_writes_the_coder(tmp_path):
    prog = distq_program()
    if not prog:
        pytest.skip("the distq program is not built")
    env = distq.make("cartpole")
    r = distq.train(env, tiles="auto", threads=1, steps=2000, seed=3,
                    pin="none", progress=False)
    path = tmp_path / "py.ckp"
    r.save(path)
    out = subprocess.run([prog, "inspect", str(path)], capture_output=True,
                         text=True, check=True).stdout
    assert f"tiles                {CARTPOLE} (8 tilings, 16200 rows)" in out
    # distq train --resume rebuilds the coder the file holds
    subprocess.run([prog, "train", "--resume", str(path), "-q", "-n", "500",
                    "--no-exact"], capture_output=True, check=True)
    assert distq.load(path).tiles.spec == CARTPOLE
    # and refuses another, naming the parameter
    p = subprocess.run([prog, "train", "--resume", str(path), "-q", "-n",
                        "500", "--tiles", "8x4,4,8,6"], capture_output=True,
                       text=True)
    assert p.returncode == 1 and "bins[3]" in p.stderr
