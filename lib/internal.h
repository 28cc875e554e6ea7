/*
 * Private declarations shared by lib/ files. Never installed. Internal
 * non-static names start with dq__.
 */
#ifndef DQ_INTERNAL_H
#define DQ_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "distq.h"

#define DQ__UNUSED(x) ((void)(x))

#if defined(__GNUC__)
#define DQ__LIKELY(x) __builtin_expect(!!(x), 1)
#define DQ__UNLIKELY(x) __builtin_expect(!!(x), 0)
#define DQ__INLINE static inline __attribute__((always_inline))
#define DQ__COLD __attribute__((cold, noinline))
#else
#define DQ__LIKELY(x) (x)
#define DQ__UNLIKELY(x) (x)
#define DQ__INLINE static inline
#define DQ__COLD
#endif

/* a * b into *out; returns 1 (and leaves *out) on size_t overflow. */
static inline int
dq__mul_overflows(size_t a, size_t b, size_t *out)
{
	if (a != 0 && b > SIZE_MAX / a)
		return 1;
	*out = a * b;
	return 0;
}

/* Whether the reserved words of a public struct are all zero (the top
 * of distq.h, "Growing structs": a struct the library reads with non-zero
 * reserved words is refused). */
static inline int
dq__zero_words(const uint64_t *w, size_t n)
{
	uint64_t any = 0;

	for (size_t i = 0; i < n; i++)
		any |= w[i];
	return any == 0;
}
#define DQ__RESERVED_ZERO(s)           \
	dq__zero_words((s)->reserved_, \
		       sizeof((s)->reserved_) / sizeof((s)->reserved_[0]))

#include <pthread.h>

/* The learner's thread-creation hook (pthread_create; tests inject
 * failures). Not thread-safe to change while a learner runs. */
typedef int (*dq__thread_create_fn)(pthread_t *, const pthread_attr_t *,
				    void *(*)(void *), void *);
extern dq__thread_create_fn dq__thread_create;

/* The agent threads' binding hook (dq__topo_bind_thread; tests refuse
 * bindings with it). The topology is opaque here. */
struct dq__topo;
typedef int (*dq__bind_thread_fn)(struct dq__topo *, unsigned);
extern dq__bind_thread_fn dq__bind_thread;

/* Whether agent 0 runs on the thread that calls dq_learner_run() (true;
 * tests turn it off to test the monitor alone, the path a learner with
 * an evaluator takes). Not to be changed while a learner runs. */
extern bool dq__learner_caller_agent;

/* The topology learners plan on (dq__topo_system; tests hand them a
 * synthetic machine, so that plans are checked on every machine). */
typedef struct dq__topo *(*dq__learner_topo_fn)(void);
extern dq__learner_topo_fn dq__learner_topo;

/* dq_rng_below(rng, n) == 0, out of line: a tie found while scanning a row
 * for its greedy action. Kept out of the scan so that the rare draw does not
 * make every scan save and restore the registers it needs. */
DQ__COLD bool dq__rng_one_in(dq_rng *rng, uint32_t n);

/* dq_model_check_policy() in a caller's workspace of at least
 * dq__model_check_ws_bytes(m) bytes, suitably aligned for size_t, with
 * arguments already checked: allocates nothing. */
size_t dq__model_check_ws_bytes(const dq_model *m);
int dq__model_check_policy_ws(const dq_model *m, const double *q_star,
			      const uint32_t *policy, double tol, void *ws,
			      double *frac);

/* Record what dq_error_detail() returns in this thread (printf-style,
 * numbers in the "C" locale), or clear it. */
#if defined(__GNUC__)
__attribute__((format(printf, 1, 2)))
#endif
void
dq__detail(const char *fmt, ...);
void dq__detail_clear(void);
/* Put @p prefix before the recorded detail ("agent." before "alpha..."):
 * a caller naming the struct that holds the field. */
void dq__detail_prefix(const char *prefix);
/* 0 when the @p n words at @p w are zero; else -EINVAL with the detail
 * "<what>reserved_[i] is not zero ...". */
int dq__reserved_check(const uint64_t *w, size_t n, const char *what);
#define DQ__RESERVED_CHECK(s, what)                                            \
	dq__reserved_check((s)->reserved_,                                     \
			   sizeof((s)->reserved_) / sizeof((s)->reserved_[0]), \
			   what)

/* strtod() in the "C" locale whatever the thread's or process's locale:
 * "0.1" is one tenth under de_DE too. Sets errno as strtod() does. */
double dq__strtod_c(const char *s, char **end);

/* Advance @rng by 2^128 draws: stream k+1 from stream k in O(1) jumps. */
void dq__rng_jump(dq_rng *rng);

/* A learner's parts, for checkpoints (lib/checkpoint.c): its table, the
 * agents' configuration as given, its agent count, agent i, and whether
 * no run is in progress. */
struct dq_agent;
dq_table *dq__learner_table(const dq_learner *l);
const dq_agent_config *dq__learner_agent_config(const dq_learner *l);
uint32_t dq__learner_size(const dq_learner *l);
struct dq_agent *dq__learner_agent(const dq_learner *l, uint32_t i);
bool dq__learner_idle(const dq_learner *l);

#endif /* DQ_INTERNAL_H */
