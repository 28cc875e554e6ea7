/*
 * The sync policy's section of a checkpoint (docs/checkpoint-format.md,
 * "Sync policy"): the policy and its parameters, and each agent's local
 * side (include/distq/share.h): its local table (values, and counts when
 * it keeps them), DistQL's count at the last push of each entry (so its
 * per-entry eta_i = eta decay^N_i and the set of entries updated since
 * the last push), averaging's base values, and the push counters. With it
 * a learner resumed from an idle save continues exactly as one straight
 * run (tests/test_checkpoint.c, test_share_resume_exact).
 *
 * The body, little-endian, every word 8-byte aligned:
 *	u32 revision (1), u32 kind, u32 flags, u32 records (the agents'; 0
 *	when saved while the learner ran: the local tables were being
 *	written), f64 interval, f64 eta, f64 decay, u32 local channels L,
 *	u32 local counts V (0 or 1);
 *	then per record: u64 pushes, u64 entries, S x A x L f64 local values
 *	(row by row, a row's channels in table order), V x S x A u64 local
 *	counts, then DistQL: S x A u64 counts at the last push; averaging:
 *	S x A x L f64 base values.
 * A reader that does not know the tag refuses the file (CKP_TAG_CRITICAL):
 * it could not continue the run.
 *
 * Called by lib/checkpoint.c only; a learner's agents are idle whenever
 * their records are written or restored.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "agent.h"
#include "internal.h"
#include "share.h"
#include "shareckp.h"

#define SCK_REV 1u
#define SCK_HEAD 48u
#define SCK_REC_HEAD 16u

static void
put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void
put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t
get64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static double
getf(const uint8_t *p)
{
	return dq__u2d(get64(p));
}

/* The policy the learner runs (agent 0's: every agent has the same), or
 * NULL without one. */
static const dq__share *
learner_share(const dq_learner *l)
{
	if (!dq__learner_size(l))
		return NULL;
	return dq__learner_agent(l, 0)->share;
}

/* Words of one record after its head: values, counts, then DistQL's push
 * counts or averaging's base; 0 on overflow (refused as too large). */
static uint64_t
rec_words(uint64_t sa, uint32_t kind, uint32_t lch, uint32_t lvis)
{
	uint64_t per = lch + lvis + (kind == DQ_SHARE_DISTQL ? 1u : lch);

	if (sa > UINT64_MAX / 8 / 4 / per)
		return 0;
	return sa * per;
}

size_t
dq__share_ckp_size(const dq_learner *l, bool idle)
{
	const dq__share *sh = learner_share(l);
	uint64_t sa, w;

	if (!sh)
		return 0;
	if (!idle)
		return SCK_HEAD;
	sa = (uint64_t)sh->local->n_states * sh->local->n_actions;
	w = rec_words(sa, sh->cfg.kind, sh->local->channels,
		      sh->local->visit_counts);
	if (!w || w > (SIZE_MAX - SCK_HEAD) / 8 / dq__learner_size(l) - 2)
		return SIZE_MAX;
	return SCK_HEAD + (size_t)dq__learner_size(l) * (SCK_REC_HEAD + 8 * w);
}

/* relaxed: the agents are idle, their threads joined or parked */
static uint64_t
word(const dq_table *t, uint32_t s, uint32_t i)
{
	/* relaxed: no writer runs while a checkpoint reads or writes these */
	return dq__load_u64(dq__table_row(t, s) + i, memory_order_relaxed);
}

static void
set_word(dq_table *t, uint32_t s, uint32_t i, uint64_t v)
{
	/* relaxed: no writer runs while a checkpoint restores these */
	dq__store_u64(dq__table_row(t, s) + i, v, memory_order_relaxed);
}

void
dq__share_ckp_encode(const dq_learner *l, bool idle, uint8_t *p)
{
	const dq__share *sh = learner_share(l);
	const uint32_t n = idle ? dq__learner_size(l) : 0;
	uint8_t *o = p + SCK_HEAD;

	put32(p, SCK_REV);
	put32(p + 4, (uint32_t)sh->cfg.kind);
	put32(p + 8, sh->cfg.flags);
	put32(p + 12, n);
	put64(p + 16, dq__d2u(sh->cfg.interval));
	put64(p + 24, dq__d2u(sh->cfg.eta));
	put64(p + 32, dq__d2u(sh->cfg.decay));
	put32(p + 40, sh->local->channels);
	put32(p + 44, sh->local->visit_counts);
	for (uint32_t i = 0; i < n; i++) {
		const dq__share *a = dq__learner_agent(l, i)->share;
		const dq_table *L = a->local;
		const uint32_t S = L->n_states, A = L->n_actions, W = L->width;

		put64(o, a->pushes);
		put64(o + 8, a->entries);
		o += SCK_REC_HEAD;
		for (uint32_t s = 0; s < S; s++)
			for (uint32_t k = 0; k < W; k++, o += 8)
				put64(o, word(L, s, k));
		if (L->visit_counts)
			for (uint32_t s = 0; s < S; s++)
				for (uint32_t k = 0; k < A; k++, o += 8)
					put64(o, word(L, s, W + k));
		if (a->n_push)
			for (size_t k = 0; k < (size_t)S * A; k++, o += 8)
				put64(o, a->n_push[k]);
		else
			for (size_t k = 0; k < (size_t)S * W; k++, o += 8)
				put64(o, dq__d2u(a->base[k]));
	}
}

int
dq__share_ckp_check(const uint8_t *b, size_t len, uint32_t n_states,
		    uint32_t n_actions, uint32_t channels)
{
	const uint64_t sa = (uint64_t)n_states * n_actions;
	uint32_t kind, n, lch, lvis;
	dq_share_config c;
	uint64_t w;

	if (len < SCK_HEAD)
		return DQ_ECORRUPT;
	if (get32(b) != SCK_REV) {
		dq__detail("the sync policy's section is of revision %u, this "
			   "library reads %u",
			   get32(b), SCK_REV);
		return DQ_EVERSION;
	}
	kind = get32(b + 4);
	n = get32(b + 12);
	lch = get32(b + 40);
	lvis = get32(b + 44);
	memset(&c, 0, sizeof(c));
	c.kind = (dq_share_kind)kind;
	c.flags = get32(b + 8);
	c.interval = getf(b + 16);
	c.eta = getf(b + 24);
	c.decay = getf(b + 32);
	if (kind == DQ_SHARE_NONE || kind > DQ_SHARE_AVERAGE ||
	    dq_share_config_check(&c) || n > DQ_MAX_THREADS || lvis > 1 ||
	    (kind == DQ_SHARE_DISTQL ? lch != 1 || !lvis || channels < 2
				     : lch != channels))
		return DQ_ECORRUPT;
	w = rec_words(sa, kind, lch, lvis);
	if (!w || (len - SCK_HEAD) % (SCK_REC_HEAD + 8 * w) ||
	    (len - SCK_HEAD) / (SCK_REC_HEAD + 8 * w) != n)
		return DQ_ECORRUPT;
	/* Every value finite (a local table holds nothing else), every
	 * DistQL push count at most the entry's count. */
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *r = b + SCK_HEAD + i * (SCK_REC_HEAD + 8 * w);
		const uint8_t *v = r + SCK_REC_HEAD;
		const uint8_t *cnt = v + 8 * sa * lch;
		const uint8_t *tail = cnt + 8 * sa * lvis;

		for (uint64_t k = 0; k < sa * lch; k++)
			if (!isfinite(getf(v + 8 * k)))
				return DQ_EFILEVALUE;
		if (kind == DQ_SHARE_DISTQL) {
			for (uint64_t k = 0; k < sa; k++)
				if (get64(tail + 8 * k) > get64(cnt + 8 * k))
					return DQ_ECORRUPT;
		} else {
			for (uint64_t k = 0; k < sa * lch; k++)
				if (!isfinite(getf(tail + 8 * k)))
					return DQ_EFILEVALUE;
		}
	}
	return 0;
}

/* "distql:tau=10:all:eta=0.5:decay=0.999:epsilon-decay=on" and so on. */
static void
spec_text(const dq_share_config *c, char *buf, size_t cap)
{
	if (c->kind == DQ_SHARE_DISTQL)
		snprintf(buf, cap,
			 "distql:tau=%.17g:%s:eta=%.17g:decay=%.17g:"
			 "epsilon-decay=%s",
			 c->interval,
			 c->flags & DQ_SHARE_PARTIAL ? "partial" : "all",
			 c->eta, c->decay,
			 c->flags & DQ_SHARE_EPSILON_DECAY ? "on" : "off");
	else if (c->kind == DQ_SHARE_AVERAGE)
		snprintf(buf, cap, "average:%s=%.17g",
			 c->flags & DQ_SHARE_SECONDS ? "seconds" : "steps",
			 c->interval);
	else
		snprintf(buf, cap, "none");
}

void
dq__share_ckp_config(const uint8_t *b, dq_share_config *cfg)
{
	dq_share_config_init(cfg, DQ_SHARE_NONE);
	if (!b)
		return;
	cfg->kind = (dq_share_kind)get32(b + 4);
	cfg->flags = get32(b + 8);
	cfg->interval = getf(b + 16);
	cfg->eta = getf(b + 24);
	cfg->decay = getf(b + 32);
}

int
dq__share_ckp_match(const uint8_t *b, size_t len, const dq_learner *l)
{
	const dq__share *sh = learner_share(l);
	dq_share_config f, c;
	char want[160], got[160];
	const char *what = NULL;

	(void)len;
	dq_share_config_init(&c, DQ_SHARE_NONE);
	if (sh)
		c = sh->cfg;
	dq__share_ckp_config(b, &f);
	if (f.kind != c.kind)
		what = "policy";
	else if (f.kind == DQ_SHARE_NONE)
		return 0;
	else if ((f.flags ^ c.flags) & DQ_SHARE_SECONDS)
		what = "interval's unit";
	else if (dq__d2u(f.interval) != dq__d2u(c.interval))
		what = f.kind == DQ_SHARE_DISTQL ? "tau" : "interval";
	else if ((f.flags ^ c.flags) & DQ_SHARE_PARTIAL)
		what = "pull (all or partial)";
	else if ((f.flags ^ c.flags) & DQ_SHARE_EPSILON_DECAY)
		what = "epsilon-decay";
	else if (f.kind == DQ_SHARE_DISTQL && dq__d2u(f.eta) != dq__d2u(c.eta))
		what = "eta";
	else if (f.kind == DQ_SHARE_DISTQL &&
		 dq__d2u(f.decay) != dq__d2u(c.decay))
		what = "decay";
	else if (sh && (get32(b + 40) != sh->local->channels ||
			get32(b + 44) != sh->local->visit_counts))
		what = "local table's shape";
	if (!what)
		return 0;
	spec_text(&f, want, sizeof(want));
	spec_text(&c, got, sizeof(got));
	dq__detail("sync policy: the file has %s, the learner %s (they differ "
		   "in %s)",
		   want, got, what);
	return DQ_EMISMATCH;
}

/* An agent's local side afresh from the shared table: values (and base)
 * pulled, counts and push counts 0 (eta_i = eta for every entry). */
static void
agent_fresh(dq__share *sh)
{
	dq_table *L = sh->local;
	const uint32_t S = L->n_states, A = L->n_actions, W = L->width;

	for (uint32_t s = 0; s < S; s++) {
		for (uint32_t k = 0; k < W; k++) {
			uint64_t v = word(sh->shared, s, k);

			set_word(L, s, k, v);
			if (sh->base)
				sh->base[(size_t)s * W + k] = dq__u2d(v);
		}
		for (uint32_t k = 0; L->visit_counts && k < A; k++)
			set_word(L, s, W + k, 0);
	}
	if (sh->n_push)
		memset(sh->n_push, 0, (size_t)S * A * sizeof(*sh->n_push));
}

void
dq__share_ckp_load(const uint8_t *b, size_t len, dq_learner *l)
{
	const uint32_t P = dq__learner_size(l);
	const uint32_t n = b ? get32(b + 12) : 0;
	size_t rec = n ? (len - SCK_HEAD) / n : 0;

	for (uint32_t i = 0; i < P; i++) {
		dq__share *sh = dq__learner_agent(l, i)->share;
		dq_table *L;
		const uint8_t *o;
		uint32_t S, A, W;

		if (!sh)
			return;
		if (i >= n) {
			agent_fresh(sh);
			continue;
		}
		L = sh->local;
		S = L->n_states;
		A = L->n_actions;
		W = L->width;
		o = b + SCK_HEAD + i * rec;
		sh->pushes = get64(o);
		sh->entries = get64(o + 8);
		o += SCK_REC_HEAD;
		for (uint32_t s = 0; s < S; s++)
			for (uint32_t k = 0; k < W; k++, o += 8)
				set_word(L, s, k, get64(o));
		if (L->visit_counts)
			for (uint32_t s = 0; s < S; s++)
				for (uint32_t k = 0; k < A; k++, o += 8)
					set_word(L, s, W + k, get64(o));
		if (sh->n_push)
			for (size_t k = 0; k < (size_t)S * A; k++, o += 8)
				sh->n_push[k] = get64(o);
		else
			for (size_t k = 0; k < (size_t)S * W; k++, o += 8)
				sh->base[k] = getf(o);
	}
}
