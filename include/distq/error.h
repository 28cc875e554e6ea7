/*
 * libdistq: error codes and their descriptions.
 *
 * Part of <distq.h>, which includes every part; this one may also be
 * included alone. The conventions are at the top of <distq.h>.
 */
#ifndef DISTQ_ERROR_H
#define DISTQ_ERROR_H

#include "api.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/** @defgroup errors Errors
 * Errors are negative errno values (-EINVAL, -ENOMEM, -ERANGE ...) or one
 * of the libdistq-specific codes below, all of which lie below
 * DQ_ERRNO_BASE so that they can never collide with a system errno.
 * @{ */

#define DQ_ERRNO_BASE (-1000) /**< Every libdistq-specific code is below. */
#define DQ_EABI (-1001)	      /**< Environment built for another ABI. */
#define DQ_EENV (-1002)	      /**< Environment broke its contract. */
#define DQ_EFORMAT (-1003)    /**< File is not a libdistq file. */
#define DQ_EVERSION (-1004)   /**< File has an unsupported version. */
#define DQ_ETRUNC (-1005)     /**< File is truncated. */
#define DQ_ECORRUPT \
	(-1006)		     /**< File fails a checksum or its fields
			       *   contradict each other. */
#define DQ_EMISMATCH (-1007) /**< File is for another env/shape/rule. */
#define DQ_EPIN (-1008)	     /**< Strict pinning was asked and failed. */
/** A write's result would not be finite (inf or NaN): refused, the entry
 *  left as it was. The table never holds a non-finite value. */
#define DQ_ENONFINITE (-1009)
/** A file holds a non-finite value where a finite one is required (its
 *  checksums may match: it was not written by libdistq's save). */
#define DQ_EFILEVALUE (-1010)
/** Path is not a regular file (a device, FIFO or socket): never read or
 *  replaced. */
#define DQ_ENOTREG (-1011)
/** The topology is not this machine's (HWLOC_SYNTHETIC or HWLOC_XMLFILE
 *  is set): a thread cannot be bound to its PUs. */
#define DQ_ENOTHISSYS (-1013)
/** A binding did not take effect: the OS reports another CPU set. */
#define DQ_EAFFINITY (-1014)
/** The learning rule (dq_agent_config.rule) cannot run as configured: it
 *  writes more entries per step than a write-back window (sync_every)
 *  holds, needs table channels (dq_table_config.channels) or visit
 *  counts (dq_agent_config.omega) the table lacks, or is on-policy and
 *  was given experience replay or a target table. */
#define DQ_ERULE (-1015)
/** libdistq-mpi: a rank did not answer within the timeout (it died or is
 *  stuck); the job cannot go on. */
#define DQ_EMPIPEER (-1019)
/** libdistq-mpi: an MPI call failed, or MPI lacks the thread level. */
#define DQ_EMPI (-1020)
/** libdistq-mpi: another rank failed (dq_mpi_error() names it). */
#define DQ_EREMOTE (-1021)

/**
 * Describe an error code.
 *
 * @param err a value returned by a libdistq function (0 or negative).
 * @return a static, human-readable string; never NULL. Unknown codes give
 *         "unknown error".
 * Thread-safety: safe from any thread (does not use strerror()'s buffer).
 * Ordering: none.
 */
DQ_API const char *dq_strerror(int err);

/**
 * What exactly was wrong, for the most recent failed call in this thread
 * that could say more than its error code: which parameter key and why
 * ("slip: '0,1' is not a number", "key 'slip' appears twice"), or what is
 * wrong with a file ("a FIFO, not a regular file", "the header announces
 * 8000000436 bytes, the file has 436").
 *
 * The functions that record a detail say so in their documentation
 * (dq_params_*(), dq_env_open(), dq_env_open_name(), dq_checkpoint_*(),
 * dq_model_create(), and the config checks of dq_table_create(),
 * dq_agent_config_check(), dq_agent_create(), dq_agent_share_create(),
 * dq_share_config_check(), dq_tiles_create() and dq_learner_create(),
 * whose every -EINVAL names the field and the rule it breaks: "agent.alpha.start 2
 * is outside (0, 1]", "n_threads 0 is outside [1, 4096]", "the env has
 * 500 states, the table 16", "reserved_[2] is not zero ...").
 * Each of them clears it when called and records one only when it fails,
 * so right after such a call fails the detail belongs to it; other calls
 * leave it as it was. Reading it does not clear it.
 *
 * @return a string in thread-local storage, valid until the thread's next
 *         call of a function that records details; NULL when there is none.
 * Thread-safety: safe from any thread; each thread has its own detail.
 * Ordering: none.
 */
DQ_API const char *dq_error_detail(void);

/** @} */

#ifdef __cplusplus
}
#endif
#endif /* DISTQ_ERROR_H */
