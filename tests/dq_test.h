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

#endif
