#!/usr/bin/python3
"""Reference trajectories of MountainCar-v0 and Acrobot-v1 for
tests/test_classic.c, written to tests/ref/classic_ref.h.

Gymnasium itself cannot be installed here (no PyPI), so this is a
transcription of its classic-control source (Gymnasium v1.x,
gymnasium/envs/classic_control/mountain_car.py and acrobot.py, read at
commit 3f0476a8cc224dcce2167cc4b6971ae0f04d5cfc) in numpy: the same
operations on the same numpy types in the same order (np.clip, np.append
of the torque, the module's rk4(), wrap() and bound()). It is a faithful
copy of the dynamics, not Gymnasium's file: rendering, spaces and
seeding are left out. As tests/test_cartpole.c's reference numbers, its
output is checked in, and this script says how it was made:

    /usr/bin/python3 tests/ref/gym_classic_ref.py > tests/ref/classic_ref.h

The episodes start where libdistq's reset starts them: libdistq's random
stream (xoshiro256** seeded by splitmix64, lib/rng.c and <distq/rng.h>)
is reimplemented below, and Gymnasium's np_random.uniform(low, high) is
low + (high - low) * u with u drawn from it. The actions follow a simple
energy-pumping rule with a fixed pseudo-random perturbation, so that
episodes reach the goal (termination is exercised) and every action is
taken.
"""
import math
import sys

import numpy as np
from numpy import pi

# Gymnasium's acrobot.py calls numpy's cos and sin. numpy (1.24 here) has
# its own float64 sin and cos, which round differently from the C
# library's on most arguments (89% of a sample), and Acrobot is chaotic:
# a last-bit difference grows to 1e-10 within about a hundred steps. So
# the trajectories are recorded with the C library's cos and sin (Python's
# math module, the ones libdistq calls) by default, where every other
# operation is numpy's, and libdistq must agree to the bit; with --numpy
# the script uses numpy's, and the test compares the first steps only.
if "--numpy" in sys.argv:
    from numpy import cos, sin
else:
    from math import cos, sin

M64 = (1 << 64) - 1


class DqRng:
    """libdistq's dq_rng: xoshiro256**, seeded by splitmix64 (stream 0)."""

    def __init__(self, seed):
        x = seed
        self.s = []
        for _ in range(4):
            x = (x + 0x9E3779B97F4A7C15) & M64
            z = x
            z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
            z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
            self.s.append(z ^ (z >> 31))
        if not any(self.s):
            self.s[0] = 1

    @staticmethod
    def _rotl(x, k):
        return ((x << k) | (x >> (64 - k))) & M64

    def next(self):
        s = self.s
        r = (self._rotl((s[1] * 5) & M64, 7) * 9) & M64
        t = (s[1] << 17) & M64
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = self._rotl(s[3], 45)
        return r

    def uniform01(self):
        return (self.next() >> 11) * (1.0 / 9007199254740992.0)

    def uniform(self, low, high, size=None):
        if size is None:
            return low + (high - low) * self.uniform01()
        return np.array([low + (high - low) * self.uniform01()
                         for _ in range(size)])


class MountainCar:
    """MountainCarEnv's dynamics (goal_velocity 0)."""

    def __init__(self):
        self.min_position = -1.2
        self.max_position = 0.6
        self.max_speed = 0.07
        self.goal_position = 0.5
        self.goal_velocity = 0
        self.force = 0.001
        self.gravity = 0.0025

    def reset(self, rng):
        self.state = np.array([rng.uniform(-0.6, -0.4), 0])
        return self.state

    def step(self, action):
        position, velocity = self.state
        velocity += (action - 1) * self.force + math.cos(3 * position) * (
            -self.gravity)
        velocity = np.clip(velocity, -self.max_speed, self.max_speed)
        position += velocity
        position = np.clip(position, self.min_position, self.max_position)
        if position == self.min_position and velocity < 0:
            velocity = 0
        terminated = bool(position >= self.goal_position
                          and velocity >= self.goal_velocity)
        reward = -1.0
        self.state = (position, velocity)
        return np.array(self.state, dtype=np.float64), reward, terminated


def wrap(x, m, M):
    diff = M - m
    while x > M:
        x = x - diff
    while x < m:
        x = x + diff
    return x


def bound(x, m, M):
    return min(max(x, m), M)


def rk4(derivs, y0, t):
    yout = np.zeros((len(t), len(y0)), np.float64)
    yout[0] = y0
    for i in np.arange(len(t) - 1):
        this = t[i]
        dt = t[i + 1] - this
        dt2 = dt / 2.0
        y0 = yout[i]
        k1 = np.asarray(derivs(y0))
        k2 = np.asarray(derivs(y0 + dt2 * k1))
        k3 = np.asarray(derivs(y0 + dt2 * k2))
        k4 = np.asarray(derivs(y0 + dt * k3))
        yout[i + 1] = y0 + dt / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)
    return yout[-1][:4]


class Acrobot:
    """AcrobotEnv's dynamics ("book", no torque noise)."""
    dt = 0.2
    LINK_LENGTH_1 = 1.0
    LINK_MASS_1 = 1.0
    LINK_MASS_2 = 1.0
    LINK_COM_POS_1 = 0.5
    LINK_COM_POS_2 = 0.5
    LINK_MOI = 1.0
    MAX_VEL_1 = 4 * pi
    MAX_VEL_2 = 9 * pi
    AVAIL_TORQUE = [-1.0, 0.0, +1]

    def reset(self, rng):
        self.state = rng.uniform(-0.1, 0.1, size=4).astype(np.float32)

    def step(self, a):
        s = self.state
        torque = self.AVAIL_TORQUE[a]
        s_augmented = np.append(s, torque)
        ns = rk4(self._dsdt, s_augmented, [0, self.dt])
        ns[0] = wrap(ns[0], -pi, pi)
        ns[1] = wrap(ns[1], -pi, pi)
        ns[2] = bound(ns[2], -self.MAX_VEL_1, self.MAX_VEL_1)
        ns[3] = bound(ns[3], -self.MAX_VEL_2, self.MAX_VEL_2)
        self.state = ns
        terminated = self._terminal()
        reward = -1.0 if not terminated else 0.0
        return self._get_ob(), reward, terminated

    def _get_ob(self):
        s = self.state
        return np.array([cos(s[0]), sin(s[0]), cos(s[1]), sin(s[1]), s[2],
                         s[3]], dtype=np.float64)

    def _terminal(self):
        s = self.state
        return bool(-cos(s[0]) - cos(s[1] + s[0]) > 1.0)

    def _dsdt(self, s_augmented):
        m1 = self.LINK_MASS_1
        m2 = self.LINK_MASS_2
        l1 = self.LINK_LENGTH_1
        lc1 = self.LINK_COM_POS_1
        lc2 = self.LINK_COM_POS_2
        I1 = self.LINK_MOI
        I2 = self.LINK_MOI
        g = 9.8
        a = s_augmented[-1]
        s = s_augmented[:-1]
        theta1 = s[0]
        theta2 = s[1]
        dtheta1 = s[2]
        dtheta2 = s[3]
        d1 = (m1 * lc1**2 + m2 *
              (l1**2 + lc2**2 + 2 * l1 * lc2 * cos(theta2)) + I1 + I2)
        d2 = m2 * (lc2**2 + l1 * lc2 * cos(theta2)) + I2
        phi2 = m2 * lc2 * g * cos(theta1 + theta2 - pi / 2.0)
        phi1 = (-m2 * l1 * lc2 * dtheta2**2 * sin(theta2) -
                2 * m2 * l1 * lc2 * dtheta2 * dtheta1 * sin(theta2) +
                (m1 * lc1 + m2 * l1) * g * cos(theta1 - pi / 2) + phi2)
        ddtheta2 = (a + d2 / d1 * phi1 -
                    m2 * l1 * lc2 * dtheta1**2 * sin(theta2) - phi2) / (
                        m2 * lc2**2 + I2 - d2**2 / d1)
        ddtheta1 = -(d2 * ddtheta2 + phi1) / d1
        return dtheta1, dtheta2, ddtheta1, ddtheta2, 0.0


def policy(k, obs, vel_index):
    """Push with the velocity (energy pumping), every 7th step a fixed
    pseudo-random action instead."""
    if k % 7 == 3:
        return (k * 5) % 3
    return 2 if obs[vel_index] >= 0 else 0


def emit(name, dim, trajs, out):
    out.write("static const ref_step %s_steps[] = {\n" % name)
    heads = []
    n = 0
    for seed, first, steps in trajs:
        heads.append((seed, first, n, len(steps)))
        for a, obs, r, term in steps:
            out.write("    {%d, {%s}, %s, %d},\n" % (
                a, ", ".join(x.hex() for x in obs), float(r).hex(),
                int(term)))
            n += 1
    out.write("};\n")
    out.write("static const ref_traj %s_trajs[] = {\n" % name)
    for seed, first, start, count in heads:
        out.write("    {%d, {%s}, %d, %d},\n" % (
            seed, ", ".join(x.hex() for x in first), start, count))
    out.write("};\n")


def main():
    out = sys.stdout
    out.write("/* Generated by tests/ref/gym_classic_ref.py (numpy %s): "
              "do not edit. */\n" % np.__version__)
    out.write("typedef struct ref_step {\n\tunsigned action;\n"
              "\tdouble obs[6];\n\tdouble reward;\n\tint terminated;\n"
              "} ref_step;\n")
    out.write("typedef struct ref_traj {\n\tunsigned long long seed;\n"
              "\tdouble first[6];\n\tint start, count;\n} ref_traj;\n")
    mc = []
    for seed in (1, 2, 3, 42):
        env = MountainCar()
        rng = DqRng(seed)
        env.reset(rng)
        first = [float(x) for x in env.state]
        steps = []
        obs = first
        for k in range(200):
            a = policy(k, obs, 1)
            o, r, term = env.step(a)
            obs = [float(x) for x in o]
            steps.append((a, obs, r, term))
            if term:
                break
        mc.append((seed, first, steps))
    emit("mc", 2, mc, out)
    ab = []
    for seed in (1, 2, 3, 42):
        env = Acrobot()
        rng = DqRng(seed)
        env.reset(rng)
        first = [float(x) for x in env.state]  # float32, as reset
        steps = []
        obs = [float(x) for x in env._get_ob()]
        for k in range(500):
            a = policy(k, obs, 5)
            o, r, term = env.step(a)
            obs = [float(x) for x in o]
            steps.append((a, obs, r, term))
            if term:
                break
        ab.append((seed, first, steps))
    emit("ab", 6, ab, out)


if __name__ == "__main__":
    main()
