/* tests/test_table.c - the shared Q-table (lib/table.c, lib/table.h). */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>

#include "dq_fault_pthread.h"
#include "dq_test.h"
#include "jet.h"

static void
test_create_invalid(void **state)
{
	dq_table_config c;
	dq_table *t = (dq_table *)0x1;

	(void)state;
	assert_int_equal(dq_table_config_init(NULL), -EINVAL);
	dq_table_config_init(&c);
	assert_int_equal(dq_table_create(&t, &c), -EINVAL); /* S = A = 0 */
	c.n_states = 4;
	assert_int_equal(dq_table_create(&t, &c), -EINVAL); /* A = 0 */
	c.n_actions = 2;
	assert_int_equal(dq_table_create(NULL, &c), -EINVAL);
	assert_int_equal(dq_table_create(&t, NULL), -EINVAL);
	c.mode = (dq_mode)7;
	assert_int_equal(dq_table_create(&t, &c), -EINVAL);
	c.mode = DQ_MODE_CAS;
	c.q0 = NAN;
	assert_int_equal(dq_table_create(&t, &c), -EINVAL);
	c.q0 = INFINITY;
	assert_int_equal(dq_table_create(&t, &c), -EINVAL);
	c.q0 = 0;
	c.n_stripes = 1u << 30;
	assert_int_equal(dq_table_create(&t, &c), -EINVAL);
	/* S x A x 8 bytes overflows size_t, or is too large to allocate. */
	c.n_stripes = 0;
	c.n_states = UINT32_MAX;
	c.n_actions = UINT32_MAX;
	int err = dq_table_create(&t, &c);
	assert_true(err == -ERANGE || err == -ENOMEM);
	assert_ptr_equal(t, (dq_table *)0x1); /* untouched on failure */
	dq_table_destroy(NULL);
}

static void
test_q0_and_info(void **state)
{
	dq_table_info info;
	double v, row[3];

	(void)state;
	for (int pad = 0; pad < 2; pad++) {
		dq_table *t = dq_test_table(5, 3, DQ_MODE_CAS, 2.5, pad);

		assert_int_equal(dq_table_info_get(t, &info), 0);
		assert_int_equal(info.n_states, 5);
		assert_int_equal(info.n_actions, 3);
		assert_int_equal(info.row_stride, pad ? 8 : 3);
		assert_int_equal(info.bytes, 5 * info.row_stride * 8);
		for (uint32_t s = 0; s < 5; s++) {
			assert_int_equal(dq_table_row(t, s, row, 3), 0);
			for (int a = 0; a < 3; a++)
				assert_true(row[a] == 2.5);
		}
		assert_int_equal(dq_table_get(t, 4, 2, &v), 0);
		assert_true(v == 2.5);
		assert_int_equal(dq_table_info_get(t, NULL), -EINVAL);
		assert_int_equal(dq_table_info_get(NULL, &info), -EINVAL);
		dq_table_destroy(t);
	}
}

static void
test_range_errors(void **state)
{
	dq_table *t = dq_test_table(4, 2, DQ_MODE_CAS, 0, false);
	double v, row[2];
	uint32_t a, pol[4];

	(void)state;
	assert_int_equal(dq_table_get(t, 4, 0, &v), -ERANGE);
	assert_int_equal(dq_table_get(t, 0, 2, &v), -ERANGE);
	assert_int_equal(dq_table_get(t, 0, 0, NULL), -EINVAL);
	assert_int_equal(dq_table_get(NULL, 0, 0, &v), -EINVAL);
	assert_int_equal(dq_table_set(t, 4, 0, 1), -ERANGE);
	assert_int_equal(dq_table_set(t, 0, 0, NAN), -EINVAL);
	assert_int_equal(dq_table_row(t, 9, row, 2), -ERANGE);
	assert_int_equal(dq_table_row(t, 0, row, 1), -EINVAL);
	assert_int_equal(dq_table_row(t, 0, NULL, 2), -EINVAL);
	assert_int_equal(dq_table_max(t, 4, &v), -ERANGE);
	assert_int_equal(dq_table_max(t, 0, NULL), -EINVAL);
	assert_int_equal(dq_table_greedy(t, 4, NULL, &a), -ERANGE);
	assert_int_equal(dq_table_greedy(t, 0, NULL, NULL), -EINVAL);
	assert_int_equal(dq_table_update(t, 0, 0, 0.0, 1), -EINVAL);
	assert_int_equal(dq_table_update(t, 0, 0, 1.5, 1), -EINVAL);
	assert_int_equal(dq_table_update(t, 0, 0, NAN, 1), -EINVAL);
	assert_int_equal(dq_table_update(t, 0, 0, 0.5, INFINITY), -EINVAL);
	assert_int_equal(dq_table_update(t, 0, 2, 0.5, 1), -ERANGE);
	assert_int_equal(dq_table_update(NULL, 0, 0, 0.5, 1), -EINVAL);
	assert_int_equal(dq_table_add(t, 4, 0, 1), -ERANGE);
	assert_int_equal(dq_table_add(t, 0, 0, NAN), -EINVAL);
	assert_int_equal(dq_table_fill(t, NAN), -EINVAL);
	assert_int_equal(dq_table_fill(NULL, 0), -EINVAL);
	assert_int_equal(dq_table_snapshot(t, row, 2), -EINVAL);
	assert_int_equal(dq_table_snapshot(t, NULL, 8), -EINVAL);
	assert_int_equal(dq_table_load(t, NULL, 8), -EINVAL);
	assert_int_equal(dq_table_policy(t, pol, 3), -EINVAL);
	assert_int_equal(dq_table_policy(NULL, pol, 4), -EINVAL);
	dq_table_destroy(t);
}

static void
test_update_math(void **state)
{
	const dq_mode modes[] = {DQ_MODE_CAS, DQ_MODE_HOGWILD, DQ_MODE_LOCKED};
	double v;

	(void)state;
	for (int m = 0; m < 3; m++) {
		dq_table *t = dq_test_table(3, 2, modes[m], 1.0, false);

		assert_int_equal(dq_table_update(t, 1, 1, 0.5, 3.0), 0);
		assert_int_equal(dq_table_get(t, 1, 1, &v), 0);
		assert_true(v == 2.0);
		assert_int_equal(dq_table_update(t, 1, 1, 1.0, -4.0), 0);
		dq_table_get(t, 1, 1, &v);
		assert_true(v == -4.0);
		assert_int_equal(dq_table_add(t, 1, 1, 1.5), 0);
		dq_table_get(t, 1, 1, &v);
		assert_true(v == -2.5);
		/* Neighbours untouched. */
		dq_table_get(t, 1, 0, &v);
		assert_true(v == 1.0);
		dq_table_get(t, 2, 1, &v);
		assert_true(v == 1.0);
		/* An update to the same value is a no-op. */
		assert_int_equal(dq_table_update(t, 0, 0, 0.1, 1.0), 0);
		dq_table_get(t, 0, 0, &v);
		assert_true(v == 1.0);
		dq_table_destroy(t);
	}
}

static void
test_greedy_and_ties(void **state)
{
	dq_table *t = dq_test_table(2, 4, DQ_MODE_CAS, 0.0, true);
	unsigned hits[4] = {0};
	uint32_t a, pol[2];
	dq_rng rng;
	double v;

	(void)state;
	dq_rng_seed(&rng, 42, 0);
	/* All tied: lowest index without an rng, uniform with one. */
	assert_int_equal(dq_table_greedy(t, 0, NULL, &a), 0);
	assert_int_equal(a, 0);
	for (int i = 0; i < 40000; i++) {
		dq_table_greedy(t, 0, &rng, &a);
		assert_true(a < 4);
		hits[a]++;
	}
	for (int i = 0; i < 4; i++)
		assert_true(hits[i] > 9000 && hits[i] < 11000);
	/* Two tied maxima among four. */
	dq_table_set(t, 1, 1, 5.0);
	dq_table_set(t, 1, 3, 5.0);
	dq_table_set(t, 1, 2, -1.0);
	memset(hits, 0, sizeof(hits));
	for (int i = 0; i < 20000; i++) {
		dq_table_greedy(t, 1, &rng, &a);
		hits[a]++;
	}
	assert_int_equal(hits[0] + hits[2], 0);
	assert_true(hits[1] > 9000 && hits[3] > 9000);
	dq_table_greedy(t, 1, NULL, &a);
	assert_int_equal(a, 1);
	assert_int_equal(dq_table_max(t, 1, &v), 0);
	assert_true(v == 5.0);
	assert_int_equal(dq_table_policy(t, pol, 2), 0);
	assert_int_equal(pol[0], 0);
	assert_int_equal(pol[1], 1);
	dq_table_destroy(t);
}

static void
test_snapshot_load_fill(void **state)
{
	dq_table *t = dq_test_table(3, 3, DQ_MODE_HOGWILD, 0.0, true);
	double in[9], out[9];

	(void)state;
	for (int i = 0; i < 9; i++)
		in[i] = i * 1.25 - 3;
	assert_int_equal(dq_table_load(t, in, 9), 0);
	assert_int_equal(dq_table_snapshot(t, out, 9), 0);
	assert_memory_equal(in, out, sizeof(in));
	/* A non-finite value anywhere leaves the table unchanged. */
	in[8] = NAN;
	assert_int_equal(dq_table_load(t, in, 9), -EINVAL);
	dq_table_snapshot(t, out, 9);
	assert_true(out[0] == -3 && out[8] == 7);
	assert_int_equal(dq_table_fill(t, 0.5), 0);
	dq_table_snapshot(t, out, 9);
	for (int i = 0; i < 9; i++)
		assert_true(out[i] == 0.5);
	dq_table_destroy(t);
}

/* ---- concurrency: cas loses nothing ------------------------------------ */

/*
 * The race window of the test build (lib/jet.h): while set, each writer
 * yields between reading an entry and publishing its new value at every
 * `period`th update, so that other writers run inside the window. A
 * read-modify-write that is not atomic then loses updates in nearly every
 * run (a CAS turned into a plain store: tens of thousands lost per run),
 * where without the window it lost one once in a while.
 */
static void
race_window(uint32_t period)
{
	/* relaxed: set before the writer threads are created */
	atomic_store_explicit(&dq__jet_race_period, period,
			      memory_order_relaxed);
}

/*
 * A writer thread. It never asserts (a cmocka assertion in another thread
 * longjmps into the wrong stack): it stops at the first error and the main
 * thread reports it.
 */
struct adder {
	dq_table *t;
	uint32_t entries; /* round robin over the first `entries` */
	int own;	  /* >= 0: only this entry */
	unsigned long iters;
	int use_update;
	unsigned long retries;
	int err;	    /* first error returned, 0 if none */
	unsigned long done; /* updates made */
};

static void *
adder_main(void *arg)
{
	struct adder *ad = arg;

	for (unsigned long i = 0; i < ad->iters; i++) {
		uint32_t e = ad->own >= 0 ? (uint32_t)ad->own
					  : (uint32_t)(i % ad->entries);
		int r = ad->use_update ? dq_table_update(ad->t, e, 0, 0.5, 0.0)
				       : dq_table_add(ad->t, e / 2, e % 2, 1.0);

		/* 0 on success, never a count (the natural if (err) works) */
		if (r != 0) {
			ad->err = r;
			break;
		}
		ad->retries += (unsigned long)r;
		ad->done++;
	}
	return NULL;
}

/* own: thread i writes entry i only; else all share `entries`. */
static void
run_adders_own(dq_table *t, int threads, unsigned long iters, uint32_t entries,
	       int use_update, bool own, unsigned long *retries)
{
	pthread_t th[8];
	struct adder ad[8];

	*retries = 0;
	for (int i = 0; i < threads; i++) {
		ad[i] = (struct adder){
		    t, entries, own ? i : -1, iters, use_update, 0, 0, 0};
		assert_int_equal(
		    pthread_create(&th[i], NULL, adder_main, &ad[i]), 0);
	}
	for (int i = 0; i < threads; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < threads; i++) {
		if (ad[i].err)
			fail_msg(
			    "writer %d: update %lu of %lu returned %d (%s)", i,
			    ad[i].done + 1, iters, ad[i].err,
			    dq_strerror(ad[i].err));
		*retries += ad[i].retries;
	}
}

static void
run_adders(dq_table *t, int threads, unsigned long iters, uint32_t entries,
	   int use_update, unsigned long *retries)
{
	run_adders_own(t, threads, iters, entries, use_update, false, retries);
}

/*
 * P threads add 1.0 to the same 4 entries. Sums of small integers are exact
 * in double, so a single lost update shows as a wrong total. The race
 * window opens at every 8th add.
 */
static void
test_cas_add_exact(void **state)
{
	const unsigned long iters = 200000 * dq_test_stress();
	const int threads = 4;
	unsigned long retries;
	dq_table *t = dq_test_table(2, 2, DQ_MODE_CAS, 0.0, false);
	double v, sum = 0;

	(void)state;
	race_window(8);
	run_adders(t, threads, iters, 4, 0, &retries);
	race_window(0);
	for (uint32_t s = 0; s < 2; s++)
		for (uint32_t a = 0; a < 2; a++) {
			dq_table_get(t, s, a, &v);
			if (v != (double)(threads * iters / 4))
				fail_msg("entry (%u, %u): %.0f, expected %lu "
					 "(updates lost)",
					 s, a, v, threads * iters / 4);
			sum += v;
		}
	assert_true(sum == (double)(threads * iters));
	dq_table_destroy(t);
}

/*
 * The TD update itself: alpha 0.5 towards 0 halves the entry, exactly, so
 * after N updates in total from 1.0 the entry is 2^-N. Lost updates leave
 * it larger. N stays below 1074 (the smallest subnormal). The race window
 * opens at every update.
 */
static void
test_cas_update_exact(void **state)
{
	const int threads = 4;
	const unsigned long per = 250;
	unsigned long retries;
	double v;

	(void)state;
	race_window(1);
	for (unsigned long rep = 0; rep < 20 * dq_test_stress(); rep++) {
		dq_table *t = dq_test_table(1, 1, DQ_MODE_CAS, 1.0, false);

		run_adders(t, threads, per, 1, 1, &retries);
		dq_table_get(t, 0, 0, &v);
		if (v != ldexp(1.0, -(int)(threads * per))) {
			race_window(0);
			fail_msg("rep %lu: 2^%d, expected 2^-%lu (updates "
				 "lost)",
				 rep, ilogb(v), threads * per);
		}
		dq_table_destroy(t);
	}
	race_window(0);
}

/* Locked mode is exact too (it is the mutex baseline). */
static void
test_locked_add_exact(void **state)
{
	const unsigned long iters = 50000 * dq_test_stress();
	unsigned long retries;
	dq_table *t = dq_test_table(2, 2, DQ_MODE_LOCKED, 0.0, false);
	double v;

	(void)state;
	run_adders(t, 4, iters, 4, 0, &retries);
	assert_int_equal(retries, 0);
	for (uint32_t s = 0; s < 2; s++)
		for (uint32_t a = 0; a < 2; a++) {
			dq_table_get(t, s, a, &v);
			assert_true(v == (double)(4 * iters / 4));
		}
	dq_table_destroy(t);
}

/*
 * Hogwild may lose racing updates of one entry, and nothing else:
 * - writers of different entries of one row (one cache line) lose
 *   nothing: each entry is written alone (a write of a wider word, a row,
 *   or a neighbour would lose some here);
 * - racing writers of one entry leave a whole number of adds, at least one
 *   and never more than were made (a torn, doubled or invented value
 *   breaks this).
 * The race window opens at every 8th add in both.
 */
static void
test_hogwild_bounded(void **state)
{
	const unsigned long iters = 100000 * dq_test_stress();
	unsigned long retries;
	dq_table *t = dq_test_table(2, 2, DQ_MODE_HOGWILD, 0.0, false);
	double v;

	(void)state;
	race_window(8);
	run_adders_own(t, 4, iters, 4, 0, true, &retries);
	race_window(0);
	for (uint32_t e = 0; e < 4; e++) {
		dq_table_get(t, e / 2, e % 2, &v);
		if (v != (double)iters)
			fail_msg("entry (%u, %u), written by one thread only: "
				 "%.0f, expected %lu",
				 e / 2, e % 2, v, iters);
	}

	dq_table_fill(t, 0.0);
	race_window(8);
	run_adders(t, 4, iters, 4, 0, &retries);
	race_window(0);
	for (uint32_t s = 0; s < 2; s++)
		for (uint32_t a = 0; a < 2; a++) {
			dq_table_get(t, s, a, &v);
			if (!(v >= 1.0 && v <= (double)(4 * iters / 4) &&
			      v == floor(v)))
				fail_msg("entry (%u, %u): %.17g, not a whole "
					 "number of adds in [1, %lu]",
					 s, a, v, 4 * iters / 4);
		}
	dq_table_destroy(t);
}

/*
 * A stripe mutex that cannot be initialised: each of a locked table's
 * pthread_mutex_init calls fails in turn; create returns the error
 * (negated), leaves the out-parameter alone and frees what it made (the
 * ASan build's leak check sees the rest); the next create succeeds.
 */
static void
test_stripe_init_fails(void **state)
{
	dq_table_config c;
	unsigned long k, calls;

	(void)state;
	dq_table_config_init(&c);
	c.n_states = 64;
	c.n_actions = 2;
	c.mode = DQ_MODE_LOCKED;
	c.n_stripes = 8;
	for (k = 1;; k++) {
		dq_table *t = (dq_table *)0x1;
		int err;

		dq_fp_arm(DQ_FP_MUTEX, k, EAGAIN);
		err = dq_table_create(&t, &c);
		calls = dq_fp_disarm(DQ_FP_MUTEX);
		if (calls < k) {
			assert_int_equal(err, 0);
			assert_int_equal(dq_table_update(t, 3, 1, 0.5, 2.0), 0);
			dq_table_destroy(t);
			break;
		}
		assert_int_equal(err, -EAGAIN);
		assert_ptr_equal(t, (dq_table *)0x1);
	}
	assert_int_equal(k, 9); /* eight stripes, each failed once */
}

/*
 * The table never holds inf or NaN, in any mode. Finite inputs can
 * overflow: Q = -DBL_MAX moved halfway to DBL_MAX computes DBL_MAX -
 * (-DBL_MAX) = inf; two additions of 1e308 pass DBL_MAX. Such a write is
 * refused with DQ_ENONFINITE and the entry keeps its value; non-finite
 * arguments stay -EINVAL. Success is 0, never a count.
 */
static void
test_nonfinite_refused(void **state)
{
	const dq_mode modes[] = {DQ_MODE_CAS, DQ_MODE_HOGWILD, DQ_MODE_LOCKED};
	double v, in[4] = {0.0, 1.0, 2.0, 3.0};

	(void)state;
	for (int k = 0; k < 3; k++) {
		dq_table *t = dq_test_table(2, 2, modes[k], 0.0, false);

		assert_int_equal(dq_table_set(t, 0, 0, -DBL_MAX), 0);
		assert_int_equal(dq_table_update(t, 0, 0, 0.5, DBL_MAX),
				 DQ_ENONFINITE);
		assert_int_equal(dq_table_get(t, 0, 0, &v), 0);
		assert_true(v == -DBL_MAX);
		/* A finite result from the same entry is still accepted. */
		assert_int_equal(dq_table_update(t, 0, 0, 1.0, 0.0), 0);
		assert_int_equal(dq_table_get(t, 0, 0, &v), 0);
		assert_true(v == 0.0);

		assert_int_equal(dq_table_add(t, 1, 1, 1e308), 0);
		assert_int_equal(dq_table_add(t, 1, 1, 1e308), DQ_ENONFINITE);
		assert_int_equal(dq_table_get(t, 1, 1, &v), 0);
		assert_true(v == 1e308);
		assert_int_equal(dq_table_add(t, 1, 0, -1e308), 0);
		assert_int_equal(dq_table_add(t, 1, 0, -1e308), DQ_ENONFINITE);
		assert_int_equal(dq_table_get(t, 1, 0, &v), 0);
		assert_true(v == -1e308);

		/* Non-finite arguments are invalid, and change nothing. */
		assert_int_equal(dq_table_set(t, 0, 1, INFINITY), -EINVAL);
		assert_int_equal(dq_table_set(t, 0, 1, NAN), -EINVAL);
		assert_int_equal(dq_table_add(t, 0, 1, NAN), -EINVAL);
		assert_int_equal(dq_table_update(t, 0, 1, 0.5, -INFINITY),
				 -EINVAL);
		assert_int_equal(dq_table_fill(t, -INFINITY), -EINVAL);
		in[2] = NAN;
		assert_int_equal(dq_table_load(t, in, 4), -EINVAL);
		in[2] = 2.0;
		assert_int_equal(dq_table_get(t, 0, 1, &v), 0);
		assert_true(v == 0.0);
		assert_int_equal(dq_table_get(t, 1, 1, &v), 0);
		assert_true(v == 1e308);
		assert_int_equal(dq_table_load(t, in, 4), 0);
		dq_table_destroy(t);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_create_invalid),
	    cmocka_unit_test(test_q0_and_info),
	    cmocka_unit_test(test_range_errors),
	    cmocka_unit_test(test_update_math),
	    cmocka_unit_test(test_greedy_and_ties),
	    cmocka_unit_test(test_snapshot_load_fill),
	    cmocka_unit_test(test_cas_add_exact),
	    cmocka_unit_test(test_cas_update_exact),
	    cmocka_unit_test(test_locked_add_exact),
	    cmocka_unit_test(test_hogwild_bounded),
	    cmocka_unit_test(test_stripe_init_fails),
	    cmocka_unit_test(test_nonfinite_refused),
	};

	return cmocka_run_group_tests_name("table", tests, NULL, NULL);
}
