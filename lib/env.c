/*
 * The environment interface: ABI check, the opened-environment handle and
 * checked wrappers around an environment's callbacks. Knows nothing of
 * tables, agents or learning.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "env.h"

/*
 * Check the function table and the spec the environment reported. The ABI
 * number is compared first: a table built for another ABI may have another
 * layout, so none of its other fields can be trusted.
 */
static int
env_ops_check(const dq_env_ops *ops)
{
	if (ops->abi != DQ_ENV_ABI)
		return DQ_EABI;
	if (!ops->open || !ops->reset || !ops->step)
		return -EINVAL;
	return 0;
}

/* The extension's size covers field f. */
#define EXT_HAS(x, f) ((x)->size >= offsetof(dq_env_ext, f) + sizeof((x)->f))

/*
 * The extension (dq_env_ops.ext): the size covers at least the first
 * version (through observe); reserved slots it covers are NULL; an
 * observation has its callback, bounds that are numbers and a finite,
 * increasing span.
 */
static int
env_ext_check(const dq_env_ext *x)
{
	if (!x)
		return 0;
	if (!EXT_HAS(x, observe))
		return DQ_EENV;
	for (size_t i = 0; i < sizeof(x->reserved) / sizeof(x->reserved[0]);
	     i++)
		if (EXT_HAS(x, reserved[i]) && x->reserved[i])
			return DQ_EENV;
	if (!x->obs_dim)
		return 0;
	if (x->obs_dim > DQ_OBS_MAX_DIM || !x->observe || !x->obs_low ||
	    !x->obs_high || !x->span_low || !x->span_high)
		return DQ_EENV;
	for (uint32_t i = 0; i < x->obs_dim; i++) {
		if (!(x->obs_low[i] <= x->obs_high[i]) ||
		    !isfinite(x->span_low[i]) || !isfinite(x->span_high[i]) ||
		    !(x->span_low[i] < x->span_high[i]))
			return DQ_EENV;
	}
	return 0;
}

/* The observation's length, 0 when the environment gives none. */
static uint32_t
env_obs_dim(const dq_env *env)
{
	const dq_env_ext *x = env->ops->ext;

	return x ? x->obs_dim : 0;
}

static int
env_spec_check(const dq_env_ops *ops, const dq_env_spec *spec)
{
	/* open() starts from an all-zero spec (calloc); reserved words it
	 * set would be fields this library does not know. */
	if (spec->n_states == 0 || spec->n_actions == 0 ||
	    !DQ__RESERVED_ZERO(spec))
		return DQ_EENV;
	if (spec->max_outcomes && (!ops->outcomes || !ops->start_probs))
		return DQ_EENV;
	return 0;
}

int
dq_env_open(dq_env **out, const dq_env_ops *ops, const char *params, void *user)
{
	dq_env *env;
	int err;

	dq__detail_clear();
	if (!out || !ops)
		return -EINVAL;
	err = env_ops_check(ops);
	if (err)
		return err;
	env = calloc(1, sizeof(*env));
	if (!env)
		return -ENOMEM;
	env->ops = ops;
	err = ops->open(&env->def, params ? params : "", user, &env->spec);
	if (err) {
		free(env);
		return err < 0 ? err : DQ_EENV;
	}
	err = env_spec_check(ops, &env->spec);
	if (!err && (err = env_ext_check(ops->ext)) != 0)
		dq__detail("the environment's extension (dq_env_ext) is "
			   "invalid");
	if (err) {
		dq__detail("the environment's open reported an invalid spec "
			   "(%u states, %u actions)",
			   env->spec.n_states, env->spec.n_actions);
		if (ops->close)
			ops->close(env->def);
		free(env);
		return err;
	}
	*out = env;
	return 0;
}

int
dq_env_fail(int err, const char *what, const char *why)
{
	if (what && why)
		dq__detail("%s: %s", what, why);
	else if (what || why)
		dq__detail("%s", what ? what : why);
	else
		dq__detail_clear();
	return err;
}

void
dq_env_close(dq_env *env)
{
	if (!env)
		return;
	if (env->ops->close)
		env->ops->close(env->def);
	free(env);
}

int
dq_env_spec_get(const dq_env *env, dq_env_spec *spec)
{
	if (!env || !spec)
		return -EINVAL;
	*spec = env->spec;
	return 0;
}

int
dq_env_name(const dq_env *env, const char **name)
{
	if (!env || !name)
		return -EINVAL;
	*name = env->ops->name ? env->ops->name : "";
	return 0;
}

int
dq_env_success(const dq_env *env, const dq_step *last, bool *success)
{
	if (!env || !last || !success)
		return -EINVAL;
	if (!env->ops->success)
		return -ENOTSUP;
	*success = env->ops->success(env->def, last);
	return 0;
}

int
dq_env_outcomes(const dq_env *env, uint32_t s, uint32_t a, dq_outcome *out,
		size_t cap)
{
	int n;

	if (!env || (!out && cap))
		return -EINVAL;
	if (!env->spec.max_outcomes)
		return -ENOTSUP;
	if (s >= env->spec.n_states || a >= env->spec.n_actions)
		return -ERANGE;
	n = env->ops->outcomes(env->def, s, a, out, cap);
	if (n < 0)
		return n;
	if (n == 0 || (uint32_t)n > env->spec.max_outcomes)
		return DQ_EENV;
	return n;
}

int
dq_env_start_probs(const dq_env *env, double *p, size_t n)
{
	if (!env || !p)
		return -EINVAL;
	if (!env->spec.max_outcomes)
		return -ENOTSUP;
	if (n < env->spec.n_states)
		return -EINVAL;
	return env->ops->start_probs(env->def, p, n);
}

/*
 * Instances: the learner keeps its own (dq__env_inst) inline in each agent
 * slot; the public dq_env_instance wraps the same pair for callers who step
 * an environment themselves.
 */
int
dq__env_inst_init(const dq_env *env, dq__env_inst *inst)
{
	int err;

	inst->env = env;
	inst->state = NULL;
	if (!env->ops->create) {
		inst->state = env->def;
		return 0;
	}
	err = env->ops->create(env->def, &inst->state);
	if (err) {
		/* A failed create owns nothing we may hand to destroy: what it
		 * left in the state pointer may be garbage or freed. Forget
		 * the instance so that fini() does not call destroy on it. */
		inst->env = NULL;
		inst->state = NULL;
		return err < 0 ? err : DQ_EENV;
	}
	return 0;
}

void
dq__env_inst_fini(dq__env_inst *inst)
{
	if (inst->env && inst->env->ops->create && inst->env->ops->destroy)
		inst->env->ops->destroy(inst->state);
	inst->env = NULL;
	inst->state = NULL;
}

int
dq_env_instance_create(const dq_env *env, dq_env_instance **out)
{
	dq_env_instance *inst;
	int err;

	if (!env || !out)
		return -EINVAL;
	inst = calloc(1, sizeof(*inst));
	if (!inst)
		return -ENOMEM;
	err = dq__env_inst_init(env, &inst->i);
	if (err) {
		free(inst);
		return err;
	}
	*out = inst;
	return 0;
}

void
dq_env_instance_destroy(dq_env_instance *inst)
{
	if (!inst)
		return;
	dq__env_inst_fini(&inst->i);
	free(inst);
}

int
dq_env_instance_reset(dq_env_instance *inst, dq_rng *rng, uint32_t *state)
{
	if (!inst || !rng || !state)
		return -EINVAL;
	return dq__env_inst_reset(&inst->i, rng, state);
}

int
dq_env_instance_step(dq_env_instance *inst, uint32_t action, dq_rng *rng,
		     dq_step *out)
{
	if (!inst || !rng || !out)
		return -EINVAL;
	if (action >= inst->i.env->spec.n_actions)
		return -ERANGE;
	return dq__env_inst_step(&inst->i, action, rng, out);
}

int
dq_env_instance_set_state(dq_env_instance *inst, uint32_t s)
{
	int err;

	if (!inst)
		return -EINVAL;
	if (s >= inst->i.env->spec.n_states)
		return -ERANGE;
	if (!inst->i.env->ops->set_state)
		return -ENOTSUP;
	err = inst->i.env->ops->set_state(inst->i.state, s);
	return err > 0 ? DQ_EENV : err;
}

int
dq_env_obs_dim(const dq_env *env, uint32_t *dim)
{
	if (!env || !dim)
		return -EINVAL;
	*dim = env_obs_dim(env);
	return 0;
}

int
dq_env_obs_bounds(const dq_env *env, double *low, double *high,
		  double *span_low, double *span_high, size_t n)
{
	const dq_env_ext *x;
	uint32_t d;

	if (!env)
		return -EINVAL;
	d = env_obs_dim(env);
	if (!d)
		return -ENOTSUP;
	if (n < d)
		return -EINVAL;
	x = env->ops->ext;
	for (uint32_t i = 0; i < d; i++) {
		if (low)
			low[i] = x->obs_low[i];
		if (high)
			high[i] = x->obs_high[i];
		if (span_low)
			span_low[i] = x->span_low[i];
		if (span_high)
			span_high[i] = x->span_high[i];
	}
	return 0;
}

int
dq_env_instance_observe(const dq_env_instance *inst, double *obs, size_t n)
{
	uint32_t d;

	if (!inst || !obs)
		return -EINVAL;
	d = env_obs_dim(inst->i.env);
	if (!d)
		return -ENOTSUP;
	if (n < d)
		return -EINVAL;
	inst->i.env->ops->ext->observe(inst->i.state, obs);
	return 0;
}
