/* tests/test_eval.c - the evaluator beside training (lib/eval.c and its
 * use by lib/learner.c): greedy returns against exact values, the exact
 * value against the solver's, training unchanged with the evaluator on,
 * records in order, the target-return stop, snapshots under concurrent
 * updates (the TSan suite runs this file too). */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>

#include "dq_test.h"
#include "eval.h"
#include "internal.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANITIZED 1
#else
#define SANITIZED 0
#endif

/* Every record a run hands over, in the order it came. */
#define MAX_RECORDS 4096
struct log {
	dq_eval_record r[MAX_RECORDS];
	size_t n;
	size_t dropped;
};

static void
log_record(const dq_eval_record *r, void *arg)
{
	struct log *lg = arg;

	if (lg->n < MAX_RECORDS)
		lg->r[lg->n++] = *r;
	else
		lg->dropped++;
}

static void
base_config(dq_learner_config *c, struct log *lg)
{
	assert_int_equal(dq_learner_config_init(c), 0);
	c->pin = DQ_PIN_NONE;
	c->eval_callback = log_record;
	c->eval_arg = lg;
}

/* The exact value of the greedy policy of @q as the solver gives it. */
static void
solver_values(const dq_env *env, const double *q, uint32_t S, uint32_t A,
	      double gamma, double *v_pi, double *v_star)
{
	dq_model *m = NULL;
	dq_solve_config sc;
	uint32_t *pol = malloc(S * sizeof(*pol));
	double *v = malloc(S * sizeof(*v));

	assert_non_null(pol);
	assert_non_null(v);
	for (uint32_t s = 0; s < S; s++) {
		uint32_t best = 0;

		for (uint32_t a = 1; a < A; a++)
			if (q[(size_t)s * A + a] > q[(size_t)s * A + best])
				best = a;
		pol[s] = best;
	}
	assert_int_equal(dq_model_create(&m, env), 0);
	assert_int_equal(dq_solve_config_init(&sc), 0);
	sc.gamma = gamma;
	sc.n_threads = 1;
	assert_int_equal(dq_model_evaluate(m, &sc, pol, S, v, S, v_pi, NULL),
			 0);
	assert_int_equal(dq_model_solve(m, &sc, NULL, 0, v, S, NULL, 0, NULL),
			 0);
	assert_int_equal(dq_model_start_value(m, v, S, v_star), 0);
	dq_model_destroy(m);
	free(pol);
	free(v);
}

/* Q* of @env at @gamma, S x A (malloc'ed). */
static double *
qstar_of(const dq_env *env, uint32_t S, uint32_t A, double gamma)
{
	dq_model *m = NULL;
	dq_solve_config sc;
	double *q = malloc((size_t)S * A * sizeof(*q));

	assert_non_null(q);
	assert_int_equal(dq_model_create(&m, env), 0);
	assert_int_equal(dq_solve_config_init(&sc), 0);
	sc.gamma = gamma;
	assert_int_equal(
	    dq_model_solve(m, &sc, q, (size_t)S * A, NULL, 0, NULL, 0, NULL),
	    0);
	dq_model_destroy(m);
	return q;
}

/*
 * A known policy (the greedy policy of @q, loaded into the table) played
 * by the evaluator: the first record is made before any agent steps, so
 * it is that policy's. Its mean discounted return estimates the exact
 * value within a few standard errors (episodes are cut at @limit steps,
 * where gamma^limit is negligible), and the exact value and V* are the
 * solver's, to the bit.
 */
static void
check_known_policy(const char *name, const double *q, double gamma,
		   uint32_t limit, uint32_t episodes, double want_gap)
{
	static struct log lg;
	dq_learner_config c;
	dq_learner *l = NULL;
	dq_env *env = NULL;
	dq_env_spec spec;
	dq_table *t;
	dq_run_result rr;
	double v_pi, v_star;
	const dq_eval_record *r;

	memset(&lg, 0, sizeof(lg));
	assert_int_equal(dq_env_open_name(&env, name), 0);
	assert_int_equal(dq_env_spec_get(env, &spec), 0);
	t = dq_test_table(spec.n_states, spec.n_actions, DQ_MODE_CAS, 0.0,
			  false);
	if (q)
		assert_int_equal(
		    dq_table_load(t, q, (size_t)spec.n_states * spec.n_actions),
		    0);
	base_config(&c, &lg);
	c.agent.gamma = gamma;
	c.max_steps = 1;
	c.max_episode_steps = limit;
	c.eval_every = 1e9; /* the first record and the final one only */
	c.eval_episodes = episodes;
	assert_int_equal(dq_learner_create(&l, t, env, &c), 0);
	assert_int_equal(dq_learner_run(l, &rr), 0);
	assert_int_equal(lg.n, 2);
	r = &lg.r[0];
	assert_false(r->final);
	assert_int_equal(r->run_steps, 0);
	assert_int_equal(r->n_episodes, episodes);
	{
		double *q0 = malloc((size_t)spec.n_states * spec.n_actions *
				    sizeof(double));

		assert_non_null(q0);
		if (q)
			memcpy(q0, q,
			       (size_t)spec.n_states * spec.n_actions *
				   sizeof(double));
		else
			memset(q0, 0,
			       (size_t)spec.n_states * spec.n_actions *
				   sizeof(double));
		solver_values(env, q0, spec.n_states, spec.n_actions, gamma,
			      &v_pi, &v_star);
		free(q0);
	}
	/* The exact fields are dq_model_evaluate()'s and dq_model_solve()'s
	 * on the same policy: equal, not close. */
	assert_true(r->exact_value == v_pi);
	assert_true(r->optimal_value == v_star);
	assert_true(fabs(r->gap - want_gap) < 1e-6);
	/* The sample mean within 4 standard errors (the seeds are fixed:
	 * this either always passes or never). */
	assert_true(isfinite(r->discounted_se) && r->discounted_se > 0.0);
	if (fabs(r->mean_discounted - v_pi) > 4.0 * r->discounted_se)
		fail_msg("%s: greedy mean %.6f +- %.6f, exact %.6f", name,
			 r->mean_discounted, r->discounted_se, v_pi);
	/* The final record is the table after the run's one step. */
	assert_true(lg.r[1].final);
	assert_int_equal(lg.r[1].index, 1);
	assert_int_equal(lg.r[1].run_steps, 1);
	dq_learner_destroy(l);
	dq_table_destroy(t);
	dq_env_close(env);
}

static void
test_maze_optimal(void **state)
{
	dq_env *env = NULL;
	double *q;

	(void)state;
	assert_int_equal(dq_env_open_name(&env, "maze4x3"), 0);
	q = qstar_of(env, 11, 4, 0.95);
	check_known_policy("maze4x3", q, 0.95, 400, 4000, 0.0);
	free(q);
	dq_env_close(env);
}

/* An all-zero table: the greedy policy is action 0 everywhere (bumping
 * the top wall for ever, paying the living reward): far from optimal. */
static void
test_maze_action0(void **state)
{
	dq_env *env = NULL;
	dq_model *m = NULL;
	dq_solve_config sc;
	uint32_t pol[11] = {0};
	double v[11], vpi, vstar, vrand;

	(void)state;
	assert_int_equal(dq_env_open_name(&env, "maze4x3"), 0);
	assert_int_equal(dq_model_create(&m, env), 0);
	assert_int_equal(dq_solve_config_init(&sc), 0);
	sc.gamma = 0.95;
	sc.n_threads = 1;
	assert_int_equal(dq_model_evaluate(m, &sc, pol, 11, v, 11, &vpi, NULL),
			 0);
	assert_int_equal(dq_model_solve(m, &sc, NULL, 0, v, 11, NULL, 0, NULL),
			 0);
	assert_int_equal(dq_model_start_value(m, v, 11, &vstar), 0);
	assert_int_equal(dq_model_evaluate_random(m, &sc, v, 11, &vrand, NULL),
			 0);
	dq_model_destroy(m);
	dq_env_close(env);
	check_known_policy("maze4x3", NULL, 0.95, 400, 2000,
			   (vstar - vpi) / (vstar - vrand));
}

static void
test_frozenlake_optimal(void **state)
{
	dq_env *env = NULL;
	double *q;

	(void)state;
	assert_int_equal(dq_env_open_name(&env, "frozenlake4x4"), 0);
	q = qstar_of(env, 16, 4, 0.99);
	check_known_policy("frozenlake4x4", q, 0.99, 3000, 4000, 0.0);
	free(q);
	dq_env_close(env);
}

/* One P = 1 taxi run of TAXI_STEPS steps; the table and the agent's
 * state after it. Long enough (some milliseconds) that the monitor, which
 * polls every millisecond, evaluates while the agent trains. */
#define TAXI_STEPS 600000
static void
taxi_run(const dq_learner_config *extra, double *q, dq_agent_state *st,
	 struct log *lg)
{
	dq_learner_config c;
	dq_learner *l = NULL;
	dq_env *env = NULL;
	dq_table *t;
	dq_run_result rr;

	assert_int_equal(dq_env_open_name(&env, "taxi"), 0);
	t = dq_test_table(500, 6, DQ_MODE_CAS, 0.0, false);
	base_config(&c, lg);
	c.agent.seed = 7;
	c.max_steps = TAXI_STEPS;
	if (extra) {
		c.eval_every = extra->eval_every;
		c.eval_unit = extra->eval_unit;
		c.eval_episodes = extra->eval_episodes;
		c.write_path = extra->write_path;
	} else {
		c.eval_callback = NULL;
	}
	assert_int_equal(dq_learner_create(&l, t, env, &c), 0);
	assert_int_equal(dq_learner_run(l, &rr), 0);
	assert_int_equal(rr.reason, DQ_STOP_STEPS);
	assert_int_equal(dq_table_snapshot(t, q, 3000), 0);
	assert_int_equal(dq_learner_agent_state(l, 0, st), 0);
	dq_learner_destroy(l);
	dq_table_destroy(t);
	dq_env_close(env);
}

/* Whether a periodic record was made while the agents trained. */
static bool
during_training(const struct log *lg)
{
	for (size_t i = 0; i < lg->n; i++)
		if (!lg->r[i].final && lg->r[i].run_steps > 0 &&
		    lg->r[i].run_steps < TAXI_STEPS)
			return true;
	return false;
}

/* Training is the same, bit for bit, with the evaluator on or off at
 * P = 1: the evaluator only reads the table and draws from its own
 * stream. */
static void
test_training_unchanged(void **state)
{
	static struct log lg;
	static double q_off[3000], q_on[3000];
	dq_agent_state s_off, s_on;
	dq_learner_config e;
	const dq_eval_unit units[] = {DQ_EVAL_STEPS, DQ_EVAL_SECONDS};

	(void)state;
	taxi_run(NULL, q_off, &s_off, &lg);
	for (size_t u = 0; u < 2; u++) {
		assert_int_equal(dq_learner_config_init(&e), 0);
		e.eval_unit = units[u];
		e.eval_every = units[u] == DQ_EVAL_STEPS ? 500 : 1e-4;
		e.eval_episodes = 5;
		/* Evaluations must run during training (after the first step,
		 * before the last) for the comparison to prove anything; the
		 * monitor that starts them is a thread, and on a loaded
		 * machine it may not run while the agent does: then the run
		 * is repeated (at most 8 times), every run compared. */
		bool seen = false;
		for (int k = 0; k < 8 && !seen; k++) {
			memset(&lg, 0, sizeof(lg));
			taxi_run(&e, q_on, &s_on, &lg);
			seen = lg.n > 2 && during_training(&lg);
			assert_memory_equal(q_off, q_on, sizeof(q_off));
			assert_memory_equal(&s_off.rng, &s_on.rng,
					    sizeof(s_on.rng));
			assert_int_equal(s_off.steps, s_on.steps);
			assert_int_equal(s_off.episodes, s_on.episodes);
		}
		assert_true(seen);
	}
}

/* No periodic row repeats the final one: a run that ends before the
 * monitor's first poll (60000 steps, well under a millisecond on a quiet
 * machine), with an evaluation due at every poll, once wrote the periodic
 * evaluation made after the last step and then the final one, both at the
 * same run_steps (docs/evaluation.md). */
static void
test_no_duplicate_final(void **state)
{
	static struct log lg;
	const dq_eval_unit units[] = {DQ_EVAL_STEPS, DQ_EVAL_SECONDS};

	(void)state;
	for (size_t u = 0; u < 2; u++) {
		for (uint32_t p = 1; p <= 2; p++) {
			dq_learner_config c;
			dq_learner *l = NULL;
			dq_env *env = NULL;
			dq_table *t;
			dq_run_result rr;
			const dq_eval_record *fin;

			memset(&lg, 0, sizeof(lg));
			assert_int_equal(dq_env_open_name(&env, "taxi"), 0);
			t = dq_test_table(500, 6, DQ_MODE_CAS, 0.0, false);
			base_config(&c, &lg);
			c.n_threads = p;
			c.max_steps = 60000;
			c.eval_unit = units[u];
			c.eval_every = units[u] == DQ_EVAL_STEPS ? 500 : 1e-4;
			c.eval_episodes = 2;
			assert_int_equal(dq_learner_create(&l, t, env, &c), 0);
			assert_int_equal(dq_learner_run(l, &rr), 0);
			assert_int_equal(rr.reason, DQ_STOP_STEPS);
			assert_true(lg.n >= 2);
			fin = &lg.r[lg.n - 1];
			assert_true(fin->final);
			assert_int_equal(fin->run_steps, 60000);
			for (size_t i = 0; i + 1 < lg.n; i++) {
				assert_false(lg.r[i].final);
				assert_true(lg.r[i].run_steps < fin->run_steps);
			}
			dq_learner_destroy(l);
			dq_table_destroy(t);
			dq_env_close(env);
		}
	}
}

/* Records arrive in order: indexes 0, 1, 2..., steps, episodes and
 * seconds never decreasing, the final one last with the run's totals. */
static void
test_records_in_order(void **state)
{
	static struct log lg;
	dq_learner_config c;
	dq_learner *l = NULL;
	dq_env *env = NULL;
	dq_table *t;
	dq_run_result rr;

	(void)state;
	memset(&lg, 0, sizeof(lg));
	assert_int_equal(dq_env_open_name(&env, "taxi"), 0);
	t = dq_test_table(500, 6, DQ_MODE_CAS, 0.0, false);
	base_config(&c, &lg);
	c.n_threads = 2;
	c.max_steps = SANITIZED ? 100000 : 400000;
	c.eval_unit = DQ_EVAL_STEPS;
	c.eval_every = 20000;
	c.eval_episodes = 10;
	assert_int_equal(dq_learner_create(&l, t, env, &c), 0);
	assert_int_equal(dq_learner_run(l, &rr), 0);
	assert_true(lg.n >= 2);
	assert_int_equal(lg.dropped, 0);
	for (size_t i = 0; i < lg.n; i++) {
		const dq_eval_record *r = &lg.r[i];

		assert_int_equal(r->index, i);
		assert_int_equal(r->final, i == lg.n - 1);
		assert_int_equal(r->n_episodes, 10);
		assert_true(isfinite(r->mean_return) &&
			    isfinite(r->exact_value) && isfinite(r->gap));
		assert_true(r->epsilon == 0.1 && r->alpha == 0.1);
		if (i == 0)
			continue;
		assert_true(r->run_steps >= lg.r[i - 1].run_steps);
		assert_true(r->steps >= lg.r[i - 1].steps);
		assert_true(r->episodes >= lg.r[i - 1].episodes);
		assert_true(r->seconds >= lg.r[i - 1].seconds);
		/* Not more often than every 20000 steps (the final one
		 * aside). */
		if (!r->final)
			assert_true(r->run_steps >=
				    lg.r[i - 1].run_steps + 20000);
	}
	assert_int_equal(lg.r[lg.n - 1].steps, rr.total.steps);
	assert_int_equal(lg.r[lg.n - 1].run_steps, rr.run_steps);
	assert_true(isnan(rr.return_seconds));
	assert_int_equal(rr.return_steps, 0);
	dq_learner_destroy(l);
	dq_table_destroy(t);
	dq_env_close(env);
}

/* Greedy mean return >= R stops the run as DQ_STOP_RETURN, when and at
 * what step count it was reached; an unreachable R never does. */
static void
test_target_return(void **state)
{
	static struct log lg;
	const double targets[] = {1.0, 2.0};

	(void)state;
	for (size_t k = 0; k < 2; k++) {
		dq_learner_config c;
		dq_learner *l = NULL;
		dq_env *env = NULL;
		dq_table *t;
		dq_run_result rr;

		memset(&lg, 0, sizeof(lg));
		assert_int_equal(dq_env_open_name(&env, "frozenlake4x4-det"),
				 0);
		t = dq_test_table(16, 4, DQ_MODE_CAS, 0.0, false);
		base_config(&c, &lg);
		c.agent.gamma = 0.95;
		/* Found within some 10^4 steps; the unreachable target runs
		 * to a short limit (2000 evaluations are seconds in TSan). */
		c.max_steps = k == 0 ? 2000000 : 50000;
		c.eval_unit = DQ_EVAL_STEPS;
		c.eval_every = 1000;
		c.eval_episodes = 10;
		c.target_return = targets[k];
		assert_int_equal(dq_learner_create(&l, t, env, &c), 0);
		assert_int_equal(dq_learner_run(l, &rr), 0);
		if (k == 0) {
			const dq_eval_record *hit = NULL;

			assert_int_equal(rr.reason, DQ_STOP_RETURN);
			assert_true(isfinite(rr.return_seconds) &&
				    rr.return_seconds <= rr.seconds);
			assert_true(rr.return_steps > 0 &&
				    rr.return_steps <= rr.run_steps);
			assert_true(rr.run_steps < c.max_steps);
			/* The first record at the target made the stop, and
			 * none before it reached it. */
			for (size_t i = 0; i < lg.n && !hit; i++)
				if (!lg.r[i].final &&
				    lg.r[i].mean_return >= 1.0)
					hit = &lg.r[i];
			assert_non_null(hit);
			assert_true(hit->seconds == rr.return_seconds);
			assert_int_equal(hit->run_steps, rr.return_steps);
			/* Deterministic and optimal from the start. */
			assert_true(hit->exact_value == hit->optimal_value);
		} else {
			assert_int_equal(rr.reason, DQ_STOP_STEPS);
			assert_true(isnan(rr.return_seconds));
			assert_int_equal(rr.return_steps, 0);
		}
		dq_learner_destroy(l);
		dq_table_destroy(t);
		dq_env_close(env);
	}
}

/* A target return alone is a stop condition; the evaluator's options are
 * checked at creation. */
static void
test_config(void **state)
{
	dq_learner_config c;
	dq_learner *l = NULL;
	dq_env *env = NULL;
	dq_table *t;

	(void)state;
	assert_int_equal(dq_env_open_name(&env, "frozenlake4x4-det"), 0);
	t = dq_test_table(16, 4, DQ_MODE_CAS, 0.0, false);
	assert_int_equal(dq_learner_config_init(&c), 0);
	assert_true(c.eval_every == 0.0 && c.eval_episodes == 100 &&
		    c.eval_unit == DQ_EVAL_SECONDS && isnan(c.target_return));
	c.pin = DQ_PIN_NONE;
	c.target_return = 1.0;
	/* needs eval_every */
	assert_int_equal(dq_learner_create(&l, t, env, &c), -EINVAL);
	c.eval_every = 0.01;
	assert_int_equal(dq_learner_create(&l, t, env, &c), 0);
	dq_learner_destroy(l);
	l = NULL;
	c.eval_episodes = 0;
	assert_int_equal(dq_learner_create(&l, t, env, &c), -EINVAL);
	c.eval_episodes = DQ__EVAL_MAX_EPISODES + 1;
	assert_int_equal(dq_learner_create(&l, t, env, &c), -EINVAL);
	c.eval_episodes = 100;
	c.eval_unit = (dq_eval_unit)3;
	assert_int_equal(dq_learner_create(&l, t, env, &c), -EINVAL);
	c.eval_unit = DQ_EVAL_STEPS;
	c.target_return = INFINITY;
	assert_int_equal(dq_learner_create(&l, t, env, &c), -EINVAL);
	c.target_return = 1.0;
	c.eval_every = -1.0;
	assert_int_equal(dq_learner_create(&l, t, env, &c), -EINVAL);
	c.eval_every = NAN;
	assert_int_equal(dq_learner_create(&l, t, env, &c), -EINVAL);
	assert_null(l);
	dq_table_destroy(t);
	dq_env_close(env);
}

/* ---- snapshots under concurrent updates ------------------------------ */

/* Two bit patterns that share no bit (as doubles: finite), so that a
 * snapshot entry made of parts of both would be neither. */
#define PAT_A 0x3ff5555555555555ull
#define PAT_B 0x400aaaaaaaaaaaaaull

struct writer {
	dq_table *t;
	atomic_int stop;
	atomic_ullong writes;
};

static double
u2d(uint64_t u)
{
	double d;

	memcpy(&d, &u, sizeof(d));
	return d;
}

static void *
writer_main(void *arg)
{
	struct writer *w = arg;
	uint64_t i = 0;

	/* relaxed: a poll */
	while (!atomic_load_explicit(&w->stop, memory_order_relaxed)) {
		uint32_t s = (uint32_t)(i % 16), a = (uint32_t)(i / 16 % 4);

		dq_table_set(w->t, s, a, u2d(i & 64 ? PAT_A : PAT_B));
		i++;
		/* relaxed: a count the reader waits on, orders nothing */
		atomic_store_explicit(&w->writes, i, memory_order_relaxed);
	}
	return NULL;
}

/*
 * The evaluator's snapshot while another thread rewrites every entry with
 * one of two patterns: each entry it reads is one of them (or the
 * starting 0), never a mix. x86-64 does not tear aligned 64-bit loads,
 * so here the test proves the snapshot's accesses are atomic through the
 * TSan suite, which reports a plain read racing with the writer.
 */
static void
test_snapshot_no_tear(void **state)
{
	struct writer w;
	dq__eval e;
	dq_env *env = NULL;
	dq_rng rng;
	pthread_t th;
	const int rounds = SANITIZED ? 200 : 2000;

	(void)state;
	assert_int_equal(dq_env_open_name(&env, "frozenlake4x4"), 0);
	assert_int_equal(dq_rng_seed(&rng, 3, 0), 0);
	assert_int_equal(dq__eval_init(&e, env, &rng, 0.95, 100, 1, NULL, NULL),
			 0);
	w.t = dq_test_table(16, 4, DQ_MODE_HOGWILD, 0.0, false);
	atomic_init(&w.stop, 0);
	atomic_init(&w.writes, 0);
	assert_int_equal(pthread_create(&th, NULL, writer_main, &w), 0);
	/* relaxed: the writer has begun (a poll) */
	while (atomic_load_explicit(&w.writes, memory_order_relaxed) < 64)
		sched_yield();
	for (int k = 0; k < rounds; k++) {
		dq_eval_record r;

		memset(&r, 0, sizeof(r));
		assert_int_equal(dq__eval_run(&e, w.t, &r), 0);
		for (size_t i = 0; i < 64; i++) {
			uint64_t u;

			memcpy(&u, &e.q[i], sizeof(u));
			if (u != PAT_A && u != PAT_B && u != 0)
				fail_msg("entry %zu torn: %016llx", i,
					 (unsigned long long)u);
		}
		assert_true(isfinite(r.exact_value));
	}
	/* relaxed: the join orders the rest */
	atomic_store_explicit(&w.stop, 1, memory_order_relaxed);
	pthread_join(th, NULL);
	assert_true(atomic_load(&w.writes) >= 64);
	dq__eval_fini(&e);
	dq_table_destroy(w.t);
	dq_env_close(env);
}

/* The evaluator beside P = 2 agents on one table, every millisecond:
 * under TSan, any unsynchronised access between the monitor's evaluation
 * and the agents' updates is reported. */
static void
test_beside_agents(void **state)
{
	static struct log lg;
	dq_learner_config c;
	dq_learner *l = NULL;
	dq_env *env = NULL;
	dq_table *t;
	dq_run_result rr;

	(void)state;
	memset(&lg, 0, sizeof(lg));
	assert_int_equal(dq_env_open_name(&env, "taxi"), 0);
	t = dq_test_table(500, 6, DQ_MODE_HOGWILD, 0.0, false);
	base_config(&c, &lg);
	c.n_threads = 2;
	c.max_seconds = 0.3;
	c.eval_every = 0.001;
	c.eval_episodes = 3;
	c.target_fraction = 0.5; /* the target check's model, shared */
	assert_int_equal(dq_learner_create(&l, t, env, &c), 0);
	assert_int_equal(dq_learner_run(l, &rr), 0);
	assert_true(lg.n >= 2);
	for (size_t i = 0; i < lg.n; i++)
		assert_true(isfinite(lg.r[i].exact_value) &&
			    isfinite(lg.r[i].gap) &&
			    lg.r[i].eval_seconds >= 0.0);
	dq_learner_destroy(l);
	dq_table_destroy(t);
	dq_env_close(env);
}

/* ---- an environment whose evaluator instance breaks ------------------ */

/* A 4-state line, no model; the instance created @bad_instance-th (from 1)
 * fails its steps with DQ_EENV. The learner creates its agents' instances
 * first, then the evaluator's. */
static int bad_instance;
static int instances;

struct line_inst {
	uint32_t s;
	bool bad;
};

static int
line_open(void **def, const char *params, void *user, dq_env_spec *spec)
{
	(void)params;
	(void)user;
	*def = NULL;
	spec->n_states = 4;
	spec->n_actions = 2;
	spec->max_episode_steps = 20;
	return 0;
}

static int
line_create(void *def, void **inst)
{
	struct line_inst *i = calloc(1, sizeof(*i));

	(void)def;
	if (!i)
		return -ENOMEM;
	i->bad = ++instances == bad_instance;
	*inst = i;
	return 0;
}

static void
line_destroy(void *inst)
{
	free(inst);
}

static int
line_reset(void *inst, dq_rng *rng, uint32_t *state)
{
	(void)rng;
	((struct line_inst *)inst)->s = 0;
	*state = 0;
	return 0;
}

static int
line_step(void *inst, uint32_t a, dq_rng *rng, dq_step *out)
{
	struct line_inst *i = inst;

	(void)rng;
	if (i->bad)
		return DQ_EENV;
	i->s = a ? i->s + 1 : (i->s ? i->s - 1 : 0);
	out->next_state = i->s;
	out->terminated = i->s == 3;
	out->truncated = false;
	out->reward = out->terminated ? 1.0 : -0.1;
	return 0;
}

static const dq_env_ops line_ops = {
    .abi = DQ_ENV_ABI,
    .name = "line",
    .open = line_open,
    .create = line_create,
    .destroy = line_destroy,
    .reset = line_reset,
    .step = line_step,
};

/* An environment error in an evaluation episode ends the run as an error
 * of "agent P" in "evaluate"; an environment without a model gives NaN
 * exact figures. */
static void
test_eval_env_error(void **state)
{
	static struct log lg;
	dq_learner_config c;
	dq_learner *l = NULL;
	dq_env *env = NULL;
	dq_table *t;
	dq_run_result rr;
	dq_run_error re;

	(void)state;
	assert_int_equal(dq_env_open(&env, &line_ops, NULL, NULL), 0);
	t = dq_test_table(4, 2, DQ_MODE_CAS, 0.0, false);
	for (int k = 0; k < 2; k++) {
		memset(&lg, 0, sizeof(lg));
		instances = 0;
		bad_instance =
		    k == 0 ? 0 : 3; /* 2 agents, then the evaluator */
		base_config(&c, &lg);
		c.n_threads = 2;
		c.max_steps = 20000;
		c.eval_unit = DQ_EVAL_STEPS;
		c.eval_every = 5000;
		c.eval_episodes = 4;
		assert_int_equal(dq_learner_create(&l, t, env, &c), 0);
		if (k == 0) {
			assert_int_equal(dq_learner_run(l, &rr), 0);
			assert_true(lg.n >= 2);
			assert_true(isnan(lg.r[0].exact_value) &&
				    isnan(lg.r[0].optimal_value) &&
				    isnan(lg.r[0].gap));
			assert_true(lg.r[lg.n - 1].mean_return > 0.5);
		} else {
			assert_int_equal(dq_learner_run(l, &rr), DQ_EENV);
			assert_int_equal(rr.reason, DQ_STOP_ERROR);
			assert_int_equal(dq_learner_error(l, &re), 0);
			assert_int_equal(re.agent, 2);
			assert_string_equal(re.what, "evaluate");
			assert_int_equal(lg.n, 0);
		}
		dq_learner_destroy(l);
		l = NULL;
	}
	dq_table_destroy(t);
	dq_env_close(env);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_config),
	    cmocka_unit_test(test_maze_optimal),
	    cmocka_unit_test(test_maze_action0),
	    cmocka_unit_test(test_frozenlake_optimal),
	    cmocka_unit_test(test_training_unchanged),
	    cmocka_unit_test(test_no_duplicate_final),
	    cmocka_unit_test(test_records_in_order),
	    cmocka_unit_test(test_target_return),
	    cmocka_unit_test(test_snapshot_no_tear),
	    cmocka_unit_test(test_beside_agents),
	    cmocka_unit_test(test_eval_env_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
