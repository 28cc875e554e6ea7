/*
 * tests/fuzz/seed_checkpoint.c - write the seed corpus of fuzz_checkpoint
 * into a directory (make fuzz-seeds; the files are checked in under
 * tests/fuzz/corpus_checkpoint/).
 *
 * Seeds are sound checkpoints written by the library itself, small (well
 * under 4 KiB) and varied where the reader branches: each update
 * discipline, empty and long parameter strings, 1 x 1 up to 16 x 4, values
 * that a sloppy encoding would get wrong (-0, subnormals, the largest
 * double), a file with three agents' resumable states (a header
 * section), one with a header section of an unknown kind, which readers
 * must skip, a learner's checkpoint of double-q with per-entry rates (two
 * channels, visit counts, the rule and rule-state sections), a table of
 * tile weights with its coder's section, and version 1
 * files (the format before channels and rules). The fuzzer mutates them
 * into everything else.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "distq.h"

static const double tricky[] = {
    0.0,
    -0.0,
    1.0 / 3.0,
    -1e308,
    4.9406564584124654e-324,
    1e-300,
    -2.5,
    123456789.125,
    0x1.fffffffffffffp+1023,
    -0x1p-1022,
    7.0,
    0.1,
    -0.1,
    42.0,
    2.2250738585072014e-308,
};

static int
seed(const char *dir, const char *name, uint32_t s, uint32_t a, dq_mode mode,
     const char *env, const char *params, uint32_t n_agents)
{
	dq_agent_state ag[4];
	dq_table_config tc;
	dq_checkpoint_meta m;
	dq_table *t;
	char path[512];
	int err;

	dq_table_config_init(&tc);
	tc.n_states = s;
	tc.n_actions = a;
	err = dq_table_create(&t, &tc);
	if (err)
		return err;
	for (uint32_t i = 0; i < s * a; i++)
		dq_table_set(t, i / a, i % a,
			     tricky[i % (sizeof(tricky) / sizeof(tricky[0]))]);
	memset(&m, 0, sizeof(m));
	snprintf(m.env, sizeof(m.env), "%s", env);
	snprintf(m.params, sizeof(m.params), "%s", params);
	m.mode = mode;
	m.gamma = 0.95;
	m.alpha = 0.1;
	m.epsilon = 0.05;
	m.seed = 42;
	m.steps = 1000000;
	m.episodes = 5000;
	m.seconds = 1.5;
	/* Resumable agent states, as a learner's checkpoint holds them. */
	memset(ag, 0, sizeof(ag));
	for (uint32_t i = 0; i < n_agents && i < 4; i++) {
		dq_rng_seed(&ag[i].rng, 42, i);
		ag[i].alpha_clock = ag[i].epsilon_clock = 1e6;
		ag[i].steps = 250000;
		ag[i].episodes = 1250;
		ag[i].cas_retries = i;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	err = dq_checkpoint_save_run(path, t, &m, ag, n_agents);
	dq_table_destroy(t);
	return err;
}

static void
put32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void
put64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

/*
 * A learner's checkpoint: double-q (two channels) with per-entry rates
 * (visit counts, omega recorded), two agents, after a short run.
 */
static int
learner_seed(const char *dir, const char *name)
{
	dq_learner_config c;
	dq_table_config tc;
	dq_checkpoint_meta m;
	dq_run_result r;
	dq_learner *l = NULL;
	dq_table *t = NULL;
	dq_env *env = NULL;
	char path[512];
	int err;

	err = dq_env_open_name(&env, "maze4x3");
	if (err)
		return err;
	dq_table_config_init(&tc);
	tc.n_states = 11;
	tc.n_actions = 4;
	tc.channels = 2;
	tc.visit_counts = true;
	err = dq_table_create(&t, &tc);
	dq_learner_config_init(&c);
	c.n_threads = 2;
	c.max_steps = 2000;
	c.pin = DQ_PIN_NONE;
	c.agent.rule = DQ_RULE_DOUBLE_Q;
	c.agent.omega = 0.75;
	if (!err)
		err = dq_learner_create(&l, t, env, &c);
	if (!err)
		err = dq_learner_run(l, &r);
	memset(&m, 0, sizeof(m));
	snprintf(m.env, sizeof(m.env), "maze4x3");
	m.gamma = 0.95;
	m.alpha = 0.1;
	m.epsilon = 0.1;
	m.seed = 1;
	m.steps = 2000;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (!err)
		err = dq_checkpoint_save_learner(path, l, &m);
	dq_learner_destroy(l);
	dq_table_destroy(t);
	dq_env_close(env);
	return err;
}

/*
 * The version 1 file the library wrote before version 2: the same bytes
 * with the version 1 and the word at 408 reserved (0), for a file of one
 * channel without rule sections.
 */
static int
version1(const char *dir, const char *from, const char *name)
{
	unsigned char buf[4096];
	char path[512];
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, from);
	f = fopen(path, "rb");
	if (!f)
		return -errno;
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	if (n < 428 || n == sizeof(buf))
		return -EINVAL;
	put32(buf + 8, 1);
	put32(buf + 408, 0);
	put32(buf + 412, (uint32_t)crc32(0, buf, 412));
	put64(buf + n - 12, n);
	put32(buf + n - 4, (uint32_t)crc32(0, buf, (uInt)(n - 4)));
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f)
		return -errno;
	if (fwrite(buf, 1, n, f) != n) {
		fclose(f);
		return -EIO;
	}
	return fclose(f) ? -errno : 0;
}

/*
 * A file as a later minor revision might write it: a header
 * section this library does not know between the fixed header and the
 * values, announced by header_len and covered by the file CRC
 * (docs/checkpoint-format.md).
 */
static int
extended(const char *dir, const char *from, const char *name)
{
	unsigned char buf[4096], out[4096];
	char path[512];
	size_t n, len;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, from);
	f = fopen(path, "rb");
	if (!f)
		return -errno;
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	if (n < 428 || n + 16 > sizeof(out))
		return -EINVAL;
	len = n + 16;
	memcpy(out, buf, 416);
	/* One section of a kind this library does not know: tag 2 (not
	 * critical, so readers skip it), 8 bytes of body. */
	put32(out + 416, 2);
	put32(out + 420, 8);
	memset(out + 424, 0xee, 8);
	memcpy(out + 432, buf + 416, n - 416);
	put32(out + 12, 432);
	put32(out + 412, (uint32_t)crc32(0, out, 412));
	put64(out + len - 12, len);
	put32(out + len - 4, (uint32_t)crc32(0, out, (uInt)(len - 4)));
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f)
		return -errno;
	if (fwrite(out, 1, len, f) != len) {
		fclose(f);
		return -EIO;
	}
	return fclose(f) ? -errno : 0;
}

/* A table of tile weights with its coder's section (critical, tag 5):
 * 2 tilings of 1 x 2 tiles over [0, 1] x [-1, 1], 12 rows x 2 actions. */
static int
tiles_seed(const char *dir, const char *name)
{
	char path[512];
	dq_tiles_config c;
	dq_tiles *tc = NULL;
	dq_table *t = NULL;
	dq_table_config tcfg;
	dq_checkpoint_meta m;
	int err;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	dq_tiles_config_init(&c);
	err = dq_tiles_config_parse(&c, "2x1,2@0:1,-1:1");
	if (!err)
		err = dq_tiles_create(&tc, &c);
	dq_table_config_init(&tcfg);
	tcfg.n_states = 12;
	tcfg.n_actions = 2;
	tcfg.q0 = -0.5;
	if (!err)
		err = dq_table_create(&t, &tcfg);
	memset(&m, 0, sizeof(m));
	strcpy(m.env, "mountaincar");
	m.gamma = 1.0;
	m.alpha = 0.5;
	if (!err)
		err = dq_checkpoint_save_tiles(path, t, &m, tc);
	dq_table_destroy(t);
	dq_tiles_destroy(tc);
	return err;
}

int
main(int argc, char **argv)
{
	static const struct {
		const char *name;
		uint32_t s, a;
		dq_mode mode;
		const char *env, *params;
		uint32_t n_agents;
	} seeds[] = {
	    {"one.ckp", 1, 1, DQ_MODE_CAS, "x", "", 0},
	    {"tricky.ckp", 5, 3, DQ_MODE_HOGWILD, "maze4x3",
	     "living_reward=-0.04,slip=0.2", 0},
	    {"maze.ckp", 11, 4, DQ_MODE_CAS, "maze4x3", "", 0},
	    {"frozen.ckp", 16, 4, DQ_MODE_LOCKED, "frozenlake4x4",
	     "slippery=1,map=4x4", 0},
	    {"agents.ckp", 11, 4, DQ_MODE_CAS, "maze4x3", "", 3},
	};
	int err = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	for (size_t i = 0; !err && i < sizeof(seeds) / sizeof(seeds[0]); i++)
		err = seed(argv[1], seeds[i].name, seeds[i].s, seeds[i].a,
			   seeds[i].mode, seeds[i].env, seeds[i].params,
			   seeds[i].n_agents);
	if (!err)
		err = extended(argv[1], "tricky.ckp", "extended.ckp");
	if (!err)
		err = learner_seed(argv[1], "channels.ckp");
	if (!err)
		err = tiles_seed(argv[1], "tiles.ckp");
	if (!err)
		err = version1(argv[1], "agents.ckp", "v1-agents.ckp");
	if (!err)
		err = version1(argv[1], "tricky.ckp", "v1-tricky.ckp");
	if (err) {
		fprintf(stderr, "seed_checkpoint: %s\n", dq_strerror(err));
		return 1;
	}
	return 0;
}
