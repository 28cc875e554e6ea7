/* tests/test_inline.c - the exported twins of the header's inline
 * functions (lib/inline.c) behave exactly as the inline ones. That the
 * shared library exports one for every inline function is checked by
 * scripts/abi-check.sh. */
#include <string.h>

#include "dq_test.h"

/* Two copies of one stream, one drawn inline, one through the twins: the
 * draws and the states stay identical. */
static void
test_rng_twins(void **state)
{
	dq_rng a, b;

	(void)state;
	assert_int_equal(dq_rng_seed(&a, 42, 5), 0);
	b = a;
	for (int i = 0; i < 10000; i++) {
		uint32_t n = (uint32_t)i % 97 + 1;

		assert_true(dq_rng_next(&a) == dq_rng_next_fn(&b));
		assert_true(dq_rng_uniform(&a) == dq_rng_uniform_fn(&b));
		uint32_t x = dq_rng_below(&a, n);

		assert_int_equal(x, dq_rng_below_fn(&b, n));
		assert_true(x < n);
	}
	assert_memory_equal(&a, &b, sizeof(a));
	/* n = 1 is always 0; a huge n still in range. */
	assert_int_equal(dq_rng_below_fn(&b, 1), 0);
	assert_true(dq_rng_below_fn(&b, UINT32_MAX) < UINT32_MAX);
}

static void
test_instance_alloc_twin(void **state)
{
	static const size_t sizes[] = {0, 1, 63, 64, 65, 1000};

	(void)state;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		unsigned char *p = dq_env_instance_alloc_fn(sizes[i]);
		size_t rounded = sizes[i] ? (sizes[i] + 63) / 64 * 64 : 64;

		assert_non_null(p);
		assert_int_equal((uintptr_t)p % 64, 0);
		for (size_t j = 0; j < rounded; j++)
			assert_int_equal(p[j], 0);
		free(p);
	}
	/* A size that cannot be rounded up is refused, not wrapped. */
	assert_null(dq_env_instance_alloc_fn(SIZE_MAX - 10));
}

static void
test_outcome_merge_twin(void **state)
{
	dq_outcome a[4], b[4];
	const dq_step st[] = {{3, -1.0, false, false},
			      {5, 1.0, true, false},
			      {3, -1.0, false, false}};
	size_t na = 0, nb = 0;

	(void)state;
	memset(a, 0, sizeof(a));
	memset(b, 0, sizeof(b));
	for (size_t i = 0; i < 3; i++) {
		na = dq_outcome_merge(a, na, 0.25 * (double)(i + 1), &st[i]);
		nb = dq_outcome_merge_fn(b, nb, 0.25 * (double)(i + 1), &st[i]);
		assert_int_equal(na, nb);
	}
	assert_int_equal(nb, 2);
	assert_memory_equal(a, b, sizeof(a));
	assert_true(b[0].next_state == 3 && b[0].prob == 1.0);
	assert_true(b[1].next_state == 5 && b[1].terminated);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rng_twins),
	    cmocka_unit_test(test_instance_alloc_twin),
	    cmocka_unit_test(test_outcome_merge_twin),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
