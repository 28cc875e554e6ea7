"""distq.train(share=...) with a sync policy (docs/share.md): the policy
string reaches the C learner, DistQL's central eta_c follows the blend's
arithmetic, the pushes are counted, bad policies are refused."""

import math

import pytest

import distq
from distq._ffi import ffi, lib


def eta_c(table):
    """The central per-entry rate eta_c of a DistQL table (channel 1);
    0 where no push has reached the entry."""
    S, A = table.shape
    out = ffi.new("double *")
    vals = {}
    for s in range(S):
        for a in range(A):
            assert lib.dq_table_channel_get(table._t, 1, s, a, out) == 0
            if out[0]:
                vals[(s, a)] = out[0]
    return vals


@pytest.mark.parametrize("spec,eta,decay", [
    ("distql:tau=5", 0.5, 0.999),
    ("distql:tau=5:partial:eta=0.3:decay=0.99", 0.3, 0.99)])
def test_distql_blend_rates(spec, eta, decay):
    """One agent, 40 episodes, tau 5: pushes after episodes 5, 10, ...,
    35 and the run's final one, 8 in all. With one agent every push of an
    entry finds eta_c >= its eta_i = eta decay^N (N: its updates so far),
    so the blend takes e = eta_i and leaves eta_c = eta decay^(N + 1):
    each pushed entry's exponent is a whole number, and since every step
    updates exactly one entry and the last push carries all, the
    exponents less one add up to the run's steps."""
    r = distq.train("maze4x3", share=spec, threads=1, episodes=40,
                    pin="none", progress=False, seed=3)
    assert r.share_pushes == 8
    rates = eta_c(r.table)
    assert 0 < len(rates) <= r.share_entries
    total = 0
    for v in rates.values():
        k = math.log(v / eta) / math.log(decay) - 1
        assert abs(k - round(k)) < 1e-6 and round(k) >= 0
        total += round(k)
    assert total == r.steps


def test_average_pushes():
    """Averaging every 100 steps for 1000 steps: 10 due pushes and the
    run's final one; without a policy, none."""
    r = distq.train("maze4x3", share="average:steps=100", threads=1,
                    steps=1000, pin="none", progress=False)
    assert r.share_pushes == 11 and r.share_entries > 0
    r = distq.train("maze4x3", threads=1, steps=1000, pin="none",
                    progress=False)
    assert r.share_pushes == 0 and r.share_entries == 0


def test_distql_two_agents_learns():
    """Two agents, DistQL-ALL, on taxi: they push, and the greedy policy
    of the central table ends better than a random one."""
    r = distq.train("taxi", share="distql:tau=10", threads=2,
                    episodes=600, pin="none", progress=False, gamma=0.9)
    assert r.share_pushes >= 2 and r.table.shape == (500, 6)
    assert r.share_entries > 0


def test_scheduled_epsilon():
    """A scheduled epsilon turns the per-episode decay off (as the CLI's
    --epsilon does) instead of being refused."""
    r = distq.train("maze4x3", share="distql", threads=1, steps=2000,
                    pin="none", progress=False,
                    epsilon=(1.0, 0.1, "linear", 1000))
    assert r.share_pushes > 0


@pytest.mark.parametrize("bad", ["gossip", "distql:eta=2", "distql:tau=0",
                                 "average:partial", "distql:"])
def test_bad_policy(bad):
    with pytest.raises(distq.InvalidArgument, match="sync policy"):
        distq.train("maze4x3", share=bad, threads=1, steps=10,
                    pin="none", progress=False)
