/*
 * Checkpoints: the file format, atomic writes and validation.
 *
 * The format (docs/checkpoint-format.md is the specification) is written
 * and read one byte at a time through put_/get_ helpers, never by dumping
 * a struct, so it is the same on every compiler and byte order. A
 * checkpoint is a fixed 416-byte header protected by its own CRC-32, an
 * optional header extension made of tagged sections (the agents' states,
 * the learning rule and its parameters, the agents' rule states), the
 * S x A values of each channel as IEEE-754 binary64, the visit counts when
 * the table keeps them, and a 12-byte trailer holding the file length and
 * a CRC-32 over every byte before it. Version 1 files (one channel, no
 * rule) are still read.
 *
 * The header has its own checksum so that the reader can trust the sizes
 * it announces before it reads the rest: a short file whose header checks
 * out is truncated (DQ_ETRUNC), while a header with a flipped bit is
 * corrupt (DQ_ECORRUPT) and never sends the reader looking for a length
 * that was never written. The extension is parsed only once the file CRC
 * has vouched for it.
 *
 * The table is read and written whole through dq__table_export() and
 * dq__table_import() (every channel and the counts); a learner's parts
 * through the dq__learner_*() accessors; the rules' parameters through
 * their one table (ruleparam.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <zlib.h>

#include "agent.h"
#include "ckptiles.h"
#include "internal.h"
#include "ruleparam.h"
#include "shareckp.h"

/* Byte offsets of the header; see docs/checkpoint-format.md. */
#define CKP_MAGIC "DISTQCKP"
#define CKP_MAGIC_LEN 8u
#define CKP_OFF_VERSION 8u
#define CKP_OFF_HEADER_LEN 12u
#define CKP_OFF_VALUE_TYPE 16u
#define CKP_OFF_MODE 20u
#define CKP_OFF_STATES 24u
#define CKP_OFF_ACTIONS 28u
#define CKP_OFF_SEED 32u
#define CKP_OFF_STEPS 40u
#define CKP_OFF_EPISODES 48u
#define CKP_OFF_GAMMA 56u
#define CKP_OFF_ALPHA 64u
#define CKP_OFF_EPSILON 72u
#define CKP_OFF_SECONDS 80u
#define CKP_OFF_ENV 88u
#define CKP_OFF_PARAMS 152u
#define CKP_OFF_RESERVED 408u /* version 1: reserved, 0 */
#define CKP_OFF_CHANNELS 408u /* version 2: u16 channels */
#define CKP_OFF_FLAGS 410u    /* version 2: u16 flags */
#define CKP_FLAG_VISITS 1u    /* visit counts follow the values */
#define CKP_VERSION_1 1u      /* still read */
#define CKP_OFF_HEADER_CRC 412u
#define CKP_HEADER_LEN 416u	  /* the fixed header, and the minimum */
#define CKP_HEADER_MAX (1u << 20) /* larger headers are nonsense */
#define CKP_TRAILER_LEN 12u	  /* u64 file length, u32 CRC-32 */
#define CKP_VALUE_F64LE 1u

#define CKP_ENV_LEN 64u
#define CKP_PARAMS_LEN 256u

/*
 * Header sections, in [CKP_HEADER_LEN, header_len): u32 tag, u32 body
 * length, the body, zeros up to a multiple of 8. A reader skips a section
 * it does not know unless the tag has CKP_TAG_CRITICAL set.
 */
#define CKP_SEC_HEAD 8u
#define CKP_TAG_CRITICAL 0x80000000u
#define CKP_TAG_AGENTS 1u
/* Tag 2 is left out: older tests and seeds use it as an unknown kind. */
#define CKP_TAG_RULE (CKP_TAG_CRITICAL | 3u)
#define CKP_TAG_RULE_STATE (CKP_TAG_CRITICAL | 4u)
/* The world of an MPI job (not critical: a reader may ignore it): u32
 * revision, u32 ranks, u32 agents per rank, u32 0, the policy's name. */
#define CKP_TAG_WORLD 6u
#define CKP_WORLD_REV 1u
#define CKP_WORLD_LEN (16u + CKP_WORLD_POLICY_LEN)
#define CKP_WORLD_POLICY_LEN 64u
#define CKP_TAG_TILES (CKP_TAG_CRITICAL | 5u) /* lib/ckptiles.c */
/* The sync policy and the agents' local tables (lib/shareckp.c). */
#define CKP_TAG_SHARE (CKP_TAG_CRITICAL | 7u)

/* The rule section: u32 revision, u32 parameter count, the rule's name;
 * then each parameter: its name, u32 type, u32 length, the value, zeros to
 * a multiple of 8. */
#define CKP_RULE_REV 1u
#define CKP_RULE_NAME_LEN 32u
#define CKP_RULE_HEAD (8u + CKP_RULE_NAME_LEN)
#define CKP_PARAM_HEAD (DQ__PARAM_NAME_LEN + 8u)
#define CKP_SCHED_LEN 32u

/* The rule-state section: u32 count (the agents'), u32 0; then per agent
 * u32 state version, u32 length, the bytes, zeros to a multiple of 8. */
#define CKP_RSTATE_HEAD 8u
#define CKP_RSTATE_REC 8u

/* The agents section: u32 count, u32 record length, then the records. */
#define CKP_AGENTS_HEAD 8u
#define CKP_AGENT_REC 72u
#define CKP_AREC_RNG 0u
#define CKP_AREC_ALPHA_CLOCK 32u
#define CKP_AREC_EPS_CLOCK 40u
#define CKP_AREC_STEPS 48u
#define CKP_AREC_EPISODES 56u
#define CKP_AREC_RETRIES 64u

/* The most agents a writer stores: the header must stay under its cap. */
#define CKP_AGENTS_MAX DQ_MAX_THREADS
_Static_assert(CKP_HEADER_LEN + CKP_SEC_HEAD + CKP_AGENTS_HEAD +
		       (uint64_t)CKP_AGENTS_MAX * CKP_AGENT_REC <=
		   CKP_HEADER_MAX,
	       "the agents of a full learner fit in a header");

/*
 * A stale temporary file is "<name>" CKP_TMP_INFIX and six characters,
 * where <name> is the target's name cut short when the whole would not fit
 * in the directory's longest name (a target whose own name is that long).
 */
#define CKP_TMP_INFIX ".tmp."
#define CKP_TMP_RANDOM 6u
#define CKP_TMP_TAIL (sizeof(CKP_TMP_INFIX) - 1 + CKP_TMP_RANDOM)
#ifndef NAME_MAX
#define NAME_MAX 255
#endif
/* Saves that lose their fresh temporary file to a cleaner give up here. */
#define CKP_TMP_TRIES 16

/* Values are encoded and decoded through a bounded buffer, not all at once. */
#define CKP_CHUNK_VALUES 8192u
#define CKP_CHUNK_BYTES (CKP_CHUNK_VALUES * 8u)

_Static_assert(sizeof(((dq_checkpoint_meta *)0)->env) == CKP_ENV_LEN,
	       "meta.env must match the file's field");
_Static_assert(sizeof(((dq_checkpoint_meta *)0)->params) == CKP_PARAMS_LEN,
	       "meta.params must match the file's field");
_Static_assert(CKP_OFF_ENV + CKP_ENV_LEN == CKP_OFF_PARAMS, "layout");
_Static_assert(CKP_OFF_PARAMS + CKP_PARAMS_LEN == CKP_OFF_RESERVED, "layout");
_Static_assert(CKP_AREC_RETRIES + 8 == CKP_AGENT_REC, "layout");

/* ---------------------------------------------------------------- bytes -- */

static void
put_u32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void
put_u64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* A double travels as the little-endian bytes of its binary64 pattern. */
static void
put_f64(uint8_t *p, double v)
{
	uint64_t bits;

	memcpy(&bits, &v, sizeof(bits));
	put_u64(p, bits);
}

static uint32_t
get_u32(const uint8_t *p)
{
	uint32_t v = 0;

	for (int i = 3; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static uint64_t
get_u64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static double
get_f64(const uint8_t *p)
{
	uint64_t bits = get_u64(p);
	double v;

	memcpy(&v, &bits, sizeof(v));
	return v;
}

/* zlib's crc32() takes a uInt length; every caller passes a chunk. */
static uint32_t
crc_update(uint32_t crc, const uint8_t *p, size_t n)
{
	return (uint32_t)crc32(crc, p, (uInt)n);
}

static bool
str_terminated(const char *s, size_t cap)
{
	return memchr(s, '\0', cap) != NULL;
}

static bool
mode_valid(uint32_t mode)
{
	return mode == DQ_MODE_CAS || mode == DQ_MODE_HOGWILD ||
	       mode == DQ_MODE_LOCKED;
}

/*
 * The file length for a table of S x A entries of @w 8-byte words each
 * (its channels, plus one for a visit count), or false when it does not
 * fit in 64 bits (or in size_t, since the words must fit in memory to be
 * loaded).
 */
static bool
ckp_file_len(uint64_t header_len, uint32_t s, uint32_t a, uint32_t w,
	     uint64_t *len)
{
	uint64_t n = (uint64_t)s * a;
	size_t bytes;

	if (n > (UINT64_MAX - header_len - CKP_TRAILER_LEN) / 8 / w)
		return false;
	n *= w;
	if (n > SIZE_MAX ||
	    dq__mul_overflows((size_t)n, sizeof(double), &bytes))
		return false;
	*len = header_len + n * 8 + CKP_TRAILER_LEN;
	return true;
}

/* --------------------------------------------------------------- header -- */

/* Lay out the fixed header, including its own CRC; the values start at
 * @hlen (CKP_HEADER_LEN plus the extension). */
static void
ckp_header_encode(uint8_t *h, const dq_checkpoint_meta *m,
		  const dq_table_info *info, uint32_t hlen)
{
	const uint32_t s = info->n_states, a = info->n_actions;

	memset(h, 0, CKP_HEADER_LEN);
	memcpy(h, CKP_MAGIC, CKP_MAGIC_LEN);
	put_u32(h + CKP_OFF_VERSION, DQ_CHECKPOINT_VERSION);
	put_u32(h + CKP_OFF_HEADER_LEN, hlen);
	put_u32(h + CKP_OFF_VALUE_TYPE, CKP_VALUE_F64LE);
	put_u32(h + CKP_OFF_MODE, (uint32_t)m->mode);
	put_u32(h + CKP_OFF_STATES, s);
	put_u32(h + CKP_OFF_ACTIONS, a);
	put_u64(h + CKP_OFF_SEED, m->seed);
	put_u64(h + CKP_OFF_STEPS, m->steps);
	put_u64(h + CKP_OFF_EPISODES, m->episodes);
	put_f64(h + CKP_OFF_GAMMA, m->gamma);
	put_f64(h + CKP_OFF_ALPHA, m->alpha);
	put_f64(h + CKP_OFF_EPSILON, m->epsilon);
	put_f64(h + CKP_OFF_SECONDS, m->seconds);
	/* strncpy pads with NULs: the bytes after the string are defined. */
	strncpy((char *)h + CKP_OFF_ENV, m->env, CKP_ENV_LEN);
	strncpy((char *)h + CKP_OFF_PARAMS, m->params, CKP_PARAMS_LEN);
	put_u32(h + CKP_OFF_CHANNELS,
		info->channels |
		    (uint32_t)(info->visit_counts ? CKP_FLAG_VISITS : 0) << 16);
	put_u32(h + CKP_OFF_HEADER_CRC, crc_update(0, h, CKP_OFF_HEADER_CRC));
}

/* The versions this library reads: its own, and 1. */
static bool
version_known(const uint8_t *h)
{
	uint32_t v = get_u32(h + CKP_OFF_VERSION);

	return v == DQ_CHECKPOINT_VERSION || v == CKP_VERSION_1;
}

/*
 * Classify a header of which only @n bytes exist (n < CKP_HEADER_LEN): a
 * magic prefix means a truncated checkpoint, anything else is some other
 * file. The version is judged as soon as it is all there, so that a short
 * file from a future version says so rather than "truncated".
 */
static int
ckp_header_partial(const uint8_t *h, size_t n)
{
	size_t m = n < CKP_MAGIC_LEN ? n : CKP_MAGIC_LEN;

	if (memcmp(h, CKP_MAGIC, m) != 0)
		return DQ_EFORMAT;
	if (n >= CKP_OFF_VERSION + 4 && !version_known(h))
		return DQ_EVERSION;
	return DQ_ETRUNC;
}

/*
 * Check a complete fixed header and decode it into @m. The order matters:
 * magic, then version (a file we cannot interpret says so), then the
 * header CRC (so no field below is believed unless it is what was written),
 * then the fields' own sense. @len receives the file length the header
 * implies.
 */
static int
ckp_header_decode(const uint8_t *h, dq_checkpoint_meta *m, uint64_t *len)
{
	uint32_t hlen, s, a, mode, version, channels = 1, flags = 0;

	if (memcmp(h, CKP_MAGIC, CKP_MAGIC_LEN) != 0)
		return DQ_EFORMAT;
	if (!version_known(h))
		return DQ_EVERSION;
	if (get_u32(h + CKP_OFF_HEADER_CRC) !=
	    crc_update(0, h, CKP_OFF_HEADER_CRC))
		return DQ_ECORRUPT;
	if (get_u32(h + CKP_OFF_VALUE_TYPE) != CKP_VALUE_F64LE)
		return DQ_EVERSION;

	hlen = get_u32(h + CKP_OFF_HEADER_LEN);
	s = get_u32(h + CKP_OFF_STATES);
	a = get_u32(h + CKP_OFF_ACTIONS);
	mode = get_u32(h + CKP_OFF_MODE);
	version = get_u32(h + CKP_OFF_VERSION);
	if (version == CKP_VERSION_1) {
		if (get_u32(h + CKP_OFF_RESERVED) != 0)
			return DQ_ECORRUPT;
	} else {
		channels = get_u32(h + CKP_OFF_CHANNELS) & 0xffffu;
		flags = get_u32(h + CKP_OFF_CHANNELS) >> 16;
		if (!channels || channels > DQ_TABLE_MAX_CHANNELS ||
		    (flags & ~CKP_FLAG_VISITS))
			return DQ_ECORRUPT;
	}
	if (hlen < CKP_HEADER_LEN || hlen > CKP_HEADER_MAX || hlen % 8 ||
	    !mode_valid(mode) || !s || !a ||
	    !ckp_file_len(hlen, s, a, channels + (flags & CKP_FLAG_VISITS),
			  len))
		return DQ_ECORRUPT;

	memset(m, 0, sizeof(*m));
	memcpy(m->env, h + CKP_OFF_ENV, CKP_ENV_LEN);
	memcpy(m->params, h + CKP_OFF_PARAMS, CKP_PARAMS_LEN);
	m->n_states = s;
	m->n_actions = a;
	m->version = version;
	m->channels = channels;
	m->visit_counts = flags & CKP_FLAG_VISITS;
	m->rule = DQ_RULE_Q;
	m->mode = (dq_mode)mode;
	m->seed = get_u64(h + CKP_OFF_SEED);
	m->steps = get_u64(h + CKP_OFF_STEPS);
	m->episodes = get_u64(h + CKP_OFF_EPISODES);
	m->gamma = get_f64(h + CKP_OFF_GAMMA);
	m->alpha = get_f64(h + CKP_OFF_ALPHA);
	m->epsilon = get_f64(h + CKP_OFF_EPSILON);
	m->seconds = get_f64(h + CKP_OFF_SECONDS);
	if (!str_terminated(m->env, CKP_ENV_LEN) ||
	    !str_terminated(m->params, CKP_PARAMS_LEN))
		return DQ_ECORRUPT;
	if (!isfinite(m->gamma) || !isfinite(m->alpha) ||
	    !isfinite(m->epsilon) || !isfinite(m->seconds))
		return DQ_EFILEVALUE;
	return 0;
}

/* ------------------------------------------------------------- sections -- */

/* What dq_learner_set_agent_state() accepts; a file holds nothing else. */
static bool
agent_state_valid(const dq_agent_state *st)
{
	const uint64_t *r = st->rng.s;

	return (r[0] | r[1] | r[2] | r[3]) && st->alpha_clock >= 0.0 &&
	       isfinite(st->alpha_clock) && st->epsilon_clock >= 0.0 &&
	       isfinite(st->epsilon_clock) && DQ__RESERVED_ZERO(st);
}

/*
 * A cursor that writes the header extension, or only measures it when
 * `p` is NULL: a save runs the same encoder twice, once to size the
 * buffer and once to fill it.
 */
typedef struct ckp_out {
	uint8_t *p;
	size_t at;
} ckp_out;

static void
out_u32(ckp_out *o, uint32_t v)
{
	if (o->p)
		put_u32(o->p + o->at, v);
	o->at += 4;
}

static void
out_u64(ckp_out *o, uint64_t v)
{
	if (o->p)
		put_u64(o->p + o->at, v);
	o->at += 8;
}

static void
out_f64(ckp_out *o, double v)
{
	if (o->p)
		put_f64(o->p + o->at, v);
	o->at += 8;
}

/* A string in a field of @cap bytes, NUL-padded. */
static void
out_str(ckp_out *o, const char *s, size_t cap)
{
	if (o->p)
		strncpy((char *)o->p + o->at, s, cap);
	o->at += cap;
}

/* Zeros up to a multiple of 8. */
static void
out_pad(ckp_out *o)
{
	while (o->at % 8) {
		if (o->p)
			o->p[o->at] = 0;
		o->at++;
	}
}

/* Open a section; returns where its length goes (sec_end()). */
static size_t
sec_begin(ckp_out *o, uint32_t tag)
{
	size_t at;

	out_u32(o, tag);
	at = o->at;
	out_u32(o, 0);
	return at;
}

static void
sec_end(ckp_out *o, size_t len_at)
{
	if (o->p)
		put_u32(o->p + len_at, (uint32_t)(o->at - len_at - 4));
	out_pad(o);
}

/* The agents section: a multiple of 8 bytes long, so it needs no padding. */
static void
enc_agents(ckp_out *o, const dq_agent_state *ag, uint32_t n)
{
	size_t len_at = sec_begin(o, CKP_TAG_AGENTS);

	out_u32(o, n);
	out_u32(o, CKP_AGENT_REC);
	for (uint32_t i = 0; i < n; i++) {
		for (int k = 0; k < 4; k++)
			out_u64(o, ag[i].rng.s[k]);
		out_f64(o, ag[i].alpha_clock);
		out_f64(o, ag[i].epsilon_clock);
		out_u64(o, ag[i].steps);
		out_u64(o, ag[i].episodes);
		out_u64(o, ag[i].cas_retries);
	}
	sec_end(o, len_at);
}

/* One parameter's value, from its field in @cfg. */
static void
enc_param_value(ckp_out *o, const dq__rule_param *p, const dq_agent_config *cfg)
{
	const char *f = (const char *)cfg + p->offset;
	dq_schedule sc;
	uint64_t u64;
	uint32_t u32;
	double d;
	bool b;

	switch (p->kind) {
	case DQ__PK_F64:
		memcpy(&d, f, sizeof(d));
		out_f64(o, d);
		break;
	case DQ__PK_U64:
		memcpy(&u64, f, sizeof(u64));
		out_u64(o, u64);
		break;
	case DQ__PK_BOOL:
		memcpy(&b, f, sizeof(b));
		out_u64(o, b);
		break;
	case DQ__PK_SCHEDULE:
		memcpy(&sc, f, sizeof(sc));
		out_u32(o, (uint32_t)sc.kind);
		out_u32(o, 0);
		out_f64(o, sc.start);
		out_f64(o, sc.end);
		out_f64(o, sc.steps);
		break;
	case DQ__PK_U32:
	case DQ__PK_ENUM:
	default:
		memcpy(&u32, f, sizeof(u32));
		out_u64(o, u32);
		break;
	}
}

/*
 * The rule section: the rule's name, then each parameter of the table
 * (ruleparam.c) that matters to the rule and differs from its default; a
 * reader takes a parameter the file leaves out as its default.
 */
static void
enc_rule(ckp_out *o, const dq_agent_config *cfg)
{
	size_t len_at = sec_begin(o, CKP_TAG_RULE), count_at;
	const uint32_t bit = DQ__RULE_BIT(cfg->rule);
	dq_agent_config def;
	uint32_t k = 0;

	dq_agent_config_init(&def);
	out_u32(o, CKP_RULE_REV);
	count_at = o->at;
	out_u32(o, 0);
	out_str(o, dq_rule_name(cfg->rule), CKP_RULE_NAME_LEN);
	for (size_t i = 0; i < dq__n_rule_params; i++) {
		const dq__rule_param *p = &dq__rule_params[i];
		uint32_t type = dq__param_file_type(p->kind);

		if (!(p->rules & bit) || dq__param_equal(p, cfg, &def))
			continue;
		out_str(o, p->name, DQ__PARAM_NAME_LEN);
		out_u32(o, type);
		out_u32(o, type == DQ__PT_SCHEDULE ? CKP_SCHED_LEN : 8u);
		enc_param_value(o, p, cfg);
		out_pad(o);
		k++;
	}
	if (o->p)
		put_u32(o->p + count_at, k);
	sec_end(o, len_at);
}

/*
 * The rule-state section: one record per agent, empty for a rule that
 * keeps no state, and while @l runs (a run starts new episodes, and the
 * state is the agent thread's own until it stops).
 */
static void
enc_rule_state(ckp_out *o, const dq_learner *l, dq_rule rule, uint32_t n)
{
	const dq__rule_state_ops *ops = dq__rule_state_ops_of(rule);
	size_t len_at = sec_begin(o, CKP_TAG_RULE_STATE);
	bool idle = l && dq__learner_idle(l);

	out_u32(o, n);
	out_u32(o, 0);
	for (uint32_t i = 0; i < n; i++) {
		const struct dq_agent *ag =
		    ops && idle && i < dq__learner_size(l)
			? dq__learner_agent(l, i)
			: NULL;
		size_t len = ag ? ops->size(ag) : 0;

		out_u32(o, len ? ops->version : 0);
		out_u32(o, (uint32_t)len);
		if (len && o->p)
			ops->save(ag, o->p + o->at);
		o->at += len;
		out_pad(o);
	}
	sec_end(o, len_at);
}

/* What a save puts in the header extension. */
typedef struct ckp_ext_in {
	const dq_agent_state *agents;
	uint32_t n;
	const dq_agent_config *rule;	  /* NULL: no rule recorded */
	const dq_learner *l;		  /* the rule states' agents, or NULL */
	const dq_checkpoint_world *world; /* NULL: none recorded */
	const dq_tiles *tiles;		  /* the tile coder, or NULL */
	bool share_idle; /* @l was idle: its local tables are saved (read
			  * once, so both passes of enc_ext() agree) */
} ckp_ext_in;

static void enc_world(ckp_out *o, const dq_checkpoint_world *w);

/* The tile coder's section (lib/ckptiles.c). */
static void
enc_tiles(ckp_out *o, const dq_tiles *tc)
{
	size_t len_at = sec_begin(o, CKP_TAG_TILES);

	o->at += dq__ckp_tiles_encode(o->p ? o->p + o->at : NULL, tc);
	sec_end(o, len_at);
}

/* The sync policy's section, when @l runs one (lib/shareckp.c); one too
 * large for a header makes the extension so (the save refuses it). */
static void
enc_share(ckp_out *o, const dq_learner *l, bool idle)
{
	size_t n = dq__share_ckp_size(l, idle), len_at;

	if (!n)
		return;
	len_at = sec_begin(o, CKP_TAG_SHARE);
	if (n > CKP_HEADER_MAX) {
		dq__detail("the agents' local tables take %zu bytes, more than "
			   "a checkpoint header holds (%u)",
			   n, CKP_HEADER_MAX);
		o->at += CKP_HEADER_MAX;
		return;
	}
	if (o->p)
		dq__share_ckp_encode(l, idle, o->p + o->at);
	o->at += n;
	sec_end(o, len_at);
}

static void
enc_ext(ckp_out *o, const ckp_ext_in *in)
{
	if (in->n)
		enc_agents(o, in->agents, in->n);
	if (in->rule) {
		enc_rule(o, in->rule);
		if (in->n)
			enc_rule_state(o, in->l, in->rule->rule, in->n);
	}
	if (in->world)
		enc_world(o, in->world);
	if (in->tiles)
		enc_tiles(o, in->tiles);
	if (in->l)
		enc_share(o, in->l, in->share_idle);
}

/* One agent record; a longer record (a later revision) has its known
 * fields first, so the same offsets read it. */
static void
ckp_agent_decode(const uint8_t *p, dq_agent_state *st)
{
	memset(st, 0, sizeof(*st));
	for (int k = 0; k < 4; k++)
		st->rng.s[k] = get_u64(p + CKP_AREC_RNG + 8 * k);
	st->alpha_clock = get_f64(p + CKP_AREC_ALPHA_CLOCK);
	st->epsilon_clock = get_f64(p + CKP_AREC_EPS_CLOCK);
	st->steps = get_u64(p + CKP_AREC_STEPS);
	st->episodes = get_u64(p + CKP_AREC_EPISODES);
	st->cas_retries = get_u64(p + CKP_AREC_RETRIES);
}

/* What a parsed header extension holds. */
typedef struct ckp_ext {
	const uint8_t *rec; /* first agent record; NULL without agents */
	uint32_t n;	    /* agent records */
	uint32_t rec_len;   /* bytes from one record to the next */
	bool has_rule;
	dq_agent_config cfg;   /* the defaults, with the file's rule and
				* parameters when has_rule */
	const uint8_t *rstate; /* the rule-state body; NULL without */
	uint32_t rstate_len;
	bool has_world;		   /* the file records its MPI world */
	dq_checkpoint_world world; /* ... which is this */
	bool has_tiles;		   /* a tile coder's section */
	dq_tiles_config tiles;	   /* its coder, when has_tiles */
	const uint8_t *share;	   /* the sync policy's body; NULL without */
	uint32_t share_len;
} ckp_ext;

static int ckp_world_parse(const uint8_t *body, uint32_t len, ckp_ext *x);

/* Check the body of an agents section: its sizes, then every record. */
static int
ckp_agents_parse(const uint8_t *body, uint32_t len, ckp_ext *x)
{
	uint32_t n, rl;

	if (len < CKP_AGENTS_HEAD)
		return DQ_ECORRUPT;
	n = get_u32(body);
	rl = get_u32(body + 4);
	/* u32 x u32 cannot overflow 64 bits. */
	if (rl < CKP_AGENT_REC || rl % 8 ||
	    (uint64_t)n * rl != len - CKP_AGENTS_HEAD)
		return DQ_ECORRUPT;
	for (uint32_t i = 0; i < n; i++) {
		dq_agent_state st;

		ckp_agent_decode(body + CKP_AGENTS_HEAD + (size_t)i * rl, &st);
		if (!isfinite(st.alpha_clock) || !isfinite(st.epsilon_clock))
			return DQ_EFILEVALUE;
		if (!agent_state_valid(&st))
			return DQ_ECORRUPT;
	}
	x->rec = body + CKP_AGENTS_HEAD;
	x->n = n;
	x->rec_len = rl;
	return 0;
}

/* The parameter of the table named @name (NUL-terminated), or NULL. */
static const dq__rule_param *
param_named(const char *name)
{
	for (size_t i = 0; i < dq__n_rule_params; i++)
		if (!strcmp(dq__rule_params[i].name, name))
			return &dq__rule_params[i];
	return NULL;
}

/* Decode a parameter's value (@v, of the type the table gives it) into its
 * field of @cfg. */
static int
dec_param_value(const dq__rule_param *p, const uint8_t *v, dq_agent_config *cfg)
{
	char *f = (char *)cfg + p->offset;
	uint64_t u = get_u64(v);
	double d = get_f64(v);

	switch (p->kind) {
	case DQ__PK_F64:
		if (!isfinite(d))
			return DQ_EFILEVALUE;
		memcpy(f, &d, sizeof(d));
		return 0;
	case DQ__PK_U64:
		memcpy(f, &u, sizeof(u));
		return 0;
	case DQ__PK_BOOL: {
		bool b = u == 1;

		if (u > 1)
			return DQ_ECORRUPT;
		memcpy(f, &b, sizeof(b));
		return 0;
	}
	case DQ__PK_SCHEDULE: {
		dq_schedule sc;

		memset(&sc, 0, sizeof(sc));
		sc.kind = (dq_schedule_kind)get_u32(v);
		sc.start = get_f64(v + 8);
		sc.end = get_f64(v + 16);
		sc.steps = get_f64(v + 24);
		if (get_u32(v + 4) || get_u32(v) > INT32_MAX)
			return DQ_ECORRUPT;
		if (!isfinite(sc.start) || !isfinite(sc.end) ||
		    !isfinite(sc.steps))
			return DQ_EFILEVALUE;
		memcpy(f, &sc, sizeof(sc));
		return 0;
	}
	case DQ__PK_U32:
	case DQ__PK_ENUM:
	default: {
		uint32_t w = (uint32_t)u;

		if (u > UINT32_MAX || p->size != sizeof(w))
			return DQ_ECORRUPT;
		memcpy(f, &w, sizeof(w));
		return 0;
	}
	}
}

/*
 * Check the body of a rule section and decode it into x->cfg. A rule or a
 * parameter this library does not know comes from a later one, whose run
 * it cannot reproduce: DQ_EVERSION, named. The parameters must make a
 * configuration dq_agent_config_check() accepts, and one the file's table
 * can hold (what dq_agent_create() asks of a table).
 */
static int
ckp_rule_parse(const uint8_t *b, uint32_t len, uint32_t channels, bool visits,
	       ckp_ext *x)
{
	bool seen[64] = {false};
	char name[CKP_RULE_NAME_LEN];
	uint32_t k, need;
	dq_rule rule;
	size_t at = CKP_RULE_HEAD;
	int err;

	if (len < CKP_RULE_HEAD || dq__n_rule_params > 64)
		return DQ_ECORRUPT;
	if (get_u32(b) != CKP_RULE_REV) {
		dq__detail("the rule section is of revision %u, this library "
			   "reads %u",
			   get_u32(b), CKP_RULE_REV);
		return DQ_EVERSION;
	}
	k = get_u32(b + 4);
	memcpy(name, b + 8, sizeof(name));
	if (!str_terminated(name, sizeof(name)) || !*name)
		return DQ_ECORRUPT;
	if (dq_rule_from_name(name, &rule) != 0) {
		dq__detail("the file's rule '%s' is not one this library "
			   "knows",
			   name);
		return DQ_EVERSION;
	}
	dq_agent_config_init(&x->cfg);
	x->cfg.rule = rule;
	for (uint32_t i = 0; i < k; i++) {
		const dq__rule_param *p;
		char pname[DQ__PARAM_NAME_LEN];
		uint32_t type, vlen;
		uint64_t padded;

		if (len - at < CKP_PARAM_HEAD)
			return DQ_ECORRUPT;
		memcpy(pname, b + at, sizeof(pname));
		type = get_u32(b + at + DQ__PARAM_NAME_LEN);
		vlen = get_u32(b + at + DQ__PARAM_NAME_LEN + 4);
		padded = ((uint64_t)vlen + 7) / 8 * 8;
		if (!str_terminated(pname, sizeof(pname)) || !*pname ||
		    padded > len - at - CKP_PARAM_HEAD)
			return DQ_ECORRUPT;
		for (uint64_t j = vlen; j < padded; j++)
			if (b[at + CKP_PARAM_HEAD + j])
				return DQ_ECORRUPT;
		p = param_named(pname);
		if (!p) {
			dq__detail("the file's rule '%s' has a parameter "
				   "'%s' this library does not know",
				   name, pname);
			return DQ_EVERSION;
		}
		if (seen[p - dq__rule_params] ||
		    !(p->rules & DQ__RULE_BIT(rule)) ||
		    type != dq__param_file_type(p->kind) ||
		    vlen != (type == DQ__PT_SCHEDULE ? CKP_SCHED_LEN : 8u))
			return DQ_ECORRUPT;
		seen[p - dq__rule_params] = true;
		err = dec_param_value(p, b + at + CKP_PARAM_HEAD, &x->cfg);
		if (err)
			return err;
		at += CKP_PARAM_HEAD + (size_t)padded;
	}
	if (at != len)
		return DQ_ECORRUPT;
	if (dq_agent_config_check(&x->cfg) != 0 ||
	    dq_rule_channels(rule, &need) != 0 || need > channels ||
	    (x->cfg.omega > 0.0 && !visits)) {
		dq__detail("the parameters of rule '%s' are out of range or "
			   "do not fit the file's table",
			   name);
		return DQ_ECORRUPT;
	}
	x->has_rule = true;
	return 0;
}

/*
 * Walk the records of a rule-state body (x->rstate), checking each; with
 * @l, restore each of the first min(n, P) agents' (all checked before).
 * An empty record has version 0; a record this library cannot restore (a
 * rule that keeps no state here, another state version) is from a later
 * library: DQ_EVERSION.
 */
static int
ckp_rstate_walk(const ckp_ext *x, dq_learner *l)
{
	const dq__rule_state_ops *ops = dq__rule_state_ops_of(x->cfg.rule);
	const uint8_t *b = x->rstate;
	size_t len = x->rstate_len, at = CKP_RSTATE_HEAD;
	uint32_t n;

	if (len < CKP_RSTATE_HEAD || get_u32(b + 4) != 0)
		return DQ_ECORRUPT;
	n = get_u32(b);
	if (n != x->n)
		return DQ_ECORRUPT;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t version, rlen;
		uint64_t padded;
		int err;

		if (len - at < CKP_RSTATE_REC)
			return DQ_ECORRUPT;
		version = get_u32(b + at);
		rlen = get_u32(b + at + 4);
		padded = ((uint64_t)rlen + 7) / 8 * 8;
		if (padded > len - at - CKP_RSTATE_REC || (!rlen && version))
			return DQ_ECORRUPT;
		for (uint64_t j = rlen; j < padded; j++)
			if (b[at + CKP_RSTATE_REC + j])
				return DQ_ECORRUPT;
		if (rlen && (!ops || version != ops->version)) {
			dq__detail("agent %u's state of rule '%s' (version "
				   "%u) is not one this library can restore",
				   i, dq_rule_name(x->cfg.rule), version);
			return DQ_EVERSION;
		}
		if (rlen && !l) {
			err =
			    ops->check(b + at + CKP_RSTATE_REC, rlen, &x->cfg);
			if (err)
				return err;
		} else if (rlen && i < dq__learner_size(l)) {
			ops->load(dq__learner_agent(l, i),
				  b + at + CKP_RSTATE_REC, rlen);
		}
		at += CKP_RSTATE_REC + (size_t)padded;
	}
	return at == len ? 0 : DQ_ECORRUPT;
}

/*
 * Walk the header sections in @ext (@len bytes, a multiple of 8, already
 * vouched for by the file CRC). Every section must fit, have a non-zero
 * tag and zero padding; each kind this library knows may appear once. A
 * section this library does not know is skipped, unless its tag says it
 * must be understood (CKP_TAG_CRITICAL): then the file is from a later
 * revision that this reader would misread, which is DQ_EVERSION. Version
 * 1 knows the agents section only. A rule-state section needs the rule's
 * and the agents' sections.
 */
static int
ckp_ext_parse(const uint8_t *ext, size_t len, const dq_checkpoint_meta *m,
	      ckp_ext *x)
{
	const bool v2 = m->version != CKP_VERSION_1;

	memset(x, 0, sizeof(*x));
	dq_agent_config_init(&x->cfg);
	while (len) {
		const uint8_t *body = ext + CKP_SEC_HEAD;
		uint32_t tag, blen;
		uint64_t padded;
		int err = 0;

		if (len < CKP_SEC_HEAD)
			return DQ_ECORRUPT;
		tag = get_u32(ext);
		blen = get_u32(ext + 4);
		padded = ((uint64_t)blen + 7) / 8 * 8;
		if (!tag || padded > len - CKP_SEC_HEAD)
			return DQ_ECORRUPT;
		for (uint64_t k = blen; k < padded; k++)
			if (body[k])
				return DQ_ECORRUPT;
		if (tag == CKP_TAG_AGENTS) {
			if (x->rec)
				return DQ_ECORRUPT; /* a second one */
			err = ckp_agents_parse(body, blen, x);
		} else if (v2 && tag == CKP_TAG_RULE) {
			if (x->has_rule)
				return DQ_ECORRUPT;
			err = ckp_rule_parse(body, blen, m->channels,
					     m->visit_counts, x);
		} else if (v2 && tag == CKP_TAG_RULE_STATE) {
			if (x->rstate)
				return DQ_ECORRUPT;
			x->rstate = body;
			x->rstate_len = blen;
		} else if (v2 && tag == CKP_TAG_WORLD) {
			err = ckp_world_parse(body, blen, x);
		} else if (v2 && tag == CKP_TAG_TILES) {
			if (x->has_tiles)
				return DQ_ECORRUPT;
			err = dq__ckp_tiles_parse(body, blen, m->n_states,
						  &x->tiles);
			x->has_tiles = !err;
		} else if (v2 && tag == CKP_TAG_SHARE) {
			if (x->share)
				return DQ_ECORRUPT;
			err = dq__share_ckp_check(body, blen, m->n_states,
						  m->n_actions, m->channels);
			x->share = body;
			x->share_len = blen;
		} else if (tag & CKP_TAG_CRITICAL) {
			return DQ_EVERSION;
		}
		if (err)
			return err;
		ext += CKP_SEC_HEAD + padded;
		len -= CKP_SEC_HEAD + (size_t)padded;
	}
	if (x->rstate && (!x->has_rule || !x->rec))
		return DQ_ECORRUPT;
	return x->rstate ? ckp_rstate_walk(x, NULL) : 0;
}

/* ------------------------------------------------------------------ I/O -- */

/* write() until done; EINTR and short writes are not errors. */
static int
write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (w == 0)
			return -EIO; /* no progress and no reason: give up */
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/*
 * read() exactly @n bytes. End of file first means the file shrank after
 * fstat() told us its size: that is a truncated file.
 */
static int
read_all(int fd, uint8_t *p, size_t n)
{
	while (n) {
		ssize_t r = read(fd, p, n);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			return DQ_ETRUNC;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/* ----------------------------------------------------------------- save -- */

static int
meta_check(const dq_checkpoint_meta *m)
{
	if (!str_terminated(m->env, sizeof(m->env)) ||
	    !str_terminated(m->params, sizeof(m->params)) ||
	    !mode_valid((uint32_t)m->mode) || !isfinite(m->gamma) ||
	    !isfinite(m->alpha) || !isfinite(m->epsilon) ||
	    !isfinite(m->seconds) || !DQ__RESERVED_ZERO(m))
		return -EINVAL;
	return 0;
}

/* What a save writes: the header and extension encoded, the table's
 * words (n_vals values of every channel, then n_visits counts). */
typedef struct ckp_image {
	uint8_t header[CKP_HEADER_LEN];
	uint8_t *ext; /* header extension, NULL when empty */
	size_t ext_len;
	uint64_t file_len;
	const double *vals;
	size_t n_vals;
	const uint64_t *visits;
	size_t n_visits;
} ckp_image;

/*
 * Write header, extension, values, counts and trailer to @fd. The words
 * are encoded a chunk at a time so that the extra memory is bounded
 * whatever the table's size; the CRC runs over exactly the bytes written.
 */
static int
ckp_write_body(int fd, const ckp_image *im)
{
	const size_t n = im->n_vals + im->n_visits;
	uint8_t *buf = malloc(CKP_CHUNK_BYTES);
	uint8_t trailer[CKP_TRAILER_LEN];
	uint32_t crc;
	int err;

	if (!buf)
		return -ENOMEM;
	crc = crc_update(0, im->header, CKP_HEADER_LEN);
	err = write_all(fd, im->header, CKP_HEADER_LEN);
	if (!err && im->ext_len) {
		crc = crc_update(crc, im->ext, im->ext_len);
		err = write_all(fd, im->ext, im->ext_len);
	}
	for (size_t i = 0; !err && i < n; i += CKP_CHUNK_VALUES) {
		size_t k = n - i < CKP_CHUNK_VALUES ? n - i : CKP_CHUNK_VALUES;

		for (size_t j = 0; j < k; j++) {
			size_t w = i + j;

			if (w < im->n_vals)
				put_f64(buf + 8 * j, im->vals[w]);
			else
				put_u64(buf + 8 * j,
					im->visits[w - im->n_vals]);
		}
		crc = crc_update(crc, buf, 8 * k);
		err = write_all(fd, buf, 8 * k);
	}
	free(buf);
	if (err)
		return err;
	put_u64(trailer, im->file_len);
	crc = crc_update(crc, trailer, 8);
	put_u32(trailer + 8, crc);
	return write_all(fd, trailer, CKP_TRAILER_LEN);
}

/* The directory that will hold @path, as a new string ("." for none). */
static char *
dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	size_t len = slash ? (size_t)(slash - path) : 1;
	char *dir;

	if (slash == path)
		len = 1; /* "/name": the root */
	dir = malloc(len + 1);
	if (!dir)
		return NULL;
	memcpy(dir, slash ? path : ".", len);
	dir[len] = '\0';
	return dir;
}

/* The last component of @path. */
static const char *
base_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* What kind of file @mode is, for a message. */
static const char *
ftype_name(mode_t mode)
{
	return S_ISDIR(mode)	? "a directory"
	       : S_ISFIFO(mode) ? "a FIFO"
	       : S_ISCHR(mode)	? "a character device"
	       : S_ISBLK(mode)	? "a block device"
	       : S_ISSOCK(mode) ? "a socket"
	       : S_ISLNK(mode)	? "a symbolic link"
				: "not a regular file";
}

/*
 * Whether a save may replace @st, what @path names now (symbolic links
 * followed): only a regular file. A rename over a device node or a FIFO
 * would replace it, and as root `--save /dev/null` would destroy the
 * system's /dev/null.
 */
static int
target_check(const struct stat *st, const char *path)
{
	if (S_ISREG(st->st_mode))
		return 0;
	dq__detail("'%.200s' is %s, not a regular file; it is left as it is",
		   path, ftype_name(st->st_mode));
	return S_ISDIR(st->st_mode) ? -EISDIR : DQ_ENOTREG;
}

/*
 * A save that would exceed the process's file-size limit (ulimit -f) fails
 * before it writes: otherwise the kernel would send SIGXFSZ, whose default
 * action ends the process, and the library changes no signal disposition.
 */
static int
fsize_check(uint64_t len)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_FSIZE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY ||
	    len <= (uint64_t)rl.rlim_cur)
		return 0;
	dq__detail("the checkpoint is %llu bytes, over the process's "
		   "file-size limit of %llu bytes (ulimit -f)",
		   (unsigned long long)len, (unsigned long long)rl.rlim_cur);
	return -EFBIG;
}

/* ------------------------------------------------------ temporary files -- */

/*
 * Temporary files and their cleaning. A save writes "<path>.tmp.XXXXXX"
 * and renames it over <path>; a process killed before the rename cannot
 * remove it, so the next save to <path> does. The danger is removing the
 * file of a save that is still running, in this process or another. Each
 * writer therefore holds an exclusive flock() on its temporary file from
 * just after creating it until after the rename (or its own unlink), and a
 * cleaner removes only files whose lock it can take. flock() locks belong
 * to the open file description, so they conflict between threads of one
 * process too, and the kernel drops them when their holder dies: a lock a
 * cleaner can take belongs to a file that nobody is writing.
 */

/* "<base>.tmp." followed by exactly six letters or digits (mkstemp()'s
 * alphabet, which tmp_create() keeps); @blen bytes of @base count. */
static bool
is_tmp_name(const char *name, const char *base, size_t blen)
{
	const size_t ilen = sizeof(CKP_TMP_INFIX) - 1;
	const char *p;

	if (strncmp(name, base, blen) ||
	    strncmp(name + blen, CKP_TMP_INFIX, ilen))
		return false;
	p = name + blen + ilen;
	for (unsigned i = 0; i < CKP_TMP_RANDOM; i++) {
		char c = p[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9')))
			return false;
	}
	return p[CKP_TMP_RANDOM] == '\0';
}

/*
 * Remove @name in directory @dfd if it is a stale temporary file: a
 * regular file whose lock we can take and whose first bytes are those of a
 * checkpoint (a killed writer leaves a prefix of one; the check spares an
 * unrelated file that happens to match the name). Unlinking goes by name,
 * so the name must still be the file we locked; it cannot change while we
 * hold the lock, since only the file's own writer renames it, and only
 * while holding the lock itself.
 */
static void
ckp_remove_stale(int dfd, const char *name)
{
	uint8_t head[CKP_MAGIC_LEN];
	struct stat st, by_name;
	ssize_t n;
	int fd =
	    openat(dfd, name,
		   O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);

	if (fd < 0)
		return;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    flock(fd, LOCK_EX | LOCK_NB) == 0) {
		n = pread(fd, head, sizeof(head), 0);
		if (n >= 0 && !memcmp(head, CKP_MAGIC, (size_t)n) &&
		    fstatat(dfd, name, &by_name, AT_SYMLINK_NOFOLLOW) == 0 &&
		    by_name.st_dev == st.st_dev && by_name.st_ino == st.st_ino)
			unlinkat(dfd, name, 0);
	}
	close(fd); /* drops the lock */
}

/* Remove the stale temporary files of saves to @base (its first @blen
 * bytes) in @dfd; best effort. */
static void
ckp_clean_stale(int dfd, const char *base, size_t blen)
{
	struct dirent *e;
	DIR *d;
	int fd;

	if (!blen)
		return;
	/* fdopendir() owns its descriptor; keep @dfd for the caller. */
	fd = fcntl(dfd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		return;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	while ((e = readdir(d)))
		if (is_tmp_name(e->d_name, base, blen))
			ckp_remove_stale(dfd, e->d_name);
	closedir(d);
}

/* Six letters or digits for a temporary name; a clash is retried. */
static void
tmp_random(char *p, unsigned try)
{
	static const char abc[] = "abcdefghijklmnopqrstuvwxyz"
				  "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	struct timespec ts;
	uint64_t x;

	clock_gettime(CLOCK_REALTIME, &ts);
	/* splitmix64 of the time, the process, the thread's stack and the
	 * attempt: unique enough that O_EXCL rarely has to refuse one. */
	x = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30) ^
	    ((uint64_t)getpid() << 40) ^ (uint64_t)(uintptr_t)p ^
	    ((uint64_t)try * 0x9e3779b97f4a7c15ull);
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	x ^= x >> 31;
	for (unsigned i = 0; i < CKP_TMP_RANDOM; i++, x /= 62)
		p[i] = abc[x % 62];
}

/*
 * Create and lock the temporary file "<first @blen bytes of @base>.tmp.XXXXXX"
 * in @dfd, its name left in @tmp (NAME_MAX + 1 bytes). It is created as
 * mkstemp() would (O_EXCL, mode 0600), but relative to the directory and
 * with O_CLOEXEC from the start. Between the creation and flock() a
 * cleaner in another save may take the fresh, unlocked file for stale: it
 * then either holds the lock (EWOULDBLOCK) or has unlinked the file
 * already (no link left once we hold the lock). Both mean "try another
 * name"; the cleaner removes the file. On a file system without flock()
 * the file stays unlocked, and no cleaner there can lock it either, so
 * none removes it.
 */
static int
tmp_create(int dfd, const char *base, size_t blen, char *tmp)
{
	struct stat st;
	int fd, err;

	memcpy(tmp, base, blen);
	memcpy(tmp + blen, CKP_TMP_INFIX, sizeof(CKP_TMP_INFIX) - 1);
	tmp[blen + CKP_TMP_TAIL] = '\0';
	for (unsigned tries = 0; tries < CKP_TMP_TRIES; tries++) {
		tmp_random(tmp + blen + sizeof(CKP_TMP_INFIX) - 1, tries);
		fd = openat(dfd, tmp,
			    O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_NOCTTY |
				O_CLOEXEC,
			    0600);
		if (fd < 0) {
			if (errno == EEXIST)
				continue;
			return -errno;
		}
		if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
			if (errno != EWOULDBLOCK && errno != EINTR)
				return fd; /* no locks on this file system */
		} else if (fstat(fd, &st) != 0) {
			err = -errno;
			unlinkat(dfd, tmp, 0);
			close(fd);
			return err;
		} else if (st.st_nlink > 0) {
			return fd;
		}
		close(fd);
	}
	return -EAGAIN;
}

/*
 * The atomic write protocol: temporary file beside the target, written and
 * fsync'ed, closed (close can report a deferred write error), renamed over
 * the target, then the directory fsync'ed so the rename itself is durable.
 * The directory is opened first and every name is resolved relative to it,
 * so that every failure which can still be undone happens while the old
 * file is in place, and the temporary name is a name in that directory
 * however long the directory's own path is; only a failing directory fsync
 * is reported after the new file is visible. The target is checked first:
 * only a regular file (or nothing) is ever replaced. The temporary file's
 * lock outlives the close through a duplicate descriptor of the same open
 * file description, and is dropped only after the rename or the unlink.
 */
static int
ckp_write_file(const char *path, const ckp_image *im)
{
	const char *base = base_of(path);
	char *dir = dir_of(path);
	char tmp[NAME_MAX + 1];
	struct stat st;
	bool exists = false;
	size_t blen = strlen(base);
	long name_max;
	int fd = -1, lfd = -1, dfd = -1, err = 0;

	if (!dir)
		return -ENOMEM;
	if (!blen || !strcmp(base, ".") || !strcmp(base, "..")) {
		dq__detail("'%.200s' names a directory, not a file", path);
		err = -EISDIR;
		goto out;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		err = -errno;
		dq__detail("directory '%.200s'", dir);
		goto out;
	}
	if (fstatat(dfd, base, &st, 0) == 0) {
		err = target_check(&st, path);
		if (err)
			goto out;
		exists = true;
	} else if (errno != ENOENT) {
		err = -errno;
		goto out;
	}
	err = fsize_check(im->file_len);
	if (err)
		goto out;
	/* The temporary name must be a legal name too: a target whose name
	 * is already as long as the directory allows lends only a prefix. */
	name_max = fpathconf(dfd, _PC_NAME_MAX);
	if (name_max <= (long)CKP_TMP_TAIL || name_max > NAME_MAX)
		name_max = NAME_MAX;
	if (blen > (size_t)name_max) {
		err = -ENAMETOOLONG;
		goto out;
	}
	if (blen + CKP_TMP_TAIL > (size_t)name_max)
		blen = (size_t)name_max - CKP_TMP_TAIL;
	ckp_clean_stale(dfd, base, blen);
	fd = tmp_create(dfd, base, blen, tmp);
	if (fd < 0) {
		err = fd;
		goto out;
	}
	/* A file that replaces another keeps the other's permission bits;
	 * 0600 otherwise suits a file nobody else asked to read. */
	if (exists && fchmod(fd, st.st_mode & 0777) != 0)
		err = -errno;
	if (!err)
		err = ckp_write_body(fd, im);
	if (!err && fsync(fd) != 0)
		err = -errno;
	if (!err) {
		lfd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
		if (lfd < 0)
			err = -errno;
	}
	if (close(fd) != 0 && !err)
		err = -errno;
	if (err)
		goto unlink;
	if (renameat(dfd, tmp, dfd, base) != 0) {
		err = -errno;
		goto unlink;
	}
	/* Past the point of no return: the new file is in place. Some file
	 * systems cannot fsync a directory (EINVAL); that is not a failure. */
	if (fsync(dfd) != 0 && errno != EINVAL)
		err = -errno;
	goto out;
unlink:
	unlinkat(dfd, tmp, 0);
out:
	if (lfd >= 0)
		close(lfd);
	if (dfd >= 0)
		close(dfd);
	free(dir);
	return err;
}

/*
 * Every save: check, snapshot the table whole (every channel, the counts),
 * encode the header and the extension, write atomically. @in->rule and
 * @in->l come from dq_checkpoint_save_learner().
 */
static int
ckp_save(const char *path, const dq_table *t, const dq_checkpoint_meta *meta,
	 const ckp_ext_in *in)
{
	ckp_image im = {.ext = NULL};
	ckp_out o = {NULL, 0};
	dq_table_info info;
	double *vals = NULL;
	uint64_t *visits = NULL;
	size_t sa;
	int err;

	if (!path || !*path || !t || !meta || (in->n && !in->agents) ||
	    in->n > CKP_AGENTS_MAX)
		return -EINVAL;
	err = meta_check(meta);
	if (err)
		return err;
	for (uint32_t i = 0; i < in->n; i++)
		if (!agent_state_valid(&in->agents[i]))
			return -EINVAL;
	err = dq_table_info_get(t, &info);
	if (err)
		return err;
	enc_ext(&o, in);
	im.ext_len = o.at;
	if (CKP_HEADER_LEN + im.ext_len > CKP_HEADER_MAX ||
	    !ckp_file_len(CKP_HEADER_LEN + im.ext_len, info.n_states,
			  info.n_actions, info.channels + info.visit_counts,
			  &im.file_len))
		return -ERANGE;
	sa = (size_t)info.n_states * info.n_actions;
	im.n_vals = sa * info.channels;
	im.n_visits = info.visit_counts ? sa : 0;
	/* Snapshot first: a failed allocation must not leave a temp file. */
	vals = malloc(im.n_vals * sizeof(*vals));
	if (im.n_visits)
		visits = malloc(im.n_visits * sizeof(*visits));
	if (im.ext_len)
		im.ext = malloc(im.ext_len);
	if (!vals || (im.n_visits && !visits) || (im.ext_len && !im.ext)) {
		err = -ENOMEM;
		goto out;
	}
	dq__table_export(t, vals, visits);
	/* Never write a file that no load accepts: a table only holds finite
	 * values, and if one did not, the old file stays in place. */
	for (size_t i = 0; i < im.n_vals; i++) {
		if (!isfinite(vals[i])) {
			err = DQ_ENONFINITE;
			goto out;
		}
	}
	ckp_header_encode(im.header, meta, &info,
			  (uint32_t)(CKP_HEADER_LEN + im.ext_len));
	o = (ckp_out){im.ext, 0};
	enc_ext(&o, in);
	im.vals = vals;
	im.visits = visits;
	err = ckp_write_file(path, &im);
out:
	free(im.ext);
	free(vals);
	free(visits);
	return err;
}

int
dq_checkpoint_save_run(const char *path, const dq_table *t,
		       const dq_checkpoint_meta *meta,
		       const dq_agent_state *agents, uint32_t n_agents)
{
	ckp_ext_in in = {agents, n_agents, NULL, NULL, NULL, NULL, false};

	dq__detail_clear();
	return ckp_save(path, t, meta, &in);
}

int
dq_checkpoint_save(const char *path, const dq_table *t,
		   const dq_checkpoint_meta *meta)
{
	return dq_checkpoint_save_run(path, t, meta, NULL, 0);
}

/*
 * The learner's agents' states are read here, each by a seqlock read
 * (consistent per agent), before the table is snapshot.
 */
int
dq_checkpoint_save_learner(const char *path, const dq_learner *l,
			   const dq_checkpoint_meta *meta)
{
	ckp_ext_in in = {NULL, 0, NULL, l, NULL, NULL, false};
	dq_agent_state *ag;
	int err = 0;

	dq__detail_clear();
	if (!l)
		return -EINVAL;
	in.n = dq__learner_size(l);
	in.rule = dq__learner_agent_config(l);
	in.tiles = in.rule->tiles;
	in.share_idle = dq__learner_idle(l);
	ag = calloc(in.n, sizeof(*ag));
	if (!ag)
		return -ENOMEM;
	for (uint32_t i = 0; !err && i < in.n; i++)
		err = dq_learner_agent_state(l, i, &ag[i]);
	in.agents = ag;
	if (!err)
		err = ckp_save(path, dq__learner_table(l), meta, &in);
	free(ag);
	return err;
}

/* ----------------------------------------------------------------- read -- */

/* An open checkpoint whose header has been validated. */
typedef struct ckp_reader {
	int fd;
	uint64_t size;	     /* from fstat */
	uint64_t header_len; /* where the values start */
	uint32_t crc;	     /* running CRC-32 over what was read */
	dq_checkpoint_meta meta;
	uint8_t *ext; /* the header extension, once read */
	ckp_ext x;    /* what it holds, once parsed */
} ckp_reader;

/*
 * Open @path and validate everything up to the values: that it is a regular
 * file, that its size is at least what the header says (and no more), and
 * the header itself. No byte is read past what fstat() reported.
 */
static int
ckp_open(const char *path, ckp_reader *r)
{
	uint8_t h[CKP_HEADER_LEN];
	uint64_t len;
	struct stat st;
	size_t n;
	int err;

	/* O_NONBLOCK: opening a FIFO for reading would otherwise wait for
	 * a writer, for ever; the type is checked before any read, and the
	 * flag is dropped for the regular file that passes. */
	r->fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (r->fd < 0)
		return -errno;
	if (fstat(r->fd, &st) != 0)
		return -errno;
	if (!S_ISREG(st.st_mode)) {
		dq__detail("'%.200s' is %s, not a regular file", path,
			   ftype_name(st.st_mode));
		return S_ISDIR(st.st_mode) ? -EISDIR : DQ_ENOTREG;
	}
	if (fcntl(r->fd, F_SETFL, fcntl(r->fd, F_GETFL) & ~O_NONBLOCK) != 0)
		return -errno;
	r->size = (uint64_t)st.st_size;
	n = r->size < CKP_HEADER_LEN ? (size_t)r->size : CKP_HEADER_LEN;
	err = read_all(r->fd, h, n);
	if (err)
		return err;
	if (n < CKP_HEADER_LEN)
		return ckp_header_partial(h, n);
	err = ckp_header_decode(h, &r->meta, &len);
	if (err)
		return err;
	/* The size is judged before anything is allocated for the values:
	 * a header may announce any shape, the file must hold it. */
	if (r->size != len)
		dq__detail("the header announces %u x %u values, %llu bytes "
			   "in all; the file has %llu bytes",
			   r->meta.n_states, r->meta.n_actions,
			   (unsigned long long)len,
			   (unsigned long long)r->size);
	if (r->size < len)
		return DQ_ETRUNC;
	if (r->size > len)
		return DQ_ECORRUPT; /* bytes after the trailer */
	r->header_len = get_u32(h + CKP_OFF_HEADER_LEN);
	r->crc = crc_update(0, h, CKP_HEADER_LEN);
	return 0;
}

/*
 * Read the rest of an opened checkpoint: the header extension (kept in
 * memory; at most CKP_HEADER_MAX bytes), the values of every channel
 * (decoded into @vals when it is not NULL) and the visit counts (into
 * @visits, likewise), and the trailer; check the CRC, that every value is
 * finite, and only then the extension's sections. The whole file is read
 * either way, so read_meta() and load() judge a file alike.
 */
static int
ckp_read_rest(ckp_reader *r, double *vals, uint64_t *visits)
{
	const uint64_t sa = (uint64_t)r->meta.n_states * r->meta.n_actions;
	const uint64_t n_vals = sa * r->meta.channels;
	const uint64_t n = n_vals + (r->meta.visit_counts ? sa : 0);
	size_t ext_len = (size_t)(r->header_len - CKP_HEADER_LEN);
	uint8_t trailer[CKP_TRAILER_LEN];
	bool finite = true;
	uint8_t *buf;
	int err = 0;

	if (ext_len) {
		r->ext = malloc(ext_len);
		if (!r->ext)
			return -ENOMEM;
		err = read_all(r->fd, r->ext, ext_len);
		if (err)
			return err;
		r->crc = crc_update(r->crc, r->ext, ext_len);
	}
	buf = malloc(CKP_CHUNK_BYTES);
	if (!buf)
		return -ENOMEM;
	for (uint64_t i = 0; !err && i < n; i += CKP_CHUNK_VALUES) {
		size_t k = n - i < CKP_CHUNK_VALUES ? (size_t)(n - i)
						    : CKP_CHUNK_VALUES;

		err = read_all(r->fd, buf, 8 * k);
		if (err)
			break;
		r->crc = crc_update(r->crc, buf, 8 * k);
		for (size_t j = 0; j < k; j++) {
			uint64_t w = i + j;

			if (w < n_vals) {
				double v = get_f64(buf + 8 * j);

				finite = finite && isfinite(v);
				if (vals)
					vals[w] = v;
			} else if (visits) {
				visits[w - n_vals] = get_u64(buf + 8 * j);
			}
		}
	}
	free(buf);
	if (err)
		return err;
	err = read_all(r->fd, trailer, CKP_TRAILER_LEN);
	if (err)
		return err;
	r->crc = crc_update(r->crc, trailer, 8);
	if (get_u64(trailer) != r->size || get_u32(trailer + 8) != r->crc)
		return DQ_ECORRUPT;
	/* A table only ever holds finite values: a file with any other was
	 * not written by dq_checkpoint_save(), whatever its CRC says; it is
	 * not a checksum mismatch, and says so. */
	if (!finite)
		return DQ_EFILEVALUE;
	err = ckp_ext_parse(r->ext, ext_len, &r->meta, &r->x);
	if (!err) {
		r->meta.n_agents = r->x.n;
		r->meta.has_rule = r->x.has_rule;
		r->meta.rule = r->x.cfg.rule;
	}
	return err;
}

static void
ckp_close(ckp_reader *r)
{
	if (r->fd >= 0)
		close(r->fd);
	free(r->ext);
}

/*
 * The readers' common part: clear the detail, refuse a NULL @path or @out,
 * then read @path's checkpoint whole but for keeping its values (the same
 * checks and CRC as a load) into r->meta and r->x, and close it on every
 * path. The extension's bytes are freed by then, and with them the
 * sections r->x points into: with @share not NULL, the sync policy's
 * section is decoded into it first (dq_checkpoint_read_share()).
 */
static int
ckp_read_header(const char *path, const void *out, ckp_reader *r,
		dq_share_config *share)
{
	int err;

	*r = (ckp_reader){.fd = -1};
	dq__detail_clear();
	if (!path || !out)
		return -EINVAL;
	err = ckp_open(path, r);
	if (!err)
		err = ckp_read_rest(r, NULL, NULL);
	if (!err && share)
		dq__share_ckp_config(r->x.share, share);
	ckp_close(r);
	return err;
}

int
dq_checkpoint_read_meta(const char *path, dq_checkpoint_meta *meta)
{
	ckp_reader r;
	int err = ckp_read_header(path, meta, &r, NULL);

	if (!err)
		*meta = r.meta;
	return err;
}

int
dq_checkpoint_read_rule(const char *path, dq_agent_config *cfg)
{
	ckp_reader r;
	int err = ckp_read_header(path, cfg, &r, NULL);

	if (err)
		return err;
	/* x.cfg: the defaults, overwritten by what the file records. */
	cfg->rule = r.x.cfg.rule;
	for (size_t i = 0; i < dq__n_rule_params; i++) {
		const dq__rule_param *p = &dq__rule_params[i];

		memcpy((char *)cfg + p->offset,
		       (const char *)&r.x.cfg + p->offset, p->size);
	}
	return 0;
}

int
dq_checkpoint_read_share(const char *path, dq_share_config *cfg)
{
	ckp_reader r;

	return ckp_read_header(path, cfg, &r, cfg);
}

/* The table's shape must be the file's: S, A, channels, visit counts. */
static int
shape_check(const dq_checkpoint_meta *m, const dq_table_info *info)
{
	if (m->n_states != info->n_states || m->n_actions != info->n_actions) {
		dq__detail("the file holds a %u x %u table, the table given is "
			   "%u x %u",
			   m->n_states, m->n_actions, info->n_states,
			   info->n_actions);
		return DQ_EMISMATCH;
	}
	if (m->channels != info->channels) {
		dq__detail("the file holds %u channels per entry, the table "
			   "given has %u",
			   m->channels, info->channels);
		return DQ_EMISMATCH;
	}
	if (m->visit_counts != info->visit_counts) {
		dq__detail("the file %s visit counts, the table given %s",
			   m->visit_counts ? "holds" : "holds no",
			   info->visit_counts ? "keeps them" : "keeps none");
		return DQ_EMISMATCH;
	}
	return 0;
}

/*
 * What a learner must share with the file it is restored from: the rule
 * (when the file records one) and every parameter of the table that must
 * match and matters to the rule.
 */
static int
rule_check(const ckp_ext *x, const dq_agent_config *cfg)
{
	char want[64], got[64];

	if (!x->has_rule)
		return 0;
	if (x->cfg.rule != cfg->rule) {
		dq__detail("the file was trained with rule '%s', the learner "
			   "runs '%s'",
			   dq_rule_name(x->cfg.rule), dq_rule_name(cfg->rule));
		return DQ_EMISMATCH;
	}
	for (size_t i = 0; i < dq__n_rule_params; i++) {
		const dq__rule_param *p = &dq__rule_params[i];

		if (!p->match || !(p->rules & DQ__RULE_BIT(cfg->rule)) ||
		    dq__param_equal(p, &x->cfg, cfg))
			continue;
		dq__param_text(p, &x->cfg, want, sizeof(want));
		dq__param_text(p, cfg, got, sizeof(got));
		dq__detail("rule '%s': the file has %s %s, the learner %s %s",
			   dq_rule_name(cfg->rule), p->name, want, p->name,
			   got);
		return DQ_EMISMATCH;
	}
	return 0;
}

/* The file's tile coder must be the learner's, or both have none. */
static int
ckp_tiles_check(const ckp_ext *x, const dq_learner *l)
{
	return dq__ckp_tiles_match(x->has_tiles ? &x->tiles : NULL,
				   dq__learner_agent_config(l)->tiles);
}

/*
 * Every load. The table's words go to buffers first and reach the table
 * only when the whole file has checked out (and, for a learner, its rule,
 * parameters and agent states), so a failure leaves the table (and @meta,
 * @agents, the learner) as they were. A file for another shape is still
 * read through, so that a damaged file is reported as damaged rather than
 * as a mismatch.
 */
static int
ckp_load(const char *path, dq_table *t, dq_checkpoint_meta *meta,
	 dq_agent_state *agents, uint32_t cap, dq_learner *l)
{
	ckp_reader r = {.fd = -1};
	dq_table_info info;
	double *vals = NULL;
	uint64_t *visits = NULL;
	size_t sa;
	uint32_t k = 0;
	int err;

	err = dq_table_info_get(t, &info);
	if (err)
		return err;
	err = ckp_open(path, &r);
	if (err)
		goto out;
	if (r.meta.n_states != info.n_states ||
	    r.meta.n_actions != info.n_actions ||
	    r.meta.channels != info.channels ||
	    r.meta.visit_counts != info.visit_counts) {
		err = ckp_read_rest(&r, NULL, NULL);
		/* Another rule explains another shape best. */
		if (!err && l)
			err = rule_check(&r.x, dq__learner_agent_config(l));
		if (!err && l)
			err = ckp_tiles_check(&r.x, l);
		if (!err && l)
			err = dq__share_ckp_match(r.x.share, r.x.share_len, l);
		if (!err)
			err = shape_check(&r.meta, &info);
		goto out;
	}
	sa = (size_t)info.n_states * info.n_actions;
	vals = malloc(sa * info.channels * sizeof(*vals));
	if (info.visit_counts)
		visits = malloc(sa * sizeof(*visits));
	if (!vals || (info.visit_counts && !visits)) {
		err = -ENOMEM;
		goto out;
	}
	err = ckp_read_rest(&r, vals, visits);
	if (!err && l) {
		err = rule_check(&r.x, dq__learner_agent_config(l));
		if (!err)
			err = ckp_tiles_check(&r.x, l);
		if (!err)
			err = dq__share_ckp_match(r.x.share, r.x.share_len, l);
		k = r.x.n < dq__learner_size(l) ? r.x.n : dq__learner_size(l);
		/* What dq_learner_set_agent_state() would refuse, before
		 * anything changes. */
		for (uint32_t i = 0; !err && i < k; i++) {
			dq_agent_state st;

			ckp_agent_decode(r.x.rec + (size_t)i * r.x.rec_len,
					 &st);
			if ((st.steps | st.episodes | st.cas_retries) >> 63) {
				dq__detail("agent %u's counters are too large "
					   "to go on from",
					   i);
				err = -ERANGE;
			}
		}
		if (!err && !dq__learner_idle(l))
			err = -EBUSY;
	}
	if (!err)
		err = dq__table_import(t, vals, visits);
	if (err)
		goto out;
	if (meta)
		*meta = r.meta;
	for (uint32_t i = 0; i < r.x.n && i < cap; i++)
		ckp_agent_decode(r.x.rec + (size_t)i * r.x.rec_len, &agents[i]);
	for (uint32_t i = 0; i < k; i++) {
		dq_agent_state st;

		ckp_agent_decode(r.x.rec + (size_t)i * r.x.rec_len, &st);
		/* Checked above: it cannot fail. */
		(void)dq_learner_set_agent_state(l, i, &st);
	}
	if (l)
		dq__share_ckp_load(r.x.share, r.x.share_len, l);
	if (l && r.x.rstate)
		err = ckp_rstate_walk(&r.x, l);
out:
	free(vals);
	free(visits);
	ckp_close(&r);
	return err;
}

int
dq_checkpoint_load_run(const char *path, dq_table *t, dq_checkpoint_meta *meta,
		       dq_agent_state *agents, uint32_t cap)
{
	dq__detail_clear();
	if (!path || !t || (cap && !agents))
		return -EINVAL;
	return ckp_load(path, t, meta, agents, cap, NULL);
}

int
dq_checkpoint_load(const char *path, dq_table *t, dq_checkpoint_meta *meta)
{
	return dq_checkpoint_load_run(path, t, meta, NULL, 0);
}

int
dq_checkpoint_load_learner(const char *path, dq_learner *l,
			   dq_checkpoint_meta *meta)
{
	dq__detail_clear();
	if (!path || !l)
		return -EINVAL;
	return ckp_load(path, dq__learner_table(l), meta, NULL, 0, l);
}

/* ---------------------------------------------------------- the world -- */

/* The world section (CKP_TAG_WORLD): a multiple of 8 bytes long. */
static void
enc_world(ckp_out *o, const dq_checkpoint_world *w)
{
	size_t len_at = sec_begin(o, CKP_TAG_WORLD);

	out_u32(o, CKP_WORLD_REV);
	out_u32(o, w->ranks);
	out_u32(o, w->agents_per_rank);
	out_u32(o, 0);
	out_str(o, w->policy, CKP_WORLD_POLICY_LEN);
	sec_end(o, len_at);
}

/* A later revision may append fields: the known ones come first. */
static int
ckp_world_parse(const uint8_t *body, uint32_t len, ckp_ext *x)
{
	dq_checkpoint_world *w = &x->world;

	if (x->has_world || len < CKP_WORLD_LEN || get_u32(body) == 0)
		return DQ_ECORRUPT;
	memset(w, 0, sizeof(*w));
	w->ranks = get_u32(body + 4);
	w->agents_per_rank = get_u32(body + 8);
	memcpy(w->policy, body + 16, CKP_WORLD_POLICY_LEN);
	if (!w->ranks || !w->agents_per_rank ||
	    !str_terminated(w->policy, sizeof(w->policy)))
		return DQ_ECORRUPT;
	x->has_world = true;
	return 0;
}

int
dq_checkpoint_save_world(const char *path, const dq_table *t,
			 const dq_checkpoint_meta *meta,
			 const dq_agent_state *agents, uint32_t n_agents,
			 const dq_checkpoint_world *world)
{
	ckp_ext_in in = {agents, n_agents, NULL, NULL, world, NULL, false};

	dq__detail_clear();
	if (!world || !world->ranks || !world->agents_per_rank ||
	    !str_terminated(world->policy, sizeof(world->policy)))
		return -EINVAL;
	for (size_t i = 0; i < sizeof(world->reserved_) / 8; i++)
		if (world->reserved_[i])
			return -EINVAL;
	return ckp_save(path, t, meta, &in);
}

int
dq_checkpoint_read_world(const char *path, dq_checkpoint_world *world)
{
	ckp_reader r;
	int err = ckp_read_header(path, world, &r, NULL);

	if (err)
		return err;
	memset(world, 0, sizeof(*world));
	if (!r.x.has_world)
		return -ENOENT;
	*world = r.x.world;
	return 0;
}

/* ---------------------------------------------------------------- tiles -- */

int
dq_checkpoint_save_tiles(const char *path, const dq_table *t,
			 const dq_checkpoint_meta *meta, const dq_tiles *tiles)
{
	ckp_ext_in in = {NULL, 0, NULL, NULL, NULL, tiles, false};
	uint32_t rows;

	dq__detail_clear();
	if (!tiles || !t || dq_tiles_features(tiles, &rows) != 0)
		return -EINVAL;
	if (rows != t->n_states) {
		dq__detail("the table has %u rows, the tile coder %u",
			   t->n_states, rows);
		return -EINVAL;
	}
	return ckp_save(path, t, meta, &in);
}

int
dq_checkpoint_read_tiles(const char *path, dq_tiles_config *cfg)
{
	ckp_reader r;
	int err = ckp_read_header(path, cfg, &r, NULL);

	if (err)
		return err;
	if (r.x.has_tiles) {
		*cfg = r.x.tiles;
	} else {
		dq_tiles_config_init(cfg);
		cfg->dim = 0; /* no coder */
	}
	return 0;
}
