/*
 * The learning rules' parameters (ruleparam.h): the one table of them.
 *
 * To add a parameter: put its field in dq_agent_config (reserved words),
 * then one line below, DQ__PARAM(name, field, rules, match):
 *   name   its name in files, at most 23 bytes, never reused;
 *   field  the dq_agent_config member (double, uint32_t, uint64_t, bool,
 *          an enum, or a dq_schedule: the type is found by _Generic);
 *   rules  DQ__RULES_ALL, or the DQ__RULE_BIT()s of the rules it matters
 *          to (a file records it, and a resume compares it, only for
 *          those);
 *   match  true when a learner resumed from a file must have the file's
 *          value (it shapes the table or the rule state, or changes what
 *          the saved values mean), false for a hyperparameter a resume may
 *          change, as alpha and epsilon.
 * Its default (dq_agent_config_init()'s) must be the behaviour from before
 * it existed: a file records it only when it differs from the default, and
 * a file without it reads as the default, so older files and older
 * readers keep working (docs/checkpoint-format.md, "Rule parameters").
 */
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "ruleparam.h"

#define DQ__PARAM_KIND(f)                   \
	_Generic((f), double                \
		 : DQ__PK_F64, uint32_t     \
		 : DQ__PK_U32, uint64_t     \
		 : DQ__PK_U64, bool         \
		 : DQ__PK_BOOL, dq_schedule \
		 : DQ__PK_SCHEDULE, default \
		 : DQ__PK_ENUM)

#define DQ__PARAM(name, field, rules, match)                            \
	{                                                               \
		name, DQ__PARAM_KIND(((dq_agent_config *)0)->field),    \
		    offsetof(dq_agent_config, field),                   \
		    sizeof(((dq_agent_config *)0)->field), rules, match \
	}

const dq__rule_param dq__rule_params[] = {
    /* alpha = 1 / N(s,a)^omega from the table's visit counts (rate.h) */
    DQ__PARAM("omega", omega, DQ__RULES_ALL, true),
    /* softmax: epsilon's schedule is the temperature (agent.h) */
    DQ__PARAM("policy", policy, DQ__RULES_ALL, true),
    /* n of the n-step rules (their returns' length) */
    DQ__PARAM("nstep", nstep,
	      DQ__RULE_BIT(DQ_RULE_NSTEP_Q) | DQ__RULE_BIT(DQ_RULE_NSTEP_SARSA),
	      true),
    /* Watkins's Q(lambda): lambda, the trace kind and the traces kept */
    DQ__PARAM("lambda", lambda, DQ__RULE_BIT(DQ_RULE_Q_LAMBDA), true),
    DQ__PARAM("trace", trace, DQ__RULE_BIT(DQ_RULE_Q_LAMBDA), true),
    DQ__PARAM("trace_max", trace_max, DQ__RULE_BIT(DQ_RULE_Q_LAMBDA), true),
};

const size_t dq__n_rule_params =
    sizeof(dq__rule_params) / sizeof(dq__rule_params[0]);

bool
dq__param_equal(const dq__rule_param *p, const dq_agent_config *a,
		const dq_agent_config *b)
{
	const char *x = (const char *)a + p->offset;
	const char *y = (const char *)b + p->offset;

	if (p->kind == DQ__PK_SCHEDULE) {
		dq_schedule u, v;

		memcpy(&u, x, sizeof(u));
		memcpy(&v, y, sizeof(v));
		return u.kind == v.kind &&
		       !memcmp(&u.start, &v.start, sizeof(u.start)) &&
		       !memcmp(&u.end, &v.end, sizeof(u.end)) &&
		       !memcmp(&u.steps, &v.steps, sizeof(u.steps));
	}
	return !memcmp(x, y, p->size);
}

/* %.17g in the "C" locale, whatever the thread's: "0.5", never "0,5". */
static void
f64_text(double v, char *buf, size_t cap)
{
	locale_t c = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
	locale_t old = c ? uselocale(c) : (locale_t)0;

	snprintf(buf, cap, "%.17g", v);
	if (c) {
		uselocale(old);
		freelocale(c);
	}
}

void
dq__param_text(const dq__rule_param *p, const dq_agent_config *cfg, char *buf,
	       size_t cap)
{
	const char *f = (const char *)cfg + p->offset;
	uint64_t u64;
	uint32_t u32;
	double d;
	bool b;

	switch (p->kind) {
	case DQ__PK_F64:
		memcpy(&d, f, sizeof(d));
		f64_text(d, buf, cap);
		break;
	case DQ__PK_U64:
		memcpy(&u64, f, sizeof(u64));
		snprintf(buf, cap, "%llu", (unsigned long long)u64);
		break;
	case DQ__PK_BOOL:
		memcpy(&b, f, sizeof(b));
		snprintf(buf, cap, "%s", b ? "true" : "false");
		break;
	case DQ__PK_SCHEDULE: {
		dq_schedule s;
		char x[3][32];

		memcpy(&s, f, sizeof(s));
		f64_text(s.start, x[0], sizeof(x[0]));
		f64_text(s.end, x[1], sizeof(x[1]));
		f64_text(s.steps, x[2], sizeof(x[2]));
		snprintf(buf, cap, "kind %d, %s to %s over %s", (int)s.kind,
			 x[0], x[1], x[2]);
		break;
	}
	case DQ__PK_U32:
	case DQ__PK_ENUM:
	default:
		memcpy(&u32, f, sizeof(u32));
		snprintf(buf, cap, "%u", u32);
		break;
	}
}

const dq__rule_state_ops *
dq__rule_state_ops_of(dq_rule rule)
{
	/* No rule keeps a per-agent state across runs: a run's end flushes
	 * the n-step rules' pending transitions and cuts Q(lambda)'s traces
	 * (dq__agent_flush()), and a run's start clears the action chosen
	 * ahead, so an idle learner holds none. A rule that keeps one
	 * returns its ops here. */
	(void)rule;
	return NULL;
}
