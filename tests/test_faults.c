/*
 * tests/test_faults.c - allocation failure at every allocation site of the
 * create, model and checkpoint paths.
 *
 * This test is linked with -Wl,--wrap=malloc,... (see TEST_LDFLAGS in the
 * Makefile), so every call to malloc, calloc, realloc, aligned_alloc,
 * posix_memalign and free made from this file or from libdistq.a's objects
 * lands in the __wrap_* functions below. Calls made inside shared
 * libraries (hwloc, zlib, libc itself) are not redirected: those
 * allocations are outside the library's code and outside this test.
 *
 * For each path the test fails allocation 1, then 2, then 3 ... of one
 * call, until a run makes fewer allocations than the one that was to fail:
 * that run succeeded without a fault, and every site has been hit. Every
 * faulted run must
 *
 *  - return -ENOMEM (a few paths absorb a failure on purpose and succeed:
 *    those are listed per path and checked to produce a usable object),
 *  - leave the caller's out-parameter, arrays and files as they were,
 *  - free everything it allocated before returning: the wrappers keep the
 *    set of live blocks allocated while armed, so the plain build checks
 *    for leaks as well as LeakSanitizer does in the ASan build.
 *
 * A learner's run allocates nothing, target checks included; one test
 * fails every allocation of a run and expects it to finish as usual
 * without asking for any.
 *
 * The machine's topology is loaded once per process and kept; it is
 * loaded before the sweeps (warm_up()) so that it does not count as a leak
 * of whichever path happens to load it. What a failure during that load
 * does is tested on its own, in child processes that start cold.
 */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dq_test.h"

/* ----------------------------------------------------------- wrappers -- */

void *__real_malloc(size_t size);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t size);
void *__real_aligned_alloc(size_t align, size_t size);
int __real_posix_memalign(void **p, size_t align, size_t size);
void __real_free(void *p);
void *__wrap_malloc(size_t size);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t size);
void *__wrap_aligned_alloc(size_t align, size_t size);
int __wrap_posix_memalign(void **p, size_t align, size_t size);
void __wrap_free(void *p);

#define LIVE_MAX 8192

/*
 * The injector's state. A mutex rather than atomics: the library may
 * allocate from helper threads (the solver's), and the bookkeeping of one
 * allocation must be one step. pthread_mutex_lock never allocates.
 */
static pthread_mutex_t fi_mu = PTHREAD_MUTEX_INITIALIZER;
static bool fi_armed;
static unsigned long fi_calls;	  /* allocations asked while armed */
static unsigned long fi_fail_at;  /* fail this one (1-based); 0 never */
static bool fi_fail_rest;	  /* and every one after it */
static unsigned long fi_injected; /* failures injected, whole run */
static bool fi_overflow;	  /* more live blocks than LIVE_MAX */
static void *fi_live[LIVE_MAX];	  /* blocks allocated while armed */
static size_t fi_n_live;

/* Called with fi_mu held: does this allocation fail? */
static bool
fi_fail_now(void)
{
	if (!fi_armed)
		return false;
	++fi_calls;
	if (!fi_fail_at || fi_calls < fi_fail_at ||
	    (fi_calls > fi_fail_at && !fi_fail_rest))
		return false;
	fi_injected++;
	return true;
}

/* Called with fi_mu held. */
static void
fi_track(void *p)
{
	if (!p || !fi_armed)
		return;
	if (fi_n_live == LIVE_MAX) {
		fi_overflow = true;
		return;
	}
	fi_live[fi_n_live++] = p;
}

/* Called with fi_mu held. */
static void
fi_untrack(void *p)
{
	for (size_t i = 0; p && i < fi_n_live; i++) {
		if (fi_live[i] == p) {
			fi_live[i] = fi_live[--fi_n_live];
			return;
		}
	}
}

void *
__wrap_malloc(size_t size)
{
	void *p = NULL;

	pthread_mutex_lock(&fi_mu);
	if (!fi_fail_now()) {
		p = __real_malloc(size);
		fi_track(p);
	}
	pthread_mutex_unlock(&fi_mu);
	return p;
}

void *
__wrap_calloc(size_t n, size_t size)
{
	void *p = NULL;

	pthread_mutex_lock(&fi_mu);
	if (!fi_fail_now()) {
		p = __real_calloc(n, size);
		fi_track(p);
	}
	pthread_mutex_unlock(&fi_mu);
	return p;
}

/* A failed realloc leaves the old block allocated and untouched. */
void *
__wrap_realloc(void *old, size_t size)
{
	void *p = NULL;

	pthread_mutex_lock(&fi_mu);
	if (!fi_fail_now()) {
		p = __real_realloc(old, size);
		if (p) {
			fi_untrack(old);
			fi_track(p);
		}
	}
	pthread_mutex_unlock(&fi_mu);
	return p;
}

void *
__wrap_aligned_alloc(size_t align, size_t size)
{
	void *p = NULL;

	pthread_mutex_lock(&fi_mu);
	if (!fi_fail_now()) {
		p = __real_aligned_alloc(align, size);
		fi_track(p);
	}
	pthread_mutex_unlock(&fi_mu);
	return p;
}

int
__wrap_posix_memalign(void **out, size_t align, size_t size)
{
	int err = ENOMEM;

	pthread_mutex_lock(&fi_mu);
	if (!fi_fail_now()) {
		err = __real_posix_memalign(out, align, size);
		if (!err)
			fi_track(*out);
	}
	pthread_mutex_unlock(&fi_mu);
	return err;
}

void
__wrap_free(void *p)
{
	pthread_mutex_lock(&fi_mu);
	fi_untrack(p);
	pthread_mutex_unlock(&fi_mu);
	__real_free(p);
}

/* Fail allocation @fail_at (0: none), and with @rest every later one. */
static void
fi_arm_rest(unsigned long fail_at, bool rest)
{
	pthread_mutex_lock(&fi_mu);
	fi_calls = 0;
	fi_fail_at = fail_at;
	fi_fail_rest = rest;
	fi_armed = true;
	pthread_mutex_unlock(&fi_mu);
}

static void
fi_arm(unsigned long fail_at)
{
	pthread_mutex_lock(&fi_mu);
	fi_calls = 0;
	fi_fail_at = fail_at;
	fi_fail_rest = false;
	fi_armed = true;
	pthread_mutex_unlock(&fi_mu);
}

/* Stop injecting; returns the allocations asked while armed. */
static unsigned long
fi_disarm(void)
{
	unsigned long n;

	pthread_mutex_lock(&fi_mu);
	fi_armed = false;
	n = fi_calls;
	pthread_mutex_unlock(&fi_mu);
	return n;
}

/* Blocks allocated while armed and not yet freed. */
static size_t
fi_live_count(void)
{
	bool overflow;
	size_t n;

	pthread_mutex_lock(&fi_mu);
	n = fi_n_live;
	overflow = fi_overflow;
	pthread_mutex_unlock(&fi_mu);
	assert_false(overflow);
	return n;
}

/* ------------------------------------------------------------ driver -- */

/* Out-parameters start as this; a failed call must leave it. */
#define UNTOUCHED ((void *)0x1)

/*
 * One path under test. call() makes the one library call whose
 * allocations are failed (it runs armed); after() runs disarmed, checks
 * what the call left behind, given its result, and frees any object it
 * made. @absorbs: allocation failures this path may survive by design.
 */
struct fi_path {
	const char *name;
	int (*call)(void *ctx);
	void (*after)(void *ctx, int err);
	void *ctx;
	unsigned long absorbs;
};

static unsigned long total_sites, total_paths;

static void
sweep(const struct fi_path *p)
{
	unsigned long k, calls, absorbed = 0;
	int err;

	for (k = 1;; k++) {
		assert_int_equal(fi_live_count(), 0);
		fi_arm(k);
		err = p->call(p->ctx);
		calls = fi_disarm();
		if (calls < k) {
			/* Nothing was failed: the path succeeds. */
			if (err != 0)
				fail_msg("%s: %s without a fault", p->name,
					 dq_strerror(err));
			p->after(p->ctx, err);
			assert_int_equal(fi_live_count(), 0);
			break;
		}
		if (err == 0) {
			/* The failure was absorbed; the result must still be
			 * whole (after() checks it) and freed in full. */
			absorbed++;
			p->after(p->ctx, err);
			assert_int_equal(fi_live_count(), 0);
			continue;
		}
		if (err != -ENOMEM)
			fail_msg("%s: allocation %lu failed: %s, not -ENOMEM",
				 p->name, k, dq_strerror(err));
		if (fi_live_count() != 0)
			fail_msg("%s: allocation %lu failed: %zu blocks leaked",
				 p->name, k, fi_live_count());
		p->after(p->ctx, err);
		assert_int_equal(fi_live_count(), 0);
	}
	if (absorbed > p->absorbs)
		fail_msg("%s: %lu failures absorbed, %lu expected", p->name,
			 absorbed, p->absorbs);
	print_message("  %-50s %3lu allocations, %lu absorbed\n", p->name,
		      k - 1, absorbed);
	total_sites += k - 1;
	total_paths++;
}

/*
 * The topology is read on first use and kept until exit; read it before
 * any sweep, outside any armed window.
 */
static void
warm_up(void)
{
	assert_true(dq_cores() >= 1);
}

/* ------------------------------------------------------------- tables -- */

struct table_ctx {
	dq_table_config cfg;
	dq_table *out;
};

static int
table_call(void *arg)
{
	struct table_ctx *c = arg;

	c->out = UNTOUCHED;
	return dq_table_create(&c->out, &c->cfg);
}

static void
table_after(void *arg, int err)
{
	struct table_ctx *c = arg;
	double v;

	if (err) {
		assert_ptr_equal(c->out, UNTOUCHED);
		return;
	}
	assert_int_equal(dq_table_update(c->out, 1, 1, 0.5, 3.0), 0);
	assert_int_equal(dq_table_get(c->out, 1, 1, &v), 0);
	assert_true(v == 1.5);
	dq_table_destroy(c->out);
}

static void
test_table_create(void **state)
{
	static const char *const names[] = {"cas", "hogwild", "locked"};
	struct table_ctx c;
	char name[64];

	(void)state;
	warm_up();
	for (int mode = 0; mode < 3; mode++) {
		for (int pad = 0; pad < 2; pad++) {
			struct fi_path p = {name, table_call, table_after, &c,
					    0};

			dq_table_config_init(&c.cfg);
			c.cfg.n_states = 7;
			c.cfg.n_actions = 5;
			c.cfg.mode = (dq_mode)mode;
			c.cfg.pad_rows = pad;
			snprintf(name, sizeof(name), "dq_table_create %s%s",
				 names[mode], pad ? " pad_rows" : "");
			sweep(&p);
		}
	}
}

/* ------------------------------------------------------- environments -- */

struct env_ctx {
	const char *spec;
	dq_env *out;
	const dq_env *env;
	dq_env_instance *inst;
};

static int
env_call(void *arg)
{
	struct env_ctx *c = arg;

	c->out = UNTOUCHED;
	return dq_env_open_name(&c->out, c->spec);
}

static void
env_after(void *arg, int err)
{
	struct env_ctx *c = arg;
	dq_env_spec spec;

	if (err) {
		assert_ptr_equal(c->out, UNTOUCHED);
		return;
	}
	assert_int_equal(dq_env_spec_get(c->out, &spec), 0);
	assert_true(spec.n_states > 0 && spec.n_actions > 0);
	dq_env_close(c->out);
}

static int
inst_call(void *arg)
{
	struct env_ctx *c = arg;

	c->inst = UNTOUCHED;
	return dq_env_instance_create(c->env, &c->inst);
}

static void
inst_after(void *arg, int err)
{
	struct env_ctx *c = arg;
	dq_rng rng;
	uint32_t s;

	if (err) {
		assert_ptr_equal(c->inst, UNTOUCHED);
		return;
	}
	dq_rng_seed(&rng, 1, 0);
	assert_int_equal(dq_env_instance_reset(c->inst, &rng, &s), 0);
	dq_env_instance_destroy(c->inst);
}

static void
test_env_open(void **state)
{
	const dq_env_ops *ops[32];
	char name[64];
	int n;

	(void)state;
	warm_up();
	n = dq_env_builtins(ops, 32);
	assert_true(n > 0 && n <= 32);
	for (int i = 0; i < n; i++) {
		struct env_ctx c = {ops[i]->name, NULL, NULL, NULL};
		struct fi_path p = {name, env_call, env_after, &c, 0};
		dq_env *env;

		snprintf(name, sizeof(name), "dq_env_open_name %s",
			 ops[i]->name);
		sweep(&p);

		assert_int_equal(dq_env_open_name(&env, ops[i]->name), 0);
		c.env = env;
		p.call = inst_call;
		p.after = inst_after;
		snprintf(name, sizeof(name), "dq_env_instance_create %s",
			 ops[i]->name);
		sweep(&p);
		dq_env_close(env);
	}
}

/* -------------------------------------------------------------- agents -- */

struct agent_ctx {
	dq_table *table;
	dq_agent_config cfg;
	dq_agent *out;
};

static int
agent_call(void *arg)
{
	struct agent_ctx *c = arg;

	c->out = UNTOUCHED;
	return dq_agent_create(&c->out, c->table, &c->cfg);
}

static void
agent_after(void *arg, int err)
{
	struct agent_ctx *c = arg;
	uint32_t a;

	if (err) {
		assert_ptr_equal(c->out, UNTOUCHED);
		return;
	}
	assert_int_equal(dq_agent_act(c->out, 3, &a), 0);
	assert_int_equal(dq_agent_observe(c->out, 3, a, 1.0, 4, false), 0);
	assert_int_equal(dq_agent_sync(c->out), 0);
	dq_agent_destroy(c->out);
}

static void
test_agent_create(void **state)
{
	struct agent_ctx c;
	struct fi_path p = {NULL, agent_call, agent_after, &c, 0};

	(void)state;
	warm_up();
	c.table = dq_test_table(11, 4, DQ_MODE_CAS, 0.0, false);
	dq_agent_config_init(&c.cfg);
	p.name = "dq_agent_create";
	sweep(&p);
	c.cfg.sync_every = 64;
	p.name = "dq_agent_create sync_every=64 (replica)";
	sweep(&p);
	dq_table_destroy(c.table);
}

/* ------------------------------------------------------------ learners -- */

struct learner_ctx {
	dq_table *table;
	dq_env *env;
	dq_learner_config cfg;
	dq_learner *out;
};

static int
learner_call(void *arg)
{
	struct learner_ctx *c = arg;

	c->out = UNTOUCHED;
	return dq_learner_create(&c->out, c->table, c->env, &c->cfg);
}

static void
learner_after(void *arg, int err)
{
	struct learner_ctx *c = arg;
	dq_run_result r;

	if (err) {
		assert_ptr_equal(c->out, UNTOUCHED);
		return;
	}
	/* A learner made under pressure runs like any other. */
	assert_int_equal(dq_learner_run(c->out, &r), 0);
	assert_true(r.total.steps > 0);
	dq_learner_destroy(c->out);
}

static void
test_learner_create(void **state)
{
	static const unsigned pu0[] = {0};
	struct learner_ctx c;
	struct fi_path p = {NULL, learner_call, learner_after, &c, 0};
	dq_env_spec spec;

	(void)state;
	warm_up();
	assert_int_equal(dq_env_open_name(&c.env, "maze4x3"), 0);
	dq_env_spec_get(c.env, &spec);
	c.table = dq_test_table(spec.n_states, spec.n_actions, DQ_MODE_CAS, 0.0,
				false);

	dq_learner_config_init(&c.cfg);
	c.cfg.n_threads = 3;
	c.cfg.max_steps = 3000;
	c.cfg.pin = DQ_PIN_NONE;
	p.name = "dq_learner_create P=3 unpinned";
	sweep(&p);

	c.cfg.pin = DQ_PIN_CORES;
	p.name = "dq_learner_create P=3 pinned to cores";
	sweep(&p);

	c.cfg.pin = DQ_PIN_LIST;
	c.cfg.pin_pus = pu0;
	c.cfg.n_pin_pus = 1;
	p.name = "dq_learner_create P=3 pinned to PU 0";
	sweep(&p);

	/* target_fraction builds the model and solves it at creation; the
	 * model's final shrinking realloc may fail harmlessly (twice). */
	c.cfg.pin = DQ_PIN_NONE;
	c.cfg.target_fraction = 1.0;
	c.cfg.agent.sync_every = 16;
	p.name = "dq_learner_create target_fraction, replica";
	p.absorbs = 2;
	sweep(&p);

	dq_table_destroy(c.table);
	dq_env_close(c.env);
}

/*
 * A run allocates nothing, target checks included (their buffers are the
 * learner's, from dq_learner_create): with every allocation failing, a run
 * with target checks behaves as usual, measures its policy, and asks for
 * no memory at all.
 */
static void
test_learner_run_no_memory(void **state)
{
	dq_env *env;
	dq_env_spec spec;
	dq_table *t;
	dq_learner_config lc;
	dq_learner *l;
	dq_run_result r;
	unsigned long calls;
	int err;

	(void)state;
	warm_up();
	assert_int_equal(dq_env_open_name(&env, "maze4x3"), 0);
	dq_env_spec_get(env, &spec);
	t = dq_test_table(spec.n_states, spec.n_actions, DQ_MODE_CAS, 0.0,
			  false);
	dq_learner_config_init(&lc);
	lc.n_threads = 2;
	lc.pin = DQ_PIN_NONE;
	lc.max_steps = 200000;
	lc.target_fraction = 1.0;
	lc.target_interval = 1e-4;
	assert_int_equal(dq_learner_create(&l, t, env, &lc), 0);
	fi_arm_rest(1, true);
	err = dq_learner_run(l, &r);
	calls = fi_disarm();
	assert_int_equal(err, 0);
	assert_true(r.reason == DQ_STOP_TARGET || r.reason == DQ_STOP_STEPS);
	assert_true(r.total.steps <= 200000);
	assert_true(r.target_fraction >= 0.0 && r.target_fraction <= 1.0);
	if (r.reason == DQ_STOP_TARGET)
		assert_true(r.target_steps <= r.total.steps);
	assert_int_equal(calls, 0);
	assert_int_equal(fi_live_count(), 0);
	print_message("  %-50s %3lu allocations\n",
		      "dq_learner_run target_fraction", calls);
	total_paths++;
	dq_learner_destroy(l);
	dq_table_destroy(t);
	dq_env_close(env);
}

/* -------------------------------------------------------------- models -- */

#define MODEL_MAX_S 64
#define MODEL_MAX_A 4

struct model_ctx {
	const dq_env *env;
	dq_model *model; /* for the solver paths */
	dq_model *out;
	dq_solve_config cfg;
	uint32_t n_states, n_actions;
	double q[MODEL_MAX_S * MODEL_MAX_A];
	double v[MODEL_MAX_S];
	uint32_t policy[MODEL_MAX_S];
	double start_value;
	double frac;
};

static int
model_call(void *arg)
{
	struct model_ctx *c = arg;

	c->out = UNTOUCHED;
	return dq_model_create(&c->out, c->env);
}

static void
model_after(void *arg, int err)
{
	struct model_ctx *c = arg;
	uint32_t s, a;

	if (err) {
		assert_ptr_equal(c->out, UNTOUCHED);
		return;
	}
	assert_int_equal(dq_model_shape(c->out, &s, &a), 0);
	assert_true(s == c->n_states && a == c->n_actions);
	/* A model whose shrinking failed solves like any other. */
	assert_int_equal(
	    dq_model_solve(c->out, &c->cfg, NULL, 0, NULL, 0, NULL, 0, NULL),
	    0);
	dq_model_destroy(c->out);
}

/* Fill the outputs with a pattern a failed call must leave. */
static void
model_outputs_poison(struct model_ctx *c)
{
	memset(c->q, 0x5a, sizeof(c->q));
	memset(c->v, 0x5a, sizeof(c->v));
	memset(&c->start_value, 0x5a, sizeof(c->start_value));
	memset(&c->frac, 0x5a, sizeof(c->frac));
}

static bool
model_outputs_poisoned(const struct model_ctx *c)
{
	const unsigned char *p[] = {(const void *)c->q, (const void *)c->v,
				    (const void *)&c->start_value,
				    (const void *)&c->frac};
	const size_t n[] = {sizeof(c->q), sizeof(c->v), sizeof(c->start_value),
			    sizeof(c->frac)};

	for (int k = 0; k < 4; k++)
		for (size_t i = 0; i < n[k]; i++)
			if (p[k][i] != 0x5a)
				return false;
	return true;
}

static int
solve_call(void *arg)
{
	struct model_ctx *c = arg;
	size_t nq = (size_t)c->n_states * c->n_actions;

	model_outputs_poison(c);
	return dq_model_solve(c->model, &c->cfg, c->q, nq, c->v, c->n_states,
			      c->policy, c->n_states, NULL);
}

static int
evaluate_call(void *arg)
{
	struct model_ctx *c = arg;

	model_outputs_poison(c);
	return dq_model_evaluate(c->model, &c->cfg, c->policy, c->n_states,
				 c->v, c->n_states, &c->start_value, NULL);
}

static int
check_call(void *arg)
{
	struct model_ctx *c = arg;
	size_t nq = (size_t)c->n_states * c->n_actions;
	int err;

	model_outputs_poison(c);
	err =
	    dq_model_solve(c->model, &c->cfg, c->q, nq, NULL, 0, NULL, 0, NULL);
	if (err < 0)
		return err;
	/* Only the check's own allocations may fail from here: the solve
	 * above has already made its allocations, in a separate sweep. */
	memset(&c->frac, 0x5a, sizeof(c->frac));
	return dq_model_check_policy(c->model, c->q, nq, c->policy, c->n_states,
				     1e-9, &c->frac);
}

/* Success is 0; it is judged by the numbers too. */
static void
solver_after(void *arg, int err)
{
	struct model_ctx *c = arg;

	if (err < 0) {
		assert_true(model_outputs_poisoned(c));
		return;
	}
	for (uint32_t s = 0; s < c->n_states; s++)
		assert_true(isfinite(c->v[s]));
}

/* The solver under test; it returns 0 or an error, as sweep() wants. */
static int (*solver_fn)(void *);

static int
solver_call(void *arg)
{
	return solver_fn(arg);
}

static void
check_after(void *arg, int err)
{
	struct model_ctx *c = arg;

	if (err < 0) {
		double f;

		memset(&f, 0x5a, sizeof(f));
		assert_memory_equal(&c->frac, &f, sizeof(f));
		return;
	}
	/* The policy is optimal: it came from dq_model_solve(). */
	assert_true(c->frac == 1.0);
}

static void
test_model(void **state)
{
	static const char *const envs[] = {"maze4x3", "frozenlake4x4",
					   "cliffwalking"};
	char name[80];

	(void)state;
	warm_up();
	for (size_t e = 0; e < sizeof(envs) / sizeof(envs[0]); e++) {
		struct model_ctx *c = calloc(1, sizeof(*c));
		struct fi_path p = {name, model_call, model_after, NULL, 2};
		dq_env *env;
		dq_env_spec spec;

		assert_non_null(c);
		p.ctx = c;
		assert_int_equal(dq_env_open_name(&env, envs[e]), 0);
		dq_env_spec_get(env, &spec);
		assert_true(spec.n_states <= MODEL_MAX_S &&
			    spec.n_actions <= MODEL_MAX_A);
		c->env = env;
		c->n_states = spec.n_states;
		c->n_actions = spec.n_actions;
		dq_solve_config_init(&c->cfg);
		snprintf(name, sizeof(name), "dq_model_create %s", envs[e]);
		sweep(&p);

		assert_int_equal(dq_model_create(&c->model, env), 0);
		p.absorbs = 0;
		p.call = solver_call;
		p.after = solver_after;
		solver_fn = solve_call;
		snprintf(name, sizeof(name), "dq_model_solve %s", envs[e]);
		sweep(&p);
		/* c->policy now holds an optimal policy. */
		solver_fn = evaluate_call;
		snprintf(name, sizeof(name), "dq_model_evaluate %s", envs[e]);
		sweep(&p);
		solver_fn = check_call;
		p.after = check_after;
		snprintf(name, sizeof(name),
			 "dq_model_check_policy %s (with a solve)", envs[e]);
		sweep(&p);
		dq_model_destroy(c->model);
		dq_env_close(env);
		free(c);
	}
}

/* --------------------------------------------------------- checkpoints -- */

static char dir[64];

struct ckp_ctx {
	char path[128];
	dq_table *table; /* saved, or loaded into */
	dq_checkpoint_meta meta;
	unsigned char *ref; /* the file at path before the call */
	size_t ref_len;
	dq_agent_state agents[3]; /* saved with the reference file */
	uint32_t n_agents;	  /* saved by the call (save_run) */
	dq_agent_state got[3];	  /* load_run's output */
	int how;		  /* 0 read_meta, 1 load, 2 load_run */
};

static int
temp_files(void)
{
	DIR *dp = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(dp);
	while ((e = readdir(dp)))
		if (strstr(e->d_name, ".tmp."))
			n++;
	closedir(dp);
	return n;
}

static bool
file_is_ref(const struct ckp_ctx *c)
{
	size_t len;
	unsigned char *b = dq_test_slurp(c->path, &len);
	bool same = len == c->ref_len && memcmp(b, c->ref, len) == 0;

	free(b);
	return same;
}

static int
save_call(void *arg)
{
	struct ckp_ctx *c = arg;

	if (c->n_agents)
		return dq_checkpoint_save_run(c->path, c->table, &c->meta,
					      c->agents, c->n_agents);
	return dq_checkpoint_save(c->path, c->table, &c->meta);
}

static void
save_after(void *arg, int err)
{
	struct ckp_ctx *c = arg;
	dq_checkpoint_meta m;

	assert_int_equal(temp_files(), 0);
	if (err) {
		/* The previous file is intact. */
		assert_true(file_is_ref(c));
		return;
	}
	assert_int_equal(dq_checkpoint_read_meta(c->path, &m), 0);
	assert_int_equal(m.steps, c->meta.steps);
	assert_int_equal(m.n_agents, c->n_agents);
	/* Put the reference file back for the next run. */
	{
		FILE *f = fopen(c->path, "wb");

		assert_non_null(f);
		assert_int_equal(fwrite(c->ref, 1, c->ref_len, f), c->ref_len);
		assert_int_equal(fclose(f), 0);
	}
}

static dq_checkpoint_meta ckp_fresh;

static int
load_call(void *arg)
{
	struct ckp_ctx *c = arg;

	int err;

	memset(&c->meta, 0xa5, sizeof(c->meta));
	memset(c->got, 0xa5, sizeof(c->got));
	if (c->how == 0)
		return dq_checkpoint_read_meta(c->path, &c->meta);
	if (c->how == 1)
		return dq_checkpoint_load(c->path, c->table, &c->meta);
	err = dq_checkpoint_load_run(c->path, c->table, &c->meta, c->got, 3);
	/* The count of agents is checked here. */
	return err ? err : c->meta.n_agents == 3 ? 0 : -EPROTO;
}

static void
load_after(void *arg, int err)
{
	struct ckp_ctx *c = arg;
	double snap[11 * 4];

	assert_int_equal(dq_table_snapshot(c->table, snap, 11 * 4), 0);
	if (err) {
		unsigned char fresh[sizeof(c->got)];

		memset(fresh, 0xa5, sizeof(fresh));
		assert_memory_equal(&c->meta, &ckp_fresh, sizeof(c->meta));
		assert_memory_equal(c->got, fresh, sizeof(fresh));
		for (int i = 0; i < 11 * 4; i++)
			assert_true(snap[i] == -3.0);
		return;
	}
	assert_int_equal(c->meta.n_states, 11);
	assert_int_equal(c->meta.n_agents, 3);
	if (c->how == 2)
		assert_memory_equal(c->got, c->agents, sizeof(c->got));
	if (c->how > 0) {
		for (int i = 0; i < 11 * 4; i++)
			assert_true(snap[i] == (double)i);
		dq_table_fill(c->table, -3.0);
	}
}

static void
test_checkpoint(void **state)
{
	struct ckp_ctx c;
	struct fi_path p = {NULL, save_call, save_after, &c, 0};
	dq_table *saved;

	(void)state;
	warm_up();
	assert_int_equal(dq_test_scratch_dir(dir, sizeof(dir), "dq_faults"), 0);
	memset(&c, 0, sizeof(c));
	snprintf(c.path, sizeof(c.path), "%s/f.ckp", dir);

	/* A reference file that failed saves must leave alone. */
	saved = dq_test_table(11, 4, DQ_MODE_CAS, 0.0, false);
	for (int i = 0; i < 11 * 4; i++)
		dq_table_set(saved, (uint32_t)i / 4, (uint32_t)i % 4,
			     (double)i);
	strcpy(c.meta.env, "maze4x3");
	c.meta.gamma = 0.95;
	c.meta.steps = 1;
	c.table = saved;
	for (uint32_t i = 0; i < 3; i++) {
		dq_rng_seed(&c.agents[i].rng, 9, i);
		c.agents[i].alpha_clock = c.agents[i].epsilon_clock = 10.0;
		c.agents[i].steps = 5;
	}
	assert_int_equal(
	    dq_checkpoint_save_run(c.path, saved, &c.meta, c.agents, 3), 0);
	c.ref = dq_test_slurp(c.path, &c.ref_len);

	c.meta.steps = 2; /* what a successful save writes instead */
	p.name = "dq_checkpoint_save";
	sweep(&p);
	c.n_agents = 3;
	p.name = "dq_checkpoint_save_run 3 agents";
	sweep(&p);

	memset(&ckp_fresh, 0xa5, sizeof(ckp_fresh));
	c.table = dq_test_table(11, 4, DQ_MODE_CAS, 0.0, false);
	dq_table_fill(c.table, -3.0);
	p.call = load_call;
	p.after = load_after;
	p.name = "dq_checkpoint_read_meta";
	sweep(&p);
	c.how = 1;
	p.name = "dq_checkpoint_load";
	sweep(&p);
	c.how = 2;
	p.name = "dq_checkpoint_load_run 3 agents";
	sweep(&p);

	dq_table_destroy(c.table);
	dq_table_destroy(saved);
	free(c.ref);
	unlink(c.path);
	rmdir(dir);
}

/* ----------------------------------------------- the topology's load -- */

/*
 * The first table creation of a process reads the machine's topology
 * (hwloc) and keeps it for the process's life. An allocation failing
 * during that read must not fail the table: the library carries on
 * without a topology, as it does when hwloc cannot read the machine, and
 * uses plain aligned memory. Each k needs a process whose topology is still
 * unread: a child forked before this process read it (this test runs
 * first). The child reports through a pipe.
 */
struct topo_report {
	int err;	     /* dq_table_create's result */
	int untouched;	     /* *out left alone on failure */
	int topo;	     /* the topology was read (a plan pins to PU 0) */
	unsigned long calls; /* allocations asked while armed */
	size_t live;	     /* blocks of the armed window still allocated */
};

/* Whether this process has a topology: only then is a PU list planned. */
static int
topo_present(void)
{
	static const unsigned pu0[] = {0};
	dq_env *env;
	dq_env_spec spec;
	dq_table *t;
	dq_learner_config lc;
	dq_learner *l;
	unsigned pus[4];
	int n = -1;

	if (dq_env_open_name(&env, "maze4x3"))
		return -1;
	dq_env_spec_get(env, &spec);
	dq_learner_config_init(&lc);
	lc.max_steps = 1;
	lc.pin = DQ_PIN_LIST;
	lc.pin_pus = pu0;
	lc.n_pin_pus = 1;
	t = dq_test_table(spec.n_states, spec.n_actions, DQ_MODE_CAS, 0.0,
			  false);
	if (dq_learner_create(&l, t, env, &lc) == 0) {
		n = dq_learner_agent_cpus(l, 0, pus, 4);
		dq_learner_destroy(l);
	}
	dq_table_destroy(t);
	dq_env_close(env);
	return n;
}

static void
topo_child(unsigned long k, int fd)
{
	struct topo_report r;
	dq_table_config tc;
	dq_table *t = UNTOUCHED;

	memset(&r, 0, sizeof(r));
	dq_table_config_init(&tc);
	tc.n_states = 3;
	tc.n_actions = 2;
	fi_arm(k);
	r.err = dq_table_create(&t, &tc);
	r.calls = fi_disarm();
	r.untouched = t == UNTOUCHED;
	if (!r.err) {
		r.err = dq_table_update(t, 2, 1, 1.0, 4.0) < 0 ? -EIO : 0;
		dq_table_destroy(t);
	}
	pthread_mutex_lock(&fi_mu);
	r.live = fi_n_live;
	pthread_mutex_unlock(&fi_mu);
	r.topo = topo_present();
	_exit(write(fd, &r, sizeof(r)) == (ssize_t)sizeof(r) ? 0 : 1);
}

static void
topo_run(unsigned long k, struct topo_report *r)
{
	int fds[2], status;
	pid_t pid;

	assert_int_equal(pipe(fds), 0);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		topo_child(k, fds[1]);
	}
	close(fds[1]);
	assert_int_equal(read(fds[0], r, sizeof(*r)), (ssize_t)sizeof(*r));
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void
test_topology_load(void **state)
{
	struct topo_report base, r;
	unsigned long k, absorbed = 0, refused = 0;

	(void)state;
	/* Without a fault: what the kept topology holds. */
	topo_run(0, &base);
	assert_int_equal(base.err, 0);
	assert_int_equal(base.topo, 1);
	for (k = 1; k <= base.calls; k++) {
		topo_run(k, &r);
		assert_true(r.calls >= k);
		if (r.err == 0) {
			absorbed++;
			/* Absorbed: only a failed topology read is, and the
			 * next call (topo_present(), disarmed) reads it. */
			assert_int_equal(r.topo, 1);
		} else {
			refused++;
			if (r.err != -ENOMEM)
				fail_msg("first dq_table_create, allocation "
					 "%lu failed: %s",
					 k, dq_strerror(r.err));
			assert_true(r.untouched);
		}
		/* Nothing leaks: what stays is the kept topology, if it
		 * was read in the armed window (a refused call may fail
		 * before or after reading it). */
		if (r.live != 0 && (r.err == 0 || r.live != base.live))
			fail_msg("first dq_table_create, allocation %lu failed:"
				 " %zu blocks left, topology %d",
				 k, r.live, r.topo);
	}
	print_message("  %-50s %3lu allocations, %lu absorbed\n",
		      "first dq_table_create (reads the topology)", k - 1,
		      absorbed);
	/* Only the table's own allocations may fail the call. */
	assert_true(refused <= 2);
	fi_injected += absorbed + refused; /* made in the children */
	total_sites += k - 1;
	total_paths++;
}

static void
test_summary(void **state)
{
	(void)state;
	print_message("faults: %lu paths, %lu allocation sites, %lu failures "
		      "injected\n",
		      total_paths, total_sites, fi_injected);
	assert_true(total_paths > 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_topology_load),
	    cmocka_unit_test(test_table_create),
	    cmocka_unit_test(test_env_open),
	    cmocka_unit_test(test_agent_create),
	    cmocka_unit_test(test_learner_create),
	    cmocka_unit_test(test_learner_run_no_memory),
	    cmocka_unit_test(test_model),
	    cmocka_unit_test(test_checkpoint),
	    cmocka_unit_test(test_summary),
	};

	return cmocka_run_group_tests_name("faults", tests, NULL, NULL);
}
