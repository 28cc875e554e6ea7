/* Common includes for the cmocka suites. */
#ifndef DQ_TEST_H
#define DQ_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
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

/* A whole file, malloc'ed (one spare byte); its length in *len. */
static inline unsigned char *
dq_test_slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf;
	long n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

#endif
