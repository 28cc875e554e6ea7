/* tests/test_rng.c - random streams (lib/rng.c, inline part in distq.h). */
#include <errno.h>
#include <string.h>

#include "dq_test.h"
#include "internal.h"

static void
test_seed_args(void **state)
{
	dq_rng r;

	(void)state;
	assert_int_equal(dq_rng_seed(NULL, 1, 0), -EINVAL);
	assert_int_equal(dq_rng_seed(&r, 1, (1u << 20) + 1), -EINVAL);
	assert_int_equal(dq_rng_seed(&r, 0, 0), 0);
	assert_true(r.s[0] | r.s[1] | r.s[2] | r.s[3]);
}

static void
test_reproducible_and_distinct(void **state)
{
	dq_rng a, b, c;

	(void)state;
	dq_rng_seed(&a, 7, 3);
	dq_rng_seed(&b, 7, 3);
	dq_rng_seed(&c, 7, 4);
	for (int i = 0; i < 1000; i++) {
		uint64_t x = dq_rng_next(&a);

		assert_true(x == dq_rng_next(&b));
		assert_true(x != dq_rng_next(&c));
	}
	dq_rng_seed(&c, 8, 3);
	dq_rng_seed(&a, 7, 3);
	assert_true(dq_rng_next(&a) != dq_rng_next(&c));
}

/* Stream k+1 is stream k jumped once: the learner relies on this. */
static void
test_stream_is_jump(void **state)
{
	dq_rng a, b;

	(void)state;
	dq_rng_seed(&a, 99, 0);
	for (int k = 1; k < 5; k++) {
		dq__rng_jump(&a);
		dq_rng_seed(&b, 99, (uint64_t)k);
		assert_memory_equal(&a, &b, sizeof(a));
	}
}

static void
test_uniform_and_below(void **state)
{
	dq_rng r;
	unsigned hist[6] = {0};
	double sum = 0;

	(void)state;
	dq_rng_seed(&r, 5, 0);
	for (int i = 0; i < 600000; i++) {
		double u = dq_rng_uniform(&r);
		uint32_t k = dq_rng_below(&r, 6);

		assert_true(u >= 0.0 && u < 1.0);
		assert_true(k < 6);
		hist[k]++;
		sum += u;
	}
	assert_true(sum / 600000 > 0.498 && sum / 600000 < 0.502);
	for (int k = 0; k < 6; k++)
		assert_true(hist[k] > 99000 && hist[k] < 101000);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(dq_rng_below(&r, 1), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_seed_args),
	    cmocka_unit_test(test_reproducible_and_distinct),
	    cmocka_unit_test(test_stream_is_jump),
	    cmocka_unit_test(test_uniform_and_below),
	};

	return cmocka_run_group_tests_name("rng", tests, NULL, NULL);
}
