/*
 * The evaluator: the greedy policy of a snapshot of the table, measured
 * by playing it (the evaluators of the Ray RLlib study, which play greedy
 * episodes beside training) and, where the environment exports a model,
 * exactly (iterative policy evaluation, Sutton & Barto section 4.1, by
 * dq_model_evaluate()). See docs/evaluation.md for what is measured, how
 * consistent the snapshot is and what it costs.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "eval.h"
#include "store.h"
#include "table.h"
#include "tiles.h"

void
dq__eval_fini(dq__eval *e)
{
	if (e->ready)
		dq__env_inst_fini(&e->inst);
	dq_model_destroy(e->own_model);
	free(e->q);
	free(e->policy);
	free(e->v);
	free(e->f);
	free(e->qa);
	memset(e, 0, sizeof(*e));
}

/* The solver as the evaluator runs it: one thread (the monitor's), so that
 * an evaluation never takes a second core from the agents. */
static void
eval_solve_config(const dq__eval *e, dq_solve_config *sc)
{
	dq_solve_config_init(sc);
	sc->gamma = e->gamma;
	sc->n_threads = 1;
}

/* V* and the random policy's value, from the start distribution. */
static int
eval_baselines(dq__eval *e)
{
	dq_solve_config sc;
	double r;
	int err;

	eval_solve_config(e, &sc);
	err = dq_model_solve(e->model, &sc, NULL, 0, e->v, e->S, NULL, 0, NULL);
	if (err)
		return err;
	err = dq_model_start_value(e->model, e->v, e->S, &e->v_star);
	if (err)
		return err;
	/* The baseline is optional: at gamma 1 a random walk may collect
	 * reward forever (-EDOM), and then the gap has no scale. */
	e->v_rand = NAN;
	if (!dq_model_evaluate_random(e->model, &sc, e->v, e->S, &r, NULL))
		e->v_rand = r;
	return 0;
}

int
dq__eval_init(dq__eval *e, const dq_env *env, const dq_rng *stream,
	      double gamma, uint32_t limit, uint32_t episodes,
	      const dq_model *model, const dq_tiles *tc)
{
	size_t nq;
	int err;

	memset(e, 0, sizeof(*e));
	e->S = tc ? tc->rows : env->spec.n_states;
	e->A = env->spec.n_actions;
	e->rng = *stream;
	e->gamma = gamma;
	e->limit = limit ? limit : DQ__EVAL_MAX_EPISODE_STEPS;
	e->episodes = episodes;
	e->v_star = NAN;
	e->v_rand = NAN;
	if (dq__mul_overflows(e->S, e->A, &nq) ||
	    dq__mul_overflows(nq, sizeof(double), &nq))
		return -ENOMEM;
	e->q = malloc(nq);
	e->policy = malloc((size_t)e->S * sizeof(uint32_t));
	if (!e->q || !e->policy)
		return -ENOMEM;
	err = dq__env_inst_init(env, &e->inst);
	if (err)
		return err;
	e->ready = true;
	if (tc) {
		e->tc = tc;
		e->f = malloc((size_t)tc->T * sizeof(uint32_t));
		e->qa = malloc((size_t)e->A * sizeof(double));
		return e->f && e->qa ? 0 : -ENOMEM;
	}
	if (!env->spec.max_outcomes)
		return 0;
	if (!model) {
		err = dq_model_create(&e->own_model, env);
		if (err)
			return err;
		model = e->own_model;
	}
	e->model = model;
	e->v = malloc((size_t)e->S * sizeof(double));
	if (!e->v)
		return -ENOMEM;
	return eval_baselines(e);
}

/* Welford's running mean and sum of squared deviations. */
struct moments {
	double n, mean, m2;
};

static void
moments_add(struct moments *m, double x)
{
	double d = x - m->mean;

	m->n += 1.0;
	m->mean += d / m->n;
	m->m2 += d * (x - m->mean);
}

static double
moments_se(const struct moments *m)
{
	return m->n > 1.0 ? sqrt(m->m2 / (m->n - 1.0) / m->n) : NAN;
}

/* The greedy action (lowest index on ties) of the instance's observation
 * under the snapshot's tile weights. */
static uint32_t
eval_tiles_greedy(dq__eval *e, const dq__env_hot *env)
{
	const uint32_t T = e->tc->T, A = e->A;
	double obs[DQ_OBS_MAX_DIM];

	e->inst.env->ops->ext->observe(env->state, obs);
	dq__tiles_active(e->tc, obs, e->f);
	for (uint32_t a = 0; a < A; a++)
		e->qa[a] = 0.0;
	for (uint32_t t = 0; t < T; t++) {
		const double *row = e->q + (size_t)e->f[t] * A;

		for (uint32_t a = 0; a < A; a++)
			e->qa[a] += row[a];
	}
	return dq__row_greedy_max(e->qa, A, NULL, NULL);
}

/* One greedy episode: its undiscounted and discounted returns. */
static int
eval_episode(dq__eval *e, double *ret, double *disc)
{
	const dq__env_hot env = dq__env_hot_of(&e->inst);
	double g = 0.0, d = 0.0, k = 1.0;
	uint32_t s;
	dq_step st;
	int err;

	err = dq__env_hot_reset(&env, &e->rng, &s);
	if (err)
		return err;
	for (uint32_t len = 0; len < e->limit; len++) {
		const uint32_t a =
		    e->tc ? eval_tiles_greedy(e, &env) : e->policy[s];

		err = dq__env_hot_step(&env, a, &e->rng, &st);
		if (err)
			return err;
		g += st.reward;
		d += k * st.reward;
		k *= e->gamma;
		if (st.terminated || st.truncated)
			break;
		s = st.next_state;
	}
	*ret = g;
	*disc = d;
	return 0;
}

int
dq__eval_run(dq__eval *e, const dq_table *t, dq_eval_record *r)
{
	struct moments mr = {0, 0, 0}, md = {0, 0, 0};
	const uint32_t S = e->S, A = e->A;
	int err;

	/* Each entry is one atomic load (relaxed): a value the table held,
	 * never a torn one; rows read while agents write mix instants. */
	dq_table_snapshot(t, e->q, (size_t)S * A);
	for (uint32_t s = 0; s < S && !e->tc; s++)
		e->policy[s] =
		    dq__row_greedy_max(e->q + (size_t)s * A, A, NULL, NULL);
	for (uint32_t i = 0; i < e->episodes; i++) {
		double g, d;

		err = eval_episode(e, &g, &d);
		if (err)
			return err;
		moments_add(&mr, g);
		moments_add(&md, d);
	}
	r->n_episodes = e->episodes;
	r->mean_return = mr.mean;
	r->return_se = moments_se(&mr);
	r->mean_discounted = md.mean;
	r->discounted_se = moments_se(&md);
	r->exact_value = NAN;
	r->optimal_value = NAN;
	r->gap = NAN;
	if (e->model && !e->tc) {
		dq_solve_config sc;
		double vpi, span = e->v_star - e->v_rand;

		eval_solve_config(e, &sc);
		r->optimal_value = e->v_star;
		/* An improper policy at gamma 1 (-EDOM) has no value. */
		if (!dq_model_evaluate(e->model, &sc, e->policy, S, e->v, S,
				       &vpi, NULL)) {
			r->exact_value = vpi;
			/* V^pi <= V*: a negative difference is the
			 * solvers' rounding (1e-15), shown as 0. */
			if (span > 0.0)
				r->gap = fmax(0.0, e->v_star - vpi) / span;
		}
	}
	return 0;
}
