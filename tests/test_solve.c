/* tests/test_solve.c - models and exact solutions (lib/solve.c). */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "dq_fault_pthread.h"
#include "dq_test.h"

/* ------------------------------------------------------------------ */
/* Table-driven environments, opened through the public dq_env_ops.    */

typedef struct trow {
	uint32_t s, a;
	double p;
	uint32_t next;
	double r;
	bool term;
} trow;

typedef struct tenv {
	uint32_t S, A, max_out;
	const trow *rows;
	size_t n_rows;
	const double *start; /* S probabilities */
	int outcomes_ret;    /* non-zero: outcomes returns this instead */
	int start_ret;	     /* non-zero: start_probs returns this */
} tenv;

static int
t_open(void **def, const char *params, void *user, dq_env_spec *spec)
{
	const tenv *t = user;

	(void)params;
	*def = user;
	spec->n_states = t->S;
	spec->n_actions = t->A;
	spec->max_episode_steps = 0;
	spec->max_outcomes = t->max_out;
	return 0;
}

static int
t_reset(void *inst, dq_rng *rng, uint32_t *state)
{
	(void)inst;
	(void)rng;
	*state = 0;
	return 0;
}

static int
t_step(void *inst, uint32_t action, dq_rng *rng, dq_step *out)
{
	(void)inst;
	(void)action;
	(void)rng;
	out->next_state = 0;
	out->reward = 0;
	out->terminated = true;
	out->truncated = false;
	return 0;
}

static int
t_outcomes(const void *def, uint32_t s, uint32_t a, dq_outcome *out, size_t cap)
{
	const tenv *t = def;
	size_t n = 0;

	if (t->outcomes_ret)
		return t->outcomes_ret;
	for (size_t i = 0; i < t->n_rows; i++) {
		const trow *r = &t->rows[i];

		if (r->s != s || r->a != a)
			continue;
		if (n < cap)
			out[n] = (dq_outcome){r->p, r->next, r->r, r->term};
		n++;
	}
	return (int)n;
}

static int
t_start(const void *def, double *p, size_t n)
{
	const tenv *t = def;

	if (t->start_ret)
		return t->start_ret;
	for (size_t i = 0; i < t->S && i < n; i++)
		p[i] = t->start[i];
	return 0;
}

static const dq_env_ops tab_ops = {
    .abi = DQ_ENV_ABI,
    .name = "table",
    .open = t_open,
    .reset = t_reset,
    .step = t_step,
    .outcomes = t_outcomes,
    .start_probs = t_start,
};

static const dq_env_ops nomodel_ops = {
    .abi = DQ_ENV_ABI,
    .name = "nomodel",
    .open = t_open,
    .reset = t_reset,
    .step = t_step,
};

static dq_model *
model_of(const dq_env_ops *ops, const tenv *t)
{
	dq_env *env = NULL;
	dq_model *m = NULL;

	assert_int_equal(dq_env_open(&env, ops, NULL, (void *)t), 0);
	assert_int_equal(dq_model_create(&m, env), 0);
	assert_non_null(m);
	dq_env_close(env);
	return m;
}

static int
create_err(const tenv *t)
{
	dq_env *env = NULL;
	dq_model *m = (dq_model *)0x1;
	int err;

	assert_int_equal(dq_env_open(&env, &tab_ops, NULL, (void *)t), 0);
	err = dq_model_create(&m, env);
	assert_ptr_equal(m, (dq_model *)0x1); /* untouched on failure */
	dq_env_close(env);
	return err;
}

static dq_solve_config
cfg_of(double gamma)
{
	dq_solve_config c;

	assert_int_equal(dq_solve_config_init(&c), 0);
	c.gamma = gamma;
	return c;
}

/*
 * Chain of two states. In 0: a0 moves to 1 for reward 1, a1 stays for 0.
 * In 1: a0 ends the episode for reward 2, a1 goes back to 0 for 0.
 * Cycling earns 1 every two steps (V0 = 1 / (1 - g^2)), ending earns 2:
 * for g = 0.5 ending wins, V = (2, 2); for g = 0.9 cycling wins.
 */
static const trow chain_rows[] = {
    {0, 0, 1.0, 1, 1.0, false},
    {0, 1, 1.0, 0, 0.0, false},
    {1, 0, 1.0, 1, 2.0, true},
    {1, 1, 1.0, 0, 0.0, false},
};
static const double chain_start[] = {1.0, 0.0};
static const tenv chain_env = {2, 2, 1, chain_rows, 4, chain_start, 0, 0};

/*
 * A stochastic one: from 0, a0 ends with reward 1 (p 0.3) or stays for
 * 0.5 (p 0.7), a1 moves to 1; from 1, a0 is a coin flip between ending
 * with 3 and going back to 0, a1 ends with 0.1. State 2 is absorbing.
 */
static const trow stoch_rows[] = {
    {0, 0, 0.3, 2, 1.0, true},	{0, 0, 0.7, 0, 0.5, false},
    {0, 1, 1.0, 1, 0.0, false}, {1, 0, 0.5, 2, 3.0, true},
    {1, 0, 0.5, 0, 0.0, false}, {1, 1, 1.0, 2, 0.1, true},
    {2, 0, 1.0, 2, 0.0, true},	{2, 1, 1.0, 2, 0.0, true},
};
static const double stoch_start[] = {0.5, 0.5, 0.0};
static const tenv stoch_env = {3, 2, 2, stoch_rows, 8, stoch_start, 0, 0};

/* One state looping on itself for reward 1: diverges at gamma 1. */
static const trow loop_rows[] = {{0, 0, 1.0, 0, 1.0, false}};
static const trow huge_rows[] = {{0, 0, 1.0, 0, 1e308, false}};
static const double loop_start[] = {1.0};
static const tenv loop_env = {1, 1, 1, loop_rows, 1, loop_start, 0, 0};
static const tenv huge_env = {1, 1, 1, huge_rows, 1, loop_start, 0, 0};

/*
 * V^pi of the stochastic env for a policy (pi0, pi1), solving the 2x2
 * system V = r + g P V over the non-terminal states by Cramer's rule:
 * independent of the solver's code.
 */
static void
stoch_policy_value(double g, uint32_t pi0, uint32_t pi1, double v[2])
{
	double r[2] = {0, 0}, P[2][2] = {{0, 0}, {0, 0}};
	uint32_t pi[2] = {pi0, pi1};
	double a, b, c, d, det;

	for (size_t i = 0; i < 8; i++) {
		const trow *w = &stoch_rows[i];

		if (w->s > 1 || w->a != pi[w->s])
			continue;
		r[w->s] += w->p * w->r;
		if (!w->term)
			P[w->s][w->next] += w->p;
	}
	a = 1 - g * P[0][0];
	b = -g * P[0][1];
	c = -g * P[1][0];
	d = 1 - g * P[1][1];
	det = a * d - b * c;
	v[0] = (r[0] * d - b * r[1]) / det;
	v[1] = (a * r[1] - c * r[0]) / det;
}

/* q[s,a] = sum p (r + (term ? 0 : g v[s'])) and v[s] = max_a q[s,a]. */
static void
assert_bellman(const tenv *t, double g, const double *q, const double *v)
{
	for (uint32_t s = 0; s < t->S; s++) {
		double best = -INFINITY;

		for (uint32_t a = 0; a < t->A; a++) {
			double x = 0;

			for (size_t i = 0; i < t->n_rows; i++) {
				const trow *w = &t->rows[i];

				if (w->s == s && w->a == a)
					x += w->p *
					     (w->r +
					      (w->term ? 0 : g * v[w->next]));
			}
			assert_true(fabs(q[s * t->A + a] - x) < 1e-10);
			best = fmax(best, x);
		}
		assert_true(fabs(v[s] - best) < 1e-10);
	}
}

/* ------------------------------------------------------------------ */

static void
test_config_and_shape(void **state)
{
	dq_solve_config c;
	dq_model *m = model_of(&tab_ops, &stoch_env);
	uint32_t S = 0, A = 0;

	(void)state;
	assert_int_equal(dq_solve_config_init(NULL), -EINVAL);
	assert_int_equal(dq_solve_config_init(&c), 0);
	assert_true(c.gamma == 0.95);
	assert_true(c.tolerance == 1e-12);
	assert_true(c.max_sweeps == 10000000);
	assert_int_equal(c.n_threads, 0);
	assert_int_equal(dq_model_shape(m, &S, &A), 0);
	assert_int_equal(S, 3);
	assert_int_equal(A, 2);
	assert_int_equal(dq_model_shape(NULL, &S, &A), -EINVAL);
	assert_int_equal(dq_model_shape(m, NULL, &A), -EINVAL);
	assert_int_equal(dq_model_shape(m, &S, NULL), -EINVAL);
	dq_model_destroy(m);
	dq_model_destroy(NULL);
}

static void
test_chain_closed_form(void **state)
{
	dq_model *m = model_of(&tab_ops, &chain_env);
	dq_solve_config c = cfg_of(0.5);
	double q[4], v[2];
	uint32_t pi[2];
	uint64_t sweeps;

	(void)state;
	/* g = 0.5: ending wins everywhere. */
	assert_int_equal(dq_model_solve(m, &c, q, 4, v, 2, pi, 2, &sweeps), 0);
	assert_true(sweeps > 0);
	assert_true(fabs(v[0] - 2) < 1e-11 && fabs(v[1] - 2) < 1e-11);
	assert_true(fabs(q[0] - 2) < 1e-11 && fabs(q[1] - 1) < 1e-11);
	assert_true(fabs(q[2] - 2) < 1e-11 && fabs(q[3] - 1) < 1e-11);
	assert_int_equal(pi[0], 0);
	assert_int_equal(pi[1], 0);
	assert_bellman(&chain_env, 0.5, q, v);

	/* g = 0.9: cycling wins, V0 = 1 / (1 - g^2), V1 = g V0. */
	c.gamma = 0.9;
	assert_int_equal(dq_model_solve(m, &c, q, 4, v, 2, pi, 2, &sweeps), 0);
	assert_true(sweeps > 0);
	assert_true(fabs(v[0] - 1 / (1 - 0.81)) < 1e-10);
	assert_true(fabs(v[1] - 0.9 / (1 - 0.81)) < 1e-10);
	assert_int_equal(pi[0], 0);
	assert_int_equal(pi[1], 1);
	assert_bellman(&chain_env, 0.9, q, v);

	/* g = 0: Q is the immediate reward; one sweep moves, one confirms. */
	c.gamma = 0;
	assert_int_equal(dq_model_solve(m, &c, q, 4, v, 2, pi, 2, &sweeps), 0);
	assert_int_equal(sweeps, 2);
	assert_true(q[0] == 1 && q[1] == 0 && q[2] == 2 && q[3] == 0);
	assert_true(v[0] == 1 && v[1] == 2);

	/* Any output may be skipped. */
	c.gamma = 0.9;
	assert_int_equal(dq_model_solve(m, &c, NULL, 0, NULL, 0, NULL, 0, NULL),
			 0);
	assert_int_equal(dq_model_solve(m, &c, NULL, 0, NULL, 0, pi, 2, NULL),
			 0);
	assert_int_equal(pi[1], 1);
	assert_int_equal(dq_model_solve(m, &c, NULL, 0, v, 2, NULL, 0, NULL),
			 0);
	assert_true(fabs(v[0] - 1 / (1 - 0.81)) < 1e-10);
	dq_model_destroy(m);
}

/*
 * At g = (sqrt(17) - 1) / 4, g V0 = 2 exactly in the reals: state 1's two
 * actions tie, and rounding must not decide: the lowest index wins.
 */
static void
test_ties_lowest_index(void **state)
{
	dq_model *m = model_of(&tab_ops, &chain_env);
	dq_solve_config c = cfg_of((sqrt(17.0) - 1) / 4);
	double q[4], v[2];
	uint32_t pi[2] = {9, 9}, pi2[2] = {9, 9};

	(void)state;
	assert_int_equal(dq_model_solve(m, &c, q, 4, v, 2, pi, 2, NULL), 0);
	assert_true(fabs(q[2] - q[3]) < 1e-9);
	assert_int_equal(pi[0], 0);
	assert_int_equal(pi[1], 0);
	/* The same without q (computed twice rather than stored). */
	assert_int_equal(dq_model_solve(m, &c, NULL, 0, NULL, 0, pi2, 2, NULL),
			 0);
	assert_int_equal(pi2[1], 0);
	dq_model_destroy(m);
}

static void
test_stochastic_against_enumeration(void **state)
{
	static const double gammas[] = {0.0, 0.3, 0.9, 0.99, 1.0};
	dq_model *m = model_of(&tab_ops, &stoch_env);
	double q[6], v[3], vp[3], sv;

	(void)state;
	for (size_t gi = 0; gi < sizeof(gammas) / sizeof(gammas[0]); gi++) {
		dq_solve_config c = cfg_of(gammas[gi]);
		double best[2] = {-INFINITY, -INFINITY};
		uint32_t pi[3];

		assert_int_equal(dq_model_solve(m, &c, q, 6, v, 3, pi, 3, NULL),
				 0);
		for (uint32_t p0 = 0; p0 < 2; p0++)
			for (uint32_t p1 = 0; p1 < 2; p1++) {
				double w[2];

				stoch_policy_value(c.gamma, p0, p1, w);
				best[0] = fmax(best[0], w[0]);
				best[1] = fmax(best[1], w[1]);
			}
		assert_true(fabs(v[0] - best[0]) < 1e-9);
		assert_true(fabs(v[1] - best[1]) < 1e-9);
		assert_true(v[2] == 0);
		assert_bellman(&stoch_env, c.gamma, q, v);

		/* The optimal policy evaluates to V*. */
		assert_int_equal(
		    dq_model_evaluate(m, &c, pi, 3, vp, 3, &sv, NULL), 0);
		for (int s = 0; s < 3; s++)
			assert_true(fabs(vp[s] - v[s]) < 1e-9);
		assert_true(fabs(sv - 0.5 * (vp[0] + vp[1])) < 1e-12);
		assert_int_equal(dq_model_start_value(m, v, 3, &sv), 0);
		assert_true(fabs(sv - 0.5 * (v[0] + v[1])) < 1e-12);
	}
	dq_model_destroy(m);
}

/*
 * Every policy of the stochastic env against enumeration; the exact and
 * the fast fraction agree, the fast one never above the exact one.
 */
static void
test_evaluate_and_fractions(void **state)
{
	dq_model *m = model_of(&tab_ops, &stoch_env);
	dq_solve_config c = cfg_of(0.9);
	double q[6], v[3], vp[3], f_exact, f_fast, sv;
	uint32_t opt[3];

	(void)state;
	assert_int_equal(dq_model_solve(m, &c, q, 6, v, 3, opt, 3, NULL), 0);
	for (uint32_t p0 = 0; p0 < 2; p0++) {
		for (uint32_t p1 = 0; p1 < 2; p1++) {
			uint32_t pi[3] = {p0, p1, 1};
			double w[2];
			double expect = 0;

			stoch_policy_value(c.gamma, p0, p1, w);
			assert_int_equal(
			    dq_model_evaluate(m, &c, pi, 3, vp, 3, &sv, NULL),
			    0);
			assert_true(fabs(vp[0] - w[0]) < 1e-9);
			assert_true(fabs(vp[1] - w[1]) < 1e-9);
			assert_true(fabs(sv - 0.5 * (w[0] + w[1])) < 1e-9);
			assert_int_equal(dq_model_optimal_fraction(
					     m, v, vp, 3, 1e-9, &f_exact),
					 0);
			assert_int_equal(dq_model_check_policy(m, q, 6, pi, 3,
							       1e-9, &f_fast),
					 0);
			if (w[0] >= v[0] - 1e-9)
				expect += 0.5;
			if (w[1] >= v[1] - 1e-9)
				expect += 0.5;
			assert_true(f_exact == expect);
			assert_true(f_fast == f_exact);
		}
	}
	/* The optimal policy: exactly 1 both ways. */
	assert_int_equal(dq_model_evaluate(m, &c, opt, 3, vp, 3, NULL, NULL),
			 0);
	assert_int_equal(dq_model_optimal_fraction(m, v, vp, 3, 1e-9, &f_exact),
			 0);
	assert_true(f_exact == 1.0);
	assert_int_equal(dq_model_check_policy(m, q, 6, opt, 3, 1e-9, &f_fast),
			 0);
	assert_true(f_fast == 1.0);
	dq_model_destroy(m);
}

/*
 * The fast check is conservative: a bad action reachable only with tiny
 * probability costs less than tol in value, so the exact fraction counts
 * the start state and the fast one does not. Here state 0 reaches bad
 * state 1 with probability 1e-12.
 */
static void
test_check_policy_conservative(void **state)
{
	static const trow rows[] = {
	    {0, 0, 1 - 1e-12, 2, 1.0, true}, {0, 0, 1e-12, 1, 0.0, false},
	    {0, 1, 1.0, 2, 0.0, true},	     {1, 0, 1.0, 2, 0.0, true},
	    {1, 1, 1.0, 2, 1.0, true},	     {2, 0, 1.0, 2, 0.0, true},
	    {2, 1, 1.0, 2, 0.0, true},
	};
	static const double start[] = {1, 0, 0};
	static const tenv t = {3, 2, 2, rows, 7, start, 0, 0};
	dq_model *m = model_of(&tab_ops, &t);
	dq_solve_config c = cfg_of(0.9);
	uint32_t pi[3] = {0, 0, 0}; /* bad in state 1 */
	double q[6], v[3], vp[3], f_exact, f_fast;

	(void)state;
	assert_int_equal(dq_model_solve(m, &c, q, 6, v, 3, NULL, 0, NULL), 0);
	assert_int_equal(dq_model_evaluate(m, &c, pi, 3, vp, 3, NULL, NULL), 0);
	assert_int_equal(dq_model_optimal_fraction(m, v, vp, 3, 1e-9, &f_exact),
			 0);
	assert_int_equal(dq_model_check_policy(m, q, 6, pi, 3, 1e-9, &f_fast),
			 0);
	assert_true(f_exact == 1.0);
	assert_true(f_fast == 0.0);
	/* A tol that forgives the bad action forgives it in both. */
	assert_int_equal(dq_model_check_policy(m, q, 6, pi, 3, 1.5, &f_fast),
			 0);
	assert_true(f_fast == 1.0);
	/* NaN in Q counts as bad. */
	q[0] = NAN;
	pi[1] = 1;
	assert_int_equal(dq_model_check_policy(m, q, 6, pi, 3, 1e-9, &f_fast),
			 0);
	assert_true(f_fast == 0.0);
	dq_model_destroy(m);
}

/* AIMA fig. 17.3 utilities of the 4x3 world (gamma 1, R = -0.04). */
static const double aima_u[11] = {0.812, 0.868, 0.918, NAN,   0.762, 0.660,
				  NAN,	 0.705, 0.655, 0.611, 0.388};
/* AIMA fig. 17.2(a) policy: 0 north, 1 east, 2 south, 3 west. */
static const int aima_pi[11] = {1, 1, 1, -1, 0, 0, -1, 0, 3, 3, 3};

/*
 * AIMA counts R(s) in the state being left, including the start; maze4x3
 * pays the living reward on entering an ordinary cell and only +-1 on
 * entering a terminal. So V_env(s) = U(s) - R(s) = U(s) + 0.04, exactly,
 * and the greedy policies are the same.
 */
static void
test_maze4x3_aima(void **state)
{
	dq_env *env = NULL;
	dq_model *m = NULL;
	dq_solve_config c = cfg_of(1.0);
	double q[44], v[11], vp[11], f;
	uint32_t pi[11], S, A;
	uint64_t sweeps;

	(void)state;
	assert_int_equal(dq_env_open_name(&env, "maze4x3"), 0);
	assert_int_equal(dq_model_create(&m, env), 0);
	assert_int_equal(dq_model_shape(m, &S, &A), 0);
	assert_int_equal(S, 11);
	assert_int_equal(A, 4);
	assert_int_equal(dq_model_solve(m, &c, q, 44, v, 11, pi, 11, &sweeps),
			 0);
	assert_true(sweeps > 0);
	for (int s = 0; s < 11; s++) {
		if (isnan(aima_u[s])) {
			assert_true(v[s] == 0); /* terminal: absorbing, 0 */
			continue;
		}
		assert_true(fabs(v[s] - 0.04 - aima_u[s]) < 6e-4);
		assert_int_equal(pi[s], aima_pi[s]);
	}
	/* Evaluating that policy gives V* back; fraction 1 both ways. */
	assert_int_equal(dq_model_evaluate(m, &c, pi, 11, vp, 11, NULL, NULL),
			 0);
	for (int s = 0; s < 11; s++)
		assert_true(fabs(vp[s] - v[s]) < 1e-9);
	assert_int_equal(dq_model_optimal_fraction(m, v, vp, 11, 1e-9, &f), 0);
	assert_true(f == 1.0);
	assert_int_equal(dq_model_check_policy(m, q, 44, pi, 11, 1e-9, &f), 0);
	assert_true(f == 1.0);
	dq_model_destroy(m);
	dq_env_close(env);
}

/*
 * Random policies of the maze at gamma 0.95: the fast check never exceeds
 * the exact fraction, and (probabilities here are never tiny) they agree.
 */
static void
test_maze4x3_random_policies(void **state)
{
	dq_env *env = NULL;
	dq_model *m = NULL;
	dq_solve_config c = cfg_of(0.95);
	double q[44], v[11], vp[11], f_exact, f_fast;
	uint32_t pi[11];
	dq_rng rng;
	int good = 0;

	(void)state;
	assert_int_equal(dq_env_open_name(&env, "maze4x3"), 0);
	assert_int_equal(dq_model_create(&m, env), 0);
	assert_int_equal(dq_model_solve(m, &c, q, 44, v, 11, NULL, 0, NULL), 0);
	assert_int_equal(dq_rng_seed(&rng, 42, 0), 0);
	for (int i = 0; i < 400; i++) {
		uint32_t opt[11];

		assert_int_equal(
		    dq_model_solve(m, &c, NULL, 0, NULL, 0, opt, 11, NULL), 0);
		for (int s = 0; s < 11; s++) /* mostly optimal, some noise */
			pi[s] = dq_rng_below(&rng, 4) == 0
				    ? dq_rng_below(&rng, 4)
				    : opt[s];
		assert_int_equal(
		    dq_model_evaluate(m, &c, pi, 11, vp, 11, NULL, NULL), 0);
		assert_int_equal(
		    dq_model_optimal_fraction(m, v, vp, 11, 1e-9, &f_exact), 0);
		assert_int_equal(
		    dq_model_check_policy(m, q, 44, pi, 11, 1e-9, &f_fast), 0);
		assert_true(f_fast <= f_exact);
		assert_true(f_fast == f_exact);
		good += f_exact == 1.0;
	}
	assert_true(good > 0 && good < 400); /* both kinds were seen */
	/* Always south: not optimal from the start. */
	for (int s = 0; s < 11; s++)
		pi[s] = 2;
	assert_int_equal(dq_model_evaluate(m, &c, pi, 11, vp, 11, NULL, NULL),
			 0);
	assert_int_equal(
	    dq_model_optimal_fraction(m, v, vp, 11, 1e-9, &f_exact), 0);
	assert_true(f_exact < 1.0);
	dq_model_destroy(m);
	dq_env_close(env);
}

/*
 * Improper policies at gamma 1 (dq_model_find_improper()). One action per
 * state, so the model is the policy.
 *
 * unreach: 0 ends for 1 (the start); 1 loops for -1, never reached; 2
 * leads into 1 for 0. The loop in 1 diverges although no episode from the
 * start ever sees it.
 */
static const trow unreach_rows[] = {
    {0, 0, 1.0, 0, 1.0, true},
    {1, 0, 1.0, 1, -1.0, false},
    {2, 0, 1.0, 1, 0.0, false},
};
static const double unreach_start[] = {1.0, 0.0, 0.0};
static const tenv unreach_env = {3, 1, 1, unreach_rows, 3, unreach_start, 0, 0};

/* zero: 0 pays -1 once on its way into 1, which loops for 0; 2 ends for
 * 5. Every value is finite: V = (-1, 0, 5). */
static const trow zero_rows[] = {
    {0, 0, 1.0, 1, -1.0, false},
    {1, 0, 1.0, 1, 0.0, false},
    {2, 0, 1.0, 2, 5.0, true},
};
static const double zero_start[] = {0.5, 0.0, 0.5};
static const tenv zero_env = {3, 1, 1, zero_rows, 3, zero_start, 0, 0};

/* cycle: 0 pays -1 and leaves for 1 or 2 by a coin; 1 goes back to 0 (so
 * {0, 1} is a loop the chain leaves); 2 -> 3 for 0 and 3 -> 2 for 2, a
 * loop it never leaves and that pays: state 3 is the one to name. */
static const trow cycle_rows[] = {
    {0, 0, 0.5, 1, -1.0, false}, {0, 0, 0.5, 2, -1.0, false},
    {1, 0, 1.0, 0, 0.0, false},	 {2, 0, 1.0, 3, 0.0, false},
    {3, 0, 1.0, 2, 2.0, false},
};
static const double cycle_start[] = {1.0, 0.0, 0.0, 0.0};
static const tenv cycle_env = {4, 1, 2, cycle_rows, 5, cycle_start, 0, 0};

static double
now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void
test_improper_found_fast(void **state)
{
	dq_model *m = model_of(&tab_ops, &unreach_env);
	dq_solve_config c = cfg_of(1.0);
	uint32_t pi[4] = {0, 0, 0, 0}, bad = 99;
	double v[4] = {7, 7, 7, 7}, t0;

	(void)state;
	assert_int_equal(dq_model_find_improper(m, pi, 3, &bad), -EDOM);
	assert_int_equal(bad, 1);
	assert_int_equal(dq_model_find_improper(m, pi, 3, NULL), -EDOM);
	/* At once, not after 10^7 sweeps, and nothing written. */
	t0 = now_seconds();
	assert_int_equal(dq_model_evaluate(m, &c, pi, 3, v, 3, NULL, NULL),
			 -EDOM);
	assert_true(now_seconds() - t0 < 0.1);
	assert_true(v[0] == 7 && v[1] == 7 && v[2] == 7);
	/* Below gamma 1 the same policy has a value. */
	c.gamma = 0.5;
	assert_true(dq_model_evaluate(m, &c, pi, 3, v, 3, NULL, NULL) >= 0);
	assert_true(fabs(v[1] + 2) < 1e-11 && fabs(v[2] + 1) < 1e-11);
	dq_model_destroy(m);

	m = model_of(&tab_ops, &cycle_env);
	bad = 99;
	assert_int_equal(dq_model_find_improper(m, pi, 4, &bad), -EDOM);
	assert_int_equal(bad, 3);
	c.gamma = 1;
	assert_int_equal(dq_model_evaluate(m, &c, pi, 4, v, 4, NULL, NULL),
			 -EDOM);
	dq_model_destroy(m);
}

/* The random policy on the chain, by hand: V1 = 1 + g V0 / 2 and
 * V0 = (1 + g V1) / 2 + g V0 / 2. */
static void
test_evaluate_random(void **state)
{
	dq_model *m = model_of(&tab_ops, &chain_env);
	dq_model *l = model_of(&tab_ops, &loop_env);
	dq_model *z = model_of(&tab_ops, &zero_env);
	static const double gammas[] = {0.0, 0.5, 0.9, 1.0};
	double v[3] = {7, 7, 7}, sv = 0;
	uint64_t sw = 0;

	(void)state;
	for (size_t i = 0; i < 4; i++) {
		dq_solve_config c = cfg_of(gammas[i]);
		double g = gammas[i];
		double v0 = (0.5 + 0.5 * g) / (1 - 0.5 * g - 0.25 * g * g);

		assert_int_equal(
		    dq_model_evaluate_random(m, &c, v, 2, &sv, &sw), 0);
		assert_true(sw >= 1);
		assert_true(fabs(v[0] - v0) < 1e-9);
		assert_true(fabs(v[1] - (1 + 0.5 * g * v0)) < 1e-9);
		assert_true(sv == v[0]);
	}
	{
		dq_solve_config c = cfg_of(1.0);

		v[0] = 7;
		assert_int_equal(
		    dq_model_evaluate_random(l, &c, v, 1, NULL, NULL), -EDOM);
		assert_true(v[0] == 7);
		assert_int_equal(
		    dq_model_evaluate_random(z, &c, v, 3, NULL, NULL), 0);
		assert_true(v[0] == -1 && v[1] == 0 && v[2] == 5);
		assert_int_equal(
		    dq_model_evaluate_random(NULL, &c, v, 3, NULL, NULL),
		    -EINVAL);
		assert_int_equal(
		    dq_model_evaluate_random(z, NULL, v, 3, NULL, NULL),
		    -EINVAL);
		assert_int_equal(
		    dq_model_evaluate_random(z, &c, NULL, 3, NULL, NULL),
		    -EINVAL);
		assert_int_equal(
		    dq_model_evaluate_random(z, &c, v, 2, NULL, NULL), -EINVAL);
		c.gamma = 0.999999;
		c.max_sweeps = 3;
		assert_int_equal(
		    dq_model_evaluate_random(l, &c, v, 1, NULL, NULL),
		    -ETIMEDOUT);
	}
	dq_model_destroy(m);
	dq_model_destroy(l);
	dq_model_destroy(z);
}

static void
test_improper_zero_reward_loops_are_finite(void **state)
{
	dq_model *m = model_of(&tab_ops, &zero_env);
	dq_solve_config c = cfg_of(1.0);
	uint32_t pi[3] = {0, 0, 0}, bad = 99;
	double v[3], sv;

	(void)state;
	assert_int_equal(dq_model_find_improper(m, pi, 3, &bad), 0);
	assert_int_equal(bad, 99); /* untouched */
	assert_true(dq_model_evaluate(m, &c, pi, 3, v, 3, &sv, NULL) >= 0);
	assert_true(v[0] == -1 && v[1] == 0 && v[2] == 5);
	assert_true(sv == 2);
	dq_model_destroy(m);
}

/* maze4x3 without slip, always north: 0, 1, 2 bump the top wall and 8
 * the inner one, each for the living reward; 3 and 6 end. */
static void
test_improper_maze(void **state)
{
	dq_env *env = NULL;
	dq_model *m = NULL;
	dq_solve_config c = cfg_of(1.0);
	uint32_t north[11] = {0}, opt[11], bad = 99;
	double v[11];

	(void)state;
	assert_int_equal(dq_env_open_name(&env, "maze4x3:slip=0"), 0);
	assert_int_equal(dq_model_create(&m, env), 0);
	assert_int_equal(dq_model_find_improper(m, north, 11, &bad), -EDOM);
	assert_int_equal(bad, 0);
	assert_int_equal(dq_model_evaluate(m, &c, north, 11, v, 11, NULL, NULL),
			 -EDOM);
	/* The optimal policy is proper; breaking it in state 8 (never
	 * visited from the start under it) is found all the same. */
	assert_true(dq_model_solve(m, &c, NULL, 0, NULL, 0, opt, 11, NULL) >=
		    0);
	assert_int_equal(dq_model_find_improper(m, opt, 11, &bad), 0);
	assert_true(dq_model_evaluate(m, &c, opt, 11, v, 11, NULL, NULL) >= 0);
	opt[8] = 0;
	assert_int_equal(dq_model_find_improper(m, opt, 11, &bad), -EDOM);
	assert_int_equal(bad, 8);
	/* Arguments. */
	assert_int_equal(dq_model_find_improper(NULL, opt, 11, &bad), -EINVAL);
	assert_int_equal(dq_model_find_improper(m, NULL, 11, &bad), -EINVAL);
	assert_int_equal(dq_model_find_improper(m, opt, 10, &bad), -EINVAL);
	opt[8] = 4;
	assert_int_equal(dq_model_find_improper(m, opt, 11, &bad), -ERANGE);
	dq_model_destroy(m);
	dq_env_close(env);
}

static void
test_nonconvergence_and_overflow(void **state)
{
	dq_model *m = model_of(&tab_ops, &loop_env);
	dq_model *h = model_of(&tab_ops, &huge_env);
	dq_solve_config c = cfg_of(1.0);
	double v[1] = {7}, q[1];
	uint32_t pi[1] = {0};

	(void)state;
	c.max_sweeps = 1000;
	assert_int_equal(dq_model_solve(m, &c, q, 1, v, 1, pi, 1, NULL),
			 -ETIMEDOUT);
	/* Evaluation sees the improper loop at once (test_improper_*). */
	assert_int_equal(dq_model_evaluate(m, &c, pi, 1, v, 1, NULL, NULL),
			 -EDOM);
	assert_true(v[0] == 7); /* untouched on failure */
	c.gamma = 0.5;
	assert_int_equal(dq_model_solve(m, &c, q, 1, v, 1, pi, 1, NULL), 0);
	assert_true(fabs(v[0] - 2) < 1e-11);
	/* Values past DBL_MAX are reported, not returned as converged. */
	c.gamma = 1;
	assert_int_equal(dq_model_solve(h, &c, q, 1, v, 1, pi, 1, NULL),
			 -ERANGE);
	assert_int_equal(dq_model_evaluate(h, &c, pi, 1, v, 1, NULL, NULL),
			 -EDOM);
	c.gamma = 0.5; /* 2e308: proper discounting, still an overflow */
	assert_int_equal(dq_model_evaluate(h, &c, pi, 1, v, 1, NULL, NULL),
			 -ERANGE);
	dq_model_destroy(m);
	dq_model_destroy(h);
}

static void
test_invalid_models(void **state)
{
	static const double s1[] = {1.0};
	static const double s_half[] = {0.5};
	static const double s_neg[] = {1.5, -0.5};
	static const double s_nan[] = {NAN};
	static const double s2[] = {1.0, 0.0};
	static const trow sum_low[] = {{0, 0, 0.6, 0, 0, false},
				       {0, 0, 0.3, 0, 0, true}};
	static const trow sum_high[] = {{0, 0, 0.6, 0, 0, false},
					{0, 0, 0.4 + 2e-9, 0, 0, true}};
	static const trow sum_close[] = {{0, 0, 0.6, 0, 0, false},
					 {0, 0, 0.4 + 1e-10, 0, 0, true}};
	static const trow neg[] = {{0, 0, 1.5, 0, 0, false},
				   {0, 0, -0.5, 0, 0, true}};
	static const trow zero[] = {{0, 0, 1.0, 0, 0, false},
				    {0, 0, 0.0, 0, 0, true}};
	static const trow nanp[] = {{0, 0, NAN, 0, 0, false}};
	static const trow range[] = {{0, 0, 1.0, 1, 0, false}};
	static const trow range_t[] = {{0, 0, 1.0, 5, 0, true}};
	static const trow nanr[] = {{0, 0, 1.0, 0, NAN, false}};
	static const trow infr[] = {{0, 0, 1.0, 0, INFINITY, true}};
	static const trow ok[] = {{0, 0, 1.0, 0, 0, true}};
	static const trow ok2[] = {{0, 0, 1.0, 0, 0, true},
				   {1, 0, 1.0, 1, 0, true}};
	static const trow big_r[] = {{0, 0, 0.6, 0, DBL_MAX, true},
				     {0, 0, 0.4 + 5e-10, 0, DBL_MAX, true}};
	tenv t;

	(void)state;
#define BAD(rows_, nrows_, maxo_, start_, expect_)                    \
	do {                                                          \
		t = (tenv){1, 1, maxo_, rows_, nrows_, start_, 0, 0}; \
		assert_int_equal(create_err(&t), expect_);            \
	} while (0)
	BAD(sum_low, 2, 2, s1, DQ_EENV);
	BAD(sum_high, 2, 2, s1, DQ_EENV);
	BAD(neg, 2, 2, s1, DQ_EENV);
	BAD(zero, 2, 2, s1, DQ_EENV);
	BAD(nanp, 1, 1, s1, DQ_EENV);
	BAD(range, 1, 1, s1, DQ_EENV);
	BAD(range_t, 1, 1, s1, DQ_EENV);
	BAD(nanr, 1, 1, s1, DQ_EENV);
	BAD(infr, 1, 1, s1, DQ_EENV);
	BAD(big_r, 2, 2, s1, DQ_EENV); /* finite rewards, infinite mean */
	BAD(ok, 1, 1, s_half, DQ_EENV);
	BAD(ok, 1, 1, s_nan, DQ_EENV);
	BAD(sum_low, 2, 1, s1, DQ_EENV); /* more than max_outcomes */
	BAD(ok, 0, 1, s1, DQ_EENV);	 /* no outcome at all */
#undef BAD
	t = (tenv){2, 1, 1, ok2, 2, s_neg, 0, 0};
	assert_int_equal(create_err(&t), DQ_EENV);
	t = (tenv){2, 1, 1, ok2, 2, s2, 0, 0};
	dq_model_destroy(model_of(&tab_ops, &t)); /* the same, valid */
	/* Errors of the callbacks pass through. */
	t = (tenv){1, 1, 1, ok, 1, s1, -EIO, 0};
	assert_int_equal(create_err(&t), -EIO);
	t = (tenv){1, 1, 1, ok, 1, s1, 0, -EIO};
	assert_int_equal(create_err(&t), -EIO);

	/* Within 1e-9 is accepted. */
	{
		dq_model *m;

		t = (tenv){1, 1, 2, sum_close, 2, s1, 0, 0};
		m = model_of(&tab_ops, &t);
		dq_model_destroy(m);
	}
}

static void
test_no_model(void **state)
{
	static const tenv t = {2, 2, 0, NULL, 0, NULL, 0, 0};
	dq_env *env = NULL;
	dq_model *m = (dq_model *)0x1;

	(void)state;
	assert_int_equal(dq_env_open(&env, &nomodel_ops, NULL, (void *)&t), 0);
	assert_int_equal(dq_model_create(&m, env), -ENOTSUP);
	assert_ptr_equal(m, (dq_model *)0x1);
	dq_env_close(env);
	/* A model callback present but not announced: still no model. */
	assert_int_equal(dq_env_open(&env, &tab_ops, NULL, (void *)&t), 0);
	assert_int_equal(dq_model_create(&m, env), -ENOTSUP);
	dq_env_close(env);
	assert_int_equal(dq_model_create(NULL, env), -EINVAL);
	assert_int_equal(dq_model_create(&m, NULL), -EINVAL);
}

static void
test_invalid_arguments(void **state)
{
	dq_model *m = model_of(&tab_ops, &stoch_env);
	dq_solve_config c = cfg_of(0.9), b;
	double q[6], v[3], f;
	uint32_t pi[3] = {0, 0, 0}, bad_pi[3] = {0, 2, 0};

	(void)state;
	/* solve */
	assert_int_equal(dq_model_solve(NULL, &c, q, 6, v, 3, pi, 3, NULL),
			 -EINVAL);
	assert_int_equal(dq_model_solve(m, NULL, q, 6, v, 3, pi, 3, NULL),
			 -EINVAL);
	assert_int_equal(dq_model_solve(m, &c, q, 5, v, 3, pi, 3, NULL),
			 -EINVAL);
	assert_int_equal(dq_model_solve(m, &c, q, 6, v, 2, pi, 3, NULL),
			 -EINVAL);
	assert_int_equal(dq_model_solve(m, &c, q, 6, v, 3, pi, 2, NULL),
			 -EINVAL);
	static const double bad_gamma[] = {-0.1, 1.0000001, NAN, INFINITY};
	for (size_t i = 0; i < 4; i++) {
		b = c;
		b.gamma = bad_gamma[i];
		assert_int_equal(dq_model_solve(m, &b, q, 6, v, 3, pi, 3, NULL),
				 -EINVAL);
		assert_int_equal(
		    dq_model_evaluate(m, &b, pi, 3, v, 3, NULL, NULL), -EINVAL);
	}
	static const double bad_tol[] = {0, -1e-9, NAN, INFINITY};
	for (size_t i = 0; i < 4; i++) {
		b = c;
		b.tolerance = bad_tol[i];
		assert_int_equal(dq_model_solve(m, &b, q, 6, v, 3, pi, 3, NULL),
				 -EINVAL);
		assert_int_equal(
		    dq_model_evaluate(m, &b, pi, 3, v, 3, NULL, NULL), -EINVAL);
	}
	b = c;
	b.max_sweeps = 0;
	assert_int_equal(dq_model_solve(m, &b, q, 6, v, 3, pi, 3, NULL),
			 -EINVAL);
	b = c;
	b.n_threads = DQ_MAX_THREADS + 1;
	assert_int_equal(dq_model_solve(m, &b, q, 6, v, 3, pi, 3, NULL),
			 -EINVAL);

	/* evaluate */
	assert_int_equal(dq_model_evaluate(NULL, &c, pi, 3, v, 3, NULL, NULL),
			 -EINVAL);
	assert_int_equal(dq_model_evaluate(m, NULL, pi, 3, v, 3, NULL, NULL),
			 -EINVAL);
	assert_int_equal(dq_model_evaluate(m, &c, NULL, 3, v, 3, NULL, NULL),
			 -EINVAL);
	assert_int_equal(dq_model_evaluate(m, &c, pi, 3, NULL, 3, NULL, NULL),
			 -EINVAL);
	assert_int_equal(dq_model_evaluate(m, &c, pi, 2, v, 3, NULL, NULL),
			 -EINVAL);
	assert_int_equal(dq_model_evaluate(m, &c, pi, 3, v, 2, NULL, NULL),
			 -EINVAL);
	assert_int_equal(dq_model_evaluate(m, &c, bad_pi, 3, v, 3, NULL, NULL),
			 -ERANGE);

	/* start value */
	assert_int_equal(dq_model_start_value(NULL, v, 3, &f), -EINVAL);
	assert_int_equal(dq_model_start_value(m, NULL, 3, &f), -EINVAL);
	assert_int_equal(dq_model_start_value(m, v, 2, &f), -EINVAL);
	assert_int_equal(dq_model_start_value(m, v, 3, NULL), -EINVAL);

	/* optimal fraction */
	assert_int_equal(dq_model_optimal_fraction(NULL, v, v, 3, 0, &f),
			 -EINVAL);
	assert_int_equal(dq_model_optimal_fraction(m, NULL, v, 3, 0, &f),
			 -EINVAL);
	assert_int_equal(dq_model_optimal_fraction(m, v, NULL, 3, 0, &f),
			 -EINVAL);
	assert_int_equal(dq_model_optimal_fraction(m, v, v, 2, 0, &f), -EINVAL);
	assert_int_equal(dq_model_optimal_fraction(m, v, v, 3, -1e-9, &f),
			 -EINVAL);
	assert_int_equal(dq_model_optimal_fraction(m, v, v, 3, NAN, &f),
			 -EINVAL);
	assert_int_equal(dq_model_optimal_fraction(m, v, v, 3, 0, NULL),
			 -EINVAL);

	/* check policy */
	assert_int_equal(dq_model_check_policy(NULL, q, 6, pi, 3, 0, &f),
			 -EINVAL);
	assert_int_equal(dq_model_check_policy(m, NULL, 6, pi, 3, 0, &f),
			 -EINVAL);
	assert_int_equal(dq_model_check_policy(m, q, 5, pi, 3, 0, &f), -EINVAL);
	assert_int_equal(dq_model_check_policy(m, q, 6, NULL, 3, 0, &f),
			 -EINVAL);
	assert_int_equal(dq_model_check_policy(m, q, 6, pi, 2, 0, &f), -EINVAL);
	assert_int_equal(dq_model_check_policy(m, q, 6, pi, 3, -1, &f),
			 -EINVAL);
	assert_int_equal(dq_model_check_policy(m, q, 6, pi, 3, NAN, &f),
			 -EINVAL);
	assert_int_equal(dq_model_check_policy(m, q, 6, pi, 3, 0, NULL),
			 -EINVAL);
	assert_int_equal(dq_model_check_policy(m, q, 6, bad_pi, 3, 0, &f),
			 -ERANGE);
	dq_model_destroy(m);
}

/* ------------------------------------------------------------------ */
/* A procedurally built model large enough for the threaded path.      */

/* 2^16 states x 16 actions: the 2^20 entries of the threaded threshold,
 * most of them cheap (terminal), to keep the sanitizer runs short. */
#define BIG_S 65536u
#define BIG_A 16u

static double
big_hash(uint32_t s, uint32_t k)
{
	uint64_t z = ((uint64_t)s << 8 | k) + 0x9e3779b97f4a7c15ull;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	z ^= z >> 31;
	return (double)(z >> 11) * 0x1.0p-53;
}

static int
big_open(void **def, const char *params, void *user, dq_env_spec *spec)
{
	(void)params;
	(void)user;
	*def = NULL;
	spec->n_states = BIG_S;
	spec->n_actions = BIG_A;
	spec->max_episode_steps = 0;
	spec->max_outcomes = 4;
	return 0;
}

/*
 * a0: one step along the ring; a1: a coin between a jump and ending;
 * a2: four jumps of 1/4; the others end with a random reward.
 */
static int
big_outcomes(const void *def, uint32_t s, uint32_t a, dq_outcome *out,
	     size_t cap)
{
	(void)def;
	(void)cap;
	switch (a) {
	case 0:
		out[0] =
		    (dq_outcome){1.0, (s + 1) % BIG_S, big_hash(s, 0), false};
		return 1;
	case 1:
		out[0] =
		    (dq_outcome){0.5, (uint32_t)(((uint64_t)s * 5 + 1) % BIG_S),
				 big_hash(s, 1), false};
		out[1] = (dq_outcome){0.5, s, big_hash(s, 2), true};
		return 2;
	case 2:
		for (uint32_t k = 0; k < 4; k++)
			out[k] = (dq_outcome){
			    0.25, (uint32_t)((s + (k + 1) * 7919u) % BIG_S),
			    0.5 * big_hash(s, 4 + k), false};
		return 4;
	default:
		out[0] = (dq_outcome){1.0, s, 0.8 * big_hash(s, 8 + a), true};
		return 1;
	}
}

static int
big_start(const void *def, double *p, size_t n)
{
	(void)def;
	for (size_t i = 0; i < n && i < BIG_S; i++)
		p[i] = 1.0 / BIG_S;
	return 0;
}

static const dq_env_ops big_ops = {
    .abi = DQ_ENV_ABI,
    .name = "big",
    .open = big_open,
    .reset = t_reset,
    .step = t_step,
    .outcomes = big_outcomes,
    .start_probs = big_start,
};

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/*
 * One thread (Gauss-Seidel) and two (Jacobi, split ranges) reach the same
 * fixed point to within what the tolerance allows; policies agree except
 * between actions that tie to that precision.
 */
static void
test_threads_agree(void **state)
{
	const size_t n = (size_t)BIG_S * BIG_A;
	dq_env *env = NULL;
	dq_model *m = NULL;
	dq_solve_config c = cfg_of(0.4);
	double *q1 = malloc(n * sizeof(double)),
	       *q2 = malloc(n * sizeof(double));
	double *v1 = malloc(BIG_S * sizeof(double));
	double *v2 = malloc(BIG_S * sizeof(double));
	uint32_t *p1 = malloc(BIG_S * sizeof(uint32_t));
	uint32_t *p2 = malloc(BIG_S * sizeof(uint32_t));
	double t0, t1, t2, sv1, sv2, f;
	uint32_t n_end = 0;
	uint64_t s1, s2;

	(void)state;
	assert_true(q1 && q2 && v1 && v2 && p1 && p2);
	assert_int_equal(dq_env_open(&env, &big_ops, NULL, NULL), 0);
	assert_int_equal(dq_model_create(&m, env), 0);
	c.tolerance = 1e-11;
	c.n_threads = 1;
	t0 = now();
	assert_int_equal(
	    dq_model_solve(m, &c, q1, n, v1, BIG_S, p1, BIG_S, &s1), 0);
	t1 = now();
	c.n_threads = 2;
	assert_int_equal(
	    dq_model_solve(m, &c, q2, n, v2, BIG_S, p2, BIG_S, &s2), 0);
	t2 = now();
	assert_true(s1 > 0 && s2 > 0);
	for (size_t i = 0; i < n; i++)
		assert_true(fabs(q1[i] - q2[i]) < 1e-9);
	for (uint32_t s = 0; s < BIG_S; s++) {
		assert_true(fabs(v1[s] - v2[s]) < 1e-9);
		if (p1[s] != p2[s])
			assert_true(fabs(q1[(size_t)s * BIG_A + p1[s]] -
					 q1[(size_t)s * BIG_A + p2[s]]) < 1e-8);
		n_end += p1[s] >= 3;
	}
	/* Neither kind of action dominates: the model is not trivial. */
	assert_true(n_end > BIG_S / 20 && n_end < BIG_S - BIG_S / 20);
	print_message("threads: 1 thread %llu sweeps %.3f s, 2 threads %llu "
		      "sweeps %.3f s\n",
		      (unsigned long long)s1, t1 - t0, (unsigned long long)s2,
		      t2 - t1);

	/* Threaded evaluation of the optimal policy gives V* (the one-thread
	 * path is the one the small models above exercise). */
	assert_int_equal(
	    dq_model_evaluate(m, &c, p1, BIG_S, v2, BIG_S, &sv2, NULL), 0);
	for (uint32_t s = 0; s < BIG_S; s++)
		assert_true(fabs(v1[s] - v2[s]) < 1e-9);
	assert_int_equal(dq_model_start_value(m, v1, BIG_S, &sv1), 0);
	assert_true(fabs(sv1 - sv2) < 1e-9);
	assert_int_equal(dq_model_check_policy(m, q1, n, p1, BIG_S, 1e-9, &f),
			 0);
	assert_true(f == 1.0);
	assert_int_equal(dq_model_optimal_fraction(m, v1, v2, BIG_S, 1e-9, &f),
			 0);
	assert_true(f == 1.0);
	/* Automatic thread count works too. */
	c.n_threads = 0;
	assert_int_equal(
	    dq_model_solve(m, &c, NULL, 0, v2, BIG_S, NULL, 0, NULL), 0);
	for (uint32_t s = 0; s < BIG_S; s++)
		assert_true(fabs(v1[s] - v2[s]) < 1e-9);

	dq_model_destroy(m);
	dq_env_close(env);
	free(q1);
	free(q2);
	free(v1);
	free(v2);
	free(p1);
	free(p2);
}

/*
 * The threaded solver when its threads or their synchronisation cannot be
 * had: it falls back to fewer threads, down to one, and still reaches the
 * same fixed point. Each case fails one set-up call of a 4-thread solve.
 */
static void
test_threads_fall_back(void **state)
{
	static const struct {
		enum dq_fp_kind kind;
		unsigned long at;
		const char *what;
	} cases[] = {
	    {DQ_FP_CREATE, 1, "first helper thread"},
	    {DQ_FP_CREATE, 3, "third helper thread"},
	    {DQ_FP_BARRIER, 1, "barrier"},
	    {DQ_FP_COND, 1, "condition variable"},
	    {DQ_FP_MUTEX, 1, "mutex"},
	};
	dq_env *env = NULL;
	dq_model *m = NULL;
	dq_solve_config c = cfg_of(0.4);
	double *ref = malloc(BIG_S * sizeof(double));
	double *v = malloc(BIG_S * sizeof(double));

	(void)state;
	assert_true(ref && v);
	assert_int_equal(dq_env_open(&env, &big_ops, NULL, NULL), 0);
	assert_int_equal(dq_model_create(&m, env), 0);
	c.tolerance = 1e-7; /* few sweeps: the sanitizer builds run it too */
	c.n_threads = 1;
	assert_int_equal(
	    dq_model_solve(m, &c, NULL, 0, ref, BIG_S, NULL, 0, NULL), 0);
	c.n_threads = 4;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int err;

		dq_fp_arm(cases[i].kind, cases[i].at, EAGAIN);
		err = dq_model_solve(m, &c, NULL, 0, v, BIG_S, NULL, 0, NULL);
		if (dq_fp_disarm(cases[i].kind) < cases[i].at)
			fail_msg("%s: never asked for", cases[i].what);
		if (err)
			fail_msg("%s failed: %s", cases[i].what,
				 dq_strerror(err));
		for (uint32_t s = 0; s < BIG_S; s++)
			assert_true(fabs(ref[s] - v[s]) < 1e-5);
	}
	dq_model_destroy(m);
	dq_env_close(env);
	free(ref);
	free(v);
}

/*
 * A model larger than the machine fails at once with -ENOMEM, before it
 * allocates or reads an outcome, and says how much it needs. scalable's
 * largest model has 2^32 - 1 states x 4096 actions (~10^13 entries).
 */
static void
test_model_too_big(void **state)
{
	dq_model *m = NULL;
	dq_env *env = NULL;
	const char *d;
	clock_t t0 = clock();

	(void)state;
	assert_int_equal(
	    dq_env_open_name(&env, "scalable:states=4294967295,actions=4096,"
				   "model=1"),
	    0);
	assert_int_equal(dq_model_create(&m, env), -ENOMEM);
	assert_null(m);
	d = dq_error_detail();
	assert_non_null(d);
	assert_non_null(strstr(d, "needs at least"));
	assert_non_null(strstr(d, "MiB"));
	/* Refused, not attempted: well under a second of CPU. */
	assert_true((double)(clock() - t0) / CLOCKS_PER_SEC < 1.0);
	dq_env_close(env);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_config_and_shape),
	    cmocka_unit_test(test_chain_closed_form),
	    cmocka_unit_test(test_ties_lowest_index),
	    cmocka_unit_test(test_stochastic_against_enumeration),
	    cmocka_unit_test(test_evaluate_and_fractions),
	    cmocka_unit_test(test_check_policy_conservative),
	    cmocka_unit_test(test_maze4x3_aima),
	    cmocka_unit_test(test_maze4x3_random_policies),
	    cmocka_unit_test(test_nonconvergence_and_overflow),
	    cmocka_unit_test(test_improper_found_fast),
	    cmocka_unit_test(test_improper_zero_reward_loops_are_finite),
	    cmocka_unit_test(test_improper_maze),
	    cmocka_unit_test(test_evaluate_random),
	    cmocka_unit_test(test_invalid_models),
	    cmocka_unit_test(test_no_model),
	    cmocka_unit_test(test_invalid_arguments),
	    cmocka_unit_test(test_threads_agree),
	    cmocka_unit_test(test_threads_fall_back),
	    cmocka_unit_test(test_model_too_big),
	};

	return cmocka_run_group_tests_name("solve", tests, NULL, NULL);
}
