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
#include "share.h"
#include "table.h"
#include "tiles.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/** @defgroup checkpoint Checkpoints
 * A checkpoint is a versioned binary file: a fixed little-endian header
 * (magic "DISTQCKP", format version, environment name and parameters, S, A,
 * channels, value type, hyperparameters, counters), optional header
 * sections (the agents' resumable states, the learning rule and its
 * parameters, the agents' rule states), the S x A values of every channel
 * and the visit counts when the table keeps them, and a CRC-32 (zlib)
 * over everything before it. It is written atomically: a temporary file in the
 * same directory, fsync, rename over the target, fsync of the directory; a
 * crash leaves either the old file or the new one, and at worst a stale
 * temporary file, which the next save to the same path removes. The format
 * is specified in docs/checkpoint-format.md.
 * @{ */

/** The checkpoint format version this library writes. Version 2 adds
 *  the table's extra channels and visit counts after the values, the
 *  learning rule with its parameters, and the agents' rule states;
 *  version 1 files (one channel, no rule recorded) are still read. */
#define DQ_CHECKPOINT_VERSION 2u

/** Everything in a checkpoint besides the values and the agents' states. */
typedef struct dq_checkpoint_meta {
	char env[64];	    /**< Environment name, NUL-terminated. */
	char params[256];   /**< Environment parameters, NUL-terminated. */
	uint32_t n_states;  /**< S. */
	uint32_t n_actions; /**< A. */
	uint32_t version;   /**< Format version (filled on read). */
	dq_mode mode;	    /**< Update discipline of the saved run. */
	double gamma;	    /**< Discount. */
	double alpha;	    /**< Step size at save time. */
	double epsilon;	    /**< Exploration at save time. */
	uint64_t seed;	    /**< Base seed of the run. */
	uint64_t steps;	    /**< Total steps trained. */
	uint64_t episodes;  /**< Total episodes trained. */
	double seconds;	    /**< Total training wall time. */
	uint32_t n_agents;  /**< Agent states in the file (filled on read;
			     *   0 for a file without them; ignored on
			     *   save, where dq_checkpoint_save_run()'s
			     *   argument counts). */
	/** Values per (s, a) in the file, dq_table_config.channels (filled
	 *  on read: 1 for a version 1 file; ignored on save, where the
	 *  table's count). */
	uint32_t channels;
	/** The file holds visit counts, dq_table_config.visit_counts
	 *  (filled on read; ignored on save). */
	bool visit_counts;
	/** The file records the learning rule and its parameters (filled
	 *  on read; only dq_checkpoint_save_learner() records them; ignored
	 *  on save). */
	bool has_rule;
	/** The rule recorded when has_rule, else DQ_RULE_Q (filled on read;
	 *  ignored on save). Its parameters: dq_checkpoint_read_rule(). */
	dq_rule rule;
	uint64_t reserved_[13]; /**< Zero (see "Growing structs"). */
} dq_checkpoint_meta;

/**
 * Save @p t with @p meta to @p path, atomically (see above), without agent
 * states: dq_checkpoint_save_run() with none. Every channel of the table
 * and its visit counts are saved. meta->n_states, n_actions, version,
 * n_agents, channels, visit_counts, has_rule and rule are ignored (the
 * shape is taken from the table; no rule is recorded: see
 * dq_checkpoint_save_learner()).
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
 *         (checked before writing, so SIGXFSZ is not raised).
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
 *         version, value type, or a header section, a rule, a rule
 *         parameter or a rule state this library does not know and must
 *         not ignore; the detail names it), DQ_ETRUNC (shorter than its header
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
 *         S, A, the channels or the presence of visit counts differ from
 *         @p t's (dq_error_detail() says which). On any error @p t is
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

/**
 * Save learner @p l: its table (every channel, the visit counts), its
 * learning rule and the rule's parameters (dq_agent_config.rule, omega,
 * ...; docs/checkpoint-format.md lists them), its tile coder's
 * definition when it has one (dq_agent_config.tiles), and the resumable state of
 * each of its agents (dq_learner_agent_state()) with its rule state,
 * atomically, as dq_checkpoint_save() does. A learner restored from the
 * file with dq_checkpoint_load_learner() continues as @p l would have:
 * for one agent, its next run is bit for bit the run @p l would make.
 * Under a sync policy (dq_learner_config.share) the file also holds the
 * policy and every agent's local side: local table, DistQL's counts and
 * counts at the last push, averaging's base (docs/checkpoint-format.md,
 * "Sync policy"; P local tables, within the header's 1 MiB).
 *
 * meta->steps and episodes are written as given (a caller that resumed a
 * run adds its earlier totals); the fields ignored by dq_checkpoint_save()
 * are ignored here too.
 *
 * @return the errors of dq_checkpoint_save(); -EINVAL for a NULL @p l;
 *         -ERANGE when the agents' local tables do not fit in a header
 *         (dq_error_detail() says so).
 * Thread-safety: safe during dq_learner_run() on @p l (from its progress
 *                callback, say): the file is then consistent per entry
 *                and per agent, as dq_checkpoint_save_run() describes;
 *                an agent's rule state and local tables are saved only
 *                while no run is in progress (a run starts new episodes, so a state from
 *                the middle of one is never resumed). Not concurrently
 *                with dq_learner_destroy(), dq_learner_set_agent_state()
 *                or dq_checkpoint_load_learner() on @p l.
 * Ordering: relaxed reads of the table; agent states by seqlock reads, as
 *           dq_learner_agent_state().
 */
DQ_API int dq_checkpoint_save_learner(const char *path, const dq_learner *l,
				      const dq_checkpoint_meta *meta);

/**
 * Restore learner @p l from a checkpoint: the table (every channel and the
 * visit counts), and the first min(n, P) of the file's n agent states
 * (dq_learner_set_agent_state()) with their rule states. Agents beyond
 * the file's keep their state. The file must record the rule @p l runs
 * (dq_agent_config.rule) with the same value of every parameter that must
 * match (all of today's: omega; see docs/checkpoint-format.md, "Rule
 * parameters"); a file that records no rule (version 1, or written by
 * dq_checkpoint_save_run()) is taken to be of @p l's rule. The file's
 * sync policy (none without its section) must be @p l's, with the same
 * parameters; the agents' local sides are restored (agents beyond the
 * file's, or all for a file saved during a run, start them afresh from
 * the loaded table).
 *
 * @param meta receives the header (may be NULL).
 * @return 0; -EINVAL for NULL @p path or @p l; the errors of
 *         dq_checkpoint_load(); DQ_EMISMATCH when the file's rule or a
 *         parameter that must match differs from @p l's, or its sync
 *         policy or one of the policy's parameters, when the file's
 *         tile coder differs from @p l's (dq_agent_config.tiles: a
 *         parameter of the definition, or one has a coder and the other
 *         none), or the table's shape differs (dq_error_detail() names
 *         what differs, both values); -EBUSY while @p l runs. The checks come before any
 *         change: on any error @p l, its table and @p meta are unchanged.
 * Thread-safety: not concurrently with dq_learner_run() or any other use
 *                of @p l.
 * Ordering: relaxed stores; the next dq_learner_run() publishes the agent
 *           states to the agents' threads.
 */
DQ_API int dq_checkpoint_load_learner(const char *path, dq_learner *l,
				      dq_checkpoint_meta *meta);

/**
 * The learning rule and its parameters recorded in a checkpoint: sets
 * cfg->rule and every rule parameter of @p cfg (omega, ...) from the file,
 * a parameter the file does not record to its default
 * (dq_agent_config_init()'s), and leaves every other field of @p cfg as
 * it was. A file that records no rule (meta.has_rule false) sets the
 * rule to DQ_RULE_Q and the parameters to their defaults. For a program
 * that resumes a run and takes the rule from the file.
 *
 * @return 0; -EINVAL for NULL pointers; the errors of
 *         dq_checkpoint_read_meta(). On error @p cfg is unchanged.
 * Thread-safety: safe from any thread.
 * Ordering: none.
 */
DQ_API int dq_checkpoint_read_rule(const char *path, dq_agent_config *cfg);

/** The MPI job a checkpoint was written by (libdistq-mpi): its shape,
 *  ranks x agents per rank, and the sync policy between the ranks. */
typedef struct dq_checkpoint_world {
	uint32_t ranks;		  /**< R, >= 1. */
	uint32_t agents_per_rank; /**< P, >= 1: each rank's agent threads. */
	/** The sync policy between ranks as distq's --share spells it
	 *  ("average:seconds=1"), NUL-terminated; may be empty. */
	char policy[64];
	uint64_t reserved_[4]; /**< Zero. */
} dq_checkpoint_world;

/**
 * dq_checkpoint_save_run(), recording also the world @p world of the job
 * that wrote the file (a header section that readers which do not know
 * it skip: docs/checkpoint-format.md, "The world"). For a job of R ranks
 * of P agents the agent states are normally R x P, rank by rank (rank r's
 * agent i at r x P + i); the library does not require it.
 *
 * @return the errors of dq_checkpoint_save_run(); also -EINVAL for a NULL
 *         @p world, ranks or agents_per_rank 0, an unterminated policy or
 *         non-zero reserved words.
 * Thread-safety: as dq_checkpoint_save_run().
 * Ordering: relaxed reads of the table.
 */
DQ_API int dq_checkpoint_save_world(const char *path, const dq_table *t,
				    const dq_checkpoint_meta *meta,
				    const dq_agent_state *agents,
				    uint32_t n_agents,
				    const dq_checkpoint_world *world);

/**
 * The world a checkpoint records (dq_checkpoint_save_world()), checking
 * the whole file.
 * @return 0 and @p world filled; -ENOENT when the file records no world
 *         (written by one process, or by an older library; @p world is
 *         then zeroed); -EINVAL for NULL pointers; the errors of
 *         dq_checkpoint_read_meta().
 * Thread-safety: safe from any thread.
 * Ordering: none.
 */
DQ_API int dq_checkpoint_read_world(const char *path,
				    dq_checkpoint_world *world);

/**
 * Save @p t with @p meta, as dq_checkpoint_save(), and the definition of
 * the tile coder @p tiles whose weights @p t holds (its rows are
 * dq_tiles_features()): the file's tile coder section
 * (docs/checkpoint-format.md, "Tile coder"), which a learner restored
 * from it must share (dq_checkpoint_load_learner()) and
 * dq_checkpoint_read_tiles() gives back. dq_checkpoint_save_learner()
 * writes the section itself for a tile-coded learner
 * (dq_agent_config.tiles).
 *
 * @return the errors of dq_checkpoint_save(); also -EINVAL for a NULL
 *         @p tiles or a table whose rows are not the coder's.
 * Thread-safety: as dq_checkpoint_save().
 * Ordering: relaxed reads of the table.
 */
DQ_API int dq_checkpoint_save_tiles(const char *path, const dq_table *t,
				    const dq_checkpoint_meta *meta,
				    const dq_tiles *tiles);

/**
 * The tile coder recorded in a checkpoint (written by
 * dq_checkpoint_save_learner() for a tile-coded learner, or
 * dq_checkpoint_save_tiles()): its definition, exactly as it was
 * (dq_tiles_create() makes the same coder from it), for a program that
 * resumes a run and takes the coder from the file. A file without a
 * coder (a tabular run) gives dq_tiles_config_init()'s defaults with
 * @p cfg->dim 0.
 *
 * @return 0; -EINVAL for NULL pointers; the errors of
 *         dq_checkpoint_read_meta() (DQ_EVERSION for a coder of a mapping
 *         revision this library does not know; DQ_ECORRUPT for a coder
 *         that is not valid or whose rows are not the table's). On error
 *         @p cfg is unchanged.
 * Thread-safety: safe from any thread.
 * Ordering: none.
 */
DQ_API int dq_checkpoint_read_tiles(const char *path, dq_tiles_config *cfg);

/**
 * Read the sync policy a checkpoint was trained under (its parameters:
 * dq_share_config) without loading it: what dq_checkpoint_load_learner()
 * requires of the learner. A file without the policy's section (a run
 * without one, or written by dq_checkpoint_save() or
 * dq_checkpoint_save_run()) gives DQ_SHARE_NONE.
 *
 * @return 0; -EINVAL for NULL @p path or @p cfg; the errors of
 *         dq_checkpoint_read_meta() (the whole file is checked). @p cfg
 *         is unchanged on error.
 * Thread-safety: safe from any thread.
 * Ordering: none.
 */
DQ_API int dq_checkpoint_read_share(const char *path, dq_share_config *cfg);

/** @} */

#ifdef __cplusplus
}
#endif
#endif /* DISTQ_CHECKPOINT_H */
