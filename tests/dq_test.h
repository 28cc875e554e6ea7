/* Common includes for the cmocka suites. */
#ifndef DQ_TEST_H
#define DQ_TEST_H

#include <fnmatch.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "distq.h"

/* Scale for the concurrency stress tests: DQ_STRESS=N multiplies work. */
static inline unsigned long
dq_test_stress(void)
{
	const char *s = getenv("DQ_STRESS");
	unsigned long v = s ? strtoul(s, NULL, 10) : 1;

	return v ? v : 1;
}

/*
 * DQ_CONVERGE_STEPS=N caps the runs that prove learning (a run to the
 * exact optimum, a learnt value within a bound): they stop after at most
 * N steps and, when they stopped there, skip the assertion about what was
 * learnt. make check-asan and check-tsan set it: under a sanitizer these
 * runs check the same code (every rule, env and thread count, the target
 * checks) for memory errors and races within N steps, while the proof of
 * learning, which does not depend on the sanitizer, is the plain run's
 * (make test: unset, no cap). Returns 0 when unset (no cap).
 */
static inline uint64_t
dq_test_converge_steps(void)
{
	const char *s = getenv("DQ_CONVERGE_STEPS");

	return s ? strtoull(s, NULL, 10) : 0;
}

/* full, or DQ_CONVERGE_STEPS where that is set and smaller. */
static inline uint64_t
dq_test_converge_cap(uint64_t full)
{
	uint64_t cap = dq_test_converge_steps();

	return cap && cap < full ? cap : full;
}

/* A table for a test from the dq_table_config fields the suites set: S x
 * A, the given discipline, every entry q0, rows padded or not, @channels
 * channels (0 means 1) and visit counts or not; the other fields keep
 * dq_table_config_init()'s defaults. Fails the test when creation fails.
 * dq_test_table() and dq_test_table_ch() are its two common shapes. */
static inline dq_table *
dq_test_table_full(uint32_t s, uint32_t a, dq_mode mode, double q0, bool pad,
		   uint32_t channels, bool visits)
{
	dq_table_config c;
	dq_table *t = NULL;

	assert_int_equal(dq_table_config_init(&c), 0);
	c.n_states = s;
	c.n_actions = a;
	c.mode = mode;
	c.q0 = q0;
	c.pad_rows = pad;
	c.channels = channels;
	c.visit_counts = visits;
	assert_int_equal(dq_table_create(&t, &c), 0);
	assert_non_null(t);
	return t;
}

/* A table as dq_test_table_full() with one channel and no visit counts. */
static inline dq_table *
dq_test_table(uint32_t s, uint32_t a, dq_mode mode, double q0, bool pad)
{
	return dq_test_table_full(s, a, mode, q0, pad, 1, false);
}

/* A table as dq_test_table_full() (q0 0, rows not padded) with @channels
 * channels and visit counts or not. */
static inline dq_table *
dq_test_table_ch(uint32_t s, uint32_t a, dq_mode mode, uint32_t channels,
		 bool visits)
{
	return dq_test_table_full(s, a, mode, 0.0, false, channels, visits);
}

/* A learner for a test: its environment (name and spec), table and
 * learner. */
typedef struct dq_test_lr {
	const char *name; /* the environment's, as opened */
	dq_env *env;
	dq_env_spec sp;
	dq_table *t;
	dq_learner *l;
} dq_test_lr;

/* Opens environment @env_name, a table of its S x A (cas, every entry 0)
 * with @channels channels, and fills @c with dq_learner_config_init()'s
 * defaults; the caller sets its fields, then creates the learner
 * (dq_test_lr_run(), or dq_learner_create(&x->l, x->t, x->env, c) where
 * something must come between creating and running). Fails the test when
 * any step fails. */
static inline void
dq_test_lr_open(dq_test_lr *x, const char *env_name, uint32_t channels,
		dq_learner_config *c)
{
	memset(x, 0, sizeof(*x));
	x->name = env_name;
	assert_int_equal(dq_env_open_name(&x->env, env_name), 0);
	assert_int_equal(dq_env_spec_get(x->env, &x->sp), 0);
	x->t = dq_test_table_full(x->sp.n_states, x->sp.n_actions, DQ_MODE_CAS,
				  0.0, false, channels, false);
	assert_int_equal(dq_learner_config_init(c), 0);
}

/* dq_test_lr_open() for @rule: the table with the channels the rule needs
 * (dq_rule_channels()), and c->agent.rule set. */
static inline void
dq_test_lr_open_rule(dq_test_lr *x, const char *env_name, dq_rule rule,
		     dq_learner_config *c)
{
	uint32_t ch;

	assert_int_equal(dq_rule_channels(rule, &ch), 0);
	dq_test_lr_open(x, env_name, ch, c);
	c->agent.rule = rule;
}

/* Creates the learner of @c over x's table and environment and runs it
 * once (its result into *@r, which may be NULL); fails the test when
 * either call fails. */
static inline void
dq_test_lr_run(dq_test_lr *x, const dq_learner_config *c, dq_run_result *r)
{
	assert_int_equal(dq_learner_create(&x->l, x->t, x->env, c), 0);
	assert_int_equal(dq_learner_run(x->l, r), 0);
}

/* Frees the learner (when created), the table and the environment. */
static inline void
dq_test_lr_free(dq_test_lr *x)
{
	dq_learner_destroy(x->l);
	dq_table_destroy(x->t);
	dq_env_close(x->env);
}

/* A run that must reach the exact optimum: runs @c's learner (created
 * here) with @p agent threads under the learner's target check (exact:
 * value iteration's Q* and the greedy policy's value; target_fraction 1,
 * checked every millisecond, at most 60 s), its result into *@r, and
 * fails the test, naming the rule, the environment and P, unless that
 * check stopped it (DQ_STOP_TARGET); prints the steps it took. */
static inline void
dq_test_lr_run_to_target(dq_test_lr *x, dq_learner_config *c, uint32_t p,
			 dq_run_result *r)
{
	c->n_threads = p;
	c->max_seconds = 60;
	c->target_fraction = 1.0;
	c->target_interval = 0.001;
	dq_test_lr_run(x, c, r);
	if (r->reason != DQ_STOP_TARGET)
		fail_msg("%s on %s, P=%u: stopped by %d after %llu steps",
			 dq_rule_name(c->agent.rule), x->name, p,
			 (int)r->reason, (unsigned long long)r->total.steps);
	print_message("%s %s P=%u: %llu steps\n", dq_rule_name(c->agent.rule),
		      x->name, p, (unsigned long long)r->target_steps);
}

/* Entry (s, a) of channel 0 of @t; fails the test when dq_table_get()
 * does. */
static inline double
dq_test_q(const dq_table *t, uint32_t s, uint32_t a)
{
	double v;

	assert_int_equal(dq_table_get(t, s, a, &v), 0);
	return v;
}

/* Whether channel 0 of @t1 and @t2 (@t1's shape) holds the same values,
 * bit for bit (memcmp: -0.0 is not 0.0); false at the first difference. */
static inline bool
dq_test_same_q(const dq_table *t1, const dq_table *t2)
{
	dq_table_info i;

	assert_int_equal(dq_table_info_get(t1, &i), 0);
	for (uint32_t s = 0; s < i.n_states; s++)
		for (uint32_t a = 0; a < i.n_actions; a++) {
			double x1 = dq_test_q(t1, s, a),
			       x2 = dq_test_q(t2, s, a);

			if (memcmp(&x1, &x2, sizeof(x1)))
				return false;
		}
	return true;
}

/* A fresh scratch directory "$TMPDIR/PREFIX_XXXXXX" (/tmp when TMPDIR is
 * unset or 40 bytes or longer) into @dir (@cap bytes): 0, or -1 when it
 * cannot be made (a cmocka setup's return). */
static inline int
dq_test_scratch_dir(char *dir, size_t cap, const char *prefix)
{
	const char *base = getenv("TMPDIR");

	snprintf(dir, cap, "%s/%s_XXXXXX",
		 base && strlen(base) < 40 ? base : "/tmp", prefix);
	return mkdtemp(dir) ? 0 : -1;
}

/* "@dir/@name" into @buf (@cap bytes); fails the test when it does not
 * fit. */
static inline void
dq_test_path_in(char *buf, size_t cap, const char *dir, const char *name)
{
	int n = snprintf(buf, cap, "%s/%s", dir, name);

	assert_true(n > 0 && (size_t)n < cap);
}

/* Little-endian words of a checkpoint's bytes, as the format stores them
 * (docs/checkpoint-format.md), for the suites that edit files. */
static inline uint32_t
dq_test_get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static inline void
dq_test_put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* A whole file, malloc'ed (one spare byte); its length in *len. */
static inline unsigned char *
dq_test_slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf;
	long n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* DQ_TEST_FILTER: run only the tests whose name matches one of its
 * comma- or space-separated fnmatch(3) patterns ("test_cas_*,test_merge").
 * Unset or empty: every test. scripts/mutants.sh sets it from a mutant's
 * tests: field. Each suite's cmocka_run_group_tests(_name) call goes
 * through dq_test_run_group() (the macros below), so a new suite needs no
 * edit. A line "dq_test: DQ_TEST_FILTER selected N of M tests" on stdout
 * lets the script tell a filter that names no test from a survivor. */
static inline int
dq_test_filter_match(const char *filter, const char *name)
{
	char pat[256];
	const char *p = filter;

	while (*p) {
		size_t n = strcspn(p, ", \t");

		if (n > 0 && n < sizeof(pat)) {
			memcpy(pat, p, n);
			pat[n] = '\0';
			if (fnmatch(pat, name, 0) == 0)
				return 1;
		}
		p += n;
		p += strspn(p, ", \t");
	}
	return 0;
}

static inline int
dq_test_run_group(const char *group, const struct CMUnitTest *tests, size_t n,
		  CMFixtureFunction setup, CMFixtureFunction teardown)
{
	/* Not malloc'ed: test_faults wraps the allocator. */
	static struct CMUnitTest keep[1024];
	const char *filter = getenv("DQ_TEST_FILTER");
	size_t k = 0;

	if (!filter || !*filter)
		return _cmocka_run_group_tests(group, tests, n, setup,
					       teardown);
	if (n > sizeof(keep) / sizeof(keep[0])) {
		fprintf(stderr,
			"dq_test: %zu tests, DQ_TEST_FILTER takes "
			"1024 at most\n",
			n);
		return 1;
	}
	for (size_t i = 0; i < n; i++)
		if (dq_test_filter_match(filter, tests[i].name))
			keep[k++] = tests[i];
	printf("dq_test: DQ_TEST_FILTER selected %zu of %zu tests\n", k, n);
	fflush(stdout);
	return k ? _cmocka_run_group_tests(group, keep, k, setup, teardown) : 0;
}

#undef cmocka_run_group_tests
#define cmocka_run_group_tests(t, setup, teardown)                      \
	dq_test_run_group(#t, (t), sizeof(t) / sizeof((t)[0]), (setup), \
			  (teardown))
#undef cmocka_run_group_tests_name
#define cmocka_run_group_tests_name(name, t, setup, teardown)               \
	dq_test_run_group((name), (t), sizeof(t) / sizeof((t)[0]), (setup), \
			  (teardown))

#endif
