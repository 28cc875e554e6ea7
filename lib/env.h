/*
 * Private side of the environment interface: the opened-environment handle
 * and the checked reset/step the agents call in their hot loop.
 */
#ifndef DQ_ENV_H
#define DQ_ENV_H

#include <math.h>

#include "internal.h"

struct dq_env {
	const dq_env_ops *ops;
	void *def;
	dq_env_spec spec;
};

/* One instance, owned by one thread at a time. */
typedef struct dq__env_inst {
	const dq_env *env;
	void *state; /* ops->create's instance, or def when create is NULL */
} dq__env_inst;

struct dq_env_instance {
	dq__env_inst i;
};

int dq__env_inst_init(const dq_env *env, dq__env_inst *inst);
void dq__env_inst_fini(dq__env_inst *inst);

/*
 * Reset and step check what the environment hands back, so that a broken
 * environment can never index the table out of bounds: that is the one
 * guard between foreign code and the shared table.
 */
static inline int
dq__env_inst_reset(dq__env_inst *inst, dq_rng *rng, uint32_t *state)
{
	const dq_env *env = inst->env;
	int err = env->ops->reset(inst->state, rng, state);

	if (DQ__UNLIKELY(err))
		return err < 0 ? err : DQ_EENV;
	if (DQ__UNLIKELY(*state >= env->spec.n_states))
		return DQ_EENV;
	return 0;
}

static inline int
dq__env_inst_step(dq__env_inst *inst, uint32_t action, dq_rng *rng,
		  dq_step *out)
{
	const dq_env *env = inst->env;
	int err = env->ops->step(inst->state, action, rng, out);

	if (DQ__UNLIKELY(err))
		return err < 0 ? err : DQ_EENV;
	if (DQ__UNLIKELY(out->next_state >= env->spec.n_states ||
			 !isfinite(out->reward)))
		return DQ_EENV;
	return 0;
}

#endif /* DQ_ENV_H */
