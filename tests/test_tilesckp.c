/*
 * Checkpoints of tile-coded learners (lib/ckptiles.c, the coder's section
 * of lib/checkpoint.c): the coder travels with the weights, exactly; a
 * tile-coded learner resumes bit for bit; a learner with another coder,
 * or none, is refused with the parameter named; the section is critical
 * and checked.
 */
#include <errno.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "dq_test_tiles.h"

static char dir[64];

/* Recompute both CRCs after editing a file (docs/checkpoint-format.md:
 * the header's over [0, 412), the file's in the last 4 bytes). */
static void
reseal(uint8_t *b, size_t len)
{
	dq_test_put32(b + 412, (uint32_t)crc32(0, b, 412));
	dq_test_put32(b + len - 4, (uint32_t)crc32(0, b, (uInt)(len - 4)));
}

static void
spit(const char *path, const uint8_t *b, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(b, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void
meta_fill(dq_checkpoint_meta *m)
{
	memset(m, 0, sizeof(*m));
	strcpy(m->env, "cartpole");
	m->mode = DQ_MODE_CAS;
	m->gamma = 1.0;
	m->alpha = 0.1;
	m->epsilon = 0.05;
	m->seed = 7;
}

/* A tile-coded learner on cartpole: coder, table, learner. */
typedef dq_test_tl tl;

/* 0, or the learner's refusal (a rule tile coding does not take). */
static int
tl_make(tl *x, const char *text, dq_rule rule, dq_mode mode, uint64_t steps)
{
	dq_learner_config c;
	uint32_t ch = 1;
	int err;

	assert_int_equal(dq_rule_channels(rule, &ch), 0);
	dq_test_tl_open(x, "cartpole", text, mode, ch, &c);
	c.n_threads = 1;
	c.max_steps = steps;
	c.agent.rule = rule;
	c.agent.gamma = 1.0;
	c.agent.seed = 7;
	c.agent.alpha.start = c.agent.alpha.end = 0.1;
	/* A decaying epsilon: the resumed clock must be the saved one. */
	c.agent.epsilon = (dq_schedule){
	    .kind = DQ_SCHEDULE_EXP, .start = 1.0, .end = 0.05, .steps = 3000};
	err = dq_learner_create(&x->l, x->t, x->env, &c);
	return err;
}

static void
tl_run(tl *x)
{
	dq_run_result r;

	assert_int_equal(dq_learner_run(x->l, &r), 0);
}

/* Bit for bit: every weight of channel 0 .. C-1. */
static void
tables_equal(const dq_table *t1, const dq_table *t2)
{
	dq_table_info i1, i2;

	assert_int_equal(dq_table_info_get(t1, &i1), 0);
	assert_int_equal(dq_table_info_get(t2, &i2), 0);
	assert_int_equal(i1.n_states, i2.n_states);
	assert_int_equal(i1.channels, i2.channels);
	for (uint32_t c = 0; c < i1.channels; c++)
		for (uint32_t s = 0; s < i1.n_states; s++)
			for (uint32_t a = 0; a < i1.n_actions; a++) {
				double x1, x2;

				assert_int_equal(
				    dq_table_channel_get(t1, c, s, a, &x1), 0);
				assert_int_equal(
				    dq_table_channel_get(t2, c, s, a, &x2), 0);
				assert_memory_equal(&x1, &x2, sizeof(x1));
			}
}

static void
states_equal(const dq_learner *l1, const dq_learner *l2)
{
	dq_agent_state a, b;

	assert_int_equal(dq_learner_agent_state(l1, 0, &a), 0);
	assert_int_equal(dq_learner_agent_state(l2, 0, &b), 0);
	assert_memory_equal(&a, &b, sizeof(a));
}

/*
 * A tile-coded learner resumes exactly, for every rule tile coding takes
 * (those it refuses are skipped: the list follows lib/tilerule.h), with
 * an unhashed and a hashed coder, in two disciplines: A runs twice; B
 * runs once and is saved; C, a new learner on a new table, is restored
 * from the file and runs once: C's weights and agent state are A's, bit
 * for bit. Run lengths that cut CartPole's episodes anywhere.
 */
static void
test_resume_exact(void **state)
{
	static const char *const coders[] = {"8x4,4,8,8", "4x6/997"};
	char path[128];
	int tried = 0;

	(void)state;
	dq_test_path_in(path, sizeof(path), dir, "resume.ckp");
	for (int r = 0; dq_rule_name((dq_rule)r); r++) {
		for (int k = 0; k < 4; k++) {
			const char *text = coders[k % 2];
			dq_mode mode = k < 2 ? DQ_MODE_CAS : DQ_MODE_HOGWILD;
			uint64_t n = 1500 + 37 * (uint64_t)k;
			tl a, b, c;
			dq_checkpoint_meta m, got;
			dq_tiles_config fc, lc;

			if (tl_make(&a, text, (dq_rule)r, mode, n) != 0) {
				dq_test_tl_free(&a);
				break; /* a rule tile coding does not take */
			}
			assert_int_equal(tl_make(&b, text, (dq_rule)r, mode, n),
					 0);
			assert_int_equal(tl_make(&c, text, (dq_rule)r, mode, n),
					 0);
			tl_run(&a);
			tl_run(&a);
			tl_run(&b);
			assert_false(dq_test_same_q(a.t, b.t));
			meta_fill(&m);
			m.mode = mode;
			assert_int_equal(
			    dq_checkpoint_save_learner(path, b.l, &m), 0);
			/* the coder comes back as it was, bit for bit */
			assert_int_equal(dq_checkpoint_read_tiles(path, &fc),
					 0);
			dq_tiles_config_get(b.tc, &lc);
			assert_memory_equal(&fc, &lc, sizeof(fc));
			assert_int_equal(
			    dq_checkpoint_load_learner(path, c.l, &got), 0);
			assert_int_equal(got.rule, r);
			assert_int_equal(got.n_agents, 1);
			tables_equal(b.t, c.t);
			states_equal(b.l, c.l);
			tl_run(&c);
			tables_equal(a.t, c.t);
			states_equal(a.l, c.l);
			dq_test_tl_free(&a);
			dq_test_tl_free(&b);
			dq_test_tl_free(&c);
			tried++;
		}
	}
	print_message("tile-coded resumes checked: %d\n", tried);
	assert_true(tried >= 12); /* q, sarsa, expected-sarsa at least */
	unlink(path);
}

/*
 * The coder's text is exact: spans that %.15g would round (0.1 + 0.2,
 * pi / 15, a subnormal, -0.0) read back bit for bit, through a learner's
 * file and through dq_checkpoint_save_tiles(); the section has its
 * documented layout and the critical bit; a file without a coder says
 * so (dim 0).
 */
static void
test_section(void **state)
{
	static const char *const text =
	    "3x5,2,7,3@-0:0.30000000000000004,-4.9406564584124654e-324:1,"
	    "-0.20943951023931953:3.5,1e-300:1e300/4099";
	char path[128], fmt[1024];
	dq_tiles_config c, got;
	dq_tiles *tc;
	dq_table *t;
	dq_checkpoint_meta m;
	uint8_t *b;
	size_t len, at;
	uint32_t rows;
	bool found = false;
	int flen;

	(void)state;
	dq_test_path_in(path, sizeof(path), dir, "section.ckp");
	dq_tiles_config_init(&c);
	assert_int_equal(dq_tiles_config_parse(&c, text), 0);
	assert_true(signbit(c.low[0]) && c.low[0] == 0.0);
	assert_int_equal(dq_tiles_create(&tc, &c), 0);
	dq_tiles_features(tc, &rows);
	assert_int_equal(rows, 4099);
	t = dq_test_table(rows, 3, DQ_MODE_CAS, 0.25, false);
	meta_fill(&m);
	assert_int_equal(dq_checkpoint_save_tiles(path, t, &m, tc), 0);
	assert_int_equal(dq_checkpoint_read_tiles(path, &got), 0);
	assert_memory_equal(&got, &c, sizeof(c));
	assert_true(signbit(got.low[0]));
	/* the section: tag 0x80000005, revision 1, the text's length, the
	 * text of dq_tiles_format() */
	flen = dq_tiles_format(tc, fmt, sizeof(fmt));
	b = dq_test_slurp(path, &len);
	for (at = 416; at < dq_test_get32(b + 12);) {
		uint32_t tag = dq_test_get32(b + at),
			 blen = dq_test_get32(b + at + 4);

		if (tag == 0x80000005u) {
			assert_int_equal(blen, 8 + flen);
			assert_int_equal(dq_test_get32(b + at + 8), 1);
			assert_int_equal(dq_test_get32(b + at + 12), flen);
			assert_memory_equal(b + at + 16, fmt, (size_t)flen);
			found = true;
		}
		at += 8 + (blen + 7) / 8 * 8;
	}
	assert_true(found);
	free(b);
	/* the same table without a coder */
	assert_int_equal(dq_checkpoint_save(path, t, &m), 0);
	assert_int_equal(dq_checkpoint_read_tiles(path, &got), 0);
	assert_int_equal(got.dim, 0);
	/* a coder for another table */
	{
		dq_table *t2 =
		    dq_test_table(rows + 1, 3, DQ_MODE_CAS, 0, false);

		assert_int_equal(dq_checkpoint_save_tiles(path, t2, &m, tc),
				 -EINVAL);
		assert_int_equal(dq_checkpoint_save_tiles(path, t, &m, NULL),
				 -EINVAL);
		assert_int_equal(dq_checkpoint_read_tiles(path, NULL), -EINVAL);
		dq_table_destroy(t2);
	}
	dq_table_destroy(t);
	dq_tiles_destroy(tc);
	unlink(path);
}

/*
 * Edited sections, resealed so that only the section's own checks can
 * catch them: the critical bit (a reader that does not know the coder
 * must refuse the file: here tag 5 without it is skipped, and the same
 * body under an unknown critical tag is refused), another revision,
 * a text that does not parse, a coder for another table, a second
 * section.
 */
static void
test_section_resealed(void **state)
{
	char path[128], bad[128];
	tl x;
	dq_checkpoint_meta m;
	dq_tiles_config got;
	uint8_t *b, *e;
	size_t len, at = 416, sec = 0;

	(void)state;
	dq_test_path_in(path, sizeof(path), dir, "good.ckp");
	dq_test_path_in(bad, sizeof(bad), dir, "bad.ckp");
	assert_int_equal(tl_make(&x, "2x3", DQ_RULE_Q, DQ_MODE_CAS, 200), 0);
	tl_run(&x);
	meta_fill(&m);
	assert_int_equal(dq_checkpoint_save_learner(path, x.l, &m), 0);
	b = dq_test_slurp(path, &len);
	while (at < dq_test_get32(b + 12) &&
	       dq_test_get32(b + at) != 0x80000005u)
		at += 8 + (dq_test_get32(b + at + 4) + 7) / 8 * 8;
	assert_true(at < dq_test_get32(b + 12));
	sec = at;
	e = malloc(len);
	assert_non_null(e);
	/* an unknown critical tag: refused */
	memcpy(e, b, len);
	dq_test_put32(e + sec, 0x80000063u);
	reseal(e, len);
	spit(bad, e, len);
	assert_int_equal(dq_checkpoint_read_meta(bad, &m), DQ_EVERSION);
	/* without the critical bit, tag 5 is an unknown section: skipped
	 * (a checkpoint whose coder a reader would ignore) */
	dq_test_put32(e + sec, 5u);
	reseal(e, len);
	spit(bad, e, len);
	assert_int_equal(dq_checkpoint_read_meta(bad, &m), 0);
	assert_int_equal(dq_checkpoint_read_tiles(bad, &got), 0);
	assert_int_equal(got.dim, 0);
	/* ... which a tile-coded learner refuses: no coder in the file */
	assert_int_equal(dq_checkpoint_load_learner(bad, x.l, NULL),
			 DQ_EMISMATCH);
	assert_non_null(strstr(dq_error_detail(), "tabular"));
	/* another revision */
	memcpy(e, b, len);
	dq_test_put32(e + sec + 8, 2);
	reseal(e, len);
	spit(bad, e, len);
	assert_int_equal(dq_checkpoint_read_meta(bad, &m), DQ_EVERSION);
	assert_non_null(strstr(dq_error_detail(), "revision"));
	/* text that does not parse ("2x3@..." -> "2y3@...") */
	memcpy(e, b, len);
	assert_int_equal(e[sec + 17], 'x');
	e[sec + 17] = 'y';
	reseal(e, len);
	spit(bad, e, len);
	assert_int_equal(dq_checkpoint_read_meta(bad, &m), DQ_ECORRUPT);
	/* a coder of other rows than the table's ("2x3" -> "2x4") */
	memcpy(e, b, len);
	e[sec + 18] = '4';
	reseal(e, len);
	spit(bad, e, len);
	assert_int_equal(dq_checkpoint_read_meta(bad, &m), DQ_ECORRUPT);
	/* a length that is not the body's */
	memcpy(e, b, len);
	dq_test_put32(e + sec + 12, dq_test_get32(e + sec + 12) - 1);
	reseal(e, len);
	spit(bad, e, len);
	assert_int_equal(dq_checkpoint_read_meta(bad, &m), DQ_ECORRUPT);
	/* the untouched file still loads */
	assert_int_equal(dq_checkpoint_load_learner(path, x.l, NULL), 0);
	free(e);
	free(b);
	dq_test_tl_free(&x);
	unlink(path);
	unlink(bad);
}

/*
 * Another coder is refused, naming the parameter that differs, and
 * nothing changes: tilings, bins, a span's low or high end, the hash
 * rows; a tile-coded file into a tabular learner and a tabular file into
 * a tile-coded learner, of the same table shape and of another.
 */
static void
test_mismatch(void **state)
{
	static const struct {
		const char *text, *param;
	} others[] = {
	    {"4x4,4,8,8", "tilings"},
	    {"8x4,4,8,7", "bins[3]"},
	    {"8x4,4,8,8@-2.4:2.4,-3:3,-0.2:0.20943951023931953,-3.5:3.5",
	     "low[2]"},
	    {"8x4,4,8,8@-2.4:2.4,-3:3.5,-0.20943951023931953:"
	     "0.20943951023931953,-3.5:3.5",
	     "high[1]"},
	    {"8x4,4,8,8/16200", "hash_rows"},
	};
	char path[128];
	tl a;
	dq_checkpoint_meta m;

	(void)state;
	dq_test_path_in(path, sizeof(path), dir, "mismatch.ckp");
	assert_int_equal(tl_make(&a, "8x4,4,8,8", DQ_RULE_Q, DQ_MODE_CAS, 500),
			 0);
	tl_run(&a);
	meta_fill(&m);
	assert_int_equal(dq_checkpoint_save_learner(path, a.l, &m), 0);
	for (size_t i = 0; i < sizeof(others) / sizeof(*others); i++) {
		tl o;
		double w;

		assert_int_equal(
		    tl_make(&o, others[i].text, DQ_RULE_Q, DQ_MODE_CAS, 500),
		    0);
		dq_table_set(o.t, 0, 0, 42.0);
		assert_int_equal(dq_checkpoint_load_learner(path, o.l, NULL),
				 DQ_EMISMATCH);
		print_message("%s: %s\n", others[i].text, dq_error_detail());
		assert_non_null(strstr(dq_error_detail(), "tile coder"));
		assert_non_null(strstr(dq_error_detail(), others[i].param));
		dq_table_get(o.t, 0, 0, &w);
		assert_true(w == 42.0);
		dq_test_tl_free(&o);
	}
	/* a tile-coded file into tabular cartpole (324 x 2), of another
	 * shape and of the same (a coder of 324 rows) */
	{
		dq_env *env;
		dq_table *t, *t324;
		dq_learner *l;
		dq_learner_config c;
		dq_tiles *one;
		dq_tiles_config oc;

		assert_int_equal(dq_env_open_name(&env, "cartpole"), 0);
		t = dq_test_table(324, 2, DQ_MODE_CAS, 0.0, false);
		dq_learner_config_init(&c);
		c.n_threads = 1;
		c.pin = DQ_PIN_NONE;
		c.max_steps = 100;
		assert_int_equal(dq_learner_create(&l, t, env, &c), 0);
		assert_int_equal(dq_checkpoint_load_learner(path, l, NULL),
				 DQ_EMISMATCH);
		assert_non_null(strstr(dq_error_detail(), "tile-coded"));
		dq_tiles_config_init(&oc);
		assert_int_equal(dq_tiles_config_parse(&oc, "1x323@0:1"), 0);
		assert_int_equal(dq_tiles_create(&one, &oc), 0);
		t324 = dq_test_table(324, 2, DQ_MODE_CAS, 1.5, false);
		assert_int_equal(dq_checkpoint_save_tiles(path, t324, &m, one),
				 0);
		assert_int_equal(dq_checkpoint_load_learner(path, l, NULL),
				 DQ_EMISMATCH);
		assert_non_null(strstr(dq_error_detail(), "tile-coded"));
		/* the same file loads as a table */
		assert_int_equal(dq_checkpoint_load(path, t, NULL), 0);
		/* a tabular file into the tile-coded learner, same shape */
		{
			dq_table *tw =
			    dq_test_table(16200, 2, DQ_MODE_CAS, 0, false);

			assert_int_equal(dq_checkpoint_save(path, tw, &m), 0);
			assert_int_equal(
			    dq_checkpoint_load_learner(path, a.l, NULL),
			    DQ_EMISMATCH);
			assert_non_null(strstr(dq_error_detail(), "tabular"));
			dq_table_destroy(tw);
		}
		dq_learner_destroy(l);
		dq_table_destroy(t);
		dq_table_destroy(t324);
		dq_tiles_destroy(one);
		dq_env_close(env);
	}
	dq_test_tl_free(&a);
	unlink(path);
}

static int
setup(void **state)
{
	(void)state;
	return dq_test_scratch_dir(dir, sizeof(dir), "dq_tck");
}

static int
teardown(void **state)
{
	static const char *const left[] = {
	    "resume.ckp", "section.ckp", "good.ckp", "bad.ckp", "mismatch.ckp"};
	char path[128];

	(void)state;
	/* what a failed test left */
	for (size_t i = 0; i < sizeof(left) / sizeof(*left); i++) {
		dq_test_path_in(path, sizeof(path), dir, left[i]);
		unlink(path);
	}
	return rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_resume_exact),
	    cmocka_unit_test(test_section),
	    cmocka_unit_test(test_section_resealed),
	    cmocka_unit_test(test_mismatch),
	};

	return cmocka_run_group_tests_name("tilesckp", tests, setup, teardown);
}
