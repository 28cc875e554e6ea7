/*
 * tests/fuzz/fuzz_checkpoint.c - libFuzzer target for the checkpoint
 * reader (lib/checkpoint.c).
 *
 * The library reads checkpoints from files only, so each input is written
 * to one scratch file per process (in $TMPDIR, else /dev/shm, else /tmp)
 * and handed to dq_checkpoint_read_meta(), dq_checkpoint_load_run() and
 * dq_checkpoint_load(). Built with ASan and UBSan, any out-of-bounds
 * access, leak or undefined behaviour is a crash; on top of that the
 * harness checks the readers' contract and aborts when it is broken:
 *
 *  - the readers judge a file alike: the loads return what read_meta()
 *    returns, or DQ_EMISMATCH for a sound file of another shape;
 *  - a failed read leaves the caller's meta, agent states and table
 *    untouched;
 *  - a successful read returns what the bytes say: the shape of the
 *    header, finite numbers, terminated strings, agent states that a
 *    learner would accept, and values that are the file's, bit for bit;
 *    and saving them again gives a file that reads back the same.
 *
 * Every field of a checkpoint sits behind a CRC-32, so a blind mutation is
 * almost always caught by a checksum and never reaches the field checks.
 * Each input is therefore read twice: as it is, and "resealed", with both
 * CRCs and the trailer's length recomputed the way a careful forger would
 * (as tests/test_checkpoint.c does by hand). The second read is what
 * exercises the checks of sizes, versions, modes, strings and values.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "distq.h"

/* Offsets from docs/checkpoint-format.md, not from the implementation. */
#define OFF_VERSION 8u
#define OFF_HEADER_LEN 12u
#define OFF_STATES 24u
#define OFF_ACTIONS 28u
#define OFF_HEADER_CRC 412u
#define HEADER_LEN 416u
#define TRAILER_LEN 12u

/* Tables larger than this are not created: the fuzzer keeps inputs small,
 * so a header announcing more entries is never a sound file anyway. */
#define MAX_ENTRIES 65536u

/* Agent states read per input; a 4 KiB input holds fewer. */
#define MAX_AGENTS 64u

/* Sentinel contents that a failed read must leave alone. */
#define Q_SENTINEL (-7.25)
#define META_BYTE 0xa5

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char in_path[256], out_path[256];
static uint8_t *work; /* the resealed copy of an input */
static size_t work_cap;

#define CHECK(cond)                                                     \
	do {                                                            \
		if (!(cond)) {                                          \
			fprintf(stderr, "fuzz_checkpoint: %s:%d: %s\n", \
				__FILE__, __LINE__, #cond);             \
			abort();                                        \
		}                                                       \
	} while (0)

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
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

/* A scratch directory that exists for the whole run. */
static const char *
scratch_dir(void)
{
	const char *t = getenv("TMPDIR");

	if (t && *t && strlen(t) < 128 && access(t, W_OK) == 0)
		return t;
	if (access("/dev/shm", W_OK) == 0)
		return "/dev/shm";
	return "/tmp";
}

static void
remove_files(void)
{
	unlink(in_path);
	unlink(out_path);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *d = scratch_dir();

	(void)argc;
	(void)argv;
	snprintf(in_path, sizeof(in_path), "%s/dq-fuzz-ckp-%ld.in", d,
		 (long)getpid());
	snprintf(out_path, sizeof(out_path), "%s/dq-fuzz-ckp-%ld.out", d,
		 (long)getpid());
	atexit(remove_files);
	/* The machine's topology is loaded once and kept for the process's
	 * life; load it now so that the first input is not charged with it
	 * by libFuzzer's per-input leak check. */
	(void)dq_cores();
	return 0;
}

static void
spit(const char *path, const uint8_t *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	CHECK(fd >= 0);
	while (n) {
		ssize_t w = write(fd, p, n);

		CHECK(w > 0);
		p += w;
		n -= (size_t)w;
	}
	CHECK(close(fd) == 0);
}

static bool
same_bits(double x, double y)
{
	return memcmp(&x, &y, sizeof(x)) == 0;
}

static bool
terminated(const char *s, size_t cap)
{
	return memchr(s, '\0', cap) != NULL;
}

static dq_table *
make_table(uint32_t s, uint32_t a, uint32_t channels, bool visits)
{
	dq_table_config c;
	dq_table *t = NULL;

	CHECK(dq_table_config_init(&c) == 0);
	c.n_states = s;
	c.n_actions = a;
	c.channels = channels;
	c.visit_counts = visits;
	c.q0 = Q_SENTINEL;
	CHECK(dq_table_create(&t, &c) == 0);
	return t;
}

static bool
table_untouched(const dq_table *t, double *snap, size_t n)
{
	CHECK(dq_table_snapshot(t, snap, n) == 0);
	for (size_t i = 0; i < n; i++)
		if (snap[i] != Q_SENTINEL)
			return false;
	return true;
}

/* What a successful read must have understood of the bytes @p. */
static void
check_meta(const dq_checkpoint_meta *m, const uint8_t *p, size_t n)
{
	CHECK(n >= HEADER_LEN + TRAILER_LEN);
	CHECK(m->n_states == get32(p + OFF_STATES) && m->n_states > 0);
	CHECK(m->n_actions == get32(p + OFF_ACTIONS) && m->n_actions > 0);
	CHECK(m->version == get32(p + OFF_VERSION));
	CHECK(m->version == DQ_CHECKPOINT_VERSION || m->version == 1);
	CHECK(m->channels >= 1 && m->channels <= DQ_TABLE_MAX_CHANNELS);
	CHECK(m->version != 1 || (m->channels == 1 && !m->visit_counts &&
				  !m->has_rule));
	CHECK(m->has_rule ? dq_rule_name(m->rule) != NULL
			  : m->rule == DQ_RULE_Q);
	CHECK(m->mode == DQ_MODE_CAS || m->mode == DQ_MODE_HOGWILD ||
	      m->mode == DQ_MODE_LOCKED);
	CHECK(terminated(m->env, sizeof(m->env)));
	CHECK(terminated(m->params, sizeof(m->params)));
	CHECK(isfinite(m->gamma) && isfinite(m->alpha));
	CHECK(isfinite(m->epsilon) && isfinite(m->seconds));
	CHECK((uint64_t)get32(p + OFF_HEADER_LEN) +
		  8 * (uint64_t)m->n_states * m->n_actions *
		      (m->channels + m->visit_counts) +
		  TRAILER_LEN ==
	      n);
}

/* What dq_learner_set_agent_state() would accept. */
static bool
agent_valid(const dq_agent_state *st)
{
	const uint64_t *r = st->rng.s;

	return (r[0] | r[1] | r[2] | r[3]) && st->alpha_clock >= 0 &&
	       isfinite(st->alpha_clock) && st->epsilon_clock >= 0 &&
	       isfinite(st->epsilon_clock);
}

/*
 * Save what was loaded and read it back: the copy must be a sound file
 * with the same meta, the same agent states and, bit for bit, the same
 * values.
 */
static void
check_resave(const dq_table *t, const dq_checkpoint_meta *m,
	     const dq_agent_state *ag, uint32_t n_agents, const double *vals)
{
	dq_checkpoint_meta m2;
	dq_agent_state ag2[MAX_AGENTS];
	dq_table *t2 =
	    make_table(m->n_states, m->n_actions, m->channels, m->visit_counts);
	size_t n_vals = (size_t)m->n_states * m->n_actions;
	double *snap = malloc(n_vals * sizeof(*snap));

	CHECK(snap != NULL);
	CHECK(dq_checkpoint_save_run(out_path, t, m, ag, n_agents) == 0);
	CHECK(dq_checkpoint_load_run(out_path, t2, &m2, ag2, MAX_AGENTS) == 0 &&
	      m2.n_agents == n_agents);
	/* Bytes after a string's NUL are not part of it: the writer zeroes
	 * them, so compare the strings, and every other field bit for bit. */
	CHECK(strcmp(m->env, m2.env) == 0 && strcmp(m->params, m2.params) == 0);
	CHECK(m->n_states == m2.n_states && m->n_actions == m2.n_actions);
	/* Saved again as this library's version, without the rule (a table
	 * save records none), with every channel and the counts. */
	CHECK(m2.version == DQ_CHECKPOINT_VERSION && m->mode == m2.mode);
	CHECK(!m2.has_rule && m2.rule == DQ_RULE_Q);
	CHECK(m->channels == m2.channels &&
	      m->visit_counts == m2.visit_counts);
	CHECK(same_bits(m->gamma, m2.gamma) && same_bits(m->alpha, m2.alpha));
	CHECK(same_bits(m->epsilon, m2.epsilon));
	CHECK(same_bits(m->seconds, m2.seconds));
	CHECK(m->seed == m2.seed && m->steps == m2.steps);
	CHECK(m->episodes == m2.episodes && m2.n_agents == n_agents);
	CHECK(memcmp(ag, ag2, n_agents * sizeof(*ag)) == 0);
	CHECK(dq_table_snapshot(t2, snap, n_vals) == 0);
	CHECK(memcmp(snap, vals, n_vals * sizeof(*snap)) == 0);
	for (uint32_t s = 0; s < m->n_states; s++)
		for (uint32_t a = 0; a < m->n_actions; a++) {
			uint64_t v1 = 0, v2 = 0;

			for (uint32_t c = 1; c < m->channels; c++) {
				double x1, x2;

				CHECK(dq_table_channel_get(t, c, s, a, &x1) == 0);
				CHECK(dq_table_channel_get(t2, c, s, a, &x2) ==
				      0);
				CHECK(same_bits(x1, x2) && isfinite(x1));
			}
			if (m->visit_counts) {
				CHECK(dq_table_visits_get(t, s, a, &v1) == 0);
				CHECK(dq_table_visits_get(t2, s, a, &v2) == 0);
				CHECK(v1 == v2);
			}
		}
	free(snap);
	dq_table_destroy(t2);
}

/* Read the @n bytes at @p as a checkpoint and hold the readers to their
 * contract (see the top of this file). */
static void
one_file(const uint8_t *p, size_t n)
{
	dq_checkpoint_meta m, m_load, fresh;
	dq_agent_state ag[MAX_AGENTS], ag_fresh[MAX_AGENTS];
	dq_agent_config cfg, cfg_fresh;
	uint32_t s = 1, a = 1, n_ag, channels = 1;
	bool visits = false;
	bool same_shape;
	dq_table *t;
	double *snap;
	size_t n_vals;
	int rm, ld;

	spit(in_path, p, n);
	memset(&fresh, META_BYTE, sizeof(fresh));
	m = fresh;
	rm = dq_checkpoint_read_meta(in_path, &m);
	CHECK(rm <= 0);
	if (rm)
		CHECK(memcmp(&m, &fresh, sizeof(m)) == 0);
	else
		check_meta(&m, p, n);
	/* The rule reader judges the file alike, and changes nothing on
	 * failure. */
	memset(&cfg_fresh, META_BYTE, sizeof(cfg_fresh));
	cfg = cfg_fresh;
	CHECK(dq_checkpoint_read_rule(in_path, &cfg) == rm);
	if (rm)
		CHECK(memcmp(&cfg, &cfg_fresh, sizeof(cfg)) == 0);
	else
		CHECK(cfg.rule == m.rule);
	/* So does the coder's reader; a coder it gives makes a coder of
	 * the file's rows. */
	{
		dq_tiles_config tc_fresh, tcfg;
		dq_tiles *tc = NULL;
		uint32_t rows = 0;

		memset(&tc_fresh, META_BYTE, sizeof(tc_fresh));
		tcfg = tc_fresh;
		CHECK(dq_checkpoint_read_tiles(in_path, &tcfg) == rm);
		if (rm)
			CHECK(memcmp(&tcfg, &tc_fresh, sizeof(tcfg)) == 0);
		else if (tcfg.dim) {
			CHECK(dq_tiles_create(&tc, &tcfg) == 0);
			CHECK(dq_tiles_features(tc, &rows) == 0);
			CHECK(rows == m.n_states);
			dq_tiles_destroy(tc);
		}
	}

	/* A table of the header's shape when it is small enough, so that a
	 * sound file really loads; a 1 x 1 table otherwise. */
	if (n >= HEADER_LEN) {
		uint64_t e =
		    (uint64_t)get32(p + OFF_STATES) * get32(p + OFF_ACTIONS);

		if (e > 0 && e <= MAX_ENTRIES) {
			s = get32(p + OFF_STATES);
			a = get32(p + OFF_ACTIONS);
		}
		/* A sound file's own layout, so that it really loads. */
		if (!rm) {
			channels = m.channels;
			visits = m.visit_counts;
		}
	}
	n_vals = (size_t)s * a;
	t = make_table(s, a, channels, visits);
	snap = malloc(n_vals * sizeof(*snap));
	CHECK(snap != NULL);
	m_load = fresh;
	memset(ag_fresh, META_BYTE, sizeof(ag_fresh));
	memcpy(ag, ag_fresh, sizeof(ag));
	ld = dq_checkpoint_load_run(in_path, t, &m_load, ag, MAX_AGENTS);
	same_shape = !rm && m.n_states == s && m.n_actions == a;
	if (rm)
		CHECK(ld == rm);
	else
		CHECK(ld == (same_shape ? 0 : DQ_EMISMATCH));

	if (ld < 0) {
		CHECK(memcmp(&m_load, &fresh, sizeof(m_load)) == 0);
		CHECK(memcmp(ag, ag_fresh, sizeof(ag)) == 0);
		CHECK(table_untouched(t, snap, n_vals));
	} else {
		uint32_t hlen = get32(p + OFF_HEADER_LEN);

		n_ag =
		    m_load.n_agents < MAX_AGENTS ? m_load.n_agents : MAX_AGENTS;
		CHECK(memcmp(&m_load, &m, sizeof(m)) == 0);
		for (uint32_t i = 0; i < n_ag; i++)
			CHECK(agent_valid(&ag[i]));
		CHECK(memcmp(ag + n_ag, ag_fresh + n_ag,
			     (MAX_AGENTS - n_ag) * sizeof(*ag)) == 0);
		/* The file is little-endian binary64, as this host is. */
		CHECK(dq_table_snapshot(t, snap, n_vals) == 0);
		CHECK(memcmp(snap, p + hlen, 8 * n_vals) == 0);
		for (size_t i = 0; i < n_vals; i++)
			CHECK(isfinite(snap[i]));
		check_resave(t, &m, ag, n_ag, snap);
	}
	/* The other entry points judge the file alike. */
	CHECK(dq_checkpoint_load_run(in_path, t, NULL, NULL, 0) == ld);
	CHECK(dq_checkpoint_load(in_path, t, NULL) == ld);
	free(snap);
	dq_table_destroy(t);
}

/* Recompute the header CRC and, when the file has room for one, the
 * trailer: length and whole-file CRC. */
static void
reseal(uint8_t *p, size_t n)
{
	if (n < HEADER_LEN)
		return;
	put32(p + OFF_HEADER_CRC, (uint32_t)crc32(0, p, OFF_HEADER_CRC));
	if (n < HEADER_LEN + TRAILER_LEN)
		return;
	put64(p + n - TRAILER_LEN, n);
	put32(p + n - 4, (uint32_t)crc32(0, p, (uInt)(n - 4)));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	one_file(data, size);
	if (size < HEADER_LEN)
		return 0;
	if (size > work_cap) {
		uint8_t *w = realloc(work, size);

		CHECK(w != NULL);
		work = w;
		work_cap = size;
	}
	memcpy(work, data, size);
	reseal(work, size);
	if (memcmp(work, data, size) != 0)
		one_file(work, size);
	return 0;
}
