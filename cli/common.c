/*
 * What the distq subcommands share: opening an environment by its
 * command-line spelling, creating a table for it, and judging a table's
 * greedy policy with the exact solver.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/*
 * Policy evaluation of a greedy policy that never terminates diverges with
 * gamma = 1; the solver then runs until max_sweeps. A million sweeps is far
 * more than any convergent case here needs (gamma 0.999 takes ~30000) and
 * bounds the wait for the others to seconds.
 */
#define CLI_EXACT_SWEEPS 1000000u
#define CLI_EXACT_TOL 1e-6
#define CLI_RANDOM_TOL 1e-10

/* The built-in environment called @name (its first @len bytes), or NULL. */
const dq_env_ops *
cli_env_find(const char *name, size_t len)
{
	const dq_env_ops *ops[64];
	int n = dq_env_builtins(ops, sizeof(ops) / sizeof(ops[0]));

	for (int i = 0; i < n && i < (int)(sizeof(ops) / sizeof(ops[0])); i++)
		if (strlen(ops[i]->name) == len &&
		    !memcmp(ops[i]->name, name, len))
			return ops[i];
	return NULL;
}

/* The first key of @params that @p does not describe, as "key" in @buf. */
static bool
unknown_key(const char *params, const dq_env_param *p, char *buf, size_t cap)
{
	while (*params) {
		size_t len = strcspn(params, "=,");
		bool known = false;

		for (const dq_env_param *q = p; q->key; q++)
			if (strlen(q->key) == len &&
			    !memcmp(q->key, params, len))
				known = true;
		if (!known) {
			snprintf(buf, cap, "%.*s", (int)len, params);
			return true;
		}
		params += strcspn(params, ",");
		params += *params == ',';
	}
	return false;
}

/*
 * Why "name:params" did not open, in words: an unknown name lists the
 * known ones; with an environment that describes its parameters, an
 * unknown key is named and the accepted keys are listed (with their
 * ranges when a value was refused).
 */
static int
env_open_failed(const char *spec, const char *params, int err)
{
	const dq_env_ops *ops = cli_env_find(spec, strcspn(spec, ":"));
	const dq_env_param *p = ops ? ops->params : NULL;
	char key[64];

	if (!ops && err == -ENOENT) {
		const dq_env_ops *all[64];
		int n = dq_env_builtins(all, sizeof(all) / sizeof(all[0]));

		fprintf(stderr, "distq: environment '%s': %s (known:", spec,
			cli_strerror(err));
		for (int i = 0; i < n && i < 64; i++)
			fprintf(stderr, " %s", all[i]->name);
		fputs(")\n", stderr);
		return CLI_FAIL;
	}
	if (!p || (err != -EINVAL && err != -ERANGE))
		return cli_fail(err, "environment '%s'", spec);
	if (unknown_key(params, p, key, sizeof(key)))
		fprintf(stderr,
			"distq: environment '%s': unknown parameter "
			"'%s' (accepted:",
			spec, key);
	else
		fprintf(stderr, "distq: environment '%s': %s (accepted:", spec,
			cli_strerror(err));
	for (; p->key; p++) {
		fprintf(stderr, " %s", p->key);
		if (p->type == DQ_PARAM_BOOL)
			fputs(" 0|1", stderr);
		else
			fprintf(stderr, " in [%.10g, %.10g]", p->min, p->max);
		fputc(p[1].key ? ',' : ')', stderr);
	}
	fprintf(stderr, "; see 'distq envs %s'\n", ops->name);
	return CLI_FAIL;
}

/*
 * "name[:params]" as dq_env_open_name() takes it. Prints the error itself
 * so that every subcommand words a bad environment the same way.
 */
int
cli_env_open(struct cli_env *e, const char *spec)
{
	const char *colon = strchr(spec, ':');
	int err;

	memset(e, 0, sizeof(*e));
	e->params = colon ? colon + 1 : "";
	err = dq_env_open_name(&e->env, spec);
	if (err)
		return env_open_failed(spec, e->params, err);
	err = dq_env_spec_get(e->env, &e->spec);
	if (!err)
		err = dq_env_name(e->env, &e->name);
	if (err) {
		dq_env_close(e->env);
		e->env = NULL;
		return cli_fail(err, "environment '%s'", spec);
	}
	return CLI_OK;
}

void
cli_env_close(struct cli_env *e)
{
	dq_env_close(e->env);
	e->env = NULL;
}

int
cli_table_create(dq_table **t, const dq_env_spec *spec, dq_mode mode, double q0,
		 bool pad)
{
	dq_table_config c;
	int err;

	dq_table_config_init(&c);
	c.n_states = spec->n_states;
	c.n_actions = spec->n_actions;
	c.mode = mode;
	c.q0 = q0;
	c.pad_rows = pad;
	err = dq_table_create(t, &c);
	if (err)
		return cli_fail(err, "creating a %u x %u table", c.n_states,
				c.n_actions);
	return CLI_OK;
}

/*
 * The exact figures printed after training and evaluation: the start value
 * of the table's greedy policy (lowest index on ties, as the solver's own
 * policies), the optimal start value, and the fraction of the start
 * distribution from which the greedy policy is optimal. Returns a negative
 * error (-ENOTSUP for an environment without a model) and prints nothing;
 * the caller decides whether that matters.
 */
int
cli_exact(const dq_env *env, const dq_table *t, double gamma,
	  struct cli_exact *out)
{
	double *v_star = NULL, *v_pi = NULL;
	uint32_t *policy = NULL;
	dq_solve_config c;
	dq_model *m = NULL;
	uint32_t s, a;
	int err;

	err = dq_model_create(&m, env);
	if (err)
		return err;
	dq_model_shape(m, &s, &a);
	v_star = malloc(s * sizeof(*v_star));
	v_pi = malloc(s * sizeof(*v_pi));
	policy = malloc(s * sizeof(*policy));
	if (!v_star || !v_pi || !policy) {
		err = -ENOMEM;
		goto out;
	}
	dq_solve_config_init(&c);
	c.gamma = gamma;
	c.max_sweeps = CLI_EXACT_SWEEPS;
	out->gamma = gamma;
	out->tol = CLI_EXACT_TOL;
	out->improper = false;
	out->random_ok = false;
	err = dq_model_solve(m, &c, NULL, 0, v_star, s, NULL, 0);
	if (err >= 0)
		err = dq_model_start_value(m, v_star, s, &out->star_start);
	if (err >= 0)
		err = dq_table_policy(t, policy, s);
	if (err >= 0)
		err = dq_model_evaluate(m, &c, policy, s, v_pi, s,
					&out->pi_start);
	if (err == -EDOM)
		out->improper =
		    dq_model_find_improper(m, policy, s,
					   &out->improper_state) == -EDOM;
	if (err >= 0)
		err = dq_model_optimal_fraction(m, v_star, v_pi, s,
						CLI_EXACT_TOL, &out->fraction);
	/* The baseline is optional: a random walk that never ends (at
	 * gamma 1) or converges too slowly only drops the progress line.
	 * A percentage needs far less than the solver's 1e-12: 1e-10 per
	 * sweep saves a third of the sweeps on slow-mixing models. */
	c.tolerance = CLI_RANDOM_TOL;
	if (err >= 0)
		out->random_ok = dq_model_evaluate_random(
				     m, &c, v_pi, s, &out->random_start) >= 0;
out:
	free(policy);
	free(v_pi);
	free(v_star);
	dq_model_destroy(m);
	return err < 0 ? err : 0;
}

/*
 * How far the greedy policy has come, as a share of the way from the
 * uniformly random policy's start value to the optimum's: 100% is
 * optimal, 0% no better than random, below 0 worse. "optimal fraction"
 * is all or nothing per start state; this moves with every improvement.
 */
void
cli_exact_print(const struct cli_exact *x)
{
	double span = x->star_start - x->random_start;

	cli_kv("greedy start value", "%.9g (exact, gamma %g)\n", x->pi_start,
	       x->gamma);
	cli_kv("optimal start value", "%.9g\n", x->star_start);
	if (x->random_ok) {
		cli_kv("random start value", "%.9g (uniformly random policy)\n",
		       x->random_start);
		if (span > 1e-12 * (fabs(x->star_start) + 1))
			cli_kv("greedy progress",
			       "%.1f%% (of the way from random to optimal)\n",
			       100.0 * (x->pi_start - x->random_start) / span);
		else
			cli_kv("greedy progress",
			       "- (random is already optimal)\n");
	}
	cli_kv("optimal fraction", "%.1f%% (tol %g)\n", 100.0 * x->fraction,
	       x->tol);
}

/* The warning when cli_exact() failed with @err. */
void
cli_exact_warn(const struct cli_exact *x, int err)
{
	if (err == -EDOM && x->improper)
		cli_warn("exact evaluation skipped: from state %u the greedy "
			 "policy never ends and collects reward, so at gamma "
			 "%g it has no finite value",
			 x->improper_state, x->gamma);
	else
		cli_warn("exact evaluation skipped: %s", cli_strerror(err));
}

/* @v in the fewest significant digits (up to 17) that read back exactly. */
const char *
cli_real(char *buf, size_t cap, double v)
{
	for (int prec = 6; prec <= 17; prec++) {
		snprintf(buf, cap, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	return buf;
}

void
cli_kv(const char *key, const char *fmt, ...)
{
	va_list ap;

	printf("%-20s ", key);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
}
