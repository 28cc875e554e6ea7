/*
 * Private side of the environment interface: the opened-environment handle
 * and the checked reset/step the agents call in their hot loop.
 */
#ifndef DQ_ENV_H
#define DQ_ENV_H

#include <math.h>
#include <string.h>

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
dq__env_check_reset(int err, uint32_t state, uint32_t n_states)
{
	if (DQ__UNLIKELY(err))
		return err < 0 ? err : DQ_EENV;
	if (DQ__UNLIKELY(state >= n_states))
		return DQ_EENV;
	return 0;
}

static inline int
dq__env_check_step(int err, const dq_step *out, uint32_t n_states)
{
	uint64_t rb; /* !isfinite() as a test of the exponent's bits: fewer
		      * instructions per step than the library call's form */

	memcpy(&rb, &out->reward, sizeof(rb));
	if (DQ__UNLIKELY(err))
		return err < 0 ? err : DQ_EENV;
	if (DQ__UNLIKELY(out->next_state >= n_states ||
			 (rb << 1) >= (UINT64_C(0x7ff) << 53)))
		return DQ_EENV;
	return 0;
}

/*
 * An instance as a hot loop calls it: the entry points, the instance and
 * the bound read once into a local, which the compiler keeps in registers
 * (through the handle, the opaque call would force three dependent reloads
 * on every step). Same checks as dq__env_inst_reset() and _step().
 */
typedef struct dq__env_hot {
	int (*reset)(void *inst, dq_rng *rng, uint32_t *state);
	int (*step)(void *inst, uint32_t action, dq_rng *rng, dq_step *out);
	void *state;
	uint32_t n_states;
} dq__env_hot;

static inline dq__env_hot
dq__env_hot_of(const dq__env_inst *inst)
{
	return (dq__env_hot){inst->env->ops->reset, inst->env->ops->step,
			     inst->state, inst->env->spec.n_states};
}

static inline int
dq__env_hot_reset(const dq__env_hot *h, dq_rng *rng, uint32_t *state)
{
	int err = h->reset(h->state, rng, state);

	return dq__env_check_reset(err, *state, h->n_states);
}

static inline int
dq__env_hot_step(const dq__env_hot *h, uint32_t action, dq_rng *rng,
		 dq_step *out)
{
	int err = h->step(h->state, action, rng, out);

	return dq__env_check_step(err, out, h->n_states);
}

/* The same calls through the handle, for the public dq_env_instance_*(). */
static inline int
dq__env_inst_reset(dq__env_inst *inst, dq_rng *rng, uint32_t *state)
{
	const dq__env_hot h = dq__env_hot_of(inst);

	return dq__env_hot_reset(&h, rng, state);
}

static inline int
dq__env_inst_step(dq__env_inst *inst, uint32_t action, dq_rng *rng,
		  dq_step *out)
{
	const dq__env_hot h = dq__env_hot_of(inst);

	return dq__env_hot_step(&h, action, rng, out);
}

#endif /* DQ_ENV_H */
