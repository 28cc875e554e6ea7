/*
 * libdistq-mpi: ranks x threads over Open MPI.
 *
 * A separate library (libdistq-mpi, distq-mpi.pc) on top of libdistq's
 * public API; not part of <distq.h>, and the core library never links MPI.
 * This header names no MPI type, so a program that includes it needs MPI
 * only at link time. docs/distributed.md is the guide.
 *
 * Shape: each rank runs one dq_learner (P agent threads pinned within the
 * process's CPU mask) on its own table. One communication thread per rank,
 * started by dq_mpi_run() and never an agent nor the thread that runs the
 * learner's callbacks, makes every MPI call of the run (the library asks
 * for MPI_THREAD_SERIALIZED: the thread that called dq_mpi_init() makes
 * MPI calls only while no run is in progress). Every tau the ranks apply
 * one sync policy between their tables.
 */
#ifndef DISTQ_MPI_H
#define DISTQ_MPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "api.h"
#include "checkpoint.h"
#include "learner.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @defgroup mpi libdistq-mpi: ranks x threads over Open MPI
 * @{ */

/** What the ranks do with their tables every tau. */
typedef enum dq_mpi_policy {
	/** Nothing: independent learners that stop together. */
	DQ_MPI_NONE = 0,
	/** Each entry changed on any rank since the last sync becomes the
	 *  mean over ranks of its value, applied to each rank's table as a
	 *  delta (dq_table_add()), so updates made meanwhile survive. The
	 *  CME323 Spark study's "average" method, between ranks. */
	DQ_MPI_AVERAGE = 1,
	/** Each rank's changes since the last sync are added into every
	 *  other rank's table (asynchronous SGD style: the sum). */
	DQ_MPI_DELTA = 2,
	/** DistQL (Taxi study): rank 0 keeps a central table and blends each
	 *  pushed entry Q_c <- (1 - eta_c^2/eta_i) Q_c + (eta_c^2/eta_i) Q_i,
	 *  eta_c = min(eta_c, eta_i), then eta_c *= decay; ranks pull all
	 *  of it (ALL) or the entries they pushed (Partial). */
	DQ_MPI_DISTQL = 3,
} dq_mpi_policy;

/** The unit of tau. */
typedef enum dq_mpi_unit {
	DQ_MPI_STEPS = 0,    /**< Steps, summed over ranks, per rank. */
	DQ_MPI_EPISODES = 1, /**< Episodes, summed over ranks, per rank. */
	DQ_MPI_SECONDS = 2,  /**< Seconds of rank 0's clock. */
} dq_mpi_unit;

/** How the changed entries travel. */
typedef enum dq_mpi_exchange {
	/** Sparse (index, delta) lists when at most a quarter of the entries
	 *  changed over all ranks, a dense all-reduce otherwise. */
	DQ_MPI_EXCHANGE_AUTO = 0,
	DQ_MPI_EXCHANGE_SPARSE = 1, /**< Always MPI_Iallgatherv of lists. */
	DQ_MPI_EXCHANGE_DENSE = 2,  /**< Always MPI_Iallreduce of S x A. */
} dq_mpi_exchange;

/** Options of the layer between ranks (dq_mpi_config_init()). */
typedef struct dq_mpi_config {
	dq_mpi_policy policy;	  /**< Default DQ_MPI_AVERAGE. */
	double tau;		  /**< Sync period, > 0; default 1. */
	dq_mpi_unit unit;	  /**< Default DQ_MPI_SECONDS. */
	dq_mpi_exchange exchange; /**< Default DQ_MPI_EXCHANGE_AUTO. */
	bool partial;		  /**< distql: Partial pull (default ALL). */
	double eta;		  /**< distql: initial eta_c; default 0.5. */
	double eta_decay;	  /**< distql: eta_c factor per blend; 0.999. */
	/** Seconds a rank waits for the others in any exchange before it
	 *  gives up with DQ_EMPIPEER; default 10. */
	double timeout;
	/** Seconds between control rounds (stop agreement, counters);
	 *  default 0.005. */
	double poll;
	uint64_t reserved_[8]; /**< Zero. */
} dq_mpi_config;

/** A rank's handle on the job (opaque). */
typedef struct dq_mpi dq_mpi;

/** Where another rank's failure happened (dq_mpi_error()). */
typedef struct dq_mpi_error_info {
	int rank;	       /**< The rank that failed first; -1 when none. */
	dq_run_error error;    /**< Its learner's error (what is "step"...) */
	uint64_t reserved_[4]; /**< Zero. */
} dq_mpi_error_info;

/**
 * Fill @p cfg with the defaults: average every 1 s, automatic exchange,
 * distql eta 0.5 decay 0.999 ALL, timeout 10 s, control round 5 ms.
 * @return 0, or -EINVAL for NULL.
 * Thread-safety: safe. Ordering: none.
 */
DQ_API int dq_mpi_config_init(dq_mpi_config *cfg);

/**
 * Parse a policy spec in the grammar of the CLI's --share (docs/cli.md;
 * the programs parse it with cli/share.c, this is the library's reader of
 * the same spellings): NAME[:K=V...] with NAME average, delta, distql or
 * none, parameters separated by ':' or ','; tau=N (steps; distql:
 * episodes, as in the study), steps=N, episodes=N, seconds=S; the aliases
 * tau=Nep, tau=Ns and every=; exchange=auto|sparse|dense; all or partial
 * (distql); eta=, decay=, timeout=S. distq's epsilon-decay= (the
 * in-process DistQL's) is not a parameter between ranks.
 * @return 0, or -EINVAL for a NULL argument or a spec it cannot read
 *         (@p cfg is then unchanged).
 * Thread-safety: safe. Ordering: none.
 */
DQ_API int dq_mpi_config_parse(dq_mpi_config *cfg, const char *spec);

/**
 * Join the MPI job: MPI_Init_thread(MPI_THREAD_SERIALIZED) unless MPI is
 * already initialised (then the level given must be at least that), a
 * private duplicate of MPI_COMM_WORLD whose errors return (MPI_ERRORS_RETURN)
 * rather than abort.
 * @param argc, argv as given to main(), or NULL.
 * @return 0; -EINVAL for NULL @p out; -ENOMEM; DQ_EMPI when MPI fails or
 *         gives less than MPI_THREAD_SERIALIZED.
 * Thread-safety: once per process. Ordering: none.
 */
DQ_API int dq_mpi_init(dq_mpi **out, int *argc, char ***argv);

/**
 * Leave the job: MPI_Finalize() if dq_mpi_init() initialised MPI, unless a
 * peer was lost (then the job is ended with MPI_Abort(), which a finalize
 * would wait for forever). NULL is a no-op.
 * @return 0 or DQ_EMPI.
 * Thread-safety: not concurrently with anything on @p m. Ordering: none.
 */
DQ_API int dq_mpi_finalize(dq_mpi *m);

/**
 * End every rank of the job now with exit status @p code (MPI_Abort()).
 * For a program that cannot go on after DQ_EMPIPEER or an error.
 * Thread-safety: any thread. Ordering: none.
 */
DQ_API void dq_mpi_abort(dq_mpi *m, int code);

/** This process's rank, 0..size-1 (0 for NULL). Thread-safety: safe. */
DQ_API int dq_mpi_rank(const dq_mpi *m);
/** The number of ranks (1 for NULL). Thread-safety: safe. */
DQ_API int dq_mpi_size(const dq_mpi *m);

/**
 * Create this rank's learner for a job run with @p mc. With one rank it is
 * dq_learner_create() with @p cfg unchanged. With more, the learner gets
 * @p cfg but: max_steps and max_episodes count the sum over ranks of this
 * run's steps and episodes: each rank does its share, ceil(limit / R),
 * and a rank that is done waits for the others (its table still syncs),
 * so the sum is the limit, or up to R - 1 more when R does not divide it;
 * should_stop is wrapped (the caller's is still called);
 * the progress callback is called on rank 0 only, with the totals over
 * ranks; agent i of rank r uses random stream r x P + i of the seed, so
 * each rank draws from its own block of streams (the streams one learner
 * of R x P agents would use). Every rank must pass the same @p cfg and
 * @p mc, and a table of the same shape.
 * @return 0; -EINVAL for NULL or a bad @p mc; -EBUSY when @p m has a
 *         learner; what dq_learner_create() returns.
 * Thread-safety: the thread that called dq_mpi_init(). Ordering: none.
 */
DQ_API int dq_mpi_learner_create(dq_mpi *m, dq_learner **out, dq_table *t,
				 const dq_env *env,
				 const dq_learner_config *cfg,
				 const dq_mpi_config *mc);

/**
 * Run the learner made by dq_mpi_learner_create() on every rank together.
 * At the start every rank takes rank 0's table (a resumed rank 0 hands
 * its checkpoint to all). The run ends on every rank when any rank's
 * learner ends (time, target, should_stop, dq_learner_stop(), an agent
 * error) or the summed steps or episodes reach their limit; then, if a
 * rank reached the target, its passing table is given to every rank,
 * otherwise a last sync is made; every rank ends with the same reason.
 * @p res->total, run_steps and seconds are over all ranks (steps and
 * episodes summed, mean_return weighted by returns_n, seconds rank 0's).
 * @return 0 when the run ended by a stop condition; when an agent of some
 *         rank failed (@p res->reason DQ_STOP_ERROR, dq_mpi_error() names
 *         rank, agent and step), its error on that rank and DQ_EREMOTE on
 *         the others; -EINVAL; DQ_EMPIPEER when a
 *         rank did not answer within the timeout (dead or stuck: the
 *         program should dq_mpi_abort()); DQ_EMPI for an MPI error;
 *         what dq_learner_run() returns.
 * Thread-safety: the thread that called dq_mpi_init(); the learner's
 *                callbacks run on it, the MPI calls on the communication
 *                thread.
 * Ordering: the table a rank has when this returns includes the last
 *           sync's effect (the communication thread is joined).
 */
DQ_API int dq_mpi_run(dq_mpi *m, dq_run_result *res);

/**
 * The first failure of the last run over all ranks.
 * @return 0 and @p out filled (rank -1 when none), or -EINVAL.
 * Thread-safety: not during dq_mpi_run(). Ordering: none.
 */
DQ_API int dq_mpi_error(const dq_mpi *m, dq_mpi_error_info *out);

/**
 * The agents' states of every rank, rank by rank (rank r's agent i at
 * r x P + i), gathered to rank 0 for a checkpoint: after a run, their
 * final states; during a run of more than one rank (from the learner's
 * callbacks on rank 0: the progress callback), the states of the last
 * gather, and a request for the next one. The communication threads
 * gather at the start of each run and in the control round after each
 * request (a collective on the communication threads only: every agent
 * goes on, each state read by the learner's seqlock read), so a caller
 * that asks every S seconds gets states at most about S seconds old.
 * @param n out: R x P.
 * @return 0 on rank 0; -ENOENT on other ranks, before a run, or during
 *         one before the first gather arrived; -ERANGE when @p cap <
 *         R x P (@p n still set); -EINVAL.
 * Thread-safety: not concurrently with dq_mpi_learner_create() or
 *                dq_mpi_learner_destroy(); during dq_mpi_run() from the
 *                thread that runs it (its callbacks).
 * Ordering: the states were published by each agent (release) and read
 *           by its rank's communication thread (acquire, seqlock).
 */
DQ_API int dq_mpi_agent_states(const dq_mpi *m, dq_agent_state *out,
			       uint32_t cap, uint32_t *n);

/**
 * Give this rank's agents the states of a checkpoint written by a job of
 * the same world size and P (rank r takes states r x P .. r x P + P - 1).
 * With another R x P it restores nothing and says so through @p dropped:
 * the table alone is resumed (rank 0's, handed to all by dq_mpi_run()).
 * @param dropped out: states not restored (may be NULL).
 * @return 0; -EINVAL.
 * Thread-safety: before dq_mpi_run(). Ordering: none.
 */
DQ_API int dq_mpi_restore_agents(dq_mpi *m, const dq_agent_state *states,
				 uint32_t n, uint32_t *dropped);

/**
 * The learner of dq_mpi_learner_create(); destroy it with
 * dq_mpi_learner_destroy(). NULL when none.
 * Thread-safety: safe. Ordering: none.
 */
DQ_API dq_learner *dq_mpi_learner(const dq_mpi *m);

/** Destroy the learner of dq_mpi_learner_create() (NULL: no-op).
 *  Thread-safety: not during dq_mpi_run(). */
DQ_API void dq_mpi_learner_destroy(dq_mpi *m);

/** What the syncs of the last run (or of an attached table) cost. */
typedef struct dq_mpi_sync_stats {
	uint64_t syncs;	       /**< Syncs made. */
	uint64_t sparse;       /**< Of which exchanged as sparse lists. */
	double seconds;	       /**< Wall time in syncs, this rank. */
	double last_seconds;   /**< Of the last one. */
	uint64_t last_changed; /**< Entries the last one found changed,
				*   summed over ranks (average, delta). */
	uint64_t reserved_[4]; /**< Zero. */
} dq_mpi_sync_stats;

/**
 * The sync costs of the last run, or of the syncs of an attached table.
 * @return 0, or -EINVAL for NULL.
 * Thread-safety: not during dq_mpi_run(). Ordering: none.
 */
DQ_API int dq_mpi_sync_stats_get(const dq_mpi *m, dq_mpi_sync_stats *out);

/**
 * Attach a table to sync by hand, without a learner (a simulator that
 * owns its loop, a benchmark): collective; every rank takes rank 0's
 * table, which is the base of the first dq_mpi_table_sync().
 * @return 0; -EINVAL; -EBUSY when @p m has a learner; -ENOMEM;
 *         DQ_EMPIPEER; DQ_EMPI.
 * Thread-safety: the thread that called dq_mpi_init(), no run in
 *                progress; the table may be written by other threads.
 * Ordering: none.
 */
DQ_API int dq_mpi_table_attach(dq_mpi *m, dq_table *t, const dq_mpi_config *mc);

/**
 * One sync of the attached table by its policy (collective: every rank
 * calls it). Writes made meanwhile by other threads are kept (deltas).
 * @return 0; -EINVAL when no table is attached; -ENOMEM; DQ_EMPIPEER;
 *         DQ_EMPI.
 * Thread-safety: as dq_mpi_table_attach(). Ordering: none.
 */
DQ_API int dq_mpi_table_sync(dq_mpi *m);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* DISTQ_MPI_H */
