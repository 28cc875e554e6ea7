/* Common includes for the cmocka suites. */
#ifndef DQ_TEST_H
#define DQ_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "distq.h"

/* Scale for the concurrency stress tests: DQ_STRESS=N multiplies work. */
static inline unsigned long
dq_test_stress(void)
{
	const char *s = getenv("DQ_STRESS");
	unsigned long v = s ? strtoul(s, NULL, 10) : 1;

	return v ? v : 1;
}

/* A table for a test: S x A, the given discipline, every entry q0, rows
 * padded or not. Fails the test when creation fails. */
static inline dq_table *
dq_test_table(uint32_t s, uint32_t a, dq_mode mode, double q0, bool pad)
{
	dq_table_config c;
	dq_table *t = NULL;

	assert_int_equal(dq_table_config_init(&c), 0);
	c.n_states = s;
	c.n_actions = a;
	c.mode = mode;
	c.q0 = q0;
	c.pad_rows = pad;
	assert_int_equal(dq_table_create(&t, &c), 0);
	assert_non_null(t);
	return t;
}

#endif
