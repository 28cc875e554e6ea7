/*
 * libdistq: checkpoint files.
 *
 * Part of <distq.h>, which includes every part; this one may also be
 * included alone. The conventions are at the top of <distq.h>.
 */
#ifndef DISTQ_CHECKPOINT_H
#define DISTQ_CHECKPOINT_H

#include <stdint.h>
#include "api.h"
#include "learner.h"
#include "table.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/** @defgroup checkpoint Checkpoints
 * A checkpoint is a versioned binary file: a fixed little-endian header
 * (magic "DISTQCKP", format version, environment name and parameters, S, A,
 * value type, hyperparameters, counters), optional header sections (the
 * agents' resumable states), the S x A values, and a CRC-32 (zlib) over
 * everything before it. It is written atomically: a temporary file in the
 * same directory, fsync, rename over the target, fsync of the directory; a
 * crash leaves either the old file or the new one, and at worst a stale
 * temporary file, which the next save to the same path removes. The format
 * is specified in docs/checkpoint-format.md.
 * @{ */

/** The checkpoint format version this library writes. Files with agent
 *  states are still version 1: they use the header extension that
 *  version 1 readers skip. */
#define DQ_CHECKPOINT_VERSION 1u

/** Everything in a checkpoint besides the values and the agents' states. */
typedef struct dq_checkpoint_meta {
	char env[64];		/**< Environment name, NUL-terminated. */
	char params[256];	/**< Environment parameters, NUL-terminated. */
	uint32_t n_states;	/**< S. */
	uint32_t n_actions;	/**< A. */
	uint32_t version;	/**< Format version (filled on read). */
	dq_mode mode;		/**< Update discipline of the saved run. */
	double gamma;		/**< Discount. */
	double alpha;		/**< Step size at save time. */
	double epsilon;		/**< Exploration at save time. */
	uint64_t seed;		/**< Base seed of the run. */
	uint64_t steps;		/**< Total steps trained. */
	uint64_t episodes;	/**< Total episodes trained. */
	double seconds;		/**< Total training wall time. */
	uint32_t n_agents;	/**< Agent states in the file (filled on read;
			     *   0 for a file without them; ignored on
			     *   save, where dq_checkpoint_save_run()'s
			     *   argument counts). */
	uint64_t reserved_[14]; /**< Zero (see "Growing structs"). */
} dq_checkpoint_meta;

/**
 * Save @p t with @p meta to @p path, atomically (see above), without agent
 * states: dq_checkpoint_save_run() with none. meta->n_states, n_actions,
 * version and n_agents are ignored (the shape is taken from the table).
 *
 * Before it writes, a save removes the temporary files that earlier saves
 * to the same @p path left when they were killed (names
 * "<path>.tmp.XXXXXX" whose writer no longer holds their lock); it never
 * touches a save in progress.
 *
 * @return 0; -EINVAL for NULL pointers, unterminated strings, an invalid
 *         mode, non-finite numbers or non-zero reserved words in @p meta;
 *         -ERANGE for a table too large for the format; -ENOMEM;
 *         DQ_ENONFINITE if the table held a non-finite value (it never
 *         does; a file no load accepts is never written, and the previous
 *         file stays); a negative errno from the
 *         file system (-EACCES, -ENOSPC, -EROFS, -EIO, -ENOENT for a missing
 *         directory ...), in which case any previous file at @p path is
 *         intact and no temporary file is left; -EISDIR when @p path is or
 *         can only be a directory ("dir/", "/"); DQ_ENOTREG when it exists
 *         and is not a regular file (a FIFO, a device such as /dev/null,
 *         also through a symbolic link), which is never replaced; -EFBIG
 *         when the file would exceed the process's file-size limit
 *         (checked before writing, so SIGXFSZ is not raised); -ENOTSUP
 *         for a table with more than one channel or with visit counts
 *         (the format holds one value per entry: refused, never saved
 *         without them).
 *         dq_error_detail() says what is wrong with the path. (One
 *         exception: when only the final fsync of the directory
 *         fails, the new file is already in place; the error is still
 *         returned because its durability is not guaranteed.)
 * Thread-safety: safe concurrently with updates to @p t (the values are a
 *                per-entry consistent snapshot, as dq_table_snapshot()),
 *                and with other saves, to the same path or not.
 * Ordering: relaxed reads of the table.
 */
DQ_API int dq_checkpoint_save(const char *path, const dq_table *t,
			      const dq_checkpoint_meta *meta);

/**
 * Save @p t, @p meta and the resumable states of @p n_agents agents (what
 * dq_learner_agent_state() gives, agent i at index i), atomically, as
 * dq_checkpoint_save() does. With @p n_agents 0 the file is exactly what
 * dq_checkpoint_save() writes.
 *
 * The table is read during the save while the states were read by the
 * caller before, so a checkpoint taken during a run is consistent per
 * entry and per agent, not as a whole: see docs/checkpoint-format.md,
 * "Snapshots during training".
 *
 * @param agents @p n_agents states (may be NULL when @p n_agents is 0).
 * @return the errors of dq_checkpoint_save(); also -EINVAL for NULL
 *         @p agents with a non-zero @p n_agents, more than DQ_MAX_THREADS
 *         agents, or a state dq_learner_set_agent_state() would refuse
 *         (an all-zero RNG state, a negative or non-finite clock).
 * Thread-safety: as dq_checkpoint_save(); @p agents must not change
 *                during the call.
 * Ordering: relaxed reads of the table.
 */
DQ_API int dq_checkpoint_save_run(const char *path, const dq_table *t,
				  const dq_checkpoint_meta *meta,
				  const dq_agent_state *agents,
				  uint32_t n_agents);

/**
 * Read only the header of a checkpoint (meta->n_agents included), checking
 * the whole file.
 *
 * @return 0; -EINVAL for NULL pointers; a negative errno from opening or
 *         reading (-ENOENT, -EACCES, -EISDIR ...); DQ_ENOTREG (a FIFO,
 *         device or socket: refused without reading or waiting for a
 *         writer); DQ_EFORMAT (not a checkpoint), DQ_EVERSION (another format
 *         version, value type, or a header section this library does not
 *         know and must not ignore), DQ_ETRUNC (shorter than its header
 *         says, or empty), DQ_ECORRUPT (a checksum fails, or fields
 *         contradict each other), DQ_EFILEVALUE (a value, hyperparameter
 *         or clock is not finite, though the checksums match).
 *         dq_error_detail() says more where it can (the file's type, its
 *         size against its header's).
 * Thread-safety: safe from any thread.
 * Ordering: none.
 */
DQ_API int dq_checkpoint_read_meta(const char *path, dq_checkpoint_meta *meta);

/**
 * Load a checkpoint's values into @p t, whose shape must match. Agent
 * states in the file are checked but not returned (see
 * dq_checkpoint_load_run()).
 *
 * @param meta receives the header (may be NULL).
 * @return 0; the errors of dq_checkpoint_read_meta(); DQ_EMISMATCH when
 *         S or A differ from @p t's; -ENOTSUP for a table with more than
 *         one channel or with visit counts. On any error @p t is
 *         unchanged.
 * Thread-safety: not concurrently with updates if the result must equal
 *                the file.
 * Ordering: relaxed stores.
 */
DQ_API int dq_checkpoint_load(const char *path, dq_table *t,
			      dq_checkpoint_meta *meta);

/**
 * Load a checkpoint's values into @p t, as dq_checkpoint_load(), and its
 * agent states: the first min(n, @p cap) of the n in the file are copied
 * to @p agents, ready for dq_learner_set_agent_state(). Everything comes
 * from one open of one file, so the table, header and states belong
 * together even when another process replaces the file meanwhile.
 *
 * @param meta receives the header (may be NULL); meta->n_agents is n, the
 *        number of agent states in the file (0 for a file without them,
 *        such as one written by dq_checkpoint_save()).
 * @param agents receives up to @p cap states (may be NULL when @p cap is
 *        0).
 * @return 0; -EINVAL for
 *         NULL @p path or @p t, or NULL @p agents with a non-zero @p cap;
 *         the errors of dq_checkpoint_load(). On any error @p t, @p meta
 *         and @p agents are unchanged.
 * Thread-safety: as dq_checkpoint_load().
 * Ordering: relaxed stores.
 */
DQ_API int dq_checkpoint_load_run(const char *path, dq_table *t,
				  dq_checkpoint_meta *meta,
				  dq_agent_state *agents, uint32_t cap);

/** @} */

#ifdef __cplusplus
}
#endif
#endif /* DISTQ_CHECKPOINT_H */
