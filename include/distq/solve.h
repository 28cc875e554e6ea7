/*
 * libdistq: models and exact solutions.
 *
 * Part of <distq.h>, which includes every part; this one may also be
 * included alone. The conventions are at the top of <distq.h>.
 */
#ifndef DISTQ_SOLVE_H
#define DISTQ_SOLVE_H

#include <stddef.h>
#include <stdint.h>
#include "api.h"
#include "env.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/** @defgroup solve Models and exact solutions
 * A dq_model is an environment's exported transition model, copied once
 * into compact arrays. The solver works on it alone: value iteration for
 * Q* and V*, exact evaluation of a policy, and how much of the start
 * distribution a policy is optimal from.
 * @{ */

/** An environment's transition model (opaque, immutable once built). */
typedef struct dq_model dq_model;

/** Solver options; fill with dq_solve_config_init(). */
typedef struct dq_solve_config {
	double gamma;	       /**< Discount in [0,1]. Default 0.95. */
	double tolerance;      /**< Stop when a sweep changes no value by
			       *   more than this (or by more than
			       *   16 ulps of it, below which floating-point
			       *   iteration can cycle). Default 1e-12. */
	uint64_t max_sweeps;   /**< Give up after this many (-ETIMEDOUT).
			       *   Default 10^7. */
	uint32_t n_threads;    /**< Threads for large models; 0 = one per
			       *   core when the model is large. */
	uint64_t reserved_[4]; /**< Zero (see "Growing structs"). */
} dq_solve_config;

/**
 * Fill @p cfg with defaults (gamma 0.95, tolerance 1e-12, 10^7 sweeps,
 * automatic threads).
 *
 * @return 0, or -EINVAL for NULL.
 * Thread-safety: safe from any thread.
 * Ordering: none.
 */
DQ_API int dq_solve_config_init(dq_solve_config *cfg);

/**
 * Copy the model of @p env (all outcomes and the start distribution),
 * checking it: probabilities positive and summing to 1 within 1e-9 for
 * every (s,a), next states in range, rewards finite.
 *
 * @return 0; -EINVAL for NULL pointers; -ENOTSUP when @p env exports no
 *         model; DQ_EENV for an invalid model; -ENOMEM, also before
 *         allocating anything when the model needs more than the
 *         machine's physical memory (dq_error_detail() says how much).
 * Thread-safety: safe from any thread.
 * Ordering: none.
 */
DQ_API int dq_model_create(dq_model **out, const dq_env *env);

/**
 * Free a model. NULL is a no-op.
 *
 * Thread-safety: not concurrently with any use of @p m.
 * Ordering: none.
 */
DQ_API void dq_model_destroy(dq_model *m);

/**
 * Value iteration to the optimum.
 *
 * @param q receives Q*, S x A row-major (NULL to skip; else nq >= S*A).
 * @param v receives V* (NULL to skip; else nv >= S).
 * @param policy receives a greedy optimal policy, lowest index on ties
 *        within 1e-9 (NULL to skip; else np >= S).
 * @param sweeps receives the number of sweeps made (NULL to skip).
 * @return 0; -EINVAL for NULL @p m or @p cfg, a
 *         bad gamma or tolerance, max_sweeps of 0, n_threads above
 *         DQ_MAX_THREADS, non-zero reserved words, or too small arrays;
 *         -ETIMEDOUT when max_sweeps
 *         pass first (gamma 1 with improper policies); -ERANGE when values
 *         overflow to infinity; -ENOMEM.
 * Thread-safety: safe from any thread; @p m may be shared.
 * Ordering: none.
 */
DQ_API int dq_model_solve(const dq_model *m, const dq_solve_config *cfg,
			  double *q, size_t nq, double *v, size_t nv,
			  uint32_t *policy, size_t np, uint64_t *sweeps);

/**
 * Evaluate a deterministic policy exactly (to cfg->tolerance).
 *
 * @param policy S actions.
 * @param v receives V^pi (nv >= S).
 * @param start_value receives the expectation of V^pi under the start
 *        distribution (may be NULL).
 * At gamma 1 the policy is first checked for improper loops (see
 * dq_model_find_improper()): one that would collect reward forever fails
 * at once with -EDOM instead of iterating until max_sweeps.
 *
 * @param sweeps receives the number of sweeps made (NULL to skip).
 * @return 0; -EINVAL; -ERANGE for an action out
 *         of range or values overflowing to infinity; -EDOM at gamma 1 when
 *         the policy never ends from some state and collects nonzero
 *         reward there (dq_model_find_improper() names such a state);
 *         -ETIMEDOUT; -ENOMEM.
 * Thread-safety: safe from any thread.
 * Ordering: none.
 */
DQ_API int dq_model_evaluate(const dq_model *m, const dq_solve_config *cfg,
			     const uint32_t *policy, size_t np, double *v,
			     size_t nv, double *start_value, uint64_t *sweeps);

/**
 * Evaluate the uniformly random policy (every action with probability
 * 1/A) exactly, to cfg->tolerance: the baseline for how far a policy has
 * come (dq_model_evaluate() takes deterministic policies only). One
 * thread; cfg->n_threads is ignored. At gamma 1 it fails at once with
 * -EDOM when the random walk collects reward in a loop it never leaves.
 *
 * @param v receives V^random (nv >= S); untouched on failure.
 * @param start_value receives its expectation under the start
 *        distribution (may be NULL).
 * @param sweeps receives the number of sweeps made (NULL to skip).
 * @return 0; -EINVAL; -EDOM; -ERANGE when values overflow to infinity;
 *         -ETIMEDOUT; -ENOMEM.
 * Thread-safety: safe from any thread.
 * Ordering: none.
 */
DQ_API int dq_model_evaluate_random(const dq_model *m,
				    const dq_solve_config *cfg, double *v,
				    size_t nv, double *start_value,
				    uint64_t *sweeps);

/**
 * Find a state where @p policy collects reward forever: at gamma 1, the
 * one discount at which this matters, such a state has no finite value.
 * The states from which the policy cannot reach a terminating outcome
 * (a search over its positive-probability transitions, backwards from the
 * terminating ones) form a closed set; the chain started there ends in a
 * loop it never leaves (a bottom strongly connected component). A state of
 * such a loop with nonzero expected reward is reported. A loop of zero
 * reward (walking into a wall in frozenlake) is worth exactly 0 and is not
 * reported; neither is a state that only passes through on its way to one.
 * Linear time in S and the policy's outcomes, whatever the start
 * distribution (unreachable states count too).
 *
 * @param state receives such a state when one is found (may be NULL).
 * @return 0 when the policy's value is finite from every state at
 *         gamma 1; -EDOM when it is not (*state set); -EINVAL for NULL
 *         @p m or @p policy or @p np < S; -ERANGE for an action out of
 *         range; -ENOMEM.
 * Thread-safety: safe from any thread.
 * Ordering: none.
 */
DQ_API int dq_model_find_improper(const dq_model *m, const uint32_t *policy,
				  size_t np, uint32_t *state);

/**
 * Expectation of @p v under the start distribution.
 *
 * @return 0, or -EINVAL.
 * Thread-safety: safe from any thread.
 * Ordering: none.
 */
DQ_API int dq_model_start_value(const dq_model *m, const double *v, size_t nv,
				double *out);

/**
 * Fraction of the start-state probability on which V^pi is within @p tol
 * of V* (both as computed by dq_model_evaluate() and dq_model_solve()).
 *
 * @return 0, or -EINVAL for NULL pointers, short arrays or a negative tol.
 * Thread-safety: safe from any thread.
 * Ordering: none.
 */
DQ_API int dq_model_optimal_fraction(const dq_model *m, const double *v_star,
				     const double *v_pi, size_t n, double tol,
				     double *frac);

/**
 * A fast, conservative optimality check, for use while learning: the
 * fraction of start-state probability from which @p policy reaches (with
 * positive probability) only states where its action is within @p tol of
 * optimal under @p q_star. Such a policy is optimal from those states (for
 * gamma < 1), so the result never exceeds the exact fraction by more than
 * what tol allows. Linear in the model's size; no iteration.
 *
 * @return 0; -EINVAL for NULL pointers or short arrays; -ERANGE for an
 *         action out of range; -ENOMEM.
 * Thread-safety: safe from any thread.
 * Ordering: none.
 */
DQ_API int dq_model_check_policy(const dq_model *m, const double *q_star,
				 size_t nq, const uint32_t *policy, size_t np,
				 double tol, double *frac);

/**
 * The shape of @p m.
 *
 * @return 0, or -EINVAL.
 * Thread-safety: safe from any thread.
 * Ordering: none.
 */
DQ_API int dq_model_shape(const dq_model *m, uint32_t *n_states,
			  uint32_t *n_actions);

/** @} */

#ifdef __cplusplus
}
#endif
#endif /* DISTQ_SOLVE_H */
