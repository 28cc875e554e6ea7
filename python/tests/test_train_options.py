"""train(tiles="auto") takes the tuned settings (dq_tiles_tuned(), the
table `distq train --tiles auto` reads) for every one not given, and a
value given always wins, even one equal to train()'s default."""

import pytest

import distq


@pytest.mark.parametrize("name", ["cartpole", "mountaincar", "acrobot"])
def test_auto_takes_the_tuned_settings(name):
    spec, alpha, epsilon, gamma = distq.TILES_AUTO[name]
    r = distq.train(name, tiles="auto", threads=1, steps=200, seed=3,
                    progress=False)
    assert (r.alpha, r.epsilon, r.gamma) == (alpha, epsilon, gamma)
    assert r.tiles == distq.Tiles(spec, name)


def test_given_values_win_even_the_defaults():
    # mountaincar's tuned alpha 0.5, epsilon 0, gamma 1: give train()'s
    # own defaults (0.1, 0.1, 0.95) and they stay.
    r = distq.train("mountaincar", tiles="auto", threads=1, steps=200,
                    seed=3, progress=False, alpha=0.1, epsilon=0.1,
                    gamma=0.95)
    assert (r.alpha, r.epsilon, r.gamma) == (0.1, 0.1, 0.95)
    r = distq.train("mountaincar", tiles="auto", threads=1, steps=200,
                    seed=3, progress=False, epsilon=0.2)
    assert (r.alpha, r.epsilon, r.gamma) == (0.5, 0.2, 1.0)


def test_tabular_defaults_unchanged():
    r = distq.train("frozenlake4x4", threads=1, steps=200, seed=3,
                    progress=False)
    assert (r.alpha, r.epsilon, r.gamma) == (0.1, 0.1, 0.95)
    assert distq.TILES_AUTO["cartpole"] == ("8x4,4,8,8", 0.1, 0.05, 1.0)


def test_trace_max():
    # passed through: the library's range check sees it
    r = distq.train("maze4x3", algo="q-lambda", trace_max=8, threads=1,
                    steps=500, progress=False)
    assert r.steps == 500
    for v in (0, 65537):
        with pytest.raises(distq.InvalidArgument, match="trace_max"):
            distq.train("maze4x3", algo="q-lambda", trace_max=v, threads=1,
                        steps=100, progress=False)
    with pytest.raises(distq.InvalidArgument, match="q-lambda"):
        distq.train("maze4x3", trace_max=8, threads=1, steps=100,
                    progress=False)
    t = distq.Table((12, 4))
    distq.Agent(t, algo="q-lambda", trace_max=1)
    with pytest.raises(distq.InvalidArgument, match="trace_max"):
        distq.Agent(t, algo="q-lambda", trace_max=0)


@pytest.mark.parametrize("kw,owner", [({"nstep": 2}, "nstep-q"),
                                      ({"lam": 0.5}, "q-lambda"),
                                      ({"trace": "replacing"}, "q-lambda")])
def test_rule_parameters_refused_with_other_rules(kw, owner):
    # As distq train refuses --nstep/--lambda/--trace with --algo q: a
    # parameter the rule ignores is a mistake, not a silent no-op.
    (name,) = kw
    for algo in ("q", "sarsa", "expected-sarsa"):
        with pytest.raises(distq.InvalidArgument,
                           match=f"{name} is not a parameter of algo"):
            distq.train("maze4x3", algo=algo, threads=1, steps=100,
                        progress=False, **kw)
        with pytest.raises(distq.InvalidArgument, match=name):
            distq.Agent(distq.Table((12, 4)), algo=algo, **kw)
    r = distq.train("maze4x3", algo=owner, threads=1, steps=500,
                    progress=False, **kw)
    assert r.steps == 500
    if name == "nstep":  # both n-step rules own it
        distq.Agent(distq.Table((12, 4)), algo="nstep-sarsa", **kw)


def test_rule_parameter_defaults_unchanged():
    # Not given: the n-step rules take n = 3, q-lambda lambda 0.9 with
    # accumulating traces, as before these became refusable.
    for algo in ("nstep-q", "nstep-sarsa", "q-lambda", "q"):
        r = distq.train("maze4x3", algo=algo, threads=1, steps=300,
                        progress=False)
        assert r.steps == 300
