/*
 * The learning rules' parameters, as one table (ruleparam.c): each entry
 * names a field of dq_agent_config, and checkpoints record, read and
 * compare every field the table lists, by name. A new parameter of a rule
 * is one line there, nothing else (docs/checkpoint-format.md, "Rule
 * parameters").
 *
 * Also here: the per-agent rule state a checkpoint carries for a rule that
 * keeps one (an n-step buffer, a trace list): none of today's rules does.
 */
#ifndef DQ_RULEPARAM_H
#define DQ_RULEPARAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "internal.h"

/* The C type of a parameter's field, found by _Generic (DQ__PARAM). */
typedef enum dq__param_kind {
	DQ__PK_F64 = 1,	 /* double */
	DQ__PK_U32,	 /* uint32_t */
	DQ__PK_U64,	 /* uint64_t */
	DQ__PK_BOOL,	 /* bool */
	DQ__PK_ENUM,	 /* an enum (int-sized) */
	DQ__PK_SCHEDULE, /* dq_schedule */
} dq__param_kind;

/* How a parameter's value is stored in a file (docs/checkpoint-format.md). */
#define DQ__PT_F64 1u	   /* binary64, 8 bytes */
#define DQ__PT_U64 2u	   /* unsigned integer, 8 bytes */
#define DQ__PT_SCHEDULE 3u /* u32 kind, u32 0, f64 start, end, steps */

/* Bit r: the parameter matters to rule r. */
#define DQ__RULES_ALL UINT32_MAX
#define DQ__RULE_BIT(r) (UINT32_C(1) << (r))

typedef struct dq__rule_param {
	const char *name;    /* in files; at most 23 bytes */
	dq__param_kind kind; /* the field's C type */
	size_t offset;	     /* in dq_agent_config */
	size_t size;	     /* sizeof the field, checked against kind */
	uint32_t rules;	     /* DQ__RULE_BIT()s it matters to */
	bool match;	     /* a learner resumed from a file must have the
			      * file's value (else a hyperparameter that a
			      * resume may change, as alpha) */
} dq__rule_param;

/* The table and its length. */
extern const dq__rule_param dq__rule_params[];
extern const size_t dq__n_rule_params;

/* The longest parameter name, NUL included, in a file. */
#define DQ__PARAM_NAME_LEN 24u

/* The file type of a parameter kind. */
static inline uint32_t
dq__param_file_type(dq__param_kind k)
{
	return k == DQ__PK_F64	      ? DQ__PT_F64
	       : k == DQ__PK_SCHEDULE ? DQ__PT_SCHEDULE
				      : DQ__PT_U64;
}

/* Whether parameter @p has the same value in @a and @b (bit for bit). */
bool dq__param_equal(const dq__rule_param *p, const dq_agent_config *a,
		     const dq_agent_config *b);

/* @p's value in @cfg, written for a message (numbers in the "C" locale). */
void dq__param_text(const dq__rule_param *p, const dq_agent_config *cfg,
		    char *buf, size_t cap);

/*
 * A rule's per-agent state in checkpoints (docs/checkpoint-format.md,
 * "Rule states"): its format version (non-zero) and how to measure, write,
 * check and restore it. NULL for a rule that keeps none (all of today's).
 * save() writes exactly size() bytes (at most 2^16); check() judges a
 * record of the rule's version against the file's parameters, 0 or
 * DQ_ECORRUPT, for every reader alike; load() restores a record that
 * passed check() and cannot fail, so that a load changes nothing until
 * everything has been checked.
 */
typedef struct dq__rule_state_ops {
	uint32_t version;
	size_t (*size)(const struct dq_agent *ag);
	void (*save)(const struct dq_agent *ag, uint8_t *out);
	int (*check)(const uint8_t *in, size_t len, const dq_agent_config *cfg);
	void (*load)(struct dq_agent *ag, const uint8_t *in, size_t len);
} dq__rule_state_ops;

const dq__rule_state_ops *dq__rule_state_ops_of(dq_rule rule);

#endif /* DQ_RULEPARAM_H */
