/*
 * Sync policies (include/distq/share.h): agents learn on local tables and
 * share them with the central table at their boundaries: DistQL's blend
 * (push the entries updated since the last push, blend each with the
 * central per-entry rate, pull ALL or Partial) and averaging (add each
 * agent's change over its round, divided by P). Sources: DistQL, the seed
 * study's DistQL-ALL / DistQL-Partial (central blend with eta_c^2 / eta_i);
 * the Stanford CME323 study's second method (average the P values of an
 * entry, then apply); docs/share.md.
 *
 * Nothing here runs per step: the learner calls dq__share_sync() between
 * chunks, a simulator dq_agent_share() at its own boundaries.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent.h"
#include "share.h"

static uint64_t
share_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static const char *const share_names[] = {
    [DQ_SHARE_NONE] = "none",
    [DQ_SHARE_DISTQL] = "distql",
    [DQ_SHARE_AVERAGE] = "average",
};

const char *
dq_share_name(dq_share_kind kind)
{
	if ((unsigned)kind >= sizeof(share_names) / sizeof(share_names[0]))
		return NULL;
	return share_names[kind];
}

int
dq_share_config_init(dq_share_config *cfg, dq_share_kind kind)
{
	if (!cfg)
		return -EINVAL;
	memset(cfg, 0, sizeof(*cfg));
	cfg->kind = kind;
	switch (kind) {
	case DQ_SHARE_NONE:
		return 0;
	case DQ_SHARE_DISTQL:
		cfg->interval = 10.0;
		cfg->eta = 0.5;
		cfg->decay = 0.999;
		cfg->flags = DQ_SHARE_EPSILON_DECAY;
		return 0;
	case DQ_SHARE_AVERAGE:
		cfg->interval = 1000.0;
		cfg->eta = 0.5;
		cfg->decay = 0.999;
		return 0;
	default:
		cfg->kind = DQ_SHARE_NONE;
		return -EINVAL;
	}
}

static bool
whole_count(double x)
{
	return x >= 1.0 && x <= 9007199254740992.0 && x == floor(x);
}

/* -EINVAL with a detail naming the field and its rule. */
#define SHARE_BAD(...) (dq__detail(__VA_ARGS__), -EINVAL)

int
dq_share_config_check(const dq_share_config *cfg)
{
	const uint32_t all =
	    DQ_SHARE_PARTIAL | DQ_SHARE_EPSILON_DECAY | DQ_SHARE_SECONDS;

	dq__detail_clear();
	if (!cfg)
		return SHARE_BAD("the config is NULL");
	if (cfg->flags & ~all)
		return SHARE_BAD("flags 0x%x: unknown bits 0x%x", cfg->flags,
				 cfg->flags & ~all);
	switch (cfg->kind) {
	case DQ_SHARE_NONE:
		return 0;
	case DQ_SHARE_DISTQL:
		if (cfg->flags & DQ_SHARE_SECONDS)
			return SHARE_BAD("distql counts interval in episodes: "
					 "no DQ_SHARE_SECONDS");
		if (!whole_count(cfg->interval))
			return SHARE_BAD("interval (tau) %g: must be a whole "
					 "number of episodes >= 1",
					 cfg->interval);
		break;
	case DQ_SHARE_AVERAGE:
		if (cfg->flags & (DQ_SHARE_PARTIAL | DQ_SHARE_EPSILON_DECAY))
			return SHARE_BAD("average takes no DQ_SHARE_PARTIAL "
					 "and no DQ_SHARE_EPSILON_DECAY");
		if ((cfg->flags & DQ_SHARE_SECONDS)
			? !(cfg->interval > 0.0 && cfg->interval < 3.2e7)
			: !whole_count(cfg->interval))
			return SHARE_BAD(
			    (cfg->flags & DQ_SHARE_SECONDS)
				? "interval %g: must be in (0, 3.2e7) seconds"
				: "interval %g: must be a whole number of "
				  "steps >= 1",
			    cfg->interval);
		break;
	default:
		return SHARE_BAD("kind %d is no dq_share_kind", (int)cfg->kind);
	}
	if (!(cfg->eta > 0.0 && cfg->eta <= 1.0))
		return SHARE_BAD("eta %g is outside (0, 1]", cfg->eta);
	if (!(cfg->decay > 0.0 && cfg->decay <= 1.0))
		return SHARE_BAD("decay %g is outside (0, 1]", cfg->decay);
	return 0;
}

/* "key=value" parameter: the value after '=' when @p p starts with key=. */
static const char *
param_value(const char *p, size_t n, const char *key)
{
	size_t k = strlen(key);

	if (n > k && !strncmp(p, key, k) && p[k] == '=')
		return p + k + 1;
	return NULL;
}

/* A number of @p n - (v - p) characters at @p v, all of them. */
static int
param_double(const char *p, size_t n, const char *v, double *out)
{
	char buf[64], *end;
	size_t len = n - (size_t)(v - p);

	if (!len || len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, v, len);
	buf[len] = '\0';
	errno = 0;
	*out = dq__strtod_c(buf, &end);
	if (errno || *end || !isfinite(*out))
		return -EINVAL;
	return 0;
}

int
dq_share_number(const char *text, size_t len, double lo, double hi, double *out,
		char suffix[4])
{
	char buf[64], *end;
	double x;

	if (!text || !out || !len || len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, text, len);
	buf[len] = '\0';
	x = dq__strtod_c(buf, &end);
	if (end == buf || !isfinite(x) || !(x >= lo && x <= hi))
		return -EINVAL;
	if (suffix) {
		if (strlen(end) > 3)
			return -EINVAL;
		strcpy(suffix, end);
	} else if (*end) {
		return -EINVAL;
	}
	*out = x;
	return 0;
}

int
dq_share_parse(const char *spec, dq_share_config *out)
{
	dq_share_config c;
	const char *p, *colon, *v;
	size_t n;
	dq_share_kind kind;

	if (!spec || !out)
		return -EINVAL;
	colon = strchr(spec, ':');
	n = colon ? (size_t)(colon - spec) : strlen(spec);
	for (kind = DQ_SHARE_NONE; kind <= DQ_SHARE_AVERAGE; kind++)
		if (strlen(share_names[kind]) == n &&
		    !strncmp(spec, share_names[kind], n))
			break;
	if (kind > DQ_SHARE_AVERAGE)
		return -ENOENT;
	dq_share_config_init(&c, kind);
	for (p = colon; p; p = colon) {
		p++;
		colon = strchr(p, ':');
		n = colon ? (size_t)(colon - p) : strlen(p);
		if (kind == DQ_SHARE_DISTQL && n == 3 &&
		    !strncmp(p, "all", 3)) {
			c.flags &= ~DQ_SHARE_PARTIAL;
		} else if (kind == DQ_SHARE_DISTQL && n == 7 &&
			   !strncmp(p, "partial", 7)) {
			c.flags |= DQ_SHARE_PARTIAL;
		} else if (kind == DQ_SHARE_DISTQL &&
			   ((v = param_value(p, n, "tau")) ||
			    (v = param_value(p, n, "episodes")))) {
			if (param_double(p, n, v, &c.interval))
				return -EINVAL;
		} else if (kind == DQ_SHARE_DISTQL &&
			   (v = param_value(p, n, "eta"))) {
			if (param_double(p, n, v, &c.eta))
				return -EINVAL;
		} else if (kind == DQ_SHARE_DISTQL &&
			   (v = param_value(p, n, "decay"))) {
			if (param_double(p, n, v, &c.decay))
				return -EINVAL;
		} else if (kind == DQ_SHARE_DISTQL &&
			   (v = param_value(p, n, "epsilon-decay"))) {
			size_t len = n - (size_t)(v - p);

			if (len == 2 && !strncmp(v, "on", 2))
				c.flags |= DQ_SHARE_EPSILON_DECAY;
			else if (len == 3 && !strncmp(v, "off", 3))
				c.flags &= ~DQ_SHARE_EPSILON_DECAY;
			else
				return -EINVAL;
		} else if (kind == DQ_SHARE_AVERAGE &&
			   (v = param_value(p, n, "steps"))) {
			c.flags &= ~DQ_SHARE_SECONDS;
			if (param_double(p, n, v, &c.interval))
				return -EINVAL;
		} else if (kind == DQ_SHARE_AVERAGE &&
			   (v = param_value(p, n, "seconds"))) {
			c.flags |= DQ_SHARE_SECONDS;
			if (param_double(p, n, v, &c.interval))
				return -EINVAL;
		} else {
			return -EINVAL;
		}
	}
	if (dq_share_config_check(&c))
		return -EINVAL;
	*out = c;
	return 0;
}

/* One agent's local side: its table and the push bookkeeping; 0 on
 * overflow (refused by the caller as too large). */
size_t
dq__share_bytes(const dq_table *shared, const dq_share_config *cfg)
{
	size_t entries = (size_t)shared->n_states * shared->n_actions, per;
	size_t out;

	/* DistQL: value, local count, count at the last push; averaging:
	 * the shared table's width of values, and the base of each. */
	per = cfg->kind == DQ_SHARE_DISTQL
		  ? 3 * sizeof(uint64_t)
		  : 2 * sizeof(uint64_t) * shared->channels;
	if (dq__mul_overflows(entries, per, &out))
		return 0;
	return out;
}

int
dq_share_local_bytes(const dq_table *shared, const dq_share_config *cfg,
		     uint32_t n_agents, size_t *bytes)
{
	size_t one;

	if (!shared || !bytes || dq_share_config_check(cfg))
		return -EINVAL;
	if (cfg->kind == DQ_SHARE_NONE) {
		*bytes = 0;
		return 0;
	}
	one = dq__share_bytes(shared, cfg);
	if (!one || dq__mul_overflows(one, n_agents, bytes))
		return -ERANGE;
	return 0;
}

/*
 * Whether @p n_agents agents with @p acfg can share @p shared under @p cfg
 * (see dq_agent_share_create() for the errors).
 */
int
dq__share_check(const dq_table *shared, const dq_share_config *cfg,
		const dq_agent_config *acfg, uint32_t n_agents)
{
	uint32_t ch = dq__rule_channels(acfg->rule);
	size_t bytes;
	int err;

	if (dq_share_config_check(cfg))
		return -EINVAL;
	if (cfg->kind == DQ_SHARE_NONE || n_agents == 0)
		return SHARE_BAD("kind none or 0 agents: nothing to share");
	if (acfg->sync_every)
		return SHARE_BAD("a sync policy takes no sync_every (%u)",
				 acfg->sync_every);
	if (cfg->kind == DQ_SHARE_DISTQL) {
		/* eta replaces alpha; a per-episode epsilon is the study's
		 * constant start decayed, not a step schedule */
		if (acfg->omega != 0.0)
			return SHARE_BAD("distql's eta replaces alpha: omega "
					 "%g must be 0",
					 acfg->omega);
		if ((cfg->flags & DQ_SHARE_EPSILON_DECAY) &&
		    acfg->epsilon.kind != DQ_SCHEDULE_CONSTANT)
			return SHARE_BAD("distql's epsilon decay needs a "
					 "constant epsilon schedule");
		if (ch != 1 || shared->channels < ch + 1) {
			dq__detail("distql needs a rule of one channel and a "
				   "table of 2 channels (values, eta_c); it "
				   "has %u",
				   shared->channels);
			return DQ_ERULE;
		}
	} else if (shared->channels < ch) {
		return DQ_ERULE;
	}
	err = dq_share_local_bytes(shared, cfg, n_agents, &bytes);
	if (err == -ERANGE || (!err && bytes > DQ_SHARE_MAX_BYTES)) {
		dq__detail("%u local tables of %u x %u entries take more than "
			   "DQ_SHARE_MAX_BYTES (%zu bytes)",
			   n_agents, shared->n_states, shared->n_actions,
			   DQ_SHARE_MAX_BYTES);
		return -ERANGE;
	}
	return err;
}

/* relaxed helpers: a local table has one writer, the agent's thread */
static inline double
local_get(const dq_table *t, uint32_t s, uint32_t i)
{
	return dq__table_get(t, s, i);
}

static inline void
local_set(dq_table *t, uint32_t s, uint32_t i, double v)
{
	/* relaxed: the local table has one writer and no other reader */
	dq__store_u64(dq__table_row(t, s) + i, dq__d2u(v),
		      memory_order_relaxed);
}

static inline uint64_t
local_count(const dq_table *t, uint32_t s, uint32_t a)
{
	/* relaxed: written by this thread only */
	return dq__load_u64(dq__table_row(t, s) + t->width + a,
			    memory_order_relaxed);
}

/* The values every policy copies: DistQL channel 0 (eta_c stays
 * central), averaging the local table's whole width. */
static uint32_t
pull_width(const dq__share *sh)
{
	return sh->local->width;
}

/* Local (and base) := shared, every entry. */
static void
pull_all(dq__share *sh)
{
	const uint32_t S = sh->shared->n_states, W = pull_width(sh);

	for (uint32_t s = 0; s < S; s++)
		for (uint32_t i = 0; i < W; i++) {
			double v = dq__table_get(sh->shared, s, i);

			local_set(sh->local, s, i, v);
			if (sh->base)
				sh->base[(size_t)s * W + i] = v;
		}
}

void
dq__share_destroy(dq__share *sh)
{
	if (!sh)
		return;
	dq_table_destroy(sh->local);
	free(sh->n_push);
	free(sh->base);
	free(sh);
}

int
dq__share_create(dq__share **out, dq_table *shared, const dq_share_config *cfg,
		 uint32_t n_agents, const dq_agent_config *acfg)
{
	dq_table_config tc;
	dq__share *sh;
	size_t entries = (size_t)shared->n_states * shared->n_actions;
	int err = dq__share_check(shared, cfg, acfg, n_agents);

	if (err)
		return err;
	sh = calloc(1, sizeof(*sh));
	if (!sh)
		return -ENOMEM;
	sh->cfg = *cfg;
	sh->shared = shared;
	sh->n_agents = n_agents;
	sh->eta_ch = dq__rule_channels(acfg->rule);
	sh->log_decay = log(cfg->decay);
	sh->next_episode = sh->next_step = sh->next_ns = UINT64_MAX;
	dq_table_config_init(&tc);
	tc.n_states = shared->n_states;
	tc.n_actions = shared->n_actions;
	/* One writer: hogwild's plain store loses nothing, and costs least. */
	tc.mode = DQ_MODE_HOGWILD;
	if (cfg->kind == DQ_SHARE_DISTQL) {
		tc.channels = 1;
		tc.visit_counts = true; /* N_i: eta_i = eta decay^N_i */
	} else {
		tc.channels = shared->channels;
		tc.visit_counts = acfg->omega > 0.0;
	}
	err = dq_table_create(&sh->local, &tc);
	if (!err && cfg->kind == DQ_SHARE_DISTQL) {
		sh->n_push = calloc(entries, sizeof(uint64_t));
		err = sh->n_push ? 0 : -ENOMEM;
	} else if (!err) {
		sh->base = malloc(entries * shared->channels * sizeof(double));
		err = sh->base ? 0 : -ENOMEM;
	}
	if (err) {
		dq__share_destroy(sh);
		return err;
	}
	pull_all(sh);
	*out = sh;
	return 0;
}

/* DistQL's epsilon: the schedule's start times decay^episodes. */
static void
share_epsilon(dq_agent *ag)
{
	if (ag->eps_decay > 0.0)
		ag->epsilon.value = ag->epsilon.def.start *
				    pow(ag->eps_decay, (double)ag->episodes);
}

/*
 * Put the agent on its local table: the rules then read and write it, and
 * DistQL's step size is eta decay^N (rate.h, through the visit-count
 * instance of the loop: omega marks it, eta0 selects the formula).
 */
void
dq__share_attach(dq_agent *ag, dq__share *sh)
{
	ag->share = sh;
	if (sh->cfg.kind == DQ_SHARE_DISTQL) {
		ag->omega = 1.0;
		ag->eta0 = sh->cfg.eta;
		ag->eta_log_decay = sh->log_decay;
		if (sh->cfg.flags & DQ_SHARE_EPSILON_DECAY)
			ag->eps_decay = sh->cfg.decay;
		share_epsilon(ag);
	}
}

/* The next push is due `interval` from now. */
static void
share_due_from(dq_agent *ag, uint64_t now_ns)
{
	dq__share *sh = ag->share;
	const double iv = sh->cfg.interval;

	if (sh->cfg.kind == DQ_SHARE_DISTQL)
		sh->next_episode = ag->episodes + (uint64_t)iv;
	else if (sh->cfg.flags & DQ_SHARE_SECONDS)
		sh->next_ns = now_ns + (uint64_t)(iv * 1e9);
	else
		sh->next_step = ag->steps + (uint64_t)iv;
}

/* A run (or a simulator's agent) starts counting its interval now. */
int
dq__share_begin(dq_agent *ag, uint64_t now_ns)
{
	share_epsilon(ag);
	share_due_from(ag, now_ns);
	return 0;
}

/* DistQL: push every entry updated since its last push; pull (Partial:
 * those; ALL: every entry, after the push). */
static int
push_distql(dq__share *sh)
{
	dq_table *c = sh->shared, *L = sh->local;
	const uint32_t S = c->n_states, A = c->n_actions;
	const bool partial = sh->cfg.flags & DQ_SHARE_PARTIAL;
	int err = 0;

	for (uint32_t s = 0; s < S; s++)
		for (uint32_t a = 0; a < A; a++) {
			size_t k = (size_t)s * A + a;
			uint64_t n = local_count(L, s, a);
			double eta_i;
			int r;

			if (n == sh->n_push[k])
				continue;
			sh->n_push[k] = n;
			eta_i = sh->cfg.eta * exp((double)n * sh->log_decay);
			if (!(eta_i > 0.0)) /* underflow: as eta_c's floor */
				eta_i = DBL_MIN;
			r = dq__table_blend_as(c, c->mode, s, a, sh->eta_ch,
					       local_get(L, s, a), eta_i,
					       sh->cfg.eta, sh->cfg.decay);
			if (r < 0 && !err)
				err = r;
			sh->entries++;
			if (partial)
				local_set(L, s, a, dq__table_get(c, s, a));
		}
	if (!partial)
		pull_all(sh);
	return err;
}

/* Averaging: add (L - B) / P to each entry that moved, then pull all. */
static int
push_average(dq__share *sh)
{
	dq_table *c = sh->shared, *L = sh->local;
	const uint32_t S = c->n_states, W = pull_width(sh);
	const double scale = 1.0 / sh->n_agents;
	int err = 0;

	for (uint32_t s = 0; s < S; s++)
		for (uint32_t i = 0; i < W; i++) {
			double l = local_get(L, s, i);
			double b = sh->base[(size_t)s * W + i];
			int r;

			if (dq__d2u(l) == dq__d2u(b))
				continue;
			r = dq__table_apply_as(
			    c, c->mode, s, i,
			    (dq__op){DQ__OP_ADD, (l - b) * scale, 0.0, 0.0});
			if (r < 0 && !err)
				err = r;
			sh->entries++;
		}
	pull_all(sh);
	return err;
}

/* Push and pull now; the CAS retries go to the agent's counter. */
int
dq__share_push(dq_agent *ag)
{
	dq__share *sh = ag->share;
	int err;

	err = sh->cfg.kind == DQ_SHARE_DISTQL ? push_distql(sh)
					      : push_average(sh);
	sh->pushes++;
	return err < 0 ? err : 0;
}

/* At a boundary: push and pull when due. Returns 1 when it did, 0, or an
 * error of the push (the next one is still scheduled). */
int
dq__share_sync(dq_agent *ag, uint64_t now_ns)
{
	dq__share *sh = ag->share;
	int err;

	if (ag->episodes < sh->next_episode && ag->steps < sh->next_step &&
	    now_ns < sh->next_ns)
		return 0;
	err = dq__share_push(ag);
	share_due_from(ag, now_ns);
	return err ? err : 1;
}

int
dq_agent_share_create(dq_agent **out, dq_table *shared,
		      const dq_agent_config *cfg, const dq_share_config *share,
		      uint32_t n_agents)
{
	dq__share *sh;
	dq_agent *ag;
	int err;

	dq__detail_clear();
	if (!out || !shared || !share)
		return SHARE_BAD("out, shared and share must not be NULL");
	err = dq_agent_config_check(cfg);
	if (err)
		return err;
	err = dq__share_create(&sh, shared, share, n_agents, cfg);
	if (err)
		return err;
	err = dq_agent_create(&ag, sh->local, cfg);
	if (err) {
		dq__share_destroy(sh);
		return err;
	}
	dq__share_attach(ag, sh);
	dq__share_begin(ag, share_now_ns());
	*out = ag;
	return 0;
}

int
dq_agent_share(dq_agent *agent, bool force)
{
	int err;

	if (!agent || !agent->share)
		return -EINVAL;
	if (!force)
		return dq__share_sync(agent, share_now_ns());
	err = dq__share_push(agent);
	share_due_from(agent, share_now_ns());
	return err ? err : 1;
}
