/*
 * The sync policy's checkpoint section (lib/shareckp.c; the layout is in
 * docs/checkpoint-format.md, "Sync policy"). Private to lib/checkpoint.c.
 */
#ifndef DQ_SHARECKP_H
#define DQ_SHARECKP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "distq.h"

/* The body's bytes for @l's policy (0 without one): the policy alone when
 * not @idle (a learner that runs: its local tables are being written),
 * else with every agent's local side; SIZE_MAX when that overflows. */
size_t dq__share_ckp_size(const dq_learner *l, bool idle);
/* Write the body, dq__share_ckp_size() bytes, at @p. */
void dq__share_ckp_encode(const dq_learner *l, bool idle, uint8_t *p);
/* Check a body against the file's table shape: 0, DQ_ECORRUPT,
 * DQ_EFILEVALUE (a value not finite) or DQ_EVERSION (a later revision). */
int dq__share_ckp_check(const uint8_t *b, size_t len, uint32_t n_states,
			uint32_t n_actions, uint32_t channels);
/* The policy of checked body @b (NULL: DQ_SHARE_NONE). */
void dq__share_ckp_config(const uint8_t *b, dq_share_config *cfg);
/* 0 when @l runs the policy and parameters of checked body @b (NULL: the
 * file has none, i.e. policy "none"), else DQ_EMISMATCH, with a detail
 * naming both and what differs. */
int dq__share_ckp_match(const uint8_t *b, size_t len, const dq_learner *l);
/* Restore @l's agents' local sides from matched body @b (NULL or fewer
 * records: the others start afresh from the shared table). Idle @l. */
void dq__share_ckp_load(const uint8_t *b, size_t len, dq_learner *l);

#endif /* DQ_SHARECKP_H */
