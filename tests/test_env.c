/* tests/test_env.c - the environment interface and its checks
 * (lib/env.c, lib/env.h). */
#include <errno.h>
#include <stddef.h>
#include <math.h>
#include <string.h>

#include "dq_test.h"

/* A configurable fake: what it reports and returns is set per test. */
struct fake {
	dq_env_spec spec;
	int open_err;
	int create_err;
	int create_fail_at; /* the create call (1-based) that fails, or 0 */
	uint32_t reset_state;
	uint32_t next_state;
	double reward;
	int step_err;
	int closed;
	int created;
	int destroyed;
};

static int
fake_open(void **def, const char *params, void *user, dq_env_spec *spec)
{
	struct fake *f = user;

	assert_non_null(params); /* NULL params arrive as "" */
	if (f->open_err)
		return f->open_err;
	*def = f;
	*spec = f->spec;
	return 0;
}

static void
fake_close(void *def)
{
	((struct fake *)def)->closed++;
}

/* What a failing create leaves in *inst: not an instance. */
static char poison;
static int poisoned_destroys;

static int
fake_create(void *def, void **inst)
{
	struct fake *f = def;

	if (f->create_err)
		return f->create_err;
	if (f->create_fail_at && f->created + 1 == f->create_fail_at) {
		*inst = &poison; /* half-built, as a real create may leave */
		return -ENOMEM;
	}
	f->created++;
	*inst = f;
	return 0;
}

static void
fake_destroy(void *inst)
{
	if (inst == &poison) {
		poisoned_destroys++;
		return;
	}
	((struct fake *)inst)->destroyed++;
}

static int
fake_reset(void *inst, dq_rng *rng, uint32_t *state)
{
	(void)rng;
	*state = ((struct fake *)inst)->reset_state;
	return 0;
}

static int
fake_step(void *inst, uint32_t action, dq_rng *rng, dq_step *out)
{
	struct fake *f = inst;

	(void)action;
	(void)rng;
	if (f->step_err)
		return f->step_err;
	out->next_state = f->next_state;
	out->reward = f->reward;
	out->terminated = false;
	out->truncated = false;
	return 0;
}

static int
fake_outcomes(const void *def, uint32_t s, uint32_t a, dq_outcome *out,
	      size_t cap)
{
	(void)def;
	(void)a;
	for (size_t i = 0; i < cap && i < 2; i++)
		out[i] = (dq_outcome){0.5, s, -1.0, false};
	return 2;
}

static int
fake_start(const void *def, double *p, size_t n)
{
	(void)def;
	for (size_t i = 0; i < n; i++)
		p[i] = i == 0;
	return 0;
}

static dq_env_ops
fake_ops(void)
{
	dq_env_ops ops = {
	    .abi = DQ_ENV_ABI,
	    .name = "fake",
	    .open = fake_open,
	    .close = fake_close,
	    .create = fake_create,
	    .destroy = fake_destroy,
	    .reset = fake_reset,
	    .step = fake_step,
	    .outcomes = fake_outcomes,
	    .start_probs = fake_start,
	};
	return ops;
}

static struct fake
fake_default(void)
{
	struct fake f;

	memset(&f, 0, sizeof(f));
	f.spec = (dq_env_spec){.n_states = 3,
			       .n_actions = 2,
			       .max_episode_steps = 10,
			       .max_outcomes = 2};
	f.reward = -1.0;
	return f;
}

static void
test_open_checks(void **state)
{
	struct fake f = fake_default();
	dq_env_ops ops = fake_ops();
	dq_env *env = (dq_env *)0x1;
	int dummy;

	(void)state;
	assert_int_equal(dq_env_open(NULL, &ops, NULL, &f), -EINVAL);
	assert_int_equal(dq_env_open(&env, NULL, NULL, &f), -EINVAL);
	ops.abi = DQ_ENV_ABI + 1;
	assert_int_equal(dq_env_open(&env, &ops, NULL, &f), DQ_EABI);
	ops = fake_ops();
	ops.step = NULL;
	assert_int_equal(dq_env_open(&env, &ops, NULL, &f), -EINVAL);
	ops = fake_ops();
	/* An extension too short for its first version is refused. */
	{
		static const dq_env_ext short_ext = {
		    .size = offsetof(dq_env_ext, observe)};

		ops.ext = &short_ext;
		assert_int_equal(dq_env_open(&env, &ops, NULL, &f), DQ_EENV);
		assert_int_equal(f.closed, 1); /* the definition closed */
		f.closed = 0;
		ops = fake_ops();
	}
	(void)dummy;
	ops = fake_ops();
	/* The environment's own error is passed on. */
	f.open_err = -ERANGE;
	assert_int_equal(dq_env_open(&env, &ops, "x=1", &f), -ERANGE);
	f.open_err = 0;
	/* An invalid spec is refused and the definition closed. */
	f.spec.n_actions = 0;
	assert_int_equal(dq_env_open(&env, &ops, NULL, &f), DQ_EENV);
	assert_int_equal(f.closed, 1);
	f = fake_default();
	ops.start_probs = NULL; /* a model needs a start distribution */
	assert_int_equal(dq_env_open(&env, &ops, NULL, &f), DQ_EENV);
	assert_ptr_equal(env, (dq_env *)0x1);
	dq_env_close(NULL);
}

static void
test_spec_name_model(void **state)
{
	struct fake f = fake_default();
	dq_env_ops ops = fake_ops();
	dq_env *env;
	dq_env_spec spec;
	dq_outcome o[4];
	double p[3];
	const char *name;

	(void)state;
	assert_int_equal(dq_env_open(&env, &ops, NULL, &f), 0);
	assert_int_equal(dq_env_spec_get(env, &spec), 0);
	assert_int_equal(spec.n_states, 3);
	assert_int_equal(spec.max_outcomes, 2);
	assert_int_equal(dq_env_spec_get(env, NULL), -EINVAL);
	assert_int_equal(dq_env_name(env, &name), 0);
	assert_string_equal(name, "fake");
	assert_int_equal(dq_env_name(NULL, &name), -EINVAL);
	assert_int_equal(dq_env_outcomes(env, 0, 0, o, 4), 2);
	assert_int_equal(dq_env_outcomes(env, 0, 0, NULL, 0), 2);
	assert_int_equal(dq_env_outcomes(env, 0, 0, NULL, 4), -EINVAL);
	assert_int_equal(dq_env_outcomes(env, 3, 0, o, 4), -ERANGE);
	assert_int_equal(dq_env_outcomes(env, 0, 2, o, 4), -ERANGE);
	assert_int_equal(dq_env_start_probs(env, p, 3), 0);
	assert_true(p[0] == 1.0);
	assert_int_equal(dq_env_start_probs(env, p, 2), -EINVAL);
	assert_int_equal(dq_env_start_probs(env, NULL, 3), -EINVAL);
	dq_env_close(env);
	assert_int_equal(f.closed, 1);

	/* Declaring fewer outcomes than the env returns is its fault. */
	f = fake_default();
	f.spec.max_outcomes = 1;
	assert_int_equal(dq_env_open(&env, &ops, NULL, &f), 0);
	assert_int_equal(dq_env_outcomes(env, 0, 0, o, 4), DQ_EENV);
	dq_env_close(env);

	/* No model. */
	f = fake_default();
	f.spec.max_outcomes = 0;
	ops.outcomes = NULL;
	ops.start_probs = NULL;
	assert_int_equal(dq_env_open(&env, &ops, NULL, &f), 0);
	assert_int_equal(dq_env_outcomes(env, 0, 0, o, 4), -ENOTSUP);
	assert_int_equal(dq_env_start_probs(env, p, 3), -ENOTSUP);
	dq_env_close(env);
}

/* Instances: the library checks everything an environment hands back. */
static void
test_instances(void **state)
{
	struct fake f = fake_default();
	dq_env_ops ops = fake_ops();
	dq_env *env;
	dq_env_instance *inst = (dq_env_instance *)0x1;
	dq_rng rng;
	dq_step st;
	uint32_t s;

	(void)state;
	dq_rng_seed(&rng, 1, 0);
	assert_int_equal(dq_env_open(&env, &ops, NULL, &f), 0);
	f.create_err = -ENOMEM;
	assert_int_equal(dq_env_instance_create(env, &inst), -ENOMEM);
	assert_ptr_equal(inst, (dq_env_instance *)0x1);
	f.create_err = 0;
	assert_int_equal(dq_env_instance_create(NULL, &inst), -EINVAL);
	assert_int_equal(dq_env_instance_create(env, NULL), -EINVAL);
	assert_int_equal(dq_env_instance_create(env, &inst), 0);
	assert_int_equal(f.created, 1);

	assert_int_equal(dq_env_instance_reset(inst, &rng, &s), 0);
	assert_int_equal(s, 0);
	assert_int_equal(dq_env_instance_reset(inst, NULL, &s), -EINVAL);
	assert_int_equal(dq_env_instance_reset(NULL, &rng, &s), -EINVAL);
	f.reset_state = 3;
	assert_int_equal(dq_env_instance_reset(inst, &rng, &s), DQ_EENV);

	f.next_state = 2;
	assert_int_equal(dq_env_instance_step(inst, 1, &rng, &st), 0);
	assert_int_equal(st.next_state, 2);
	assert_true(st.reward == -1.0);
	assert_int_equal(dq_env_instance_step(inst, 2, &rng, &st), -ERANGE);
	assert_int_equal(dq_env_instance_step(inst, 0, &rng, NULL), -EINVAL);
	f.next_state = 99;
	assert_int_equal(dq_env_instance_step(inst, 0, &rng, &st), DQ_EENV);
	f.next_state = 1;
	f.reward = NAN;
	assert_int_equal(dq_env_instance_step(inst, 0, &rng, &st), DQ_EENV);
	f.reward = INFINITY;
	assert_int_equal(dq_env_instance_step(inst, 0, &rng, &st), DQ_EENV);
	f.reward = 0;
	f.step_err = -EIO;
	assert_int_equal(dq_env_instance_step(inst, 0, &rng, &st), -EIO);
	f.step_err = 3; /* a positive return is a contract breach */
	assert_int_equal(dq_env_instance_step(inst, 0, &rng, &st), DQ_EENV);
	dq_env_instance_destroy(inst);
	assert_int_equal(f.destroyed, 1);
	dq_env_instance_destroy(NULL);
	dq_env_close(env);
}

/* Without create/destroy the definition itself is the instance. */
static void
test_stateless_env(void **state)
{
	struct fake f = fake_default();
	dq_env_ops ops = fake_ops();
	dq_env *env;
	dq_env_instance *inst;
	dq_rng rng;
	uint32_t s;

	(void)state;
	ops.create = NULL;
	ops.destroy = NULL;
	ops.close = NULL;
	dq_rng_seed(&rng, 1, 0);
	assert_int_equal(dq_env_open(&env, &ops, NULL, &f), 0);
	assert_int_equal(dq_env_instance_create(env, &inst), 0);
	assert_int_equal(dq_env_instance_reset(inst, &rng, &s), 0);
	dq_env_instance_destroy(inst);
	dq_env_close(env);
	assert_int_equal(f.destroyed, 0);
}

static void
test_set_state_and_alloc(void **state)
{
	struct fake f = fake_default();
	dq_env_ops ops = fake_ops();
	dq_env *env;
	dq_env_instance *inst;
	dq_rng rng;
	dq_step st;
	unsigned char *p;

	(void)state;
	dq_rng_seed(&rng, 3, 0);
	assert_int_equal(dq_env_open(&env, &ops, NULL, &f), 0);
	assert_int_equal(dq_env_instance_create(env, &inst), 0);
	assert_int_equal(dq_env_instance_set_state(inst, 1), -ENOTSUP);
	assert_int_equal(dq_env_instance_set_state(inst, 3), -ERANGE);
	assert_int_equal(dq_env_instance_set_state(NULL, 0), -EINVAL);
	dq_env_instance_destroy(inst);
	dq_env_close(env);

	/* A built-in with set_state: taxi at (0,0), passenger at G, going to
	 * R; north is a wall-free move off the grid, so it stays. */
	assert_int_equal(dq_env_open_name(&env, "taxi"), 0);
	assert_int_equal(dq_env_instance_create(env, &inst), 0);
	assert_int_equal(dq_env_instance_set_state(inst, 4), 0);
	assert_int_equal(dq_env_instance_step(inst, 1, &rng, &st), 0);
	assert_int_equal(st.next_state, 4);
	assert_true(st.reward == -1.0);
	dq_env_instance_destroy(inst);
	dq_env_close(env);

	p = dq_env_instance_alloc(10);
	assert_non_null(p);
	assert_int_equal((uintptr_t)p % 64, 0);
	for (int i = 0; i < 64; i++)
		assert_int_equal(p[i], 0);
	free(p);
	assert_null(dq_env_instance_alloc(SIZE_MAX - 10));
}

/*
 * ABI 1 grew by filling reserved slots: the table's size and every older
 * field's offset are those of the first ABI 1 header (eleven pointers and
 * set_state, then three reserved), so an environment built then still
 * opens, with params and success read as absent.
 */
static void
test_ops_growth_keeps_layout(void **state)
{
	struct old_ops { /* dq_env_ops as first published */
		uint32_t abi;
		const char *name;
		void *fn[9];
		void *reserved[3];
	};
	struct fake f = fake_default();
	dq_env_ops ops = fake_ops();
	dq_env *env = NULL;
	dq_step last = {0, 1.0, true, false};
	bool ok = true;

	(void)state;
	assert_int_equal(sizeof(dq_env_ops), sizeof(struct old_ops));
	assert_int_equal(offsetof(dq_env_ops, set_state),
			 offsetof(struct old_ops, fn[8]));
	assert_int_equal(offsetof(dq_env_ops, params),
			 offsetof(struct old_ops, reserved[0]));
	assert_int_equal(offsetof(dq_env_ops, success),
			 offsetof(struct old_ops, reserved[1]));
	assert_int_equal(offsetof(dq_env_ops, ext),
			 offsetof(struct old_ops, reserved[2]));
	assert_null(ops.ext);
	/* An older environment: the new slots are NULL. */
	assert_null(ops.params);
	assert_null(ops.success);
	assert_int_equal(dq_env_open(&env, &ops, NULL, &f), 0);
	assert_int_equal(dq_env_success(env, &last, &ok), -ENOTSUP);
	assert_true(ok); /* untouched */
	dq_env_close(env);
}

static void
test_outcome_merge(void **state)
{
	dq_outcome o[3];
	dq_step a = {4, -1.0, false, false}, b = {7, 1.0, true, false};
	size_t n = 0;

	(void)state;
	n = dq_outcome_merge(o, n, 0.8, &a);
	n = dq_outcome_merge(o, n, 0.1, &b);
	n = dq_outcome_merge(o, n, 0.1, &a); /* same landing state: merged */
	assert_int_equal(n, 2);
	assert_int_equal(o[0].next_state, 4);
	assert_true(o[0].prob == 0.8 + 0.1 && o[0].reward == -1.0);
	assert_false(o[0].terminated);
	assert_int_equal(o[1].next_state, 7);
	assert_true(o[1].prob == 0.1 && o[1].terminated);
}

/*
 * A create that fails owns nothing: destroy is never called on what it
 * left in *inst, whichever agent's instance failed (the learner frees the
 * instances made before it, and only those).
 */
static void
test_failed_create_not_destroyed(void **state)
{
	struct fake f = fake_default();
	dq_env_ops ops = fake_ops();
	dq_env *env;
	dq_table_config tc;
	dq_table *t;
	dq_learner_config c;
	dq_learner *l = NULL;

	(void)state;
	assert_int_equal(dq_env_open(&env, &ops, NULL, &f), 0);
	dq_table_config_init(&tc);
	tc.n_states = f.spec.n_states;
	tc.n_actions = f.spec.n_actions;
	assert_int_equal(dq_table_create(&t, &tc), 0);
	dq_learner_config_init(&c);
	c.n_threads = 3;
	c.max_steps = 10;
	c.pin = DQ_PIN_NONE;
	for (int at = 1; at <= 3; at++) {
		f.created = f.destroyed = 0;
		poisoned_destroys = 0;
		f.create_fail_at = at;
		assert_int_equal(dq_learner_create(&l, t, env, &c), -ENOMEM);
		assert_int_equal(poisoned_destroys, 0);
		assert_int_equal(f.created, at - 1);
		assert_int_equal(f.destroyed, at - 1);
	}
	dq_table_destroy(t);
	dq_env_close(env);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_open_checks),
	    cmocka_unit_test(test_spec_name_model),
	    cmocka_unit_test(test_instances),
	    cmocka_unit_test(test_stateless_env),
	    cmocka_unit_test(test_set_state_and_alloc),
	    cmocka_unit_test(test_outcome_merge),
	    cmocka_unit_test(test_failed_create_not_destroyed),
	    cmocka_unit_test(test_ops_growth_keeps_layout),
	};

	return cmocka_run_group_tests_name("env", tests, NULL, NULL);
}
