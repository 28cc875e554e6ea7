/*
 * tests/test_checkpoint.c - checkpoints (lib/checkpoint.c).
 *
 * The byte offsets below are copied from docs/checkpoint-format.md, not
 * from the implementation, so these tests also hold the file to its
 * specification.
 */
#define _XOPEN_SOURCE 700 /* mknod(), for a scratch device node */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <zlib.h>

#include "dq_test.h"

#define OFF_VERSION 8
#define OFF_HEADER_LEN 12
#define OFF_VALUE_TYPE 16
#define OFF_MODE 20
#define OFF_STATES 24
#define OFF_ACTIONS 28
#define OFF_SEED 32
#define OFF_STEPS 40
#define OFF_EPISODES 48
#define OFF_GAMMA 56
#define OFF_ALPHA 64
#define OFF_EPSILON 72
#define OFF_SECONDS 80
#define OFF_ENV 88
#define OFF_PARAMS 152
#define OFF_RESERVED 408 /* version 1 */
#define OFF_CHANNELS 408 /* version 2: u16 channels, u16 flags */
#define OFF_HEADER_CRC 412
#define HEADER_LEN 416
#define TRAILER_LEN 12

/* The agents section, from the start of the header extension. */
#define SEC_TAG 0
#define SEC_LEN 4
#define AG_COUNT 8
#define AG_REC_LEN 12
#define AG_RECS 16
#define AREC_LEN 72
#define AREC_RNG 0
#define AREC_ALPHA_CLOCK 32
#define AREC_EPS_CLOCK 40
#define AREC_STEPS 48
#define AREC_EPISODES 56
#define AREC_RETRIES 64
#define TAG_AGENTS 1u
#define TAG_CRITICAL 0x80000000u

#define S 5
#define A 3
#define FILE_LEN (HEADER_LEN + 8 * S * A + TRAILER_LEN)

static char dir[64];

/* ------------------------------------------------------------- helpers -- */

static void
put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t
get64(const uint8_t *p)
{
	return (uint64_t)dq_test_get32(p) | (uint64_t)dq_test_get32(p + 4)
						<< 32;
}

static void
putf64(uint8_t *p, double v)
{
	uint64_t bits;

	memcpy(&bits, &v, sizeof(bits));
	put64(p, bits);
}

static void
spit(const char *path, const uint8_t *buf, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* Recompute both CRCs and the trailer length after editing a file. */
static void
reseal(uint8_t *buf, size_t len)
{
	dq_test_put32(buf + OFF_HEADER_CRC,
		      (uint32_t)crc32(0, buf, OFF_HEADER_CRC));
	put64(buf + len - TRAILER_LEN, len);
	dq_test_put32(buf + len - 4, (uint32_t)crc32(0, buf, (uInt)(len - 4)));
}

/* Values that a sloppy encoding would get wrong: -0, subnormals, ... */
static const double tricky[S * A] = {
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

static dq_table *
make_tricky(void)
{
	dq_table *t = dq_test_table(S, A, DQ_MODE_CAS, 0.0, false);

	assert_int_equal(dq_table_load(t, tricky, S * A), 0);
	return t;
}

static void
meta_fill(dq_checkpoint_meta *m)
{
	memset(m, 0, sizeof(*m));
	strcpy(m->env, "maze4x3");
	strcpy(m->params, "living_reward=-0.04,slip=0.2");
	m->mode = DQ_MODE_HOGWILD;
	m->gamma = 0.99;
	m->alpha = 0.05;
	m->epsilon = 0.125;
	m->seed = 0x0123456789abcdefull;
	m->steps = 1ull << 40;
	m->episodes = 123456;
	m->seconds = 12.5;
}

/* Write a fresh reference checkpoint at @path. */
static void
save_ref(const char *path)
{
	dq_checkpoint_meta m;
	dq_table *t = make_tricky();

	meta_fill(&m);
	assert_int_equal(dq_checkpoint_save(path, t, &m), 0);
	dq_table_destroy(t);
}

static bool
table_is(const dq_table *t, double v)
{
	double snap[S * A];

	assert_int_equal(dq_table_snapshot(t, snap, S * A), 0);
	for (int i = 0; i < S * A; i++)
		if (snap[i] != v)
			return false;
	return true;
}

/* Both readers agree on @path, and a failed load leaves the table alone. */
static void
expect_error(const char *path, int want)
{
	dq_checkpoint_meta m, untouched;
	dq_table *t = dq_test_table(S, A, DQ_MODE_CAS, 9.0, false);

	memset(&m, 0x5a, sizeof(m));
	untouched = m;
	assert_int_equal(dq_checkpoint_read_meta(path, &m), want);
	assert_memory_equal(&m, &untouched, sizeof(m));
	assert_int_equal(dq_checkpoint_load(path, t, &m), want);
	assert_memory_equal(&m, &untouched, sizeof(m));
	assert_true(table_is(t, 9.0));
	dq_table_destroy(t);
}

/* How many temporary files a save left behind in @d. */
static int
temp_files(const char *d)
{
	DIR *dp = opendir(d);
	struct dirent *e;
	int n = 0;

	assert_non_null(dp);
	while ((e = readdir(dp)))
		if (strstr(e->d_name, ".tmp."))
			n++;
	closedir(dp);
	return n;
}

static void
remove_tree(const char *path)
{
	struct stat st;

	if (lstat(path, &st) != 0)
		return;
	if (S_ISDIR(st.st_mode)) {
		struct dirent *e;
		char sub[512];
		DIR *dp;

		chmod(path, 0700);
		dp = opendir(path);
		while (dp && (e = readdir(dp))) {
			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
			remove_tree(sub);
		}
		if (dp)
			closedir(dp);
		rmdir(path);
	} else {
		unlink(path);
	}
}

static int
setup(void **state)
{
	(void)state;
	return dq_test_scratch_dir(dir, sizeof(dir), "dq_ckp");
}

static int
teardown(void **state)
{
	(void)state;
	remove_tree(dir);
	return 0;
}

/* --------------------------------------------------------------- tests -- */

static void
test_round_trip(void **state)
{
	char path[128];
	dq_checkpoint_meta m, want;
	double snap[S * A];
	dq_table *t;

	(void)state;
	dq_test_path_in(path, sizeof(path), dir, "rt.ckp");
	save_ref(path);
	meta_fill(&want);

	memset(&m, 0, sizeof(m));
	assert_int_equal(dq_checkpoint_read_meta(path, &m), 0);
	assert_string_equal(m.env, want.env);
	assert_string_equal(m.params, want.params);
	assert_int_equal(m.n_states, S);
	assert_int_equal(m.n_actions, A);
	assert_int_equal(m.version, DQ_CHECKPOINT_VERSION);
	assert_int_equal(m.mode, DQ_MODE_HOGWILD);
	assert_true(m.gamma == want.gamma && m.alpha == want.alpha);
	assert_true(m.epsilon == want.epsilon && m.seconds == want.seconds);
	assert_true(m.seed == want.seed && m.steps == want.steps);
	assert_true(m.episodes == want.episodes);

	t = dq_test_table(S, A, DQ_MODE_CAS, 0.5, false);
	memset(&m, 0, sizeof(m));
	assert_int_equal(dq_checkpoint_load(path, t, &m), 0);
	assert_string_equal(m.env, "maze4x3");
	assert_int_equal(dq_table_snapshot(t, snap, S * A), 0);
	assert_memory_equal(snap, tricky, sizeof(snap)); /* bit-exact */
	assert_int_equal(dq_checkpoint_load(path, t, NULL), 0);
	dq_table_destroy(t);
	assert_int_equal(temp_files(dir), 0);
	unlink(path);
}

/* The bytes on disk are what docs/checkpoint-format.md says. */
static void
test_layout(void **state)
{
	char path[128];
	size_t len;
	uint8_t *b;
	uint64_t bits;

	(void)state;
	dq_test_path_in(path, sizeof(path), dir, "layout.ckp");
	save_ref(path);
	b = dq_test_slurp(path, &len);
	assert_int_equal(len, FILE_LEN);
	assert_memory_equal(b, "DISTQCKP", 8);
	assert_int_equal(dq_test_get32(b + OFF_VERSION), 2);
	assert_int_equal(dq_test_get32(b + OFF_HEADER_LEN), HEADER_LEN);
	assert_int_equal(dq_test_get32(b + OFF_VALUE_TYPE), 1);
	assert_int_equal(dq_test_get32(b + OFF_MODE), DQ_MODE_HOGWILD);
	assert_int_equal(dq_test_get32(b + OFF_STATES), S);
	assert_int_equal(dq_test_get32(b + OFF_ACTIONS), A);
	assert_true(get64(b + OFF_SEED) == 0x0123456789abcdefull);
	assert_true(get64(b + OFF_STEPS) == 1ull << 40);
	assert_true(get64(b + OFF_EPISODES) == 123456);
	assert_true(get64(b + OFF_GAMMA) == 0x3fefae147ae147aeull); /* .99 */
	assert_true(get64(b + OFF_SECONDS) == 0x4029000000000000ull);
	assert_string_equal((char *)b + OFF_ENV, "maze4x3");
	for (int i = OFF_ENV + 7; i < OFF_PARAMS; i++)
		assert_int_equal(b[i], 0); /* padded with NULs */
	assert_string_equal((char *)b + OFF_PARAMS,
			    "living_reward=-0.04,slip=0.2");
	assert_int_equal(dq_test_get32(b + OFF_CHANNELS),
			 1); /* 1 channel, no flags */
	assert_int_equal(dq_test_get32(b + OFF_HEADER_CRC),
			 (uint32_t)crc32(0, b, OFF_HEADER_CRC));
	for (int i = 0; i < S * A; i++) {
		memcpy(&bits, &tricky[i], 8);
		assert_true(get64(b + HEADER_LEN + 8 * i) == bits);
	}
	assert_true(get64(b + len - TRAILER_LEN) == len);
	assert_int_equal(dq_test_get32(b + len - 4),
			 (uint32_t)crc32(0, b, (uInt)(len - 4)));
	free(b);
	unlink(path);
}

/* Every prefix of a valid file is reported as truncated. */
static void
test_truncated(void **state)
{
	char path[128], cut[128];
	size_t len;
	uint8_t *b;

	(void)state;
	dq_test_path_in(path, sizeof(path), dir, "full.ckp");
	dq_test_path_in(cut, sizeof(cut), dir, "cut.ckp");
	save_ref(path);
	b = dq_test_slurp(path, &len);
	for (size_t n = 0; n < len; n++) {
		spit(cut, b, n);
		expect_error(cut, DQ_ETRUNC);
	}
	free(b);
	unlink(path);
	unlink(cut);
}

/* A single flipped bit anywhere is caught, and reported by where it is. */
static void
test_bit_flips(void **state)
{
	char path[128], bad[128];
	dq_checkpoint_meta m;
	size_t len;
	uint8_t *b;

	(void)state;
	dq_test_path_in(path, sizeof(path), dir, "good.ckp");
	dq_test_path_in(bad, sizeof(bad), dir, "flip.ckp");
	save_ref(path);
	b = dq_test_slurp(path, &len);
	for (size_t i = 0; i < len; i++) {
		int want = i < 8    ? DQ_EFORMAT
			   : i < 12 ? DQ_EVERSION
				    : DQ_ECORRUPT;

		for (int bit = 0; bit < 8; bit++) {
			b[i] ^= (uint8_t)(1u << bit);
			spit(bad, b, len);
			assert_int_equal(dq_checkpoint_read_meta(bad, &m),
					 want);
			b[i] ^= (uint8_t)(1u << bit);
		}
	}
	/* Loads judge the same way; spot-check one bit per region. */
	b[3] ^= 1;
	spit(bad, b, len);
	expect_error(bad, DQ_EFORMAT);
	b[3] ^= 1;
	b[9] ^= 4;
	spit(bad, b, len);
	expect_error(bad, DQ_EVERSION);
	b[9] ^= 4;
	b[OFF_STATES] ^= 0x80; /* a header that lies about its size */
	spit(bad, b, len);
	expect_error(bad, DQ_ECORRUPT);
	b[OFF_STATES] ^= 0x80;
	b[HEADER_LEN + 13] ^= 0x10;
	spit(bad, b, len);
	expect_error(bad, DQ_ECORRUPT);
	free(b);
	unlink(path);
	unlink(bad);
}

/*
 * Files whose checksums are right but whose content is not: each is edited
 * and resealed, so only the field checks can catch it.
 */
static void
test_resealed_rejections(void **state)
{
	static const struct {
		size_t off;
		uint32_t v32;
		int want;
	} u32s[] = {
	    {OFF_VERSION, 3, DQ_EVERSION},
	    {OFF_VERSION, 0, DQ_EVERSION},
	    {OFF_VALUE_TYPE, 2, DQ_EVERSION},
	    {OFF_MODE, 3, DQ_ECORRUPT},
	    {OFF_STATES, 0, DQ_ECORRUPT},
	    {OFF_ACTIONS, 0, DQ_ECORRUPT},
	    {OFF_STATES, 1000, DQ_ETRUNC}, /* more values than here */
	    {OFF_STATES, 4, DQ_ECORRUPT},  /* fewer values than here */
	    {OFF_HEADER_LEN, 412, DQ_ECORRUPT},
	    {OFF_HEADER_LEN, 420, DQ_ECORRUPT}, /* not a multiple of 8 */
	    {OFF_HEADER_LEN, 1u << 21, DQ_ECORRUPT},
	    {OFF_CHANNELS, 0, DQ_ECORRUPT},		/* no channel */
	    {OFF_CHANNELS, 5, DQ_ECORRUPT},		/* over the most */
	    {OFF_CHANNELS, 1u | 2u << 16, DQ_ECORRUPT}, /* unknown flag */
	    {OFF_CHANNELS, 2, DQ_ETRUNC},		/* more values */
	    {OFF_CHANNELS, 1u | 1u << 16, DQ_ETRUNC},	/* and counts */
	};
	char path[128], bad[128];
	size_t len;
	uint8_t *b, *e;

	(void)state;
	dq_test_path_in(path, sizeof(path), dir, "good.ckp");
	dq_test_path_in(bad, sizeof(bad), dir, "bad.ckp");
	save_ref(path);
	b = dq_test_slurp(path, &len);
	e = malloc(len + 16);
	assert_non_null(e);

	for (size_t i = 0; i < sizeof(u32s) / sizeof(u32s[0]); i++) {
		memcpy(e, b, len);
		dq_test_put32(e + u32s[i].off, u32s[i].v32);
		reseal(e, len);
		spit(bad, e, len);
		expect_error(bad, u32s[i].want);
	}

	/* S x A x 8 beyond 64 bits. */
	memcpy(e, b, len);
	dq_test_put32(e + OFF_STATES, UINT32_MAX);
	dq_test_put32(e + OFF_ACTIONS, UINT32_MAX);
	reseal(e, len);
	spit(bad, e, len);
	expect_error(bad, DQ_ECORRUPT);

	/* Strings must end within their fields. */
	memcpy(e, b, len);
	memset(e + OFF_ENV, 'x', 64);
	reseal(e, len);
	spit(bad, e, len);
	expect_error(bad, DQ_ECORRUPT);
	memcpy(e, b, len);
	memset(e + OFF_PARAMS, 'y', 256);
	reseal(e, len);
	spit(bad, e, len);
	expect_error(bad, DQ_ECORRUPT);

	/* Non-finite hyperparameters and values, checksums right: their own
	 * error, never "checksum mismatch". */
	static const size_t doubles[] = {
	    OFF_GAMMA,	 OFF_ALPHA,  OFF_EPSILON,
	    OFF_SECONDS, HEADER_LEN, HEADER_LEN + 8 * (S * A - 1)};
	for (size_t i = 0; i < sizeof(doubles) / sizeof(doubles[0]); i++) {
		for (int k = 0; k < 2; k++) {
			memcpy(e, b, len);
			putf64(e + doubles[i], k ? NAN : -INFINITY);
			reseal(e, len);
			spit(bad, e, len);
			expect_error(bad, DQ_EFILEVALUE);
		}
	}

	/* A trailer whose length is not the file's. */
	memcpy(e, b, len);
	reseal(e, len);
	put64(e + len - TRAILER_LEN, len + 1);
	dq_test_put32(e + len - 4, (uint32_t)crc32(0, e, (uInt)(len - 4)));
	spit(bad, e, len);
	expect_error(bad, DQ_ECORRUPT);

	/* Bytes after the trailer. */
	memcpy(e, b, len);
	memset(e + len, 0, 8);
	spit(bad, e, len + 8);
	expect_error(bad, DQ_ECORRUPT);

	free(e);
	free(b);
	unlink(path);
	unlink(bad);
}

/* Not checkpoints at all, or not files. */
static void
test_foreign_files(void **state)
{
	static const char text[] = "this is not a checkpoint, just some text "
				   "long enough to hold a header or not";
	char path[128];
	uint8_t big[HEADER_LEN + 64];

	(void)state;
	dq_test_path_in(path, sizeof(path), dir, "foreign");
	spit(path, (const uint8_t *)text, sizeof(text));
	expect_error(path, DQ_EFORMAT);
	spit(path, (const uint8_t *)"XYZ", 3);
	expect_error(path, DQ_EFORMAT);
	spit(path, (const uint8_t *)"DIS", 3); /* a prefix of the magic */
	expect_error(path, DQ_ETRUNC);
	spit(path, (const uint8_t *)"", 0);
	expect_error(path, DQ_ETRUNC);
	memset(big, 0, sizeof(big));
	memcpy(big, "DISTQCKQ", 8);
	spit(path, big, sizeof(big));
	expect_error(path, DQ_EFORMAT);
	/* A short file from a future version says so. */
	memcpy(big, "DISTQCKP", 8);
	dq_test_put32(big + OFF_VERSION, 3);
	spit(path, big, 40);
	expect_error(path, DQ_EVERSION);
	unlink(path);

	dq_test_path_in(path, sizeof(path), dir, "no-such-file");
	expect_error(path, -ENOENT);
	expect_error(dir, -EISDIR);
	expect_error("/dev/null", DQ_ENOTREG);
}

/*
 * A copy of the file @b (@len bytes, header_len HEADER_LEN) with @ext
 * (@ext_len bytes, a multiple of 8) as its header extension, resealed and
 * written to @path.
 */
static void
spit_with_ext(const char *path, const uint8_t *b, size_t len,
	      const uint8_t *ext, size_t ext_len)
{
	uint8_t *e = malloc(len + ext_len);

	assert_non_null(e);
	memcpy(e, b, HEADER_LEN);
	memcpy(e + HEADER_LEN, ext, ext_len);
	memcpy(e + HEADER_LEN + ext_len, b + HEADER_LEN, len - HEADER_LEN);
	dq_test_put32(e + OFF_HEADER_LEN, (uint32_t)(HEADER_LEN + ext_len));
	reseal(e, len + ext_len);
	spit(path, e, len + ext_len);
	free(e);
}

/*
 * A later minor revision may append header sections; a reader skips those
 * it does not know, unless their tag says they must be understood.
 */
static void
test_extended_header(void **state)
{
	char path[128], ext[128];
	dq_checkpoint_meta m;
	double snap[S * A];
	uint8_t sec[16];
	size_t len;
	uint8_t *b, *e;
	dq_table *t;

	(void)state;
	dq_test_path_in(path, sizeof(path), dir, "good.ckp");
	dq_test_path_in(ext, sizeof(ext), dir, "ext.ckp");
	save_ref(path);
	b = dq_test_slurp(path, &len);
	memset(sec, 0, sizeof(sec));
	dq_test_put32(sec + SEC_TAG, 7);
	dq_test_put32(sec + SEC_LEN, 5); /* 5 bytes, then 3 of padding */
	memset(sec + 8, 0xee, 5);
	spit_with_ext(ext, b, len, sec, sizeof(sec));

	assert_int_equal(dq_checkpoint_read_meta(ext, &m), 0);
	assert_int_equal(m.n_states, S);
	assert_int_equal(m.n_agents, 0);
	t = dq_test_table(S, A, DQ_MODE_CAS, 0.0, false);
	assert_int_equal(dq_checkpoint_load(ext, t, NULL), 0);
	assert_int_equal(dq_table_snapshot(t, snap, S * A), 0);
	assert_memory_equal(snap, tricky, sizeof(snap));
	dq_table_destroy(t);

	/* The extension is covered by the file CRC. */
	e = dq_test_slurp(ext, &len);
	e[HEADER_LEN + 9] ^= 1;
	spit(ext, e, len);
	expect_error(ext, DQ_ECORRUPT);
	free(e);

	/* A section marked "must be understood" that this library does not
	 * know (critical tags 3 to 7 are taken: the rule, its states, the
	 * coder, the world, the sync policy). */
	dq_test_put32(sec + SEC_TAG, 0x777 | TAG_CRITICAL);
	spit_with_ext(ext, b, len - 16, sec, sizeof(sec));
	expect_error(ext, DQ_EVERSION);
	free(b);
	unlink(path);
	unlink(ext);
}

static void
test_shape_mismatch(void **state)
{
	char path[128], bad[128];
	dq_checkpoint_meta m, untouched;
	size_t len;
	uint8_t *b;
	dq_table *t;

	(void)state;
	dq_test_path_in(path, sizeof(path), dir, "shape.ckp");
	dq_test_path_in(bad, sizeof(bad), dir, "shape-bad.ckp");
	save_ref(path);
	for (int k = 0; k < 3; k++) {
		t = k == 0   ? dq_test_table(S, A + 1, DQ_MODE_CAS, 3.0, false)
		    : k == 1 ? dq_test_table(S + 1, A, DQ_MODE_CAS, 3.0, false)
			     : dq_test_table(A, S, DQ_MODE_CAS, 3.0,
					     false); /* same S x A */
		memset(&m, 0x11, sizeof(m));
		untouched = m;
		assert_int_equal(dq_checkpoint_load(path, t, &m), DQ_EMISMATCH);
		assert_memory_equal(&m, &untouched, sizeof(m));
		dq_table_destroy(t);
	}
	/* A damaged file is reported as damaged, not as a mismatch. */
	b = dq_test_slurp(path, &len);
	b[len - 20] ^= 1;
	spit(bad, b, len);
	t = dq_test_table(S + 1, A, DQ_MODE_CAS, 3.0, false);
	assert_int_equal(dq_checkpoint_load(bad, t, NULL), DQ_ECORRUPT);
	dq_table_destroy(t);
	free(b);
	unlink(path);
	unlink(bad);
}

/* A new save replaces the old file and keeps its permission bits. */
static void
test_overwrite(void **state)
{
	char path[128];
	dq_checkpoint_meta m;
	struct stat st;
	dq_table *t;

	(void)state;
	dq_test_path_in(path, sizeof(path), dir, "over.ckp");
	save_ref(path);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(chmod(path, 0640), 0);

	t = dq_test_table(S, A, DQ_MODE_CAS, -1.25, false);
	meta_fill(&m);
	strcpy(m.env, "taxi");
	m.params[0] = '\0';
	m.mode = DQ_MODE_LOCKED;
	assert_int_equal(dq_checkpoint_save(path, t, &m), 0);
	dq_table_fill(t, 0.0);
	assert_int_equal(dq_checkpoint_load(path, t, &m), 0);
	assert_true(table_is(t, -1.25));
	assert_string_equal(m.env, "taxi");
	assert_string_equal(m.params, "");
	assert_int_equal(m.mode, DQ_MODE_LOCKED);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	assert_int_equal(temp_files(dir), 0);

	/* A relative path (no directory part) works too. */
	char cwd[512];
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(dir), 0);
	assert_int_equal(dq_checkpoint_save("rel.ckp", t, &m), 0);
	assert_int_equal(dq_checkpoint_read_meta("rel.ckp", &m), 0);
	unlink("rel.ckp");
	assert_int_equal(chdir(cwd), 0);
	dq_table_destroy(t);
	unlink(path);
}

/* Check that @path still holds the reference checkpoint. */
static void
expect_ref(const char *path)
{
	dq_checkpoint_meta m;
	dq_table *t = dq_test_table(S, A, DQ_MODE_CAS, 0.0, false);
	double snap[S * A];

	assert_int_equal(dq_checkpoint_load(path, t, &m), 0);
	assert_int_equal(dq_table_snapshot(t, snap, S * A), 0);
	assert_memory_equal(snap, tricky, sizeof(snap));
	assert_int_equal(m.mode, DQ_MODE_HOGWILD);
	dq_table_destroy(t);
}

/*
 * Failed saves return the negative errno, leave no temporary file and never
 * damage the previous file. Running as root defeats permission bits, so the
 * failures come from the file system's shape and from RLIMIT_FSIZE, which
 * binds root too.
 */
static void
test_save_failures(void **state)
{
	char path[128], sub[160];
	dq_checkpoint_meta m;
	struct rlimit old, small;
	void (*old_handler)(int);
	dq_table *t = dq_test_table(S, A, DQ_MODE_CAS, 2.0, false);

	(void)state;
	meta_fill(&m);
	dq_test_path_in(path, sizeof(path), dir, "missing-dir/x.ckp");
	assert_int_equal(dq_checkpoint_save(path, t, &m), -ENOENT);

	dq_test_path_in(path, sizeof(path), dir, "plain");
	spit(path, (const uint8_t *)"x", 1);
	snprintf(sub, sizeof(sub), "%s/x.ckp", path);
	assert_int_equal(dq_checkpoint_save(sub, t, &m), -ENOTDIR);
	unlink(path);

	/* The target is a directory: rename fails after the data is
	 * written, and the temporary file must go. */
	dq_test_path_in(path, sizeof(path), dir, "a-dir");
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(dq_checkpoint_save(path, t, &m), -EISDIR);
	assert_int_equal(temp_files(dir), 0);
	rmdir(path);

	/* A write fails half way: the old file survives. */
	dq_test_path_in(path, sizeof(path), dir, "keep.ckp");
	save_ref(path);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	small = old;
	small.rlim_cur = 100;
	old_handler = signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
	int err = dq_checkpoint_save(path, t, &m);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, old_handler);
	assert_int_equal(err, -EFBIG);
	assert_int_equal(temp_files(dir), 0);
	expect_ref(path);

	/* Without root, a read-only directory refuses the temporary file. */
	if (geteuid() != 0) {
		assert_int_equal(chmod(dir, 0500), 0);
		err = dq_checkpoint_save(path, t, &m);
		assert_int_equal(chmod(dir, 0700), 0);
		assert_int_equal(err, -EACCES);
		assert_int_equal(temp_files(dir), 0);
		expect_ref(path);
	}
	dq_table_destroy(t);
	unlink(path);
}

static void
test_invalid_args(void **state)
{
	char path[128];
	dq_checkpoint_meta m, bad;
	dq_table *t = dq_test_table(S, A, DQ_MODE_CAS, 0.0, false);

	(void)state;
	dq_test_path_in(path, sizeof(path), dir, "args.ckp");
	meta_fill(&m);
	assert_int_equal(dq_checkpoint_save(NULL, t, &m), -EINVAL);
	assert_int_equal(dq_checkpoint_save("", t, &m), -EINVAL);
	assert_int_equal(dq_checkpoint_save(path, NULL, &m), -EINVAL);
	assert_int_equal(dq_checkpoint_save(path, t, NULL), -EINVAL);
	bad = m;
	memset(bad.env, 'e', sizeof(bad.env));
	assert_int_equal(dq_checkpoint_save(path, t, &bad), -EINVAL);
	bad = m;
	memset(bad.params, 'p', sizeof(bad.params));
	assert_int_equal(dq_checkpoint_save(path, t, &bad), -EINVAL);
	bad = m;
	bad.mode = (dq_mode)5;
	assert_int_equal(dq_checkpoint_save(path, t, &bad), -EINVAL);
	bad = m;
	bad.gamma = NAN;
	assert_int_equal(dq_checkpoint_save(path, t, &bad), -EINVAL);
	bad = m;
	bad.seconds = INFINITY;
	assert_int_equal(dq_checkpoint_save(path, t, &bad), -EINVAL);
	assert_int_equal(access(path, F_OK), -1); /* nothing was written */
	assert_int_equal(temp_files(dir), 0);

	assert_int_equal(dq_checkpoint_save(path, t, &m), 0);
	assert_int_equal(dq_checkpoint_read_meta(NULL, &m), -EINVAL);
	assert_int_equal(dq_checkpoint_read_meta(path, NULL), -EINVAL);
	assert_int_equal(dq_checkpoint_load(NULL, t, &m), -EINVAL);
	assert_int_equal(dq_checkpoint_load(path, NULL, &m), -EINVAL);
	assert_int_equal(dq_checkpoint_load(path, t, NULL), 0);
	dq_table_destroy(t);
	unlink(path);
}

struct churn {
	dq_table *t;
	int stop; /* under mu */
	pthread_mutex_t mu;
};

static int
churn_stopped(struct churn *c)
{
	int stop;

	pthread_mutex_lock(&c->mu);
	stop = c->stop;
	pthread_mutex_unlock(&c->mu);
	return stop;
}

static void *
churn_main(void *arg)
{
	struct churn *c = arg;

	for (uint32_t i = 0; !churn_stopped(c); i++)
		dq_table_add(c->t, i % S, i % A, 1.0);
	return NULL;
}

/* Saving while agents update gives a valid file of finite values. */
static void
test_save_during_updates(void **state)
{
	char path[128];
	struct churn c = {.stop = 0};
	pthread_t th[2];
	dq_table *back = dq_test_table(S, A, DQ_MODE_CAS, 0.0, false);

	(void)state;
	dq_test_path_in(path, sizeof(path), dir, "live.ckp");
	c.t = dq_test_table(S, A, DQ_MODE_CAS, 0.0, false);
	pthread_mutex_init(&c.mu, NULL);
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&th[i], NULL, churn_main, &c),
				 0);
	for (int k = 0; k < 5; k++) {
		dq_checkpoint_meta m;

		meta_fill(&m);
		assert_int_equal(dq_checkpoint_save(path, c.t, &m), 0);
		assert_int_equal(dq_checkpoint_load(path, back, NULL), 0);
	}
	pthread_mutex_lock(&c.mu);
	c.stop = 1;
	pthread_mutex_unlock(&c.mu);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	pthread_mutex_destroy(&c.mu);
	assert_int_equal(temp_files(dir), 0);
	dq_table_destroy(c.t);
	dq_table_destroy(back);
	unlink(path);
}

/* ------------------------------------------------------------- agents -- */

#define NAG 3

/* Agent states with values a sloppy encoding would get wrong. */
static void
agents_fill(dq_agent_state *ag, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		memset(&ag[i], 0, sizeof(ag[i]));
		ag[i].rng.s[0] = 0x0123456789abcdefull + i;
		ag[i].rng.s[1] = ~0ull - i;
		ag[i].rng.s[2] = i;
		ag[i].rng.s[3] = 1ull << (i % 64);
		ag[i].alpha_clock = i == 0 ? 0.0 : 1.0 / 3.0 + i;
		ag[i].epsilon_clock = i == 1 ? 4.9406564584124654e-324 : 1e15;
		ag[i].steps = i == 2 ? UINT64_MAX : 1000u * i;
		ag[i].episodes = 17u + i;
		ag[i].cas_retries = 5u * i;
	}
}

static void
save_agents_ref(const char *path)
{
	dq_agent_state ag[NAG];
	dq_checkpoint_meta m;
	dq_table *t = make_tricky();

	meta_fill(&m);
	agents_fill(ag, NAG);
	assert_int_equal(dq_checkpoint_save_run(path, t, &m, ag, NAG), 0);
	dq_table_destroy(t);
}

static void
test_agents_round_trip(void **state)
{
	char path[128], plain[128];
	dq_agent_state want[NAG], got[NAG + 1], guard;
	dq_checkpoint_meta m;
	double snap[S * A];
	uint8_t *b1, *b2;
	size_t l1, l2;
	dq_table *t;

	(void)state;
	dq_test_path_in(path, sizeof(path), dir, "agents.ckp");
	save_agents_ref(path);
	agents_fill(want, NAG);

	memset(&m, 0, sizeof(m));
	assert_int_equal(dq_checkpoint_read_meta(path, &m), 0);
	assert_int_equal(m.n_agents, NAG);
	assert_int_equal(m.version, DQ_CHECKPOINT_VERSION);

	t = dq_test_table(S, A, DQ_MODE_CAS, 0.5, false);
	memset(got, 0x77, sizeof(got));
	guard = got[NAG];
	assert_int_equal(dq_checkpoint_load_run(path, t, &m, got, NAG + 1), 0);
	assert_int_equal(m.n_agents, NAG);
	assert_memory_equal(got, want, sizeof(want)); /* bit-exact */
	assert_memory_equal(&got[NAG], &guard, sizeof(guard));
	assert_int_equal(dq_table_snapshot(t, snap, S * A), 0);
	assert_memory_equal(snap, tricky, sizeof(snap));

	/* Fewer slots than agents: the first ones only. */
	memset(got, 0x77, sizeof(got));
	assert_int_equal(dq_checkpoint_load_run(path, t, &m, got, 1), 0);
	assert_int_equal(m.n_agents, NAG);
	assert_memory_equal(&got[0], &want[0], sizeof(got[0]));
	assert_memory_equal(&got[1], &guard, sizeof(guard));
	assert_int_equal(dq_checkpoint_load_run(path, t, NULL, NULL, 0), 0);
	/* The plain load accepts the file and returns 0 too. */
	assert_int_equal(dq_checkpoint_load(path, t, &m), 0);
	assert_int_equal(m.n_agents, NAG);

	/* Without agents, save_run writes what save writes, and a file
	 * without agents loads with none. */
	dq_test_path_in(plain, sizeof(plain), dir, "plain.ckp");
	save_ref(plain);
	meta_fill(&m);
	assert_int_equal(dq_checkpoint_save_run(path, t, &m, NULL, 0), 0);
	b1 = dq_test_slurp(plain, &l1);
	b2 = dq_test_slurp(path, &l2);
	assert_int_equal(l1, l2);
	assert_memory_equal(b1, b2, l1);
	free(b1);
	free(b2);
	memset(got, 0x77, sizeof(got));
	assert_int_equal(dq_checkpoint_load_run(plain, t, &m, got, NAG), 0);
	assert_int_equal(m.n_agents, 0);
	assert_memory_equal(&got[0], &guard, sizeof(guard));
	dq_table_destroy(t);
	unlink(path);
	unlink(plain);
}

/* The agents section is where docs/checkpoint-format.md says. */
static void
test_agents_layout(void **state)
{
	dq_agent_state want[NAG];
	char path[128];
	size_t len, ext = 16 + AREC_LEN * NAG;
	uint64_t bits;
	uint8_t *b, *r;

	(void)state;
	dq_test_path_in(path, sizeof(path), dir, "alayout.ckp");
	save_agents_ref(path);
	agents_fill(want, NAG);
	b = dq_test_slurp(path, &len);
	assert_int_equal(len, FILE_LEN + ext);
	assert_int_equal(dq_test_get32(b + OFF_VERSION), 2);
	assert_int_equal(dq_test_get32(b + OFF_HEADER_LEN), HEADER_LEN + ext);
	assert_int_equal(dq_test_get32(b + HEADER_LEN + SEC_TAG), TAG_AGENTS);
	assert_int_equal(dq_test_get32(b + HEADER_LEN + SEC_LEN), ext - 8);
	assert_int_equal(dq_test_get32(b + HEADER_LEN + AG_COUNT), NAG);
	assert_int_equal(dq_test_get32(b + HEADER_LEN + AG_REC_LEN), AREC_LEN);
	for (int i = 0; i < NAG; i++) {
		r = b + HEADER_LEN + AG_RECS + AREC_LEN * i;
		for (int k = 0; k < 4; k++)
			assert_true(get64(r + AREC_RNG + 8 * k) ==
				    want[i].rng.s[k]);
		memcpy(&bits, &want[i].alpha_clock, 8);
		assert_true(get64(r + AREC_ALPHA_CLOCK) == bits);
		memcpy(&bits, &want[i].epsilon_clock, 8);
		assert_true(get64(r + AREC_EPS_CLOCK) == bits);
		assert_true(get64(r + AREC_STEPS) == want[i].steps);
		assert_true(get64(r + AREC_EPISODES) == want[i].episodes);
		assert_true(get64(r + AREC_RETRIES) == want[i].cas_retries);
	}
	for (int i = 0; i < S * A; i++) {
		memcpy(&bits, &tricky[i], 8);
		assert_true(get64(b + HEADER_LEN + ext + 8 * i) == bits);
	}
	assert_int_equal(dq_test_get32(b + OFF_HEADER_CRC),
			 (uint32_t)crc32(0, b, OFF_HEADER_CRC));
	assert_true(get64(b + len - TRAILER_LEN) == len);
	assert_int_equal(dq_test_get32(b + len - 4),
			 (uint32_t)crc32(0, b, (uInt)(len - 4)));
	free(b);
	unlink(path);
}

/* Every prefix and every single-bit flip of a file with agents is caught. */
static void
test_agents_damage(void **state)
{
	char path[128], bad[128];
	dq_checkpoint_meta m;
	size_t len;
	uint8_t *b;

	(void)state;
	dq_test_path_in(path, sizeof(path), dir, "agood.ckp");
	dq_test_path_in(bad, sizeof(bad), dir, "abad.ckp");
	save_agents_ref(path);
	b = dq_test_slurp(path, &len);
	for (size_t n = 0; n < len; n += 1 + (n >= HEADER_LEN) * 3) {
		spit(bad, b, n);
		expect_error(bad, DQ_ETRUNC);
	}
	/* test_bit_flips covers the fixed header, values and trailer; here
	 * every bit of the agents section and of the header length. */
	for (size_t i = OFF_HEADER_LEN; i < HEADER_LEN + 16 + AREC_LEN * NAG;
	     i++) {
		if (i == OFF_HEADER_LEN + 4)
			i = HEADER_LEN;
		for (int bit = 0; bit < 8; bit++) {
			b[i] ^= (uint8_t)(1u << bit);
			spit(bad, b, len);
			assert_int_equal(dq_checkpoint_read_meta(bad, &m),
					 DQ_ECORRUPT);
			b[i] ^= (uint8_t)(1u << bit);
		}
	}
	b[HEADER_LEN + AG_RECS + 1] ^= 2;
	spit(bad, b, len);
	expect_error(bad, DQ_ECORRUPT);
	free(b);
	unlink(path);
	unlink(bad);
}

/* One agent record, encoded as the format says. */
static void
put_agent(uint8_t *r, const dq_agent_state *st)
{
	for (int k = 0; k < 4; k++)
		put64(r + AREC_RNG + 8 * k, st->rng.s[k]);
	putf64(r + AREC_ALPHA_CLOCK, st->alpha_clock);
	putf64(r + AREC_EPS_CLOCK, st->epsilon_clock);
	put64(r + AREC_STEPS, st->steps);
	put64(r + AREC_EPISODES, st->episodes);
	put64(r + AREC_RETRIES, st->cas_retries);
}

/*
 * Build an agents section of @n records of @rec_len bytes at @p; returns
 * its length.
 */
static size_t
build_agents(uint8_t *p, uint32_t n, uint32_t rec_len)
{
	dq_agent_state ag[NAG];
	size_t body = 8 + (size_t)n * rec_len;

	assert_true(n <= NAG);
	agents_fill(ag, NAG);
	memset(p, 0, 8 + body);
	dq_test_put32(p + SEC_TAG, TAG_AGENTS);
	dq_test_put32(p + SEC_LEN, (uint32_t)body);
	dq_test_put32(p + AG_COUNT, n);
	dq_test_put32(p + AG_REC_LEN, rec_len);
	for (uint32_t i = 0; i < n; i++)
		put_agent(p + AG_RECS + (size_t)i * rec_len, &ag[i]);
	return 8 + body;
}

/*
 * Sections whose checksums are right but whose content is not: built by
 * hand and resealed, so only the section checks can catch them.
 */
static void
test_agents_resealed(void **state)
{
	char path[128], bad[128];
	dq_agent_state want[NAG], got[NAG];
	dq_checkpoint_meta m;
	uint8_t x[1024];
	size_t len, n;
	uint8_t *b;
	dq_table *t = dq_test_table(S, A, DQ_MODE_CAS, 0.0, false);

	(void)state;
	dq_test_path_in(path, sizeof(path), dir, "base.ckp");
	dq_test_path_in(bad, sizeof(bad), dir, "sec.ckp");
	save_ref(path);
	b = dq_test_slurp(path, &len);
	agents_fill(want, NAG);

	/* Well formed by hand: loads. */
	n = build_agents(x, 2, AREC_LEN);
	spit_with_ext(bad, b, len, x, n);
	assert_int_equal(dq_checkpoint_load_run(bad, t, &m, got, NAG), 0);
	assert_int_equal(m.n_agents, 2);
	assert_memory_equal(got, want, 2 * sizeof(got[0]));
	/* Longer records (a later revision): known fields still read. */
	n = build_agents(x, 2, AREC_LEN + 16);
	spit_with_ext(bad, b, len, x, n);
	assert_int_equal(dq_checkpoint_load_run(bad, t, &m, got, NAG), 0);
	assert_int_equal(m.n_agents, 2);
	assert_memory_equal(got, want, 2 * sizeof(got[0]));
	/* An unknown section before it is skipped. */
	memset(x, 0, 16);
	dq_test_put32(x + SEC_TAG, 99);
	dq_test_put32(x + SEC_LEN, 8);
	n = 16 + build_agents(x + 16, 1, AREC_LEN);
	spit_with_ext(bad, b, len, x, n);
	assert_int_equal(dq_checkpoint_load_run(bad, t, &m, got, NAG), 0);
	assert_int_equal(m.n_agents, 1);

	/* Tag 0. */
	n = build_agents(x, 1, AREC_LEN);
	dq_test_put32(x + SEC_TAG, 0);
	spit_with_ext(bad, b, len, x, n);
	expect_error(bad, DQ_ECORRUPT);
	/* A length past the extension, or short of the records. */
	n = build_agents(x, 1, AREC_LEN);
	dq_test_put32(x + SEC_LEN, (uint32_t)n);
	spit_with_ext(bad, b, len, x, n);
	expect_error(bad, DQ_ECORRUPT);
	n = build_agents(x, 1, AREC_LEN);
	dq_test_put32(x + SEC_LEN, UINT32_MAX);
	spit_with_ext(bad, b, len, x, n);
	expect_error(bad, DQ_ECORRUPT);
	n = build_agents(x, 2, AREC_LEN);
	dq_test_put32(x + AG_COUNT, 1);
	spit_with_ext(bad, b, len, x, n);
	expect_error(bad, DQ_ECORRUPT);
	n = build_agents(x, 1, AREC_LEN);
	dq_test_put32(x + AG_COUNT, UINT32_MAX);
	spit_with_ext(bad, b, len, x, n);
	expect_error(bad, DQ_ECORRUPT);
	/* A body too short for its own count. */
	memset(x, 0, 16);
	dq_test_put32(x + SEC_TAG, TAG_AGENTS);
	dq_test_put32(x + SEC_LEN, 4);
	spit_with_ext(bad, b, len, x, 16);
	expect_error(bad, DQ_ECORRUPT);
	/* Records shorter than the format's, or not a multiple of 8. */
	n = build_agents(x, 1, AREC_LEN - 8);
	spit_with_ext(bad, b, len, x, n);
	expect_error(bad, DQ_ECORRUPT);
	n = build_agents(x, 1, AREC_LEN + 4);
	dq_test_put32(x + SEC_LEN,
		      (uint32_t)(n - 8 - 4)); /* padded to 8 again */
	spit_with_ext(bad, b, len, x, n);
	expect_error(bad, DQ_ECORRUPT);
	/* Padding that is not zero. */
	memset(x, 0, 16);
	dq_test_put32(x + SEC_TAG, 99);
	dq_test_put32(x + SEC_LEN, 5);
	x[8 + 6] = 1;
	spit_with_ext(bad, b, len, x, 16);
	expect_error(bad, DQ_ECORRUPT);
	/* Two agents sections. */
	n = build_agents(x, 1, AREC_LEN);
	n += build_agents(x + n, 1, AREC_LEN);
	spit_with_ext(bad, b, len, x, n);
	expect_error(bad, DQ_ECORRUPT);
	/* A section that must be understood, after the agents (a tag no
	 * library knows: 5 is the tile coder's now). */
	n = build_agents(x, 1, AREC_LEN);
	memset(x + n, 0, 8);
	dq_test_put32(x + n + SEC_TAG, 0x7fffu | TAG_CRITICAL);
	spit_with_ext(bad, b, len, x, n + 8);
	expect_error(bad, DQ_EVERSION);

	/* Records that no agent can be in. */
	static const struct {
		size_t off;
		double v;
		int err;
	} clocks[] = {
	    {AREC_ALPHA_CLOCK, -1.0, DQ_ECORRUPT},
	    {AREC_ALPHA_CLOCK, NAN, DQ_EFILEVALUE},
	    {AREC_EPS_CLOCK, -1e-300, DQ_ECORRUPT},
	    {AREC_EPS_CLOCK, INFINITY, DQ_EFILEVALUE},
	    {AREC_ALPHA_CLOCK, INFINITY, DQ_EFILEVALUE},
	};
	for (size_t i = 0; i < sizeof(clocks) / sizeof(clocks[0]); i++) {
		n = build_agents(x, 2, AREC_LEN);
		putf64(x + AG_RECS + AREC_LEN + clocks[i].off, clocks[i].v);
		spit_with_ext(bad, b, len, x, n);
		expect_error(bad, clocks[i].err);
	}
	n = build_agents(x, 2, AREC_LEN);
	memset(x + AG_RECS + AREC_LEN + AREC_RNG, 0, 32);
	spit_with_ext(bad, b, len, x, n);
	expect_error(bad, DQ_ECORRUPT);

	/* A failed load_run leaves the states alone. */
	memset(got, 0x33, sizeof(got));
	memcpy(want, got, sizeof(got));
	assert_int_equal(dq_checkpoint_load_run(bad, t, NULL, got, NAG),
			 DQ_ECORRUPT);
	assert_memory_equal(got, want, sizeof(got));
	dq_table_destroy(t);
	t = dq_test_table(S + 1, A, DQ_MODE_CAS, 0.0, false);
	save_agents_ref(bad);
	assert_int_equal(dq_checkpoint_load_run(bad, t, NULL, got, NAG),
			 DQ_EMISMATCH);
	assert_memory_equal(got, want, sizeof(got));
	dq_table_destroy(t);
	free(b);
	unlink(path);
	unlink(bad);
}

static void
test_agents_invalid_args(void **state)
{
	dq_agent_state ag[NAG], *many;
	dq_checkpoint_meta m;
	char path[128];
	dq_table *t = dq_test_table(S, A, DQ_MODE_CAS, 0.0, false);

	(void)state;
	dq_test_path_in(path, sizeof(path), dir, "aargs.ckp");
	meta_fill(&m);
	agents_fill(ag, NAG);
	assert_int_equal(dq_checkpoint_save_run(path, t, &m, NULL, 1), -EINVAL);
	ag[1].rng.s[0] = ag[1].rng.s[1] = ag[1].rng.s[2] = ag[1].rng.s[3] = 0;
	assert_int_equal(dq_checkpoint_save_run(path, t, &m, ag, NAG), -EINVAL);
	agents_fill(ag, NAG);
	ag[2].alpha_clock = -0.5;
	assert_int_equal(dq_checkpoint_save_run(path, t, &m, ag, NAG), -EINVAL);
	agents_fill(ag, NAG);
	ag[0].epsilon_clock = NAN;
	assert_int_equal(dq_checkpoint_save_run(path, t, &m, ag, NAG), -EINVAL);
	assert_int_equal(access(path, F_OK), -1);

	/* The most a learner has fits; one more does not. */
	many = calloc(DQ_MAX_THREADS + 1, sizeof(*many));
	assert_non_null(many);
	for (uint32_t i = 0; i <= DQ_MAX_THREADS; i++) {
		many[i].rng.s[0] = i + 1;
		many[i].steps = i;
	}
	assert_int_equal(
	    dq_checkpoint_save_run(path, t, &m, many, DQ_MAX_THREADS + 1),
	    -EINVAL);
	assert_int_equal(
	    dq_checkpoint_save_run(path, t, &m, many, DQ_MAX_THREADS), 0);
	memset(many, 0, (DQ_MAX_THREADS + 1) * sizeof(*many));
	assert_int_equal(
	    dq_checkpoint_load_run(path, t, &m, many, DQ_MAX_THREADS + 1), 0);
	assert_int_equal(m.n_agents, DQ_MAX_THREADS);
	assert_true(many[DQ_MAX_THREADS - 1].steps == DQ_MAX_THREADS - 1);
	assert_true(many[DQ_MAX_THREADS].rng.s[0] == 0);
	free(many);

	assert_int_equal(dq_checkpoint_load_run(path, t, NULL, NULL, 1),
			 -EINVAL);
	assert_int_equal(dq_checkpoint_load_run(NULL, t, NULL, NULL, 0),
			 -EINVAL);
	assert_int_equal(dq_checkpoint_load_run(path, NULL, NULL, NULL, 0),
			 -EINVAL);
	dq_table_destroy(t);
	unlink(path);
}

/* ------------------------------------------------------ stale temps -- */

/* Create @name in the test directory holding @len bytes of @data. */
static void
make_file(const char *name, const void *data, size_t len)
{
	char path[160];

	dq_test_path_in(path, sizeof(path), dir, name);
	spit(path, data, len);
}

static bool
exists(const char *name)
{
	char path[160];
	struct stat st;

	dq_test_path_in(path, sizeof(path), dir, name);
	return lstat(path, &st) == 0;
}

/*
 * A save removes what killed saves to the same path left behind, and
 * nothing else: not a save in progress (whose lock it cannot take), not
 * another target's temporary files, not files that only look like one.
 */
static void
test_stale_temps(void **state)
{
	static const char *const removed[] = {
	    "st.ckp.tmp.AbC123", /* a killed writer's partial file */
	    "st.ckp.tmp.000000", /* killed before the first byte */
	    "st.ckp.tmp.zzzzzz", /* complete, killed before the rename */
	};
	static const char *const kept[] = {
	    "st.ckp.tmp.AbC12",	  /* not six characters */
	    "st.ckp.tmp.AbC1234", /* not six characters */
	    "st.ckp.tmp.AbC-23",  /* not mkstemp's */
	    "xst.ckp.tmp.AbC123", /* another target */
	    "st.ckp.tmp.backup",  /* right name, not a checkpoint */
	};
	char path[128], name[160], sub[160];
	uint8_t *ref;
	size_t len;
	dq_checkpoint_meta m;
	dq_table *t = make_tricky();
	int held;

	(void)state;
	dq_test_path_in(path, sizeof(path), dir, "st.ckp");
	save_ref(path);
	ref = dq_test_slurp(path, &len);
	make_file(removed[0], ref, 200);
	make_file(removed[1], "", 0);
	make_file(removed[2], ref, len);
	for (size_t i = 0; i + 1 < sizeof(kept) / sizeof(kept[0]); i++)
		make_file(kept[i], ref, 100);
	make_file(kept[4], "my backup", 9);
	/* A directory and a symbolic link with a temporary file's name. */
	dq_test_path_in(sub, sizeof(sub), dir, "st.ckp.tmp.Dir123");
	assert_int_equal(mkdir(sub, 0700), 0);
	dq_test_path_in(name, sizeof(name), dir, "st.ckp.tmp.Lnk123");
	assert_int_equal(symlink(path, name), 0);
	/* A save in progress elsewhere: its writer holds the lock. */
	make_file("st.ckp.tmp.Busy42", ref, 50);
	dq_test_path_in(name, sizeof(name), dir, "st.ckp.tmp.Busy42");
	held = open(name, O_RDONLY);
	assert_true(held >= 0);
	assert_int_equal(flock(held, LOCK_EX | LOCK_NB), 0);

	meta_fill(&m);
	assert_int_equal(dq_checkpoint_save(path, t, &m), 0);
	for (size_t i = 0; i < sizeof(removed) / sizeof(removed[0]); i++)
		assert_false(exists(removed[i]));
	for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++)
		assert_true(exists(kept[i]));
	assert_true(exists("st.ckp.tmp.Dir123"));
	assert_true(exists("st.ckp.tmp.Lnk123"));
	assert_true(exists("st.ckp.tmp.Busy42"));
	expect_ref(path);

	/* Once its writer is gone, the next save removes it. */
	close(held);
	assert_int_equal(dq_checkpoint_save(path, t, &m), 0);
	assert_false(exists("st.ckp.tmp.Busy42"));

	for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++) {
		dq_test_path_in(name, sizeof(name), dir, kept[i]);
		unlink(name);
	}
	rmdir(sub);
	dq_test_path_in(name, sizeof(name), dir, "st.ckp.tmp.Lnk123");
	unlink(name);
	assert_int_equal(temp_files(dir), 0);
	free(ref);
	dq_table_destroy(t);
	unlink(path);
}

/*
 * Threads saving to one path at once: each save succeeds (one's cleaning
 * never removes another's temporary file), the file is always whole, and
 * nothing is left behind.
 */
struct racer {
	const char *path;
	dq_table *t;
	int failures;
};

static void *
racer_main(void *arg)
{
	struct racer *r = arg;
	dq_checkpoint_meta m;

	meta_fill(&m);
	for (int k = 0; k < 40; k++)
		if (dq_checkpoint_save(r->path, r->t, &m) != 0)
			r->failures++;
	return NULL;
}

static void
test_concurrent_saves(void **state)
{
	struct racer r[3];
	pthread_t th[3];
	char path[128];

	(void)state;
	dq_test_path_in(path, sizeof(path), dir, "race.ckp");
	for (int i = 0; i < 3; i++) {
		r[i].path = path;
		r[i].t = make_tricky();
		r[i].failures = 0;
		assert_int_equal(
		    pthread_create(&th[i], NULL, racer_main, &r[i]), 0);
	}
	for (int i = 0; i < 3; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(r[i].failures, 0);
		dq_table_destroy(r[i].t);
	}
	expect_ref(path);
	assert_int_equal(temp_files(dir), 0);
	unlink(path);
}

/*
 * The CLI's resume-and-save-back, at the library's level: a valid file
 * whose values are huge is loaded, learning overflows, and the file saved
 * back must still load. Updates that would not be finite are refused, so
 * the table stays finite and the file written back loads; and whatever
 * the write paths did, a save never replaces a loadable file by one that
 * no load accepts (it checks the snapshot before creating any file).
 */
static void
test_huge_values_save_back(void **state)
{
	char path[128];
	dq_checkpoint_meta m;
	dq_table *t = dq_test_table(S, A, DQ_MODE_CAS, 0.0, false);
	dq_table *u = dq_test_table(S, A, DQ_MODE_CAS, 0.0, false);
	double v;
	int err;

	(void)state;
	dq_test_path_in(path, sizeof(path), dir, "huge.ckp");
	meta_fill(&m);
	assert_int_equal(dq_table_fill(t, 1.5e308), 0);
	assert_int_equal(dq_checkpoint_save(path, t, &m), 0);
	assert_int_equal(dq_checkpoint_load(path, u, NULL), 0);
	/* "Training" on it: TD targets r + gamma * 1.5e308 overflow. */
	for (uint32_t s = 0; s < S; s++)
		for (uint32_t a = 0; a < A; a++)
			assert_int_equal(dq_table_update(u, s, a, 0.5, DBL_MAX),
					 0);
	/* Refused (test_table); not asserted here, so that with the write
	 * paths' check removed this test still proves the save's own. */
	(void)dq_table_add(u, 0, 0, 1e308);
	err = dq_checkpoint_save(path, u, &m);
	/* Either the save worked and the file loads, or it was refused and
	 * the old file is still there and loads. */
	assert_true(err == 0 || err == DQ_ENONFINITE);
	assert_int_equal(dq_checkpoint_read_meta(path, &m), 0);
	assert_int_equal(dq_checkpoint_load(path, t, NULL), 0);
	assert_int_equal(dq_table_get(t, 0, 0, &v), 0);
	assert_true(isfinite(v));
	dq_table_destroy(t);
	dq_table_destroy(u);
}

/*
 * The durability protocol, observed: this suite is linked with
 * --wrap=fsync,--wrap=renameat (Makefile), so every fsync and rename the
 * library makes passes through the wrappers below, which record them in
 * order while `sync_log_on` is set: 'F' an fsync of a regular file, 'D' of
 * a directory, 'R' a rename. A save must be exactly "FRD": the data made
 * durable before the rename publishes it, then the rename made durable;
 * and the file fsync'ed must be the one renamed into place. A save
 * without either fsync, or without the rename, fails here (no test can see
 * a missing fsync otherwise: the data reach the page cache either way).
 */
int __real_fsync(int fd);
int __real_renameat(int fromfd, const char *from, int tofd, const char *to);
int __wrap_fsync(int fd);
int __wrap_renameat(int fromfd, const char *from, int tofd, const char *to);

static bool sync_log_on;
static char sync_log[16];
static size_t sync_log_n;
static ino_t synced_ino, renamed_ino;

static void
sync_log_add(char c)
{
	if (sync_log_n + 1 < sizeof(sync_log))
		sync_log[sync_log_n++] = c;
	sync_log[sync_log_n] = '\0';
}

int
__wrap_fsync(int fd)
{
	struct stat st;

	if (sync_log_on && fstat(fd, &st) == 0) {
		sync_log_add(S_ISDIR(st.st_mode) ? 'D' : 'F');
		if (S_ISREG(st.st_mode))
			synced_ino = st.st_ino;
	}
	return __real_fsync(fd);
}

int
__wrap_renameat(int fromfd, const char *from, int tofd, const char *to)
{
	int r = __real_renameat(fromfd, from, tofd, to);
	struct stat st;

	if (sync_log_on && r == 0) {
		sync_log_add('R');
		if (fstatat(tofd, to, &st, 0) == 0)
			renamed_ino = st.st_ino;
	}
	return r;
}

static void
test_save_sync_order(void **state)
{
	char path[128];
	dq_checkpoint_meta m;
	dq_table *t = dq_test_table(S, A, DQ_MODE_CAS, 0.5, false);

	(void)state;
	dq_test_path_in(path, sizeof(path), dir, "sync.ckp");
	meta_fill(&m);
	for (int k = 0; k < 2; k++) { /* a new file, then a replacement */
		sync_log_n = 0;
		sync_log[0] = '\0';
		synced_ino = renamed_ino = 0;
		sync_log_on = true;
		assert_int_equal(dq_checkpoint_save(path, t, &m), 0);
		sync_log_on = false;
		if (strcmp(sync_log, "FRD") != 0)
			fail_msg("save %d: fsync/rename sequence \"%s\", "
				 "expected \"FRD\" (F file fsync, R rename, D "
				 "directory fsync)",
				 k, sync_log);
		assert_true(synced_ino != 0 && synced_ino == renamed_ino);
	}
	dq_table_destroy(t);
	unlink(path);
}

/* ---------------------------------------------- paths and file types -- */

static void
on_alarm(int sig)
{
	(void)sig;
	/* A reader or writer that blocks on a FIFO is the failure. */
	fail_msg("a checkpoint call blocked on a FIFO");
}

/* @path is still a FIFO, or a character device, as it was made. */
static void
expect_type(const char *path, mode_t type)
{
	struct stat st;

	assert_int_equal(lstat(path, &st), 0);
	assert_int_equal(st.st_mode & S_IFMT, type);
}

/*
 * A save never replaces what is not a regular file: a FIFO, a device node
 * (made in the scratch directory when the test may, never the system's
 * /dev/null), a link to one, or a directory. A reader does not block on a
 * FIFO without a writer. dq_error_detail() says what the path is.
 */
static void
test_special_targets(void **state)
{
	char fifo[128], dev[128], link[128], path[160];
	dq_checkpoint_meta m;
	dq_table *t = make_tricky();
	void (*old)(int);
	const char *d;

	(void)state;
	meta_fill(&m);
	old = signal(SIGALRM, on_alarm);
	alarm(10);

	dq_test_path_in(fifo, sizeof(fifo), dir, "a-fifo");
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(dq_checkpoint_save(fifo, t, &m), DQ_ENOTREG);
	d = dq_error_detail();
	assert_non_null(d);
	assert_non_null(strstr(d, "FIFO"));
	expect_type(fifo, S_IFIFO);
	assert_int_equal(temp_files(dir), 0);
	/* Reading: refused at once, not after a writer appears. */
	expect_error(fifo, DQ_ENOTREG);
	assert_non_null(strstr(dq_error_detail(), "FIFO"));

	/* Through a symbolic link, the link and the FIFO both stay. */
	dq_test_path_in(link, sizeof(link), dir, "link-to-fifo");
	assert_int_equal(symlink(fifo, link), 0);
	assert_int_equal(dq_checkpoint_save(link, t, &m), DQ_ENOTREG);
	expect_type(link, S_IFLNK);
	expect_type(fifo, S_IFIFO);

	/* A device node like /dev/null (1, 3): only root may make one. */
	dq_test_path_in(dev, sizeof(dev), dir, "null-dev");
	if (mknod(dev, S_IFCHR | 0666, makedev(1, 3)) == 0) {
		assert_int_equal(dq_checkpoint_save(dev, t, &m), DQ_ENOTREG);
		assert_non_null(strstr(dq_error_detail(), "character device"));
		expect_type(dev, S_IFCHR);
		expect_error(dev, DQ_ENOTREG);
		unlink(dev);
	} else {
		printf("  (not root: no device node test, FIFOs only)\n");
	}

	/* Names that can only be directories. */
	snprintf(path, sizeof(path), "%s/", dir);
	assert_int_equal(dq_checkpoint_save(path, t, &m), -EISDIR);
	snprintf(path, sizeof(path), "%s/.", dir);
	assert_int_equal(dq_checkpoint_save(path, t, &m), -EISDIR);
	assert_int_equal(dq_checkpoint_save("/", t, &m), -EISDIR);
	assert_int_equal(temp_files(dir), 0);

	alarm(0);
	signal(SIGALRM, old);
	unlink(link);
	unlink(fifo);
	dq_table_destroy(t);
}

/*
 * A file name as long as the file system allows is saved and loaded,
 * although "<name>.tmp.XXXXXX" would be longer; the temporary file uses a
 * prefix of the name, and a stale one of those is cleaned as any other.
 */
static void
test_long_name(void **state)
{
	char name[NAME_MAX + 1], path[sizeof(name) + 80];
	char stale[sizeof(path)];
	long max = pathconf(dir, _PC_NAME_MAX);
	dq_checkpoint_meta m;
	dq_table *t = make_tricky();
	size_t len = max > 0 && max <= NAME_MAX ? (size_t)max : NAME_MAX;

	(void)state;
	meta_fill(&m);
	memset(name, 'n', len);
	name[len] = '\0';
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	/* A killed writer's debris under the prefix name. */
	snprintf(stale, sizeof(stale), "%s/%.*s.tmp.AbC123", dir,
		 (int)(len - 11), name);
	spit(stale, (const uint8_t *)"DISTQ", 5);
	assert_int_equal(temp_files(dir), 1);
	assert_int_equal(dq_checkpoint_save(path, t, &m), 0);
	assert_int_equal(temp_files(dir), 0);
	expect_ref(path);
	/* One byte more is no name at all. */
	snprintf(path, sizeof(path), "%s/%sx", dir, name);
	assert_int_equal(dq_checkpoint_save(path, t, &m), -ENAMETOOLONG);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	unlink(path);
	dq_table_destroy(t);
}

/*
 * A file-size limit gives -EFBIG, with SIGXFSZ left at its default (which
 * would end this test): the library checks the limit before it writes and
 * changes no signal disposition.
 */
static void
test_fsize_limit(void **state)
{
	struct rlimit old, small;
	char path[128];
	dq_checkpoint_meta m;
	dq_table *t = make_tricky();
	int err;

	(void)state;
	meta_fill(&m);
	dq_test_path_in(path, sizeof(path), dir, "limited.ckp");
	save_ref(path);
	assert_true(signal(SIGXFSZ, SIG_DFL) != SIG_ERR);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	small = old;
	small.rlim_cur = 200;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
	err = dq_checkpoint_save(path, t, &m);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	assert_int_equal(err, -EFBIG);
	assert_non_null(strstr(dq_error_detail(), "ulimit -f"));
	assert_int_equal(temp_files(dir), 0);
	expect_ref(path);
	unlink(path);
	dq_table_destroy(t);
}

/*
 * A header that announces a huge table in a small file is judged by the
 * file's size before anything is allocated for the values: 2^30 x 4
 * values (32 GiB) in a file of FILE_LEN bytes.
 */
static void
test_huge_header_small_file(void **state)
{
	uint8_t buf[FILE_LEN];
	char path[128];
	dq_table *t = dq_test_table(S, A, DQ_MODE_CAS, 9.0, false);
	FILE *f;

	(void)state;
	dq_test_path_in(path, sizeof(path), dir, "huge.ckp");
	save_ref(path);
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fread(buf, 1, sizeof(buf), f), sizeof(buf));
	fclose(f);
	dq_test_put32(buf + OFF_STATES, 1u << 30);
	dq_test_put32(buf + OFF_ACTIONS, 4);
	reseal(buf, sizeof(buf));
	spit(path, buf, sizeof(buf));
	expect_error(path, DQ_ETRUNC);
	assert_non_null(strstr(dq_error_detail(), "1073741824 x 4"));
	dq_table_destroy(t);
	unlink(path);
}

/* -------------------------------------------------- rules and channels -- */

/* The rule section, from the start of the section (tag included). */
#define TAG_RULE (TAG_CRITICAL | 3u)
#define TAG_RULE_STATE (TAG_CRITICAL | 4u)
#define RULE_REV 8
#define RULE_COUNT 12
#define RULE_NAME 16
#define RULE_PARAMS 48
#define PARAM_TYPE 24
#define PARAM_LEN 28
#define PARAM_VALUE 32
#define PARAM_ENTRY 40 /* an f64 or u64 parameter */

/* A learner on a fresh maze4x3 table made for @rule (with visit counts
 * when @omega > 0): one agent, direct updates, @steps per run. */
struct lrn {
	dq_env *env;
	dq_table *t;
	dq_learner *l;
};

static void
lrn_make_on(struct lrn *x, const char *env, dq_rule rule, double omega,
	    uint64_t steps)
{
	dq_learner_config c;
	dq_table_config tc;
	dq_env_spec sp;

	assert_int_equal(dq_env_open_name(&x->env, env), 0);
	assert_int_equal(dq_env_spec_get(x->env, &sp), 0);
	dq_table_config_init(&tc);
	tc.n_states = sp.n_states;
	tc.n_actions = sp.n_actions;
	assert_int_equal(dq_rule_channels(rule, &tc.channels), 0);
	tc.visit_counts = omega > 0.0;
	assert_int_equal(dq_table_create(&x->t, &tc), 0);
	dq_learner_config_init(&c);
	c.n_threads = 1;
	c.max_steps = steps;
	c.pin = DQ_PIN_NONE;
	c.agent.rule = rule;
	c.agent.omega = omega;
	c.agent.seed = 7;
	/* A decaying epsilon: the resumed clock must be the saved one. */
	c.agent.epsilon = (dq_schedule){
	    .kind = DQ_SCHEDULE_EXP, .start = 1.0, .end = 0.05, .steps = 3000};
	assert_int_equal(dq_learner_create(&x->l, x->t, x->env, &c), 0);
}

static void
lrn_make(struct lrn *x, dq_rule rule, double omega, uint64_t steps)
{
	lrn_make_on(x, "maze4x3", rule, omega, steps);
}

static void
lrn_free(struct lrn *x)
{
	dq_learner_destroy(x->l);
	dq_table_destroy(x->t);
	dq_env_close(x->env);
}

static void
lrn_run(struct lrn *x)
{
	dq_run_result r;

	assert_int_equal(dq_learner_run(x->l, &r), 0);
}

/* Two tables of one shape hold the same words, bit for bit: every
 * channel, and the visit counts. */
static void
tables_equal(const dq_table *t1, const dq_table *t2)
{
	dq_table_info i1, i2;

	assert_int_equal(dq_table_info_get(t1, &i1), 0);
	assert_int_equal(dq_table_info_get(t2, &i2), 0);
	assert_int_equal(i1.channels, i2.channels);
	assert_int_equal(i1.visit_counts, i2.visit_counts);
	for (uint32_t s = 0; s < i1.n_states; s++)
		for (uint32_t a = 0; a < i1.n_actions; a++) {
			uint64_t v1, v2;

			for (uint32_t c = 0; c < i1.channels; c++) {
				double x1, x2;

				assert_int_equal(
				    dq_table_channel_get(t1, c, s, a, &x1), 0);
				assert_int_equal(
				    dq_table_channel_get(t2, c, s, a, &x2), 0);
				assert_memory_equal(&x1, &x2, sizeof(x1));
			}
			if (!i1.visit_counts)
				continue;
			assert_int_equal(dq_table_visits_get(t1, s, a, &v1), 0);
			assert_int_equal(dq_table_visits_get(t2, s, a, &v2), 0);
			assert_true(v1 == v2);
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
 * Resuming continues exactly, for every rule the library knows (q, and
 * double-q's second channel, with and without per-entry rates): learner A
 * runs twice; B runs once and is saved; C, a new learner on a new table,
 * is restored from the file and runs once. C's table (every channel, the
 * visit counts) and agent state are A's, bit for bit. On maze4x3, and on
 * cliffwalking with runs of several lengths, where falling off the cliff
 * often leaves a run's last state at the start, where the next run
 * begins (what A's agent chose there must not carry over).
 */
static void
test_resume_exact(void **state)
{
	static const double omegas[] = {0.0, 0.8};
	char path[128];
	const char *name;

	(void)state;
	dq_test_path_in(path, sizeof(path), dir, "resume.ckp");
	for (int r = 0; (name = dq_rule_name((dq_rule)r)); r++) {
		for (int k = 0; k < 2 + 12; k++) {
			const char *env = k < 2 ? "maze4x3" : "cliffwalking";
			uint64_t n = k < 2 ? 3001 : 150 + 7 * (uint64_t)k;
			double omega = omegas[k % 2];
			struct lrn a, b, c;
			dq_checkpoint_meta m, got;

			/* Q(lambda) takes no per-entry rates */
			if (r == DQ_RULE_Q_LAMBDA && omega > 0.0)
				continue;
			lrn_make_on(&a, env, (dq_rule)r, omega, n);
			lrn_make_on(&b, env, (dq_rule)r, omega, n);
			lrn_make_on(&c, env, (dq_rule)r, omega, n);
			lrn_run(&a);
			lrn_run(&a);
			lrn_run(&b);
			meta_fill(&m);
			assert_int_equal(
			    dq_checkpoint_save_learner(path, b.l, &m), 0);
			assert_int_equal(
			    dq_checkpoint_load_learner(path, c.l, &got), 0);
			assert_true(got.has_rule);
			assert_int_equal(got.rule, r);
			assert_int_equal(got.n_agents, 1);
			assert_int_equal(got.version, DQ_CHECKPOINT_VERSION);
			tables_equal(b.t, c.t);
			states_equal(b.l, c.l);
			lrn_run(&c);
			tables_equal(a.t, c.t);
			states_equal(a.l, c.l);
			lrn_free(&a);
			lrn_free(&b);
			lrn_free(&c);
			(void)name;
		}
	}
	/* The new rules' parameters and softmax travel too: a resume with
	 * another n (or lambda, trace kind, policy) is refused. */
	{
		struct lrn a, b;
		dq_checkpoint_meta m, got;
		dq_learner_config c;

		lrn_make_on(&a, "maze4x3", DQ_RULE_NSTEP_Q, 0.0, 500);
		lrn_run(&a);
		meta_fill(&m);
		assert_int_equal(dq_checkpoint_save_learner(path, a.l, &m), 0);
		lrn_make_on(&b, "maze4x3", DQ_RULE_NSTEP_Q, 0.0, 500);
		dq_learner_destroy(b.l);
		dq_learner_config_init(&c);
		c.n_threads = 1;
		c.max_steps = 500;
		c.pin = DQ_PIN_NONE;
		c.agent.rule = DQ_RULE_NSTEP_Q;
		c.agent.nstep = 5;
		c.agent.seed = 7;
		assert_int_equal(dq_learner_create(&b.l, b.t, b.env, &c), 0);
		assert_int_equal(dq_checkpoint_load_learner(path, b.l, &got),
				 DQ_EMISMATCH);
		assert_non_null(strstr(dq_error_detail(), "nstep"));
		lrn_free(&a);
		lrn_free(&b);
	}
	unlink(path);
}

/*
 * Another rule, another value of a parameter that must match, another
 * table shape: DQ_EMISMATCH naming what differs, nothing changed.
 */
static void
test_rule_mismatch(void **state)
{
	char path[128];
	struct lrn dq, q2, om, om2;
	dq_checkpoint_meta m;
	dq_agent_config cfg;
	dq_table *one;
	dq_agent_state st;

	(void)state;
	dq_test_path_in(path, sizeof(path), dir, "rules.ckp");
	lrn_make(&dq, DQ_RULE_DOUBLE_Q, 0.0, 2000);
	lrn_run(&dq);
	meta_fill(&m);
	assert_int_equal(dq_checkpoint_save_learner(path, dq.l, &m), 0);

	/* q on a two-channel table: the rule is named, both of them. */
	lrn_make(&q2, DQ_RULE_Q, 0.0, 2000);
	dq_learner_destroy(q2.l);
	dq_table_destroy(q2.t);
	q2.t = dq_test_table(11, 4, DQ_MODE_CAS, 0.0, false);
	{
		dq_learner_config c;

		dq_learner_config_init(&c);
		c.max_steps = 10;
		assert_int_equal(dq_learner_create(&q2.l, q2.t, q2.env, &c), 0);
	}
	assert_int_equal(dq_checkpoint_load_learner(path, q2.l, NULL),
			 DQ_EMISMATCH);
	assert_non_null(strstr(dq_error_detail(), "'double-q'"));
	assert_non_null(strstr(dq_error_detail(), "'q'"));
	for (uint32_t i = 0; i < 44; i++) {
		double v;

		assert_int_equal(dq_table_get(q2.t, i / 4, i % 4, &v), 0);
		assert_true(v == 0.0);
	}
	assert_int_equal(dq_learner_agent_state(q2.l, 0, &st), 0);
	assert_int_equal(st.steps, 0);

	/* The table alone: one channel is not two. */
	one = dq_test_table(11, 4, DQ_MODE_CAS, 3.0, false);
	assert_int_equal(dq_checkpoint_load(path, one, NULL), DQ_EMISMATCH);
	assert_non_null(strstr(dq_error_detail(), "2 channels"));
	assert_int_equal(dq_checkpoint_read_meta(path, &m), 0);
	assert_int_equal(m.channels, 2);
	assert_false(m.visit_counts);
	assert_true(m.has_rule);
	assert_int_equal(m.rule, DQ_RULE_DOUBLE_Q);
	dq_table_destroy(one);

	/* omega: another value is refused and named; the file's is read. */
	lrn_make(&om, DQ_RULE_Q, 0.75, 2000);
	lrn_run(&om);
	assert_int_equal(dq_checkpoint_save_learner(path, om.l, &m), 0);
	lrn_make(&om2, DQ_RULE_Q, 0.625, 2000);
	assert_int_equal(dq_checkpoint_load_learner(path, om2.l, NULL),
			 DQ_EMISMATCH);
	assert_non_null(strstr(dq_error_detail(), "omega 0.75"));
	assert_non_null(strstr(dq_error_detail(), "omega 0.625"));
	dq_agent_config_init(&cfg);
	cfg.gamma = 0.5;
	assert_int_equal(dq_checkpoint_read_rule(path, &cfg), 0);
	assert_true(cfg.omega == 0.75);
	assert_int_equal(cfg.rule, DQ_RULE_Q);
	assert_true(cfg.gamma == 0.5); /* not a rule parameter: kept */
	/* A table without visit counts does not take the file's. */
	assert_int_equal(dq_checkpoint_load_learner(path, q2.l, NULL),
			 DQ_EMISMATCH);
	assert_int_equal(dq_checkpoint_read_rule(path, NULL), -EINVAL);
	assert_int_equal(dq_checkpoint_load_learner(path, NULL, NULL), -EINVAL);
	assert_int_equal(dq_checkpoint_save_learner(path, NULL, &m), -EINVAL);
	lrn_free(&dq);
	lrn_free(&q2);
	lrn_free(&om);
	lrn_free(&om2);
	unlink(path);
}

/* The rule and rule-state sections are where the format says. */
static void
test_rule_layout(void **state)
{
	char path[128];
	struct lrn x;
	dq_checkpoint_meta m;
	size_t len, ag = 16 + AREC_LEN, at;
	uint8_t *b;
	uint64_t bits;
	double omega = 0.75;

	(void)state;
	dq_test_path_in(path, sizeof(path), dir, "rlayout.ckp");
	lrn_make(&x, DQ_RULE_DOUBLE_Q, omega, 500);
	lrn_run(&x);
	meta_fill(&m);
	assert_int_equal(dq_checkpoint_save_learner(path, x.l, &m), 0);
	b = dq_test_slurp(path, &len);
	/* 2 channels, flag 1: visit counts. */
	assert_int_equal(dq_test_get32(b + OFF_CHANNELS), 2u | 1u << 16);
	at = HEADER_LEN + ag; /* after the agents section */
	assert_int_equal(dq_test_get32(b + at + SEC_TAG), TAG_RULE);
	assert_int_equal(dq_test_get32(b + at + SEC_LEN), 40 + PARAM_ENTRY);
	assert_int_equal(dq_test_get32(b + at + RULE_REV), 1);
	assert_int_equal(dq_test_get32(b + at + RULE_COUNT), 1);
	assert_string_equal((char *)b + at + RULE_NAME, "double-q");
	assert_string_equal((char *)b + at + RULE_PARAMS, "omega");
	assert_int_equal(dq_test_get32(b + at + RULE_PARAMS + PARAM_TYPE), 1);
	assert_int_equal(dq_test_get32(b + at + RULE_PARAMS + PARAM_LEN), 8);
	memcpy(&bits, &omega, 8);
	assert_true(get64(b + at + RULE_PARAMS + PARAM_VALUE) == bits);
	at += 8 + 40 + PARAM_ENTRY;
	/* One empty record per agent: no rule keeps a state yet. */
	assert_int_equal(dq_test_get32(b + at + SEC_TAG), TAG_RULE_STATE);
	assert_int_equal(dq_test_get32(b + at + SEC_LEN), 8 + 8);
	assert_int_equal(dq_test_get32(b + at + 8), 1);
	assert_int_equal(get64(b + at + 16), 0);
	at += 8 + 16;
	assert_int_equal(dq_test_get32(b + OFF_HEADER_LEN), at);
	/* Channel 1 follows channel 0; the counts follow them. */
	assert_int_equal(len, at + 8 * 11 * 4 * 3 + TRAILER_LEN);
	for (uint32_t s = 0; s < 11; s++)
		for (uint32_t a = 0; a < 4; a++) {
			double v;
			uint64_t n;

			dq_table_channel_get(x.t, 1, s, a, &v);
			memcpy(&bits, &v, 8);
			assert_true(get64(b + at + 8 * (44 + s * 4 + a)) ==
				    bits);
			dq_table_visits_get(x.t, s, a, &n);
			assert_true(get64(b + at + 8 * (88 + s * 4 + a)) == n);
		}
	/* A plain q run with default parameters records none. */
	free(b);
	lrn_free(&x);
	lrn_make(&x, DQ_RULE_Q, 0.0, 10);
	assert_int_equal(dq_checkpoint_save_learner(path, x.l, &m), 0);
	b = dq_test_slurp(path, &len);
	at = HEADER_LEN + ag;
	assert_int_equal(dq_test_get32(b + at + SEC_LEN), 40);
	assert_int_equal(dq_test_get32(b + at + RULE_COUNT), 0);
	assert_string_equal((char *)b + at + RULE_NAME, "q");
	free(b);
	lrn_free(&x);
	unlink(path);
}

/* A rule section, for a file of one channel with visit counts. */
static size_t
rule_sec(uint8_t *p, const char *rule, const char *param, uint32_t type,
	 uint32_t vlen, uint64_t value)
{
	size_t n = 8 + 40;

	memset(p, 0, 8 + 40 + 40 + 8);
	dq_test_put32(p, TAG_RULE);
	dq_test_put32(p + RULE_REV, 1);
	memcpy(p + RULE_NAME, rule, strlen(rule));
	if (param) {
		dq_test_put32(p + RULE_COUNT, 1);
		memcpy(p + RULE_PARAMS, param, strlen(param));
		dq_test_put32(p + RULE_PARAMS + PARAM_TYPE, type);
		dq_test_put32(p + RULE_PARAMS + PARAM_LEN, vlen);
		put64(p + RULE_PARAMS + PARAM_VALUE, value);
		n += 32 + (vlen + 7) / 8 * 8;
	}
	dq_test_put32(p + SEC_LEN, (uint32_t)(n - 8));
	return n;
}

/*
 * Rule sections whose checksums are right but whose content is not: a
 * rule or parameter from a later library (DQ_EVERSION, named), and
 * contradictions (DQ_ECORRUPT). Version 1 knows no rule section.
 */
static void
test_rule_resealed(void **state)
{
	static const double half = 0.75, two = 2.0;
	char path[128], bad[128];
	uint8_t sec[256];
	uint64_t h, t2, nan = 0x7ff8000000000000ull;
	dq_table_config tc;
	dq_checkpoint_meta m;
	dq_table *t;
	size_t len, n;
	uint8_t *b;

	(void)state;
	memcpy(&h, &half, 8);
	memcpy(&t2, &two, 8);
	dq_test_path_in(path, sizeof(path), dir, "vbase.ckp");
	dq_test_path_in(bad, sizeof(bad), dir, "vbad.ckp");
	dq_table_config_init(&tc);
	tc.n_states = S;
	tc.n_actions = A;
	tc.visit_counts = true;
	assert_int_equal(dq_table_create(&t, &tc), 0);
	meta_fill(&m);
	assert_int_equal(dq_checkpoint_save(path, t, &m), 0);
	dq_table_destroy(t);
	b = dq_test_slurp(path, &len);

	/* Sound: q with omega 0.75 on a table with counts. */
	n = rule_sec(sec, "q", "omega", 1, 8, h);
	spit_with_ext(bad, b, len, sec, n);
	assert_int_equal(dq_checkpoint_read_meta(bad, &m), 0);
	assert_true(m.has_rule);

	n = rule_sec(sec, "q-sharp", NULL, 0, 0, 0);
	spit_with_ext(bad, b, len, sec, n);
	expect_error(bad, DQ_EVERSION);
	assert_non_null(strstr(dq_error_detail(), "'q-sharp'"));
	n = rule_sec(sec, "q", "zeta", 1, 8, h);
	spit_with_ext(bad, b, len, sec, n);
	expect_error(bad, DQ_EVERSION);
	assert_non_null(strstr(dq_error_detail(), "'zeta'"));
	n = rule_sec(sec, "q", "omega", 2, 8, h); /* u64, not f64 */
	spit_with_ext(bad, b, len, sec, n);
	expect_error(bad, DQ_ECORRUPT);
	n = rule_sec(sec, "q", "omega", 1, 4, h); /* a short value */
	spit_with_ext(bad, b, len, sec, n);
	expect_error(bad, DQ_ECORRUPT);
	n = rule_sec(sec, "q", "omega", 1, 8, t2); /* out of range */
	spit_with_ext(bad, b, len, sec, n);
	expect_error(bad, DQ_ECORRUPT);
	n = rule_sec(sec, "q", "omega", 1, 8, nan);
	spit_with_ext(bad, b, len, sec, n);
	expect_error(bad, DQ_EFILEVALUE);
	n = rule_sec(sec, "double-q", NULL, 0, 0, 0); /* one channel */
	spit_with_ext(bad, b, len, sec, n);
	expect_error(bad, DQ_ECORRUPT);
	n = rule_sec(sec, "", NULL, 0, 0, 0);
	spit_with_ext(bad, b, len, sec, n);
	expect_error(bad, DQ_ECORRUPT);
	n = rule_sec(sec, "q", NULL, 0, 0, 0);
	dq_test_put32(sec + RULE_REV, 2); /* a later revision of the section */
	spit_with_ext(bad, b, len, sec, n);
	expect_error(bad, DQ_EVERSION);
	n = rule_sec(sec, "q", NULL, 0, 0, 0);
	dq_test_put32(sec + RULE_COUNT, 1); /* a parameter that is not there */
	spit_with_ext(bad, b, len, sec, n);
	expect_error(bad, DQ_ECORRUPT);
	/* Twice the same section. */
	n = rule_sec(sec, "q", NULL, 0, 0, 0);
	memcpy(sec + n, sec, n);
	spit_with_ext(bad, b, len, sec, 2 * n);
	expect_error(bad, DQ_ECORRUPT);
	/* A rule-state section without agents. */
	n = rule_sec(sec, "q", NULL, 0, 0, 0);
	memset(sec + n, 0, 16);
	dq_test_put32(sec + n, TAG_RULE_STATE);
	dq_test_put32(sec + n + SEC_LEN, 8);
	spit_with_ext(bad, b, len, sec, n + 16);
	expect_error(bad, DQ_ECORRUPT);
	free(b);
	unlink(path);
	unlink(bad);
}

/* The agents' rule states: empty records load; a record this library
 * cannot restore is from a later one; counts must agree. */
static void
test_rule_state_resealed(void **state)
{
	char path[128], bad[128];
	struct lrn x;
	dq_checkpoint_meta m;
	size_t len, at;
	uint8_t *b, *e;

	(void)state;
	dq_test_path_in(path, sizeof(path), dir, "rsbase.ckp");
	dq_test_path_in(bad, sizeof(bad), dir, "rsbad.ckp");
	lrn_make(&x, DQ_RULE_SARSA, 0.0, 100);
	meta_fill(&m);
	assert_int_equal(dq_checkpoint_save_learner(path, x.l, &m), 0);
	b = dq_test_slurp(path, &len);
	e = malloc(len);
	assert_non_null(e);
	/* agents (16 + 72), rule (8 + 40), then the rule states */
	at = HEADER_LEN + 16 + AREC_LEN + 48;
	assert_int_equal(dq_test_get32(b + at), TAG_RULE_STATE);
	memcpy(e, b, len);
	dq_test_put32(e + at + 8, 2); /* two records announced, one there */
	reseal(e, len);
	spit(bad, e, len);
	expect_error(bad, DQ_ECORRUPT);
	memcpy(e, b, len);
	dq_test_put32(e + at + 16, 1); /* a version on an empty record */
	reseal(e, len);
	spit(bad, e, len);
	expect_error(bad, DQ_ECORRUPT);
	memcpy(e, b, len);
	dq_test_put32(e + at + 12, 1); /* the reserved word */
	reseal(e, len);
	spit(bad, e, len);
	expect_error(bad, DQ_ECORRUPT);
	free(e);
	/* A non-empty record (8 bytes of state, version 1): sarsa keeps no
	 * state in this library, so the file is from a later one. */
	{
		size_t n2 = len + 8;
		uint8_t *f = malloc(n2);

		assert_non_null(f);
		memcpy(f, b, at + 24);
		dq_test_put32(f + at + SEC_LEN, 8 + 8 + 8);
		dq_test_put32(f + at + 16, 1);
		dq_test_put32(f + at + 20, 8);
		memset(f + at + 24, 0xab, 8);
		memcpy(f + at + 32, b + at + 24, len - at - 24);
		dq_test_put32(f + OFF_HEADER_LEN,
			      dq_test_get32(b + OFF_HEADER_LEN) + 8);
		reseal(f, n2);
		spit(bad, f, n2);
		expect_error(bad, DQ_EVERSION);
		assert_non_null(strstr(dq_error_detail(), "'sarsa'"));
		free(f);
	}
	free(b);
	lrn_free(&x);
	unlink(path);
	unlink(bad);
}

/*
 * Version 1 files still load: one channel, no rule recorded (meta says
 * so), into any rule's learner of that shape; version 1 knows no rule
 * section (a critical one is DQ_EVERSION, as for a version 1 reader).
 */
static void
test_version1(void **state)
{
	char path[128], v1[128];
	dq_checkpoint_meta m;
	dq_agent_config cfg;
	dq_agent_state st;
	struct lrn x;
	uint8_t sec[128];
	size_t len, n;
	uint8_t *b;

	(void)state;
	dq_test_path_in(path, sizeof(path), dir, "v2.ckp");
	dq_test_path_in(v1, sizeof(v1), dir, "v1.ckp");
	lrn_make(&x, DQ_RULE_SARSA, 0.0, 100);
	lrn_run(&x);
	meta_fill(&m);
	/* what a version 1 library wrote: the table and the agents */
	{
		dq_agent_state ag;

		assert_int_equal(dq_learner_agent_state(x.l, 0, &ag), 0);
		assert_int_equal(dq_checkpoint_save_run(path, x.t, &m, &ag, 1),
				 0);
	}
	b = dq_test_slurp(path, &len);
	dq_test_put32(b + OFF_VERSION, 1);
	dq_test_put32(b + OFF_RESERVED, 0);
	reseal(b, len);
	spit(v1, b, len);
	memset(&m, 0, sizeof(m));
	assert_int_equal(dq_checkpoint_read_meta(v1, &m), 0);
	assert_int_equal(m.version, 1);
	assert_int_equal(m.channels, 1);
	assert_false(m.visit_counts);
	assert_false(m.has_rule);
	assert_int_equal(m.rule, DQ_RULE_Q);
	assert_int_equal(m.n_agents, 1);
	dq_agent_config_init(&cfg);
	cfg.omega = 0.9;
	cfg.rule = DQ_RULE_DOUBLE_Q;
	assert_int_equal(dq_checkpoint_read_rule(v1, &cfg), 0);
	assert_int_equal(cfg.rule, DQ_RULE_Q);
	assert_true(cfg.omega == 0.0);
	lrn_free(&x);
	lrn_make(&x, DQ_RULE_SARSA, 0.0, 100);
	assert_int_equal(dq_checkpoint_load_learner(v1, x.l, &m), 0);
	assert_int_equal(dq_learner_agent_state(x.l, 0, &st), 0);
	assert_int_equal(st.steps, 100);
	/* Its reserved word, not a channel count, in version 1. */
	dq_test_put32(b + OFF_RESERVED, 1);
	reseal(b, len);
	spit(v1, b, len);
	expect_error(v1, DQ_ECORRUPT);
	free(b);
	/* A version 1 file with a rule section: unknown and critical there. */
	b = dq_test_slurp(path, &len);
	dq_test_put32(b + OFF_VERSION, 1);
	dq_test_put32(b + OFF_RESERVED, 0);
	{
		uint8_t *c = malloc(len);

		assert_non_null(c);
		/* its own extension out, a rule section in */
		n = rule_sec(sec, "q", NULL, 0, 0, 0);
		memcpy(c, b, HEADER_LEN);
		memcpy(c + HEADER_LEN, b + dq_test_get32(b + OFF_HEADER_LEN),
		       len - dq_test_get32(b + OFF_HEADER_LEN));
		spit_with_ext(
		    v1, c,
		    len - (dq_test_get32(b + OFF_HEADER_LEN) - HEADER_LEN), sec,
		    n);
		free(c);
	}
	expect_error(v1, DQ_EVERSION);
	free(b);
	lrn_free(&x);
	unlink(path);
	unlink(v1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_save_sync_order),
	    cmocka_unit_test(test_layout),
	    cmocka_unit_test(test_truncated),
	    cmocka_unit_test(test_bit_flips),
	    cmocka_unit_test(test_resealed_rejections),
	    cmocka_unit_test(test_foreign_files),
	    cmocka_unit_test(test_extended_header),
	    cmocka_unit_test(test_shape_mismatch),
	    cmocka_unit_test(test_overwrite),
	    cmocka_unit_test(test_save_failures),
	    cmocka_unit_test(test_invalid_args),
	    cmocka_unit_test(test_save_during_updates),
	    cmocka_unit_test(test_agents_round_trip),
	    cmocka_unit_test(test_agents_layout),
	    cmocka_unit_test(test_agents_damage),
	    cmocka_unit_test(test_agents_resealed),
	    cmocka_unit_test(test_agents_invalid_args),
	    cmocka_unit_test(test_stale_temps),
	    cmocka_unit_test(test_concurrent_saves),
	    cmocka_unit_test(test_huge_values_save_back),
	    cmocka_unit_test(test_special_targets),
	    cmocka_unit_test(test_long_name),
	    cmocka_unit_test(test_fsize_limit),
	    cmocka_unit_test(test_huge_header_small_file),
	    cmocka_unit_test(test_resume_exact),
	    cmocka_unit_test(test_rule_mismatch),
	    cmocka_unit_test(test_rule_layout),
	    cmocka_unit_test(test_rule_resealed),
	    cmocka_unit_test(test_rule_state_resealed),
	    cmocka_unit_test(test_version1),
	};

	return cmocka_run_group_tests_name("checkpoint", tests, setup,
					   teardown);
}
