"""The new-user trial of 2026-11-30: errors say which field is wrong."""

import pytest

import distq


def test_train_bad_alpha_names_the_field():
    env = distq.make("taxi")
    with pytest.raises(distq.InvalidArgument) as e:
        distq.train(env, alpha=2.0, steps=1000, progress=False)
    assert "agent.alpha.start 2 is outside (0, 1]" in str(e.value)
    assert e.value.detail.startswith("agent.alpha.start")


def test_train_bad_gamma_names_the_field():
    env = distq.make("taxi")
    with pytest.raises(distq.InvalidArgument) as e:
        distq.train(env, gamma=-1.0, steps=1000, progress=False)
    assert "agent.gamma -1" in str(e.value)


@pytest.mark.parametrize("gym_id,name,n_actions", [
    ("MountainCar-v0", "mountaincar", 3), ("Acrobot-v1", "acrobot", 3)])
def test_make_gymnasium_ids(gym_id, name, n_actions):
    env = distq.make(gym_id)
    assert env.action_space.n == n_actions
    assert name in distq.ENVIRONMENTS


def test_unknown_environment_class_and_message():
    with pytest.raises(distq.UnknownEnvironment) as e:
        distq.make("nope")
    assert isinstance(e.value, ValueError)  # as before: InvalidArgument
    assert isinstance(e.value, LookupError)
    assert "unknown environment 'nope'" in str(e.value)
    assert "mountaincar" in str(e.value) and "directory" not in str(e.value)


def test_every_listed_environment_opens():
    for name in distq.ENVIRONMENTS:
        distq.make(name)
