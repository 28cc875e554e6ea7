/* tests/test_error.c - error strings and version (lib/error.c). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dq_test.h"

static void
test_strerror(void **state)
{
	const int codes[] = {0,		 -EINVAL,	-ENOMEM,
			     -ERANGE,	 -ENOENT,	-ENOTSUP,
			     -EBUSY,	 -EAGAIN,	DQ_EABI,
			     DQ_EENV,	 DQ_EFORMAT,	DQ_EVERSION,
			     DQ_ETRUNC,	 DQ_ECORRUPT,	DQ_EMISMATCH,
			     DQ_EPIN,	 DQ_ENONFINITE, DQ_EFILEVALUE,
			     DQ_ENOTREG, DQ_ENOTHISSYS, DQ_EAFFINITY,
			     DQ_ERULE,	 DQ_EMPIPEER,	DQ_EMPI,
			     DQ_EREMOTE};

	(void)state;
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		const char *s = dq_strerror(codes[i]);

		assert_non_null(s);
		assert_true(strlen(s) > 3);
		assert_string_not_equal(s, "unknown error");
		/* Distinct codes, distinct messages. */
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(s, dq_strerror(codes[j]));
	}
	assert_string_equal(dq_strerror(12345), "unknown error");
	assert_string_equal(dq_strerror(-99999), "unknown error");
	assert_true(DQ_EABI < DQ_ERRNO_BASE && DQ_EPIN < DQ_ERRNO_BASE);
	assert_true(DQ_ENONFINITE < DQ_ERRNO_BASE &&
		    DQ_EFILEVALUE < DQ_ERRNO_BASE);
}

static void
test_version(void **state)
{
	char buf[32];

	(void)state;
	assert_int_equal(dq_version(), DQ_VERSION_HEX);
	snprintf(buf, sizeof(buf), "%d.%d.%d", DQ_VERSION_MAJOR,
		 DQ_VERSION_MINOR, DQ_VERSION_PATCH);
	assert_string_equal(dq_version_string(), buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_strerror),
	    cmocka_unit_test(test_version),
	};

	return cmocka_run_group_tests_name("error", tests, NULL, NULL);
}
