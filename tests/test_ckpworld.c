/*
 * tests/test_ckpworld.c - the world section of a checkpoint (tag 6,
 * dq_checkpoint_save_world(), dq_checkpoint_read_world()): the MPI job's
 * ranks x agents per rank and its policy. The layout is
 * docs/checkpoint-format.md's, "The world".
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "dq_test.h"

#define S 5
#define A 3
#define HEADER_LEN 416
#define OFF_HEADER_LEN 12
#define OFF_HEADER_CRC 412
#define TAG_WORLD 6u

static char path[256];

/* The header CRC and the trailer's CRC-32 after an edit. */
static void
reseal(uint8_t *buf, size_t len)
{
	dq_test_put32(buf + OFF_HEADER_CRC,
		      (uint32_t)crc32(0, buf, OFF_HEADER_CRC));
	dq_test_put32(buf + len - 4, (uint32_t)crc32(0, buf, (uInt)(len - 4)));
}

static void
meta_fill(dq_checkpoint_meta *m)
{
	memset(m, 0, sizeof(*m));
	snprintf(m->env, sizeof(m->env), "maze4x3");
	m->mode = DQ_MODE_CAS;
	m->gamma = 0.9;
	m->alpha = 0.1;
	m->epsilon = 0.1;
	m->seed = 7;
	m->steps = 600;
	m->episodes = 6;
}

/* Six agents: a world of 2 ranks x 3. */
static void
agents_fill(dq_agent_state *st, uint32_t n)
{
	memset(st, 0, n * sizeof(*st));
	for (uint32_t i = 0; i < n; i++) {
		assert_int_equal(dq_rng_seed(&st[i].rng, 7, i), 0);
		st[i].steps = 100;
		st[i].episodes = 1;
	}
}

static void
world_fill(dq_checkpoint_world *w)
{
	memset(w, 0, sizeof(*w));
	w->ranks = 2;
	w->agents_per_rank = 3;
	snprintf(w->policy, sizeof(w->policy), "average:seconds=0.5");
}

/* Where the world section's body starts in @buf, or 0. */
static size_t
find_world(const uint8_t *buf)
{
	size_t end = dq_test_get32(buf + OFF_HEADER_LEN), at = HEADER_LEN;

	while (at + 8 <= end) {
		uint32_t tag = dq_test_get32(buf + at),
			 blen = dq_test_get32(buf + at + 4);

		if (tag == TAG_WORLD)
			return at + 8;
		at += 8 + (blen + 7) / 8 * 8;
	}
	return 0;
}

static void
save_ref(void)
{
	dq_table *t = dq_test_table(S, A, DQ_MODE_CAS, 0.25, false);
	dq_checkpoint_meta m;
	dq_checkpoint_world w;
	dq_agent_state st[6];

	meta_fill(&m);
	agents_fill(st, 6);
	world_fill(&w);
	assert_int_equal(dq_checkpoint_save_world(path, t, &m, st, 6, &w), 0);
	dq_table_destroy(t);
}

/* What is saved is read back; the rest of the file is as before. */
static void
test_round_trip(void **state)
{
	dq_checkpoint_world w, want;
	dq_checkpoint_meta m;
	dq_agent_state st[6];
	dq_table *t = dq_test_table(S, A, DQ_MODE_CAS, 0, false);

	(void)state;
	save_ref();
	world_fill(&want);
	memset(&w, 0xff, sizeof(w));
	assert_int_equal(dq_checkpoint_read_world(path, &w), 0);
	assert_memory_equal(&w, &want, sizeof(w));
	assert_int_equal(dq_checkpoint_load_run(path, t, &m, st, 6), 0);
	assert_int_equal(m.n_agents, 6);
	assert_int_equal(m.steps, 600);
	assert_int_equal(st[5].steps, 100);
	dq_table_destroy(t);
	unlink(path);
}

/* A file without the section: -ENOENT, the world zeroed. */
static void
test_none(void **state)
{
	dq_table *t = dq_test_table(S, A, DQ_MODE_CAS, 0, false);
	dq_checkpoint_world w, zero;
	dq_checkpoint_meta m;

	(void)state;
	meta_fill(&m);
	assert_int_equal(dq_checkpoint_save(path, t, &m), 0);
	memset(&w, 0xff, sizeof(w));
	memset(&zero, 0, sizeof(zero));
	assert_int_equal(dq_checkpoint_read_world(path, &w), -ENOENT);
	assert_memory_equal(&w, &zero, sizeof(w));
	assert_int_equal(dq_checkpoint_read_world(NULL, &w), -EINVAL);
	assert_int_equal(dq_checkpoint_read_world(path, NULL), -EINVAL);
	dq_table_destroy(t);
	unlink(path);
}

/* A world no reader could use is refused, and nothing is written. */
static void
test_refused(void **state)
{
	dq_table *t = dq_test_table(S, A, DQ_MODE_CAS, 0, false);
	dq_checkpoint_world w;
	dq_checkpoint_meta m;

	(void)state;
	meta_fill(&m);
	unlink(path);
	assert_int_equal(dq_checkpoint_save_world(path, t, &m, NULL, 0, NULL),
			 -EINVAL);
	world_fill(&w);
	w.ranks = 0;
	assert_int_equal(dq_checkpoint_save_world(path, t, &m, NULL, 0, &w),
			 -EINVAL);
	world_fill(&w);
	w.agents_per_rank = 0;
	assert_int_equal(dq_checkpoint_save_world(path, t, &m, NULL, 0, &w),
			 -EINVAL);
	world_fill(&w);
	memset(w.policy, 'x', sizeof(w.policy));
	assert_int_equal(dq_checkpoint_save_world(path, t, &m, NULL, 0, &w),
			 -EINVAL);
	world_fill(&w);
	w.reserved_[3] = 1;
	assert_int_equal(dq_checkpoint_save_world(path, t, &m, NULL, 0, &w),
			 -EINVAL);
	assert_int_equal(access(path, F_OK), -1);
	dq_table_destroy(t);
}

/* The bytes: u32 revision 1, u32 R, u32 P, u32 0, the policy in 64
 * bytes; a section with ranks 0 (resealed, so only the field check can
 * see it) is DQ_ECORRUPT; an unknown revision's longer body still reads. */
static void
test_layout(void **state)
{
	dq_checkpoint_world w;
	size_t len, at;
	uint8_t *buf;
	FILE *f;

	(void)state;
	save_ref();
	buf = dq_test_slurp(path, &len);
	at = find_world(buf);
	assert_true(at > 0);
	assert_int_equal(dq_test_get32(buf + at - 8),
			 TAG_WORLD); /* not critical */
	assert_int_equal(dq_test_get32(buf + at - 4), 16 + 64);
	assert_int_equal(dq_test_get32(buf + at), 1);
	assert_int_equal(dq_test_get32(buf + at + 4), 2);
	assert_int_equal(dq_test_get32(buf + at + 8), 3);
	assert_int_equal(dq_test_get32(buf + at + 12), 0);
	assert_string_equal((const char *)buf + at + 16, "average:seconds=0.5");

	dq_test_put32(buf + at + 4, 0);
	reseal(buf, len);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, len, f), len);
	fclose(f);
	assert_int_equal(dq_checkpoint_read_world(path, &w), DQ_ECORRUPT);
	free(buf);
	unlink(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_none),
	    cmocka_unit_test(test_refused),
	    cmocka_unit_test(test_layout),
	};

	snprintf(path, sizeof(path), "%s/dq_ckpworld.%ld.ckp",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (long)getpid());
	return cmocka_run_group_tests(tests, NULL, NULL);
}
