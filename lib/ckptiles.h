/*
 * The tile coder's checkpoint section (lib/checkpoint.c, tag
 * CKP_TAG_CRITICAL | 5; docs/checkpoint-format.md, "Tile coder"): its
 * body, its check, and the comparison of a file's coder with a learner's.
 */
#ifndef DQ_CKPTILES_H
#define DQ_CKPTILES_H

#include <stddef.h>
#include <stdint.h>

#include "internal.h"

/* The longest coder text a file may hold (16 dimensions take < 1 KiB). */
#define DQ__CKP_TILES_TEXT_MAX 4096u

/* The body for @tc into @p (NULL: only measure); returns its length. */
size_t dq__ckp_tiles_encode(uint8_t *p, const dq_tiles *tc);

/*
 * Check a body of @len bytes and decode it into @cfg: DQ_EVERSION for a
 * coder revision this library does not know; DQ_ECORRUPT for a body that
 * does not fit, text that does not parse or is not a valid coder, or a
 * coder whose rows are not the file's @n_states.
 */
int dq__ckp_tiles_parse(const uint8_t *b, uint32_t len, uint32_t n_states,
			dq_tiles_config *cfg);

/*
 * 0 when a file's coder (@file; NULL: the file has none) is the learner's
 * (@tc; NULL: a tabular learner), else DQ_EMISMATCH with a detail naming
 * the first parameter that differs and both values.
 */
int dq__ckp_tiles_match(const dq_tiles_config *file, const dq_tiles *tc);

#endif /* DQ_CKPTILES_H */
