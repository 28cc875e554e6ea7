/* Unit tests for lib/envs/taxi.c: Gymnasium's Taxi-v3. */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "dq_test.h"
#include "envs/envs.h"

enum { SOUTH, NORTH, EAST, WEST, PICKUP, DROPOFF };
enum { R, G, Y, B, IN_TAXI };

static const unsigned loc_row[4] = {0, 0, 4, 4};
static const unsigned loc_col[4] = {0, 4, 0, 3};

static uint32_t
enc(unsigned row, unsigned col, unsigned pass, unsigned dest)
{
	return ((row * 5 + col) * 5 + pass) * 4 + dest;
}

/*
 * East is blocked from these cells (a '|' to their right, or the edge),
 * read off the map by hand:
 *
 *	+---------+
 *	|R: | : :G|
 *	| : | : : |
 *	| : : : : |
 *	| | : | : |
 *	|Y| : |B: |
 *	+---------+
 */
static bool
east_blocked(unsigned row, unsigned col)
{
	static const bool blocked[5][5] = {
	    {0, 1, 0, 0, 1}, {0, 1, 0, 0, 1}, {0, 0, 0, 0, 1},
	    {1, 0, 1, 0, 1}, {1, 0, 1, 0, 1},
	};

	return blocked[row][col];
}

/* The single outcome of (s, a), checked to be single. */
static dq_outcome
outcome(dq_env *env, uint32_t s, uint32_t a)
{
	dq_outcome o[2];

	assert_int_equal(dq_env_outcomes(env, s, a, o, 2), 1);
	assert_true(o[0].prob == 1.0);
	return o[0];
}

static dq_env *
open_taxi(void)
{
	dq_env *env;

	assert_int_equal(dq_env_open_name(&env, "taxi"), 0);
	return env;
}

static void
test_spec(void **state)
{
	dq_env *env = open_taxi();
	dq_env_spec spec;

	(void)state;
	assert_int_equal(dq_env_spec_get(env, &spec), 0);
	assert_int_equal(spec.n_states, 500);
	assert_int_equal(spec.n_actions, 6);
	assert_int_equal(spec.max_episode_steps, 200);
	assert_int_equal(spec.max_outcomes, 1);
	dq_env_close(env);
}

/*
 * Moves in all 25 cells, for one passenger/destination pair: the encoding
 * is Gymnasium's (a move changes only the row or column digit), walls are
 * where the map draws them, and every move costs -1.
 */
static void
test_moves_and_walls(void **state)
{
	dq_env *env = open_taxi();

	(void)state;
	for (unsigned r = 0; r < 5; r++) {
		for (unsigned c = 0; c < 5; c++) {
			uint32_t s = enc(r, c, Y, B);
			uint32_t want[4] = {
			    enc(r < 4 ? r + 1 : r, c, Y, B),
			    enc(r > 0 ? r - 1 : r, c, Y, B),
			    enc(r, east_blocked(r, c) ? c : c + 1, Y, B),
			    enc(r, c > 0 && !east_blocked(r, c - 1) ? c - 1 : c,
				Y, B),
			};

			for (uint32_t a = 0; a < 4; a++) {
				dq_outcome o = outcome(env, s, a);

				assert_int_equal(o.next_state, want[a]);
				assert_true(o.reward == -1.0);
				assert_false(o.terminated);
			}
		}
	}
	/* The walls named in Gymnasium's docs and issues, one by one. */
	assert_int_equal(outcome(env, enc(0, 1, R, G), EAST).next_state,
			 enc(0, 1, R, G));
	assert_int_equal(outcome(env, enc(0, 2, R, G), WEST).next_state,
			 enc(0, 2, R, G));
	assert_int_equal(outcome(env, enc(0, 0, R, G), EAST).next_state,
			 enc(0, 1, R, G));
	assert_int_equal(outcome(env, enc(3, 0, R, G), EAST).next_state,
			 enc(3, 0, R, G));
	assert_int_equal(outcome(env, enc(4, 0, R, G), EAST).next_state,
			 enc(4, 0, R, G));
	assert_int_equal(outcome(env, enc(4, 3, R, G), WEST).next_state,
			 enc(4, 3, R, G));
	assert_int_equal(outcome(env, enc(4, 2, R, G), EAST).next_state,
			 enc(4, 2, R, G));
	assert_int_equal(outcome(env, enc(2, 1, R, G), EAST).next_state,
			 enc(2, 2, R, G));
	assert_int_equal(outcome(env, enc(4, 1, R, G), NORTH).next_state,
			 enc(3, 1, R, G));
	dq_env_close(env);
}

static void
test_encoding(void **state)
{
	dq_env *env = open_taxi();

	(void)state;
	/* ((2 * 5 + 3) * 5 + 1) * 4 + 0 = 264, as Gymnasium's encode. */
	assert_int_equal(enc(2, 3, G, R), 264);
	assert_int_equal(outcome(env, 264, SOUTH).next_state, 364);
	assert_int_equal(outcome(env, 264, NORTH).next_state, 164);
	assert_int_equal(outcome(env, 264, EAST).next_state, 284);
	assert_int_equal(outcome(env, 264, WEST).next_state, 244);
	/* 499 is (4,4) with the passenger aboard, bound for B. */
	assert_int_equal(enc(4, 4, IN_TAXI, B), 499);
	assert_int_equal(outcome(env, 499, SOUTH).next_state, 499);
	assert_int_equal(outcome(env, 499, WEST).next_state, 479);
	dq_env_close(env);
}

static void
test_pickup(void **state)
{
	dq_env *env = open_taxi();
	dq_outcome o;

	(void)state;
	for (unsigned p = 0; p < 4; p++) {
		unsigned d = (p + 1) % 4;

		/* At the passenger's landmark: aboard, -1. */
		o = outcome(env, enc(loc_row[p], loc_col[p], p, d), PICKUP);
		assert_int_equal(o.next_state,
				 enc(loc_row[p], loc_col[p], IN_TAXI, d));
		assert_true(o.reward == -1.0 && !o.terminated);
		/* At another landmark, or nowhere: -10, nothing changes. */
		o = outcome(env, enc(loc_row[d], loc_col[d], p, d), PICKUP);
		assert_int_equal(o.next_state,
				 enc(loc_row[d], loc_col[d], p, d));
		assert_true(o.reward == -10.0 && !o.terminated);
		o = outcome(env, enc(2, 2, p, d), PICKUP);
		assert_int_equal(o.next_state, enc(2, 2, p, d));
		assert_true(o.reward == -10.0);
		/* Already aboard: -10. */
		o = outcome(env, enc(loc_row[p], loc_col[p], IN_TAXI, d),
			    PICKUP);
		assert_int_equal(o.next_state,
				 enc(loc_row[p], loc_col[p], IN_TAXI, d));
		assert_true(o.reward == -10.0);
	}
	dq_env_close(env);
}

static void
test_dropoff(void **state)
{
	dq_env *env = open_taxi();
	dq_outcome o;

	(void)state;
	for (unsigned d = 0; d < 4; d++) {
		/* Aboard, at the destination: +20, terminal, delivered. */
		o = outcome(env, enc(loc_row[d], loc_col[d], IN_TAXI, d),
			    DROPOFF);
		assert_int_equal(o.next_state,
				 enc(loc_row[d], loc_col[d], d, d));
		assert_true(o.reward == 20.0 && o.terminated);
		for (unsigned l = 0; l < 4; l++) {
			if (l == d)
				continue;
			/* Aboard, at another landmark: left there, -1. */
			o = outcome(env,
				    enc(loc_row[l], loc_col[l], IN_TAXI, d),
				    DROPOFF);
			assert_int_equal(o.next_state,
					 enc(loc_row[l], loc_col[l], l, d));
			assert_true(o.reward == -1.0 && !o.terminated);
			/* Waiting elsewhere: illegal, even at a landmark. */
			o = outcome(env, enc(loc_row[d], loc_col[d], l, d),
				    DROPOFF);
			assert_int_equal(o.next_state,
					 enc(loc_row[d], loc_col[d], l, d));
			assert_true(o.reward == -10.0 && !o.terminated);
		}
		/* Aboard, not at a landmark: -10. */
		o = outcome(env, enc(1, 1, IN_TAXI, d), DROPOFF);
		assert_int_equal(o.next_state, enc(1, 1, IN_TAXI, d));
		assert_true(o.reward == -10.0 && !o.terminated);
	}
	dq_env_close(env);
}

/* pass_loc == dest is delivered: absorbing, reward 0, for every action. */
static void
test_terminal_states(void **state)
{
	dq_env *env = open_taxi();
	unsigned n = 0;

	(void)state;
	for (uint32_t s = 0; s < 500; s++) {
		bool delivered = s / 4 % 5 == s % 4;

		for (uint32_t a = 0; a < 6; a++) {
			dq_outcome o = outcome(env, s, a);

			if (delivered) {
				assert_int_equal(o.next_state, s);
				assert_true(o.reward == 0 && o.terminated);
			} else {
				/* Only a dropoff ends an episode. */
				assert_true(o.terminated ==
					    (a == DROPOFF && o.reward == 20.0));
			}
		}
		n += delivered;
	}
	assert_int_equal(n, 100);
	dq_env_close(env);
}

/* 300 start states at 1/300, and reset samples them uniformly. */
static void
test_start(void **state)
{
	dq_env *env = open_taxi();
	dq_env_instance *inst;
	static unsigned counts[500];
	double p[500];
	dq_rng rng;
	const unsigned n = 300000;
	unsigned starts = 0;

	(void)state;
	assert_int_equal(dq_env_start_probs(env, p, 500), 0);
	for (uint32_t s = 0; s < 500; s++) {
		unsigned pass = s / 4 % 5, dest = s % 4;

		if (pass < 4 && pass != dest) {
			assert_true(p[s] == 1.0 / 300);
			starts++;
		} else {
			assert_true(p[s] == 0);
		}
	}
	assert_int_equal(starts, 300);

	assert_int_equal(dq_rng_seed(&rng, 3, 0), 0);
	assert_int_equal(dq_env_instance_create(env, &inst), 0);
	memset(counts, 0, sizeof(counts));
	for (unsigned i = 0; i < n; i++) {
		uint32_t s;

		assert_int_equal(dq_env_instance_reset(inst, &rng, &s), 0);
		assert_true(s < 500);
		counts[s]++;
	}
	for (uint32_t s = 0; s < 500; s++) {
		double mean = n * p[s];
		double sd = sqrt(n * p[s] * (1 - p[s]));

		if (p[s] == 0)
			assert_int_equal(counts[s], 0);
		else if (fabs(counts[s] - mean) > 5 * sd)
			fail_msg("start %u drawn %u times, expected %.0f",
				 (unsigned)s, counts[s], mean);
	}
	dq_env_instance_destroy(inst);
	dq_env_close(env);
}

/* Step agrees with the model everywhere, and draws nothing. */
static void
test_step_matches_model(void **state)
{
	const dq_env_ops *ops = &dq__env_taxi;
	dq_env_spec spec;
	dq_rng rng, before;
	void *def, *inst;

	(void)state;
	assert_int_equal(dq_rng_seed(&rng, 11, 0), 0);
	assert_int_equal(ops->open(&def, "", NULL, &spec), 0);
	assert_int_equal(ops->create(def, &inst), 0);
	before = rng;
	for (uint32_t s = 0; s < 500; s++) {
		for (uint32_t a = 0; a < 6; a++) {
			dq_outcome o;
			dq_step st;

			assert_int_equal(ops->outcomes(def, s, a, &o, 1), 1);
			assert_int_equal(ops->set_state(inst, s), 0);
			assert_int_equal(ops->step(inst, a, &rng, &st), 0);
			assert_int_equal(st.next_state, o.next_state);
			assert_true(st.reward == o.reward);
			assert_true(st.terminated == o.terminated);
			assert_false(st.truncated);
		}
	}
	assert_memory_equal(&rng, &before, sizeof(rng));
	assert_int_equal(ops->set_state(inst, 500), -ERANGE);
	assert_int_equal(ops->outcomes(def, 0, 6, NULL, 0), -ERANGE);
	ops->destroy(inst);
	if (ops->close)
		ops->close(def);
}

/*
 * An optimal episode, by hand: taxi at (2,2), passenger at Y, bound for G.
 * West twice to (2,0) (the walls left of (3,1) and (4,1) bar the way round
 * below), south twice to Y, pick up; north twice, east four times along
 * the open row 2, north twice to G, drop off: 12 moves and a pickup at
 * -1 each, then +20.
 */
static void
test_episode(void **state)
{
	const dq_env_ops *ops = &dq__env_taxi;
	static const uint32_t plan[] = {WEST,  WEST,  SOUTH, SOUTH,  PICKUP,
					NORTH, NORTH, EAST,  EAST,   EAST,
					EAST,  NORTH, NORTH, DROPOFF};
	const size_t n = sizeof(plan) / sizeof(plan[0]);
	dq_env_spec spec;
	dq_rng rng;
	dq_step st;
	void *def, *inst;
	double ret = 0;

	(void)state;
	assert_int_equal(dq_rng_seed(&rng, 1, 0), 0);
	assert_int_equal(ops->open(&def, "", NULL, &spec), 0);
	assert_int_equal(ops->create(def, &inst), 0);
	assert_int_equal(ops->set_state(inst, enc(2, 2, Y, G)), 0);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(ops->step(inst, plan[i], &rng, &st), 0);
		ret += st.reward;
		assert_true(st.terminated == (i == n - 1));
		if (plan[i] == PICKUP)
			assert_int_equal(st.next_state, enc(4, 0, IN_TAXI, G));
	}
	assert_int_equal(st.next_state, enc(0, 4, G, G));
	assert_true(ret == -13 + 20);
	ops->destroy(inst);
	if (ops->close)
		ops->close(def);
}

static void
test_params(void **state)
{
	dq_env *env = NULL;
	dq_env_spec spec;

	(void)state;
	assert_int_equal(dq_env_open_name(&env, "taxi:max_steps=0"), 0);
	assert_int_equal(dq_env_spec_get(env, &spec), 0);
	assert_int_equal(spec.max_episode_steps, 0);
	dq_env_close(env);
	env = NULL;
	assert_int_equal(dq_env_open_name(&env, "taxi:max_steps=4294967296"),
			 -ERANGE);
	assert_int_equal(dq_env_open_name(&env, "taxi:slippery=1"), -EINVAL);
	assert_int_equal(dq_env_open_name(&env, "taxi:max_steps=1,"), -EINVAL);
	assert_null(env);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_spec),
	    cmocka_unit_test(test_moves_and_walls),
	    cmocka_unit_test(test_encoding),
	    cmocka_unit_test(test_pickup),
	    cmocka_unit_test(test_dropoff),
	    cmocka_unit_test(test_terminal_states),
	    cmocka_unit_test(test_start),
	    cmocka_unit_test(test_step_matches_model),
	    cmocka_unit_test(test_episode),
	    cmocka_unit_test(test_params),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
