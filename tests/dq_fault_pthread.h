/*
 * tests/dq_fault_pthread.h - make the library's pthread set-up calls fail
 * on demand.
 *
 * A suite that includes this header (in one file) must be linked with
 * PTHREAD_WRAP (see the Makefile): every call to pthread_mutex_init,
 * pthread_cond_init, pthread_barrier_init and pthread_create made from the
 * suite or from libdistq.a's objects then lands in the __wrap_* functions
 * below, which pass it on unless the call is the one armed to fail. Calls
 * inside shared libraries are not redirected.
 */
#ifndef DQ_FAULT_PTHREAD_H
#define DQ_FAULT_PTHREAD_H

#include <pthread.h>
#include <stdbool.h>

/* The calls that can be failed. */
enum dq_fp_kind {
	DQ_FP_MUTEX,   /* pthread_mutex_init */
	DQ_FP_COND,    /* pthread_cond_init */
	DQ_FP_BARRIER, /* pthread_barrier_init */
	DQ_FP_CREATE,  /* pthread_create */
	DQ_FP_N
};

int __real_pthread_mutex_init(pthread_mutex_t *m, const pthread_mutexattr_t *a);
int __real_pthread_cond_init(pthread_cond_t *c, const pthread_condattr_t *a);
int __real_pthread_barrier_init(pthread_barrier_t *b,
				const pthread_barrierattr_t *a, unsigned n);
int __real_pthread_create(pthread_t *t, const pthread_attr_t *a,
			  void *(*fn)(void *), void *arg);
int __wrap_pthread_mutex_init(pthread_mutex_t *m, const pthread_mutexattr_t *a);
int __wrap_pthread_cond_init(pthread_cond_t *c, const pthread_condattr_t *a);
int __wrap_pthread_barrier_init(pthread_barrier_t *b,
				const pthread_barrierattr_t *a, unsigned n);
int __wrap_pthread_create(pthread_t *t, const pthread_attr_t *a,
			  void *(*fn)(void *), void *arg);

/* Statically initialised: taking it never calls a wrapped function. */
static pthread_mutex_t dq_fp_mu = PTHREAD_MUTEX_INITIALIZER;
static struct {
	bool armed;
	unsigned long calls;   /* calls of this kind while armed */
	unsigned long fail_at; /* 1-based; 0 = none */
	int err;	       /* what the failed call returns */
} dq_fp[DQ_FP_N];

/* Fail the @fail_at-th call of @kind from now on with @err; count calls. */
static inline void
dq_fp_arm(enum dq_fp_kind kind, unsigned long fail_at, int err)
{
	pthread_mutex_lock(&dq_fp_mu);
	dq_fp[kind].armed = true;
	dq_fp[kind].calls = 0;
	dq_fp[kind].fail_at = fail_at;
	dq_fp[kind].err = err;
	pthread_mutex_unlock(&dq_fp_mu);
}

/* Stop failing @kind; returns its calls while armed. */
static inline unsigned long
dq_fp_disarm(enum dq_fp_kind kind)
{
	unsigned long n;

	pthread_mutex_lock(&dq_fp_mu);
	dq_fp[kind].armed = false;
	n = dq_fp[kind].calls;
	pthread_mutex_unlock(&dq_fp_mu);
	return n;
}

/* 0 to go ahead, else the error this call returns. */
static inline int
dq_fp_hit(enum dq_fp_kind kind)
{
	int err = 0;

	pthread_mutex_lock(&dq_fp_mu);
	if (dq_fp[kind].armed && ++dq_fp[kind].calls == dq_fp[kind].fail_at)
		err = dq_fp[kind].err;
	pthread_mutex_unlock(&dq_fp_mu);
	return err;
}

int
__wrap_pthread_mutex_init(pthread_mutex_t *m, const pthread_mutexattr_t *a)
{
	int err = dq_fp_hit(DQ_FP_MUTEX);

	return err ? err : __real_pthread_mutex_init(m, a);
}

int
__wrap_pthread_cond_init(pthread_cond_t *c, const pthread_condattr_t *a)
{
	int err = dq_fp_hit(DQ_FP_COND);

	return err ? err : __real_pthread_cond_init(c, a);
}

int
__wrap_pthread_barrier_init(pthread_barrier_t *b,
			    const pthread_barrierattr_t *a, unsigned n)
{
	int err = dq_fp_hit(DQ_FP_BARRIER);

	return err ? err : __real_pthread_barrier_init(b, a, n);
}

int
__wrap_pthread_create(pthread_t *t, const pthread_attr_t *a,
		      void *(*fn)(void *), void *arg)
{
	int err = dq_fp_hit(DQ_FP_CREATE);

	return err ? err : __real_pthread_create(t, a, fn, arg);
}

#endif
