/*
 * --share: one grammar for distq (sync policies between the agents of one
 * process, <distq/share.h>) and distq-mpi (between MPI ranks,
 * <distq/mpi.h>). Both programs parse the option here; each then turns
 * the result into its library's configuration and refuses what exists
 * only in the other (cli_share_local() here, distq-mpi's own for ranks).
 * docs/cli.md, "--share", is the reference.
 *
 *   NAME[:PARAM]...   NAME: none, average, delta, distql
 *
 * PARAMs are separated by ':' (',' also: distq-mpi's first spelling).
 * tau=N counts the policy's unit (distql: episodes, the others: steps);
 * steps=N, episodes=N, seconds=S name it. Kept as aliases of what
 * shipped in distq-mpi: tau=Ns (seconds), tau=Nep (episodes), every=.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

const char cli_share_usage[] =
    "none|average|delta|distql[:tau=N|steps=N|episodes=N|seconds=S]"
    "[:all|partial][:eta=X][:decay=X][:epsilon-decay=on|off]"
    "[:exchange=auto|sparse|dense][:timeout=S]";

static const char *const policy_names[] = {"none", "average", "delta",
					   "distql"};

static int why(char *buf, size_t len, const char *fmt, ...) CLI_PRINTF(3, 4);

static int
why(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (buf && len)
		vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* One PARAM, @p .. @p + @n. */
static int
param(const char *p, size_t n, struct cli_share *s, char *w, size_t wl)
{
	const char *eq = memchr(p, '=', n);
	size_t kl = eq ? (size_t)(eq - p) : n;
	const char *v = eq ? eq + 1 : NULL;
	size_t vl = eq ? n - kl - 1 : 0;
	const bool distql = s->policy == CLI_SHARE_DISTQL;
	char sfx[4];
	double x;

#define KEY(k) (kl == strlen(k) && !strncmp(p, k, kl))
#define VAL(k) (vl == strlen(k) && !strncmp(v, k, vl))
	if (s->policy == CLI_SHARE_NONE && !KEY("timeout"))
		return why(w, wl, "none takes no parameter but timeout=");
	if (!eq && (KEY("all") || KEY("partial"))) {
		if (!distql)
			return why(w, wl, "all|partial: distql's pull only");
		s->partial = KEY("partial");
		return 0;
	}
	if (!eq)
		return why(w, wl, "'%.*s' is not a parameter", (int)n, p);
	if (KEY("tau") || KEY("every")) {
		if (dq_share_number(v, vl, 0, 1e18, &x, sfx) || !(x > 0))
			return why(w, wl,
				   "tau=%.*s: a number > 0, then "
				   "nothing, 's' or 'ep'",
				   (int)vl, v);
		if (!strcmp(sfx, "s"))
			s->unit = CLI_SHARE_SECONDS;
		else if (!strcmp(sfx, "ep"))
			s->unit = CLI_SHARE_EPISODES;
		else if (!*sfx)
			s->unit = distql ? CLI_SHARE_EPISODES : CLI_SHARE_STEPS;
		else
			return why(w, wl,
				   "tau=%.*s: the unit is nothing, "
				   "'s' or 'ep'",
				   (int)vl, v);
		s->interval = x;
		return 0;
	}
	if (KEY("steps") || KEY("episodes") || KEY("seconds")) {
		if (dq_share_number(v, vl, 0, 1e18, &x, NULL) || !(x > 0))
			return why(w, wl, "%.*s: a number > 0", (int)n, p);
		s->unit = KEY("steps")	    ? CLI_SHARE_STEPS
			  : KEY("episodes") ? CLI_SHARE_EPISODES
					    : CLI_SHARE_SECONDS;
		s->interval = x;
		return 0;
	}
	if (KEY("eta") || KEY("decay")) {
		if (!distql)
			return why(w, wl, "%.*s: distql's only", (int)kl, p);
		if (dq_share_number(v, vl, 0, 1, &x, NULL) || !(x > 0))
			return why(w, wl, "%.*s: a number in (0, 1]", (int)n,
				   p);
		*(KEY("eta") ? &s->eta : &s->decay) = x;
		return 0;
	}
	if (KEY("epsilon-decay")) {
		if (!distql)
			return why(w, wl, "epsilon-decay: distql's only");
		if (!VAL("on") && !VAL("off"))
			return why(w, wl, "epsilon-decay=on or off");
		s->epsilon_decay = VAL("on");
		return 0;
	}
	if (KEY("exchange")) {
		if (distql)
			return why(w, wl,
				   "exchange: average's and delta's "
				   "only (distql pushes and pulls "
				   "lists)");
		if (VAL("auto"))
			s->exchange = 0;
		else if (VAL("sparse"))
			s->exchange = 1;
		else if (VAL("dense"))
			s->exchange = 2;
		else
			return why(w, wl, "exchange=auto, sparse or dense");
		return 0;
	}
	if (KEY("timeout")) {
		if (dq_share_number(v, vl, 0.01, 1e6, &x, NULL))
			return why(w, wl,
				   "timeout=%.*s: seconds in [0.01, "
				   "1e6]",
				   (int)vl, v);
		s->timeout = x;
		return 0;
	}
#undef KEY
#undef VAL
	return why(w, wl, "'%.*s' is not a parameter", (int)kl, p);
}

int
cli_share_parse(const char *spec, struct cli_share *out, char *w, size_t wl)
{
	struct cli_share s = {.policy = CLI_SHARE_NONE,
			      .unit = CLI_SHARE_DEFAULT,
			      .partial = -1,
			      .eta = NAN,
			      .decay = NAN,
			      .epsilon_decay = -1,
			      .exchange = -1,
			      .timeout = NAN};
	size_t n = strcspn(spec, ":,");
	const char *p;
	unsigned k;

	for (k = 0; k < 4; k++)
		if (strlen(policy_names[k]) == n &&
		    !strncmp(spec, policy_names[k], n))
			break;
	if (k == 4)
		return why(w, wl,
			   "'%.*s' is not a policy (none, average, "
			   "delta, distql)",
			   (int)n, spec);
	s.policy = (enum cli_share_policy)k;
	for (p = spec + n; *p;) {
		int err;

		p++;
		n = strcspn(p, ":,");
		if (!n)
			return why(w, wl, "an empty parameter");
		err = param(p, n, &s, w, wl);
		if (err)
			return err;
		p += n;
	}
	*out = s;
	return 0;
}

const char *
cli_share_name(enum cli_share_policy p)
{
	return p <= CLI_SHARE_DISTQL ? policy_names[p] : "?";
}

int
cli_share_local(const struct cli_share *s, dq_share_config *out, char *w,
		size_t wl)
{
	dq_share_config c;

	if (s->policy == CLI_SHARE_DELTA)
		return why(w, wl,
			   "delta adds each rank's changes into every other "
			   "rank's table: it is a policy between MPI ranks "
			   "(distq-mpi); one process's agents share one table "
			   "(none), or average or distql");
	if (s->exchange >= 0 || !isnan(s->timeout))
		return why(w, wl,
			   "exchange= and timeout= are about MPI "
			   "messages: between ranks only (distq-mpi)");
	if (s->policy == CLI_SHARE_DISTQL && s->unit != CLI_SHARE_DEFAULT &&
	    s->unit != CLI_SHARE_EPISODES)
		return why(w, wl,
			   "in one process distql pushes every tau "
			   "episodes (steps and seconds: between "
			   "ranks only)");
	if (s->policy == CLI_SHARE_AVERAGE && s->unit == CLI_SHARE_EPISODES)
		return why(w, wl,
			   "in one process average pushes every N "
			   "steps or S seconds (episodes: between "
			   "ranks only)");
	dq_share_config_init(&c, s->policy == CLI_SHARE_DISTQL ? DQ_SHARE_DISTQL
				 : s->policy == CLI_SHARE_AVERAGE
				     ? DQ_SHARE_AVERAGE
				     : DQ_SHARE_NONE);
	if (s->unit != CLI_SHARE_DEFAULT)
		c.interval = s->interval;
	if (s->unit == CLI_SHARE_SECONDS)
		c.flags |= DQ_SHARE_SECONDS;
	else if (s->unit == CLI_SHARE_STEPS)
		c.flags &= ~DQ_SHARE_SECONDS;
	if (s->partial == 1)
		c.flags |= DQ_SHARE_PARTIAL;
	else if (s->partial == 0)
		c.flags &= ~DQ_SHARE_PARTIAL;
	if (!isnan(s->eta))
		c.eta = s->eta;
	if (!isnan(s->decay))
		c.decay = s->decay;
	if (s->epsilon_decay == 1)
		c.flags |= DQ_SHARE_EPSILON_DECAY;
	else if (s->epsilon_decay == 0)
		c.flags &= ~DQ_SHARE_EPSILON_DECAY;
	if (dq_share_config_check(&c))
		return why(w, wl,
			   "tau: a whole number of steps or "
			   "episodes, or under 3.2e7 seconds");
	*out = c;
	return 0;
}

void
cli_share_summary(const dq_share_config *c)
{
	if (c->kind == DQ_SHARE_DISTQL)
		cli_kv("sync policy",
		       "distql every %g episodes, %s, eta %g, decay %g\n",
		       c->interval,
		       c->flags & DQ_SHARE_PARTIAL ? "partial" : "all", c->eta,
		       c->decay);
	else if (c->kind == DQ_SHARE_AVERAGE)
		cli_kv("sync policy", "average every %g %s\n", c->interval,
		       c->flags & DQ_SHARE_SECONDS ? "s" : "steps");
}
