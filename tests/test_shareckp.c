/*
 * Checkpoints of a learner under a sync policy (lib/shareckp.c, the
 * section CKP_TAG_CRITICAL | 7): a resume continues exactly as one
 * straight run (DistQL ALL and Partial, averaging), every agent's local
 * side travels (P = 2: a load and a save give the same file, byte for
 * byte), a resume with another policy or other parameters is refused
 * naming what differs, and local tables too large for a header are
 * refused with -ERANGE.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dq_test.h"
#include "agent.h"
#include "internal.h"
#include "share.h"

static char dir[64];

static void
meta_fill(dq_checkpoint_meta *m, const char *env)
{
	memset(m, 0, sizeof(*m));
	snprintf(m->env, sizeof(m->env), "%s", env);
	m->mode = DQ_MODE_CAS;
	m->gamma = 0.9;
	m->alpha = 0.1;
	m->epsilon = 0.1;
	m->seed = 7;
}

struct lrn {
	dq_env *env;
	dq_table *t;
	dq_learner *l;
};

/* A learner of @p agents on @env under policy @spec (NULL: none), on a
 * table of @channels (0: what the policy needs), @steps per run. */
static void
lrn_make(struct lrn *x, const char *env, const char *spec, uint32_t p,
	 uint32_t channels, double omega, uint64_t steps)
{
	dq_learner_config c;
	dq_table_config tc;
	dq_env_spec sp;

	dq_learner_config_init(&c);
	if (spec)
		assert_int_equal(dq_share_parse(spec, &c.share), 0);
	assert_int_equal(dq_env_open_name(&x->env, env), 0);
	assert_int_equal(dq_env_spec_get(x->env, &sp), 0);
	dq_table_config_init(&tc);
	tc.n_states = sp.n_states;
	tc.n_actions = sp.n_actions;
	tc.channels =
	    channels ? channels : 1 + (c.share.kind == DQ_SHARE_DISTQL);
	tc.visit_counts = omega > 0.0;
	assert_int_equal(dq_table_create(&x->t, &tc), 0);
	c.n_threads = p;
	c.max_steps = steps;
	c.pin = DQ_PIN_NONE;
	c.agent.seed = 7;
	c.agent.omega = omega;
	c.agent.gamma = 0.9;
	assert_int_equal(dq_learner_create(&x->l, x->t, x->env, &c), 0);
}

static void
lrn_free(struct lrn *x)
{
	dq_learner_destroy(x->l);
	dq_table_destroy(x->t);
	dq_env_close(x->env);
}

static void
lrn_run(struct lrn *x, dq_run_result *r)
{
	dq_run_result tmp;

	assert_int_equal(dq_learner_run(x->l, r ? r : &tmp), 0);
}

/* Two tables of one layout hold the same words: values and counts. */
static void
words_equal(const dq_table *t1, const dq_table *t2)
{
	assert_int_equal(t1->n_states, t2->n_states);
	assert_int_equal(t1->width, t2->width);
	assert_int_equal(t1->visit_counts, t2->visit_counts);
	for (uint32_t s = 0; s < t1->n_states; s++) {
		const uint32_t w =
		    t1->width + (t1->visit_counts ? t1->n_actions : 0);

		assert_memory_equal((const void *)dq__table_row(t1, s),
				    (const void *)dq__table_row(t2, s),
				    w * sizeof(uint64_t));
	}
}

/* Agent i of the two learners: state, local table, push bookkeeping. */
static void
agents_equal(const dq_learner *l1, const dq_learner *l2, uint32_t i)
{
	const dq__share *a = dq__learner_agent(l1, i)->share;
	const dq__share *b = dq__learner_agent(l2, i)->share;
	const size_t sa = (size_t)a->local->n_states * a->local->n_actions;
	dq_agent_state s1, s2;

	assert_int_equal(dq_learner_agent_state(l1, i, &s1), 0);
	assert_int_equal(dq_learner_agent_state(l2, i, &s2), 0);
	assert_memory_equal(&s1, &s2, sizeof(s1));
	words_equal(a->local, b->local);
	assert_true(a->pushes == b->pushes && a->entries == b->entries);
	if (a->n_push)
		assert_memory_equal(a->n_push, b->n_push,
				    sa * sizeof(uint64_t));
	else
		assert_memory_equal(a->base, b->base,
				    sa * a->local->channels * sizeof(double));
}

/*
 * A runs twice; B runs once and is saved; C, a new learner on a new
 * table, is restored from the file and runs once: C's table (eta_c in
 * channel 1 included), its agent's state, local table, per-entry counts
 * (eta_i) and counts at the last push are A's, bit for bit, and its run
 * pushed what A's second run pushed. Runs of several lengths stop inside
 * an episode and inside a tau round.
 */
static void
test_resume_exact(void **state)
{
	static const struct {
		const char *env, *spec;
		double omega;
		uint64_t steps;
	} cases[] = {
	    {"maze4x3", "distql", 0.0, 3001},
	    {"maze4x3", "distql:tau=3:partial", 0.0, 2003},
	    {"taxi", "distql:tau=10", 0.0, 20011},
	    {"taxi", "distql:tau=7:partial:eta=0.3:decay=0.99", 0.0, 15013},
	    {"cliffwalking", "distql:tau=2", 0.0, 157},
	    {"maze4x3", "average:steps=100", 0.0, 3001},
	    {"taxi", "average:steps=997", 0.8, 20011},
	};
	char path[128];

	(void)state;
	dq_test_path_in(path, sizeof(path), dir, "resume.ckp");
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		struct lrn a, b, c;
		dq_checkpoint_meta m, got;
		dq_run_result ra, rc;

		lrn_make(&a, cases[k].env, cases[k].spec, 1, 0, cases[k].omega,
			 cases[k].steps);
		lrn_make(&b, cases[k].env, cases[k].spec, 1, 0, cases[k].omega,
			 cases[k].steps);
		lrn_make(&c, cases[k].env, cases[k].spec, 1, 0, cases[k].omega,
			 cases[k].steps);
		lrn_run(&a, NULL);
		lrn_run(&a, &ra);
		lrn_run(&b, NULL);
		meta_fill(&m, cases[k].env);
		assert_int_equal(dq_checkpoint_save_learner(path, b.l, &m), 0);
		assert_int_equal(dq_checkpoint_load_learner(path, c.l, &got),
				 0);
		words_equal(b.t, c.t);
		agents_equal(b.l, c.l, 0);
		lrn_run(&c, &rc);
		words_equal(a.t, c.t);
		agents_equal(a.l, c.l, 0);
		assert_true(ra.share_pushes == rc.share_pushes &&
			    ra.share_entries == rc.share_entries);
		assert_true(rc.share_pushes > 0);
		lrn_free(&a);
		lrn_free(&b);
		lrn_free(&c);
	}
	unlink(path);
}

/* P = 2 (threads: not reproducible run to run, but a save is a save):
 * load the file into a new learner and save it again: the same bytes,
 * every agent's local side equal. */
static void
test_two_agents_round_trip(void **state)
{
	static const char *const specs[] = {"distql:tau=5:partial",
					    "average:steps=300"};
	char p1[128], p2[128];

	(void)state;
	dq_test_path_in(p1, sizeof(p1), dir, "two1.ckp");
	dq_test_path_in(p2, sizeof(p2), dir, "two2.ckp");
	for (int k = 0; k < 2; k++) {
		struct lrn b, c;
		dq_checkpoint_meta m;
		unsigned char *f1, *f2;
		size_t n1, n2;

		lrn_make(&b, "taxi", specs[k], 2, 0, 0.0, 20000);
		lrn_make(&c, "taxi", specs[k], 2, 0, 0.0, 20000);
		lrn_run(&b, NULL);
		meta_fill(&m, "taxi");
		assert_int_equal(dq_checkpoint_save_learner(p1, b.l, &m), 0);
		assert_int_equal(dq_checkpoint_load_learner(p1, c.l, NULL), 0);
		for (uint32_t i = 0; i < 2; i++)
			agents_equal(b.l, c.l, i);
		assert_int_equal(dq_checkpoint_save_learner(p2, c.l, &m), 0);
		f1 = dq_test_slurp(p1, &n1);
		f2 = dq_test_slurp(p2, &n2);
		assert_int_equal(n1, n2);
		assert_memory_equal(f1, f2, n1);
		free(f1);
		free(f2);
		/* three agents from a file of two: the third starts afresh,
		 * its local values pulled from the loaded table, counts 0 */
		{
			struct lrn d;
			const dq__share *sh;

			lrn_make(&d, "taxi", specs[k], 3, 0, 0.0, 20000);
			assert_int_equal(
			    dq_checkpoint_load_learner(p1, d.l, NULL), 0);
			agents_equal(b.l, d.l, 0);
			agents_equal(b.l, d.l, 1);
			sh = dq__learner_agent(d.l, 2)->share;
			for (uint32_t s = 0; s < 500; s++)
				for (uint32_t a = 0; a < 6; a++) {
					double l =
					    dq__table_get(sh->local, s, a);
					double q = dq__table_get(d.t, s, a);

					assert_memory_equal(&l, &q, sizeof(l));
					if (sh->n_push)
						assert_true(
						    sh->n_push[s * 6 + a] == 0);
				}
			lrn_free(&d);
		}
		lrn_free(&b);
		lrn_free(&c);
	}
	unlink(p1);
	unlink(p2);
}

/* Load @path into a learner of @spec: DQ_EMISMATCH naming @what, the
 * learner's local side untouched. */
static void
refused(const char *path, const char *spec, uint32_t channels, const char *what)
{
	struct lrn x;

	lrn_make(&x, "maze4x3", spec, 1, channels, 0.0, 100);
	assert_int_equal(dq_checkpoint_load_learner(path, x.l, NULL),
			 DQ_EMISMATCH);
	if (!strstr(dq_error_detail(), what))
		fail_msg("'%s' does not name '%s'", dq_error_detail(), what);
	lrn_free(&x);
}

static void
test_mismatch(void **state)
{
	char path[128], plain[128];
	struct lrn b, q;
	dq_checkpoint_meta m;

	(void)state;
	dq_test_path_in(path, sizeof(path), dir, "mis.ckp");
	dq_test_path_in(plain, sizeof(plain), dir, "plain.ckp");
	lrn_make(&b, "maze4x3", "distql:tau=10", 1, 0, 0.0, 500);
	lrn_run(&b, NULL);
	meta_fill(&m, "maze4x3");
	assert_int_equal(dq_checkpoint_save_learner(path, b.l, &m), 0);
	refused(path, "distql:tau=20", 0, "differ in tau");
	refused(path, "distql:partial", 0, "differ in pull");
	refused(path, "distql:eta=0.4", 0, "differ in eta");
	refused(path, "distql:decay=0.99", 0, "differ in decay");
	refused(path, "distql:epsilon-decay=off", 0, "epsilon-decay");
	refused(path, "average", 2, "differ in policy");
	/* no policy: the file's policy is named before the shape */
	refused(path, NULL, 1, "the file has distql:tau=10:all");
	/* a file without a policy, a learner with one */
	lrn_make(&q, "maze4x3", NULL, 1, 2, 0.0, 500);
	lrn_run(&q, NULL);
	assert_int_equal(dq_checkpoint_save_learner(plain, q.l, &m), 0);
	refused(plain, "distql", 0, "the file has none");
	/* what the files record, read without loading them */
	{
		dq_share_config f;

		assert_int_equal(dq_checkpoint_read_share(path, &f), 0);
		assert_int_equal(f.kind, DQ_SHARE_DISTQL);
		assert_true(f.interval == 10.0 && f.eta == 0.5 &&
			    f.decay == 0.999 && !(f.flags & DQ_SHARE_PARTIAL));
		assert_int_equal(dq_checkpoint_read_share(plain, &f), 0);
		assert_int_equal(f.kind, DQ_SHARE_NONE);
		assert_int_equal(dq_checkpoint_read_share(NULL, &f), -EINVAL);
	}
	lrn_free(&q);
	/* the same policy loads */
	{
		struct lrn ok;

		lrn_make(&ok, "maze4x3", "distql:tau=10", 1, 0, 0.0, 500);
		assert_int_equal(dq_checkpoint_load_learner(path, ok.l, NULL),
				 0);
		lrn_free(&ok);
	}
	lrn_free(&b);
	unlink(path);
	unlink(plain);
}

/* 16 DistQL agents on taxi: 16 x 3,000 entries x 24 bytes, more than a
 * header holds: -ERANGE, the detail says why, no file. 8 fit. */
static void
test_too_large(void **state)
{
	char path[128];
	struct lrn x;
	dq_checkpoint_meta m;

	(void)state;
	dq_test_path_in(path, sizeof(path), dir, "big.ckp");
	meta_fill(&m, "taxi");
	lrn_make(&x, "taxi", "distql", 16, 0, 0.0, 100);
	assert_int_equal(dq_checkpoint_save_learner(path, x.l, &m), -ERANGE);
	assert_non_null(strstr(dq_error_detail(), "local tables"));
	assert_int_equal(access(path, F_OK), -1);
	lrn_free(&x);
	lrn_make(&x, "taxi", "distql", 8, 0, 0.0, 100);
	assert_int_equal(dq_checkpoint_save_learner(path, x.l, &m), 0);
	lrn_free(&x);
	unlink(path);
}

static int
setup(void **state)
{
	(void)state;
	return dq_test_scratch_dir(dir, sizeof(dir), "dq_sck");
}

static int
teardown(void **state)
{
	(void)state;
	return rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_resume_exact),
	    cmocka_unit_test(test_two_agents_round_trip),
	    cmocka_unit_test(test_mismatch),
	    cmocka_unit_test(test_too_large),
	};

	return cmocka_run_group_tests_name("shareckp", tests, setup, teardown);
}
