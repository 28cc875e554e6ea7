/*
 * What the distq subcommands share: opening an environment by its
 * command-line spelling, creating a table for it, and judging a table's
 * greedy policy with the exact solver.
 */
#include <errno.h>
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
		return cli_fail(err, "environment '%s'", spec);
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
	err = dq_model_solve(m, &c, NULL, 0, v_star, s, NULL, 0, NULL);
	if (err >= 0)
		err = dq_model_start_value(m, v_star, s, &out->star_start);
	if (err >= 0)
		err = dq_table_policy(t, policy, s);
	if (err >= 0)
		err = dq_model_evaluate(m, &c, policy, s, v_pi, s,
					&out->pi_start, NULL);
	if (err >= 0)
		err = dq_model_optimal_fraction(m, v_star, v_pi, s,
						CLI_EXACT_TOL, &out->fraction);
out:
	free(policy);
	free(v_pi);
	free(v_star);
	dq_model_destroy(m);
	return err < 0 ? err : 0;
}

void
cli_exact_print(const struct cli_exact *x)
{
	cli_kv("greedy start value", "%.9g (exact, gamma %g)\n", x->pi_start,
	       x->gamma);
	cli_kv("optimal start value", "%.9g\n", x->star_start);
	cli_kv("optimal fraction", "%.1f%% (tol %g)\n", 100.0 * x->fraction,
	       x->tol);
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
