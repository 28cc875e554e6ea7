/* Unit tests for lib/params.c: the key=value,... parameter parser. */
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dq_test.h"

static const char *const keys_ab[] = {"a", "b", NULL};

static void
test_check_accepts(void **state)
{
	static const char *const keys[] = {"alpha", "b_2", "C", NULL};

	(void)state;
	assert_int_equal(dq_params_check(NULL, keys), 0);
	assert_int_equal(dq_params_check("", keys), 0);
	assert_int_equal(dq_params_check("alpha=1", keys), 0);
	assert_int_equal(dq_params_check("alpha=1,b_2=x,C=-3.5e2", keys), 0);
	assert_int_equal(dq_params_check("C=1,alpha=2", keys), 0);
	/* A string with no pairs needs no keys at all. */
	assert_int_equal(dq_params_check("", (const char *const[]){NULL}), 0);
}

static void
test_check_rejects(void **state)
{
	static const char *const bad[] = {
	    "a",	"a1",	       "=1",   "a=",	  "a=1,",     ",a=1",
	    "a=1,,b=2", "a=b=c",       " a=1", "a =1",	  "a=1 ,b=2", "a-b=1",
	    "a==1",	"a=1,=2",      ",",    "a=1,b",	  "a.b=1",    "A=1",
	    "a=1,a=2",	"b=1,a=2,b=3", "c=1",  "a=1,c=2", "ab=1",     "a=1;b=2",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (dq_params_check(bad[i], keys_ab) != -EINVAL)
			fail_msg("accepted \"%s\"", bad[i]);
	}
	assert_int_equal(dq_params_check("a=1", NULL), -EINVAL);
	assert_int_equal(dq_params_check(NULL, NULL), -EINVAL);
}

/* Keys up to 63 characters, values up to 127: one more is an error. */
static void
test_check_lengths(void **state)
{
	char key63[64], key64[65], buf[256];
	const char *keys[3];

	(void)state;
	memset(key63, 'k', 63);
	key63[63] = '\0';
	memset(key64, 'k', 64);
	key64[64] = '\0';
	keys[0] = key63;
	keys[1] = key64;
	keys[2] = NULL;
	snprintf(buf, sizeof(buf), "%s=1", key63);
	assert_int_equal(dq_params_check(buf, keys), 0);
	snprintf(buf, sizeof(buf), "%s=1", key64);
	assert_int_equal(dq_params_check(buf, keys), -EINVAL);

	memcpy(buf, "a=", 2);
	memset(buf + 2, '7', 127);
	buf[129] = '\0';
	assert_int_equal(dq_params_check(buf, keys_ab), 0);
	{
		uint64_t v;

		/* 127 digits parse but overflow: a range error. */
		assert_int_equal(dq_params_u64(buf, "a", 0, 0, UINT64_MAX, &v),
				 -ERANGE);
	}
	buf[129] = '7';
	buf[130] = '\0';
	assert_int_equal(dq_params_check(buf, keys_ab), -EINVAL);
}

static void
test_double(void **state)
{
	double v;

	(void)state;
	assert_int_equal(dq_params_double(NULL, "a", 1.5, 0, 2, &v), 0);
	assert_true(v == 1.5);
	assert_int_equal(dq_params_double("", "a", -1, -2, 2, &v), 0);
	assert_true(v == -1);
	assert_int_equal(dq_params_double("b=3", "a", 0.25, 0, 1, &v), 0);
	assert_true(v == 0.25);
	assert_int_equal(dq_params_double("a=0.5", "a", 0, 0, 1, &v), 0);
	assert_true(v == 0.5);
	assert_int_equal(dq_params_double("b=1,a=-2e-3", "a", 0, -1, 1, &v), 0);
	assert_true(v == -2e-3);
	assert_int_equal(dq_params_double("a=.25", "a", 0, 0, 1, &v), 0);
	assert_true(v == 0.25);
	assert_int_equal(dq_params_double("a=+1", "a", 0, 0, 1, &v), 0);
	assert_true(v == 1);
	assert_int_equal(dq_params_double("a=0", "a", 5, 0, 10, &v), 0);
	assert_true(v == 0);
	/* Underflow is a tiny number, which is what was written. */
	assert_int_equal(dq_params_double("a=1e-400", "a", 5, 0, 1, &v), 0);
	assert_true(v >= 0 && v < 1e-300);
}

static void
test_double_errors(void **state)
{
	static const char *const unparsable[] = {
	    "a=x",    "a=1.5z", "a=1 ",	      "a=nan", "a=-nan", "a=inf",
	    "a=+inf", "a=-inf", "a=infinity", "a=1e",  "a=--1",	 "a=1..2",
	};
	double v = 42;

	(void)state;
	for (size_t i = 0; i < sizeof(unparsable) / sizeof(unparsable[0]);
	     i++) {
		if (dq_params_double(unparsable[i], "a", 0, -1e9, 1e9, &v) !=
		    -EINVAL)
			fail_msg("parsed \"%s\"", unparsable[i]);
	}
	assert_true(v == 42); /* *out untouched on failure */
	assert_int_equal(dq_params_double("a=2", "a", 0, 0, 1, &v), -ERANGE);
	assert_int_equal(dq_params_double("a=-0.1", "a", 0, 0, 1, &v), -ERANGE);
	assert_int_equal(dq_params_double("a=1e999", "a", 0, 0, 1, &v),
			 -ERANGE);
	assert_int_equal(
	    dq_params_double("a=-1e999", "a", 0, -1e300, 1e300, &v), -ERANGE);
	assert_true(v == 42);
	/* Inclusive bounds. */
	assert_int_equal(dq_params_double("a=1", "a", 0, 0, 1, &v), 0);
	assert_true(v == 1);
	/* Bad arguments and a malformed string, whatever key is asked. */
	assert_int_equal(dq_params_double("a=1", "a", 0, 0, 1, NULL), -EINVAL);
	assert_int_equal(dq_params_double("a=1", NULL, 0, 0, 1, &v), -EINVAL);
	assert_int_equal(dq_params_double("a=1", "", 0, 0, 1, &v), -EINVAL);
	assert_int_equal(dq_params_double("a=1", "a", 0, 2, 1, &v), -EINVAL);
	assert_int_equal(dq_params_double("a=1", "a", 0, NAN, 1, &v), -EINVAL);
	assert_int_equal(dq_params_double("b,a=1", "a", 0, 0, 1, &v), -EINVAL);
	assert_int_equal(dq_params_double("a=1,b", "c", 0, 0, 1, &v), -EINVAL);
	assert_int_equal(dq_params_double("a=1,a=1", "a", 0, 0, 1, &v),
			 -EINVAL);
}

static void
test_u64(void **state)
{
	static const struct {
		const char *s;
		uint64_t v;
	} ok[] = {
	    {"n=0", 0},
	    {"n=42", 42},
	    {"n=007", 7},
	    {"n=10k", 10000},
	    {"n=10K", 10000},
	    {"n=3M", 3000000},
	    {"n=25M", 25000000},
	    {"n=2G", 2000000000},
	    {"n=0k", 0},
	    {"n=18446744073709551615", UINT64_MAX},
	    {"n=18446744073G", 18446744073000000000u},
	};
	uint64_t v;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		v = 1;
		assert_int_equal(
		    dq_params_u64(ok[i].s, "n", 5, 0, UINT64_MAX, &v), 0);
		assert_true(v == ok[i].v);
	}
	assert_int_equal(dq_params_u64(NULL, "n", 5, 0, 10, &v), 0);
	assert_true(v == 5);
	assert_int_equal(dq_params_u64("m=1", "n", 7, 0, 10, &v), 0);
	assert_true(v == 7);
	/* The default is not range-checked: the caller chose it. */
	assert_int_equal(dq_params_u64("", "n", 0, 1, 10, &v), 0);
	assert_true(v == 0);
}

static void
test_u64_errors(void **state)
{
	static const char *const unparsable[] = {
	    "n=x",   "n=1.5", "n=0x10", "n=k",	"n=10kk", "n=+5",
	    "n=1e6", "n=5m",  "n=5g",	"n=5 ", "n=-",	  "n=1k2",
	};
	static const char *const out_of_range[] = {
	    "n=18446744073709551616",
	    "n=99999999999999999999",
	    "n=18446744074G",
	    "n=-1",
	    "n=-0",
	    "n=11",
	    "n=2",
	    "n=1k",
	};
	uint64_t v = 99;

	(void)state;
	for (size_t i = 0; i < sizeof(unparsable) / sizeof(unparsable[0]);
	     i++) {
		if (dq_params_u64(unparsable[i], "n", 0, 0, 10, &v) != -EINVAL)
			fail_msg("parsed \"%s\"", unparsable[i]);
	}
	for (size_t i = 0; i < sizeof(out_of_range) / sizeof(out_of_range[0]);
	     i++) {
		if (dq_params_u64(out_of_range[i], "n", 0, 3, 10, &v) !=
		    -ERANGE)
			fail_msg("\"%s\" in range", out_of_range[i]);
	}
	assert_true(v == 99);
	assert_int_equal(dq_params_u64("n=1", "n", 0, 0, 1, NULL), -EINVAL);
	assert_int_equal(dq_params_u64("n=1", NULL, 0, 0, 1, &v), -EINVAL);
	assert_int_equal(dq_params_u64("n=1", "n", 0, 2, 1, &v), -EINVAL);
	assert_int_equal(dq_params_u64("n=1,,", "n", 0, 0, 9, &v), -EINVAL);
	assert_int_equal(dq_params_u64("n=1,n=1", "n", 0, 0, 9, &v), -EINVAL);
}

static void
test_bool(void **state)
{
	static const char *const yes[] = {"f=1",    "f=true", "f=yes", "f=on",
					  "f=TRUE", "f=Yes",  "f=oN"};
	static const char *const no[] = {"f=0",	    "f=false", "f=no", "f=off",
					 "f=FALSE", "f=No",    "f=OFF"};
	static const char *const bad[] = {"f=2",  "f=y",     "f=n",
					  "f=01", "f=truee", "f=of",
					  "f=-1", "f=t",     "f=nope"};
	bool v;

	(void)state;
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		v = false;
		assert_int_equal(dq_params_bool(yes[i], "f", false, &v), 0);
		assert_true(v);
		assert_int_equal(dq_params_bool(no[i], "f", true, &v), 0);
		assert_false(v);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = true;
		if (dq_params_bool(bad[i], "f", true, &v) != -EINVAL)
			fail_msg("parsed \"%s\"", bad[i]);
		assert_true(v);
	}
	assert_int_equal(dq_params_bool(NULL, "f", true, &v), 0);
	assert_true(v);
	assert_int_equal(dq_params_bool("g=0", "f", false, &v), 0);
	assert_false(v);
	assert_int_equal(dq_params_bool("f=1", "f", false, NULL), -EINVAL);
	assert_int_equal(dq_params_bool("f=1", NULL, false, &v), -EINVAL);
	assert_int_equal(dq_params_bool("f=1,", "f", false, &v), -EINVAL);
}

/* Several keys read from one string, as an environment's open does. */
static void
test_several(void **state)
{
	static const char *const keys[] = {"rate", "n", "on", NULL};
	const char *p = "n=3k,on=yes,rate=0.125";
	uint64_t n;
	double rate;
	bool on;

	(void)state;
	assert_int_equal(dq_params_check(p, keys), 0);
	assert_int_equal(dq_params_u64(p, "n", 0, 0, 10000, &n), 0);
	assert_int_equal(dq_params_double(p, "rate", 0, 0, 1, &rate), 0);
	assert_int_equal(dq_params_bool(p, "on", false, &on), 0);
	assert_true(n == 3000 && rate == 0.125 && on);
	/* A key that is a prefix of another is a different key. */
	assert_int_equal(dq_params_u64("nn=5", "n", 1, 0, 10, &n), 0);
	assert_true(n == 1);
	assert_int_equal(dq_params_u64("nn=5,n=2", "n", 1, 0, 10, &n), 0);
	assert_true(n == 2);
}

/* ------------------------------------------------------------ locales -- */

/* Where a locale built for this test lives; removed at the end. */
static char locdir[64];

/* Whether the current LC_NUMERIC writes one and a half as "1,5". */
static bool
comma_decimal(void)
{
	char buf[16];

	snprintf(buf, sizeof(buf), "%.1f", 1.5);
	return !strcmp(buf, "1,5");
}

/*
 * Make a comma-decimal locale current for the whole process: an installed
 * one, or de_DE built with localedef (Debian's `locales` package) into a
 * scratch directory named by LOCPATH. Returns its name, or NULL when none
 * can be had.
 */
static const char *
set_comma_locale(void)
{
	static const char *const names[] = {"de_DE.UTF-8", "de_DE.utf8",
					    "fr_FR.UTF-8", "de_DE", NULL};
	const char *tmp = getenv("TMPDIR");
	char cmd[256];

	for (int pass = 0; pass < 2; pass++) {
		for (const char *const *n = names; *n; n++)
			if (setlocale(LC_ALL, *n) && comma_decimal())
				return *n;
		if (pass)
			break;
		snprintf(locdir, sizeof(locdir), "%s/dq_loc_XXXXXX",
			 tmp && strlen(tmp) < 40 ? tmp : "/tmp");
		if (!mkdtemp(locdir)) {
			locdir[0] = '\0';
			return NULL;
		}
		snprintf(cmd, sizeof(cmd),
			 "localedef -i de_DE -f UTF-8 %s/de_DE.UTF-8 "
			 ">/dev/null 2>&1",
			 locdir);
		if (system(cmd) != 0)
			return NULL;
		setenv("LOCPATH", locdir, 1);
	}
	return NULL;
}

static void
drop_comma_locale(void)
{
	char cmd[128];

	setlocale(LC_ALL, "C");
	if (locdir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf %s", locdir);
		if (system(cmd) != 0)
			printf("  (could not remove %s)\n", locdir);
		unsetenv("LOCPATH");
		locdir[0] = '\0';
	}
}

/*
 * Numbers in parameters mean the same under a locale whose decimal
 * separator is a comma: "0.1" is one tenth, "0,1" is no number (and could
 * not be one: the comma separates pairs).
 */
static void
test_locale_independent(void **state)
{
	const char *name = set_comma_locale();
	dq_env *env = NULL;
	double v = 0;

	(void)state;
	if (!name) {
		drop_comma_locale();
		printf("  SKIP: no comma-decimal locale installed and "
		       "localedef could not build one\n");
		skip();
	}
	printf("  locale %s%s\n", name, locdir[0] ? " (built here)" : "");
	assert_int_equal(dq_params_double("x=0.5", "x", 0, -1, 1, &v), 0);
	assert_true(v == 0.5);
	assert_int_equal(dq_params_double("x=-2.5e-3", "x", 0, -1, 1, &v), 0);
	assert_true(v == -2.5e-3);
	assert_int_equal(dq_params_double("x=0x1.8p1", "x", 0, -9, 9, &v), 0);
	assert_true(v == 3.0);
	/* The errors read in the C locale too. */
	assert_int_equal(dq_params_double("x=5.5", "x", 0, -1, 1, &v), -ERANGE);
	assert_non_null(strstr(dq_error_detail(), "[-1, 1]"));
	assert_int_equal(dq_env_open_name(&env, "maze4x3:slip=0.1"), 0);
	dq_env_close(env);
	assert_int_equal(dq_env_open_name(&env, "maze4x3:living_reward=-0.04"),
			 0);
	dq_env_close(env);
	assert_int_equal(dq_env_open_name(&env, "cartpole:x_dot_max=2.5"), 0);
	dq_env_close(env);
	/* The process locale is as the program set it. */
	assert_true(comma_decimal());
	drop_comma_locale();
}

/* ------------------------------------------------------------ details -- */

/* The detail of the last failure holds @want. */
static void
expect_detail(const char *want)
{
	const char *d = dq_error_detail();

	if (!d || !strstr(d, want))
		fail_msg("detail \"%s\", want \"%s\"", d ? d : "(none)", want);
}

/*
 * Every failure says which key and why; a success after a failure leaves
 * no stale detail behind.
 */
static void
test_details(void **state)
{
	dq_env *env = NULL;
	uint64_t u;
	double v;
	bool b;

	(void)state;
	assert_int_equal(dq_params_check("a=1,a=2", keys_ab), -EINVAL);
	expect_detail("key 'a' appears more than once");
	assert_int_equal(dq_params_check("a=1,zz=2", keys_ab), -EINVAL);
	expect_detail("unknown key 'zz'");
	assert_int_equal(dq_params_check("a=1, b=2", keys_ab), -EINVAL);
	expect_detail("malformed pair ' b=2'");
	/* A trailing comma is named as such, not as the good pair before. */
	assert_int_equal(dq_params_check("a=1,", keys_ab), -EINVAL);
	expect_detail("an empty pair");
	assert_int_equal(dq_params_double("a=1,", "a", 0, 0, 9, &v), -EINVAL);
	expect_detail("an empty pair");
	assert_int_equal(dq_params_double("a=1x", "a", 0, 0, 9, &v), -EINVAL);
	expect_detail("a: '1x' is not a number");
	assert_int_equal(dq_params_double("a=nan", "a", 0, 0, 9, &v), -EINVAL);
	expect_detail("a: 'nan' is not a finite number");
	assert_int_equal(dq_params_u64("b=7", "b", 0, 1, 5, &u), -ERANGE);
	expect_detail("b: '7' is out of range [1, 5]");
	assert_int_equal(dq_params_u64("b=-1", "b", 0, 1, 5, &u), -ERANGE);
	expect_detail("b: '-1'");
	assert_int_equal(dq_params_bool("a=maybe", "a", 0, &b), -EINVAL);
	expect_detail("a: 'maybe' is not a boolean");
	assert_int_equal(dq_params_check("a=1", keys_ab), 0);
	assert_null(dq_error_detail());

	/* Through the environments: the key, the combination, the name. */
	assert_int_equal(dq_env_open_name(&env, "maze4x3:slip=x"), -EINVAL);
	expect_detail("slip: 'x'");
	assert_int_equal(dq_env_open_name(&env, "maze4x3:slip=0.1,slip=0.2"),
			 -EINVAL);
	expect_detail("'slip' appears more than once");
	assert_int_equal(dq_env_open_name(&env, "cartpole:bins=1000"), -ERANGE);
	expect_detail("product");
	assert_int_equal(dq_env_open_name(&env, "nosuch"), -ENOENT);
	expect_detail("unknown environment");
	assert_int_equal(dq_env_open_name(&env, "maze4x3"), 0);
	assert_null(dq_error_detail());
	dq_env_close(env);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_check_accepts),
	    cmocka_unit_test(test_check_rejects),
	    cmocka_unit_test(test_check_lengths),
	    cmocka_unit_test(test_double),
	    cmocka_unit_test(test_double_errors),
	    cmocka_unit_test(test_u64),
	    cmocka_unit_test(test_u64_errors),
	    cmocka_unit_test(test_bool),
	    cmocka_unit_test(test_several),
	    cmocka_unit_test(test_locale_independent),
	    cmocka_unit_test(test_details),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
