/*
 * The read-only subcommands: envs (what is built in), model (an
 * environment's exported dynamics as TSV), solve (the exact Q* or V*) and
 * version. Their output is meant for awk and plotting scripts: one header
 * line, tab separated, doubles with %.17g so that they read back bit for
 * bit.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/*
 * Parse a subcommand with a few options and exactly @npos positional
 * arguments (the first goes to *env). Flags are collected as bits of
 * *flags by id (ids below 32); options with a value go to @on_value.
 */
typedef int (*value_fn)(const struct cli_cmd *cmd, int id, const char *val,
			void *ctx);

static int
parse_simple(const struct cli_cmd *cmd, int argc, char **argv, int npos,
	     unsigned *flags, value_fn on_value, void *ctx, const char **env)
{
	struct cli_args a;
	const char *val;
	int k;

	cli_args_init(&a, cmd, argc, argv);
	while ((k = cli_next(&a, &val)) >= 0) {
		if (!val)
			*flags |= 1u << k;
		else if (on_value(cmd, k, val, ctx))
			return CLI_USAGE;
	}
	if (k == CLI_ARGS_HELP)
		return CLI_ARGS_HELP;
	if (k == CLI_ARGS_ERR || cli_want_pos(&a, npos, npos))
		return CLI_USAGE;
	if (env)
		*env = a.pos[0];
	return CLI_OK;
}

static int
no_values(const struct cli_cmd *cmd, int id, const char *val, void *ctx)
{
	(void)cmd, (void)id, (void)val, (void)ctx;
	return CLI_USAGE; /* unreachable: these commands take only flags */
}

/* ---------------------------------------------------------------- envs -- */

const struct cli_opt cli_envs_opts[] = {{NULL, 0, NULL, 0, NULL}};

static void
envs_row(const dq_env_ops *ops, const dq_env_spec *sp)
{
	char limit[16];

	if (sp->max_episode_steps)
		snprintf(limit, sizeof(limit), "%u", sp->max_episode_steps);
	else
		snprintf(limit, sizeof(limit), "none");
	printf("%s\t%u\t%u\t%s\t%s\n", ops->name, sp->n_states, sp->n_actions,
	       sp->max_outcomes ? "yes" : "no", limit);
}

/* A parameter's value as its string takes it: integers in full. */
static void
param_value(char *buf, size_t cap, const dq_env_param *p, double v)
{
	if (isnan(v))
		snprintf(buf, cap, "auto");
	else if (p->type == DQ_PARAM_REAL)
		cli_real(buf, cap, v);
	else if (v >= 18446744073709551615.0)
		snprintf(buf, cap, "%llu", (unsigned long long)UINT64_MAX);
	else
		snprintf(buf, cap, "%llu", (unsigned long long)v);
}

/*
 * distq envs ENV: the environment's own description of its parameters
 * (dq_env_ops.params), then what it is with the parameters given.
 */
static int
envs_describe(const char *spec)
{
	static const char *const types[] = {"real", "count", "bool"};
	const dq_env_ops *ops = cli_env_find(spec, strcspn(spec, ":"));
	struct cli_env e;

	if (cli_env_open(&e, spec))
		return CLI_FAIL;
	cli_env_close(&e);
	if (!ops || !ops->params) {
		printf("key\ttype\tdefault\tmin\tmax\thelp\n");
		return cli_fail(-ENOTSUP,
				"parameters of '%s' (the environment "
				"does not describe them)",
				spec);
	}
	printf("key\ttype\tdefault\tmin\tmax\thelp\n");
	for (const dq_env_param *p = ops->params; p->key; p++) {
		char def[32], lo[32], hi[32];

		param_value(def, sizeof(def), p, p->def);
		param_value(lo, sizeof(lo), p, p->min);
		param_value(hi, sizeof(hi), p, p->max);
		printf("%s\t%s\t%s\t%s\t%s\t%s\n", p->key,
		       (unsigned)p->type < 3 ? types[p->type] : "?", def, lo,
		       hi, p->help ? p->help : "");
	}
	return CLI_OK;
}

/* What a check function returns for parse_simple()'s result. */
static int
checked(int status)
{
	return status == CLI_ARGS_HELP ? CLI_OK : status;
}

/* Like parse_simple() with 0 or 1 positional arguments (*env NULL: 0). */
static int
parse_envs(const struct cli_cmd *cmd, int argc, char **argv, const char **env)
{
	struct cli_args a;
	const char *val;
	int k;

	cli_args_init(&a, cmd, argc, argv);
	while ((k = cli_next(&a, &val)) >= 0)
		; /* envs has no options */
	if (k == CLI_ARGS_HELP)
		return CLI_ARGS_HELP;
	if (k == CLI_ARGS_ERR || cli_want_pos(&a, 0, 1))
		return CLI_USAGE;
	*env = a.npos ? a.pos[0] : NULL;
	return CLI_OK;
}

int
cli_envs_check(const struct cli_cmd *cmd, int argc, char **argv)
{
	const char *name;

	return checked(parse_envs(cmd, argc, argv, &name));
}

/* Each environment is opened with its defaults to report its real shape. */
int
cli_envs(const struct cli_cmd *cmd, int argc, char **argv)
{
	const dq_env_ops **ops;
	const char *name;
	int n, status;

	status = parse_envs(cmd, argc, argv, &name);
	if (status)
		return checked(status);
	if (name)
		return envs_describe(name);
	n = dq_env_builtins(NULL, 0);
	if (n < 0)
		return cli_fail(n, "listing environments");
	ops = calloc((size_t)n + 1, sizeof(*ops));
	if (!ops)
		return cli_fail(-ENOMEM, "listing environments");
	dq_env_builtins(ops, (size_t)n);
	printf("name\tstates\tactions\tmodel\tstep-limit\n");
	for (int i = 0; i < n; i++) {
		dq_env_spec sp;
		dq_env *env;
		int err = dq_env_open(&env, ops[i], NULL, NULL);

		if (!err) {
			dq_env_spec_get(env, &sp);
			envs_row(ops[i], &sp);
			dq_env_close(env);
		} else {
			status =
			    cli_fail(err, "environment '%s'", ops[i]->name);
		}
	}
	free(ops);
	return status;
}

/* --------------------------------------------------------------- model -- */

enum { MODEL_START };

const struct cli_opt cli_model_opts[] = {
    {"start", 0, NULL, MODEL_START,
     "print the start distribution (state, prob) instead"},
    {NULL, 0, NULL, 0, NULL},
};

static int
model_start(const struct cli_env *e)
{
	double *p = malloc(e->spec.n_states * sizeof(*p));
	int err;

	if (!p)
		return cli_fail(-ENOMEM, "start distribution");
	err = dq_env_start_probs(e->env, p, e->spec.n_states);
	if (err) {
		free(p);
		return cli_fail(err, "start distribution of '%s'", e->name);
	}
	printf("state\tprob\n");
	for (uint32_t s = 0; s < e->spec.n_states; s++)
		if (p[s] > 0)
			printf("%u\t%.17g\n", s, p[s]);
	free(p);
	return CLI_OK;
}

/* One line per outcome of every (s,a), in state then action order. */
static int
model_outcomes(const struct cli_env *e)
{
	size_t cap = e->spec.max_outcomes;
	dq_outcome *out = malloc(cap * sizeof(*out));

	if (!out)
		return cli_fail(-ENOMEM, "model");
	printf("state\taction\tprob\tnext_state\treward\tterminated\n");
	for (uint32_t s = 0; s < e->spec.n_states; s++) {
		for (uint32_t a = 0; a < e->spec.n_actions; a++) {
			int n = dq_env_outcomes(e->env, s, a, out, cap);

			/* An environment reporting more outcomes than its
			 * spec's max_outcomes broke its contract. */
			if (n >= 0 && (size_t)n > cap)
				n = DQ_EENV;
			if (n < 0) {
				free(out);
				return cli_fail(n,
						"model of '%s' at state %u "
						"action %u",
						e->name, s, a);
			}
			for (int k = 0; k < n; k++)
				printf("%u\t%u\t%.17g\t%u\t%.17g\t%d\n", s, a,
				       out[k].prob, out[k].next_state,
				       out[k].reward, out[k].terminated);
		}
	}
	free(out);
	return CLI_OK;
}

int
cli_model_check(const struct cli_cmd *cmd, int argc, char **argv)
{
	const char *spec;
	unsigned flags = 0;

	return checked(
	    parse_simple(cmd, argc, argv, 1, &flags, no_values, NULL, &spec));
}

int
cli_model(const struct cli_cmd *cmd, int argc, char **argv)
{
	struct cli_env e;
	const char *spec;
	unsigned flags = 0;
	int status;

	status =
	    parse_simple(cmd, argc, argv, 1, &flags, no_values, NULL, &spec);
	if (status)
		return checked(status);
	if (cli_env_open(&e, spec))
		return CLI_FAIL;
	if (!e.spec.max_outcomes)
		status = cli_fail(-ENOTSUP, "model of '%s'", e.name);
	else if (flags & (1u << MODEL_START))
		status = model_start(&e);
	else
		status = model_outcomes(&e);
	cli_env_close(&e);
	return status;
}

/* --------------------------------------------------------------- solve -- */

enum { SOLVE_GAMMA, SOLVE_VALUES, SOLVE_POLICY };

const struct cli_opt cli_solve_opts[] = {
    {"gamma", 'g', "G", SOLVE_GAMMA, "discount in [0, 1] (default 0.95)"},
    {"values", 0, NULL, SOLVE_VALUES, "print V* (state, v) instead of Q*"},
    {"policy", 0, NULL, SOLVE_POLICY,
     "print an optimal policy (state, action; lowest action on ties) "
     "instead of Q*"},
    {NULL, 0, NULL, 0, NULL},
};

static int
solve_value(const struct cli_cmd *cmd, int id, const char *val, void *ctx)
{
	(void)id; /* --gamma is the only option with a value */
	return cli_parse_double(cmd, "--gamma", val, 0.0, 1.0, false, ctx);
}

static void
solve_print(const dq_env_spec *sp, const double *q, const double *v)
{
	if (v) {
		printf("state\tv\n");
		for (uint32_t s = 0; s < sp->n_states; s++)
			printf("%u\t%.17g\n", s, v[s]);
		return;
	}
	printf("state\taction\tq\n");
	for (uint32_t s = 0; s < sp->n_states; s++)
		for (uint32_t a = 0; a < sp->n_actions; a++)
			printf("%u\t%u\t%.17g\n", s, a,
			       q[(size_t)s * sp->n_actions + a]);
}

int
cli_solve_check(const struct cli_cmd *cmd, int argc, char **argv)
{
	const char *spec;
	unsigned flags = 0;
	double gamma;
	int status = parse_simple(cmd, argc, argv, 1, &flags, solve_value,
				  &gamma, &spec);

	if (!status && (flags & (1u << SOLVE_VALUES)) &&
	    (flags & (1u << SOLVE_POLICY)))
		return cli_usage_error(cmd,
				       "--values and --policy: choose one");
	return checked(status);
}

int
cli_solve(const struct cli_cmd *cmd, int argc, char **argv)
{
	double *q = NULL, *v = NULL;
	uint32_t *pol = NULL;
	dq_solve_config c;
	dq_model *m = NULL;
	struct cli_env e;
	const char *spec;
	unsigned flags = 0;
	size_t nq;
	int status, err;

	dq_solve_config_init(&c);
	status = parse_simple(cmd, argc, argv, 1, &flags, solve_value, &c.gamma,
			      &spec);
	if (status)
		return checked(status);
	if ((flags & (1u << SOLVE_VALUES)) && (flags & (1u << SOLVE_POLICY)))
		return cli_usage_error(cmd,
				       "--values and --policy: choose one");
	if (cli_env_open(&e, spec))
		return CLI_FAIL;
	nq = (size_t)e.spec.n_states * e.spec.n_actions;
	/* The model's arrays (one outcome per entry at least) and the
	 * output, before anything is allocated. */
	if (e.spec.max_outcomes &&
	    cli_mem_check((double)nq * (28.0 + 8.0) +
			      (double)e.spec.n_states * 24.0,
			  "solving this model")) {
		status = CLI_FAIL;
		goto out;
	}
	err = dq_model_create(&m, e.env);
	if (err) {
		status = cli_fail_detail(err, "model of '%s'", e.name);
		goto out;
	}
	if (flags & (1u << SOLVE_VALUES))
		v = malloc(e.spec.n_states * sizeof(*v));
	else if (flags & (1u << SOLVE_POLICY))
		pol = malloc(e.spec.n_states * sizeof(*pol));
	else
		q = malloc(nq * sizeof(*q));
	if (!q && !v && !pol) {
		status = cli_fail(-ENOMEM, "solving '%s'", e.name);
		goto out;
	}
	err = dq_model_solve(m, &c, q, q ? nq : 0, v, v ? e.spec.n_states : 0,
			     pol, pol ? e.spec.n_states : 0, NULL);
	if (err) {
		status = cli_fail(err, "solving '%s' with gamma %g", e.name,
				  c.gamma);
		goto out;
	}
	if (pol) {
		printf("state\taction\n");
		for (uint32_t s = 0; s < e.spec.n_states; s++)
			printf("%u\t%u\n", s, pol[s]);
	} else {
		solve_print(&e.spec, q, v);
	}
out:
	free(q);
	free(v);
	free(pol);
	dq_model_destroy(m);
	cli_env_close(&e);
	return status;
}

/* ------------------------------------------------------------- version -- */

#define STR2(x) #x
#define STR(x) STR2(x)

const struct cli_opt cli_version_opts[] = {{NULL, 0, NULL, 0, NULL}};

int
cli_version_check(const struct cli_cmd *cmd, int argc, char **argv)
{
	unsigned flags = 0;

	return checked(
	    parse_simple(cmd, argc, argv, 0, &flags, no_values, NULL, NULL));
}

/*
 * The header the program was built with and the library it runs with can
 * differ when the shared library is upgraded underneath; print both.
 */
int
cli_version(const struct cli_cmd *cmd, int argc, char **argv)
{
	unsigned flags = 0;
	int status;

	status =
	    parse_simple(cmd, argc, argv, 0, &flags, no_values, NULL, NULL);
	if (status)
		return checked(status);
	printf("distq %s (libdistq %s, checkpoint format %u, env ABI %u)\n",
	       STR(DQ_VERSION_MAJOR) "." STR(DQ_VERSION_MINOR) "." STR(
		   DQ_VERSION_PATCH),
	       dq_version_string(), DQ_CHECKPOINT_VERSION, DQ_ENV_ABI);
	return cli_flush();
}
