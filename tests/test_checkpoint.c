/*
 * tests/test_checkpoint.c - checkpoints (lib/checkpoint.c).
 *
 * The byte offsets below are copied from docs/checkpoint-format.md, not
 * from the implementation, so these tests also hold the file to its
 * specification.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
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
#define OFF_RESERVED 408
#define OFF_HEADER_CRC 412
#define HEADER_LEN 416
#define TRAILER_LEN 12

#define S 5
#define A 3
#define FILE_LEN (HEADER_LEN + 8 * S * A + TRAILER_LEN)

static char dir[64];

/* ------------------------------------------------------------- helpers -- */

static void
path_in(char *buf, size_t cap, const char *name)
{
	int n = snprintf(buf, cap, "%s/%s", dir, name);

	assert_true(n > 0 && (size_t)n < cap);
}

static void
put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void
put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t
get64(const uint8_t *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static void
putf64(uint8_t *p, double v)
{
	uint64_t bits;

	memcpy(&bits, &v, sizeof(bits));
	put64(p, bits);
}

static uint8_t *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
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
	put32(buf + OFF_HEADER_CRC, (uint32_t)crc32(0, buf, OFF_HEADER_CRC));
	put64(buf + len - TRAILER_LEN, len);
	put32(buf + len - 4, (uint32_t)crc32(0, buf, (uInt)(len - 4)));
}

static dq_table *
make_table(uint32_t s, uint32_t a, double q0)
{
	dq_table_config c;
	dq_table *t = NULL;

	assert_int_equal(dq_table_config_init(&c), 0);
	c.n_states = s;
	c.n_actions = a;
	c.q0 = q0;
	assert_int_equal(dq_table_create(&t, &c), 0);
	return t;
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
	dq_table *t = make_table(S, A, 0.0);

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
	dq_table *t = make_table(S, A, 9.0);

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
	const char *base = getenv("TMPDIR");

	(void)state;
	snprintf(dir, sizeof(dir), "%s/dq_ckp_XXXXXX",
		 base && strlen(base) < 40 ? base : "/tmp");
	return mkdtemp(dir) ? 0 : -1;
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
	path_in(path, sizeof(path), "rt.ckp");
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

	t = make_table(S, A, 0.5);
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
	path_in(path, sizeof(path), "layout.ckp");
	save_ref(path);
	b = slurp(path, &len);
	assert_int_equal(len, FILE_LEN);
	assert_memory_equal(b, "DISTQCKP", 8);
	assert_int_equal(get32(b + OFF_VERSION), 1);
	assert_int_equal(get32(b + OFF_HEADER_LEN), HEADER_LEN);
	assert_int_equal(get32(b + OFF_VALUE_TYPE), 1);
	assert_int_equal(get32(b + OFF_MODE), DQ_MODE_HOGWILD);
	assert_int_equal(get32(b + OFF_STATES), S);
	assert_int_equal(get32(b + OFF_ACTIONS), A);
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
	assert_int_equal(get32(b + OFF_RESERVED), 0);
	assert_int_equal(get32(b + OFF_HEADER_CRC),
			 (uint32_t)crc32(0, b, OFF_HEADER_CRC));
	for (int i = 0; i < S * A; i++) {
		memcpy(&bits, &tricky[i], 8);
		assert_true(get64(b + HEADER_LEN + 8 * i) == bits);
	}
	assert_true(get64(b + len - TRAILER_LEN) == len);
	assert_int_equal(get32(b + len - 4),
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
	path_in(path, sizeof(path), "full.ckp");
	path_in(cut, sizeof(cut), "cut.ckp");
	save_ref(path);
	b = slurp(path, &len);
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
	path_in(path, sizeof(path), "good.ckp");
	path_in(bad, sizeof(bad), "flip.ckp");
	save_ref(path);
	b = slurp(path, &len);
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
	    {OFF_VERSION, 2, DQ_EVERSION},
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
	    {OFF_RESERVED, 1, DQ_ECORRUPT},
	};
	char path[128], bad[128];
	size_t len;
	uint8_t *b, *e;

	(void)state;
	path_in(path, sizeof(path), "good.ckp");
	path_in(bad, sizeof(bad), "bad.ckp");
	save_ref(path);
	b = slurp(path, &len);
	e = malloc(len + 16);
	assert_non_null(e);

	for (size_t i = 0; i < sizeof(u32s) / sizeof(u32s[0]); i++) {
		memcpy(e, b, len);
		put32(e + u32s[i].off, u32s[i].v32);
		reseal(e, len);
		spit(bad, e, len);
		expect_error(bad, u32s[i].want);
	}

	/* S x A x 8 beyond 64 bits. */
	memcpy(e, b, len);
	put32(e + OFF_STATES, UINT32_MAX);
	put32(e + OFF_ACTIONS, UINT32_MAX);
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

	/* Non-finite hyperparameters and values. */
	static const size_t doubles[] = {
	    OFF_GAMMA,	 OFF_ALPHA,  OFF_EPSILON,
	    OFF_SECONDS, HEADER_LEN, HEADER_LEN + 8 * (S * A - 1)};
	for (size_t i = 0; i < sizeof(doubles) / sizeof(doubles[0]); i++) {
		for (int k = 0; k < 2; k++) {
			memcpy(e, b, len);
			putf64(e + doubles[i], k ? NAN : -INFINITY);
			reseal(e, len);
			spit(bad, e, len);
			expect_error(bad, DQ_ECORRUPT);
		}
	}

	/* A trailer whose length is not the file's. */
	memcpy(e, b, len);
	reseal(e, len);
	put64(e + len - TRAILER_LEN, len + 1);
	put32(e + len - 4, (uint32_t)crc32(0, e, (uInt)(len - 4)));
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
	path_in(path, sizeof(path), "foreign");
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
	put32(big + OFF_VERSION, 2);
	spit(path, big, 40);
	expect_error(path, DQ_EVERSION);
	unlink(path);

	path_in(path, sizeof(path), "no-such-file");
	expect_error(path, -ENOENT);
	expect_error(dir, -EISDIR);
	expect_error("/dev/null", DQ_EFORMAT);
}

/* A later minor revision may append header fields; v1 readers skip them. */
static void
test_extended_header(void **state)
{
	char path[128], ext[128];
	dq_checkpoint_meta m;
	double snap[S * A];
	size_t len;
	uint8_t *b, *e;
	dq_table *t;

	(void)state;
	path_in(path, sizeof(path), "good.ckp");
	path_in(ext, sizeof(ext), "ext.ckp");
	save_ref(path);
	b = slurp(path, &len);
	e = malloc(len + 16);
	assert_non_null(e);
	memcpy(e, b, HEADER_LEN);
	memset(e + HEADER_LEN, 0xee, 16);
	memcpy(e + HEADER_LEN + 16, b + HEADER_LEN, len - HEADER_LEN);
	put32(e + OFF_HEADER_LEN, HEADER_LEN + 16);
	reseal(e, len + 16);
	spit(ext, e, len + 16);

	assert_int_equal(dq_checkpoint_read_meta(ext, &m), 0);
	assert_int_equal(m.n_states, S);
	t = make_table(S, A, 0.0);
	assert_int_equal(dq_checkpoint_load(ext, t, NULL), 0);
	assert_int_equal(dq_table_snapshot(t, snap, S * A), 0);
	assert_memory_equal(snap, tricky, sizeof(snap));
	dq_table_destroy(t);

	/* The extension is covered by the file CRC. */
	e[HEADER_LEN + 3] ^= 1;
	spit(ext, e, len + 16);
	expect_error(ext, DQ_ECORRUPT);
	free(e);
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
	path_in(path, sizeof(path), "shape.ckp");
	path_in(bad, sizeof(bad), "shape-bad.ckp");
	save_ref(path);
	for (int k = 0; k < 3; k++) {
		t = k == 0   ? make_table(S, A + 1, 3.0)
		    : k == 1 ? make_table(S + 1, A, 3.0)
			     : make_table(A, S, 3.0); /* same S x A */
		memset(&m, 0x11, sizeof(m));
		untouched = m;
		assert_int_equal(dq_checkpoint_load(path, t, &m), DQ_EMISMATCH);
		assert_memory_equal(&m, &untouched, sizeof(m));
		dq_table_destroy(t);
	}
	/* A damaged file is reported as damaged, not as a mismatch. */
	b = slurp(path, &len);
	b[len - 20] ^= 1;
	spit(bad, b, len);
	t = make_table(S + 1, A, 3.0);
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
	path_in(path, sizeof(path), "over.ckp");
	save_ref(path);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(chmod(path, 0640), 0);

	t = make_table(S, A, -1.25);
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
	dq_table *t = make_table(S, A, 0.0);
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
	dq_table *t = make_table(S, A, 2.0);

	(void)state;
	meta_fill(&m);
	path_in(path, sizeof(path), "missing-dir/x.ckp");
	assert_int_equal(dq_checkpoint_save(path, t, &m), -ENOENT);

	path_in(path, sizeof(path), "plain");
	spit(path, (const uint8_t *)"x", 1);
	snprintf(sub, sizeof(sub), "%s/x.ckp", path);
	assert_int_equal(dq_checkpoint_save(sub, t, &m), -ENOTDIR);
	unlink(path);

	/* The target is a directory: rename fails after the data is
	 * written, and the temporary file must go. */
	path_in(path, sizeof(path), "a-dir");
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(dq_checkpoint_save(path, t, &m), -EISDIR);
	assert_int_equal(temp_files(dir), 0);
	rmdir(path);

	/* A write fails half way: the old file survives. */
	path_in(path, sizeof(path), "keep.ckp");
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
	dq_table *t = make_table(S, A, 0.0);

	(void)state;
	path_in(path, sizeof(path), "args.ckp");
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
	dq_table *back = make_table(S, A, 0.0);

	(void)state;
	path_in(path, sizeof(path), "live.ckp");
	c.t = make_table(S, A, 0.0);
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
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
	};

	return cmocka_run_group_tests_name("checkpoint", tests, setup,
					   teardown);
}
