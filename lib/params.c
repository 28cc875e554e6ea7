/*
 * Environment parameters: one string of comma-separated key=value pairs,
 * e.g. "living_reward=0,max_steps=50". Parsed in place on every call, with
 * no allocation: environments read a handful of keys once, at open, so the
 * repeated scans cost nothing that matters and nothing has to be freed.
 *
 * The grammar is strict on purpose, so that a typo is an error rather than
 * a silently ignored setting:
 *
 *	params := "" | pair ("," pair)*
 *	pair   := key "=" value
 *	key    := [A-Za-z0-9_]{1,63}
 *	value  := [^,= \t\n\v\f\r]{1,127}
 *
 * White space is never skipped and never part of a value; a key may
 * appear at most once.
 *
 * Numbers are read in the "C" locale whatever LC_NUMERIC says, so that
 * "slip=0.1" means one tenth in a program that called setlocale() for a
 * comma-decimal language. A failure records what was wrong, naming the key,
 * for dq_error_detail().
 */
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define PARAMS_KEY_MAX 63
#define PARAMS_VALUE_MAX 127

/* One pair found by params_next(): pointers into the caller's string. */
typedef struct params_pair {
	const char *key;
	size_t key_len;
	const char *value;
	size_t value_len;
} params_pair;

static int
params_key_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_';
}

static int
params_value_char(char c)
{
	return c && c != ',' && c != '=' && c != ' ' && c != '\t' &&
	       c != '\n' && c != '\v' && c != '\f' && c != '\r';
}

/*
 * Parse the pair starting at *pos and advance *pos past it and its comma.
 * Returns 1 with @p pair filled, 0 at the end of the string, or -EINVAL for
 * a malformed pair. A trailing comma leaves an empty pair behind it, which
 * is malformed: "a=1," is as likely a mistake as "a=1,,b=2".
 */
static int
params_next(const char **pos, params_pair *pair)
{
	const char *p = *pos;
	const char *v;

	if (!*p)
		return 0;
	pair->key = p;
	while (params_key_char(*p))
		p++;
	pair->key_len = (size_t)(p - pair->key);
	if (*p != '=' || pair->key_len == 0 || pair->key_len > PARAMS_KEY_MAX)
		return -EINVAL;
	v = ++p;
	while (params_value_char(*p))
		p++;
	if (*p && *p != ',')
		return -EINVAL;
	pair->value = v;
	pair->value_len = (size_t)(p - v);
	if (pair->value_len == 0 || pair->value_len > PARAMS_VALUE_MAX)
		return -EINVAL;
	if (*p == ',') {
		p++;
		if (!*p) {
			*pos = p; /* the error is the empty pair at the end */
			return -EINVAL;
		}
	}
	*pos = p;
	return 1;
}

/* The "C" locale object, made once for the life of the process. */
static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;

static void
c_locale_make(void)
{
	c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

/*
 * uselocale() changes the calling thread's locale only, so switching to
 * "C" around strtod() cannot disturb another thread. Should the locale
 * object be unavailable (newlocale() out of memory), the thread's locale
 * is used: correct in every program that never called setlocale().
 */
double
dq__strtod_c(const char *s, char **end)
{
	locale_t old = (locale_t)0;
	double v;
	int saved;

	pthread_once(&c_locale_once, c_locale_make);
	if (c_locale)
		old = uselocale(c_locale);
	v = strtod(s, end);
	saved = errno;
	if (c_locale && old)
		uselocale(old);
	errno = saved;
	return v;
}

static int
params_key_is(const params_pair *pair, const char *key)
{
	return strlen(key) == pair->key_len &&
	       memcmp(pair->key, key, pair->key_len) == 0;
}

/* Say where a malformed string goes wrong: @at is the pair that does. */
static void
params_bad_syntax(const char *at)
{
	size_t n = strcspn(at, ",");
	/* "slip=0,1" splits into "slip=0" and "1": a decimal comma. */
	bool digit = at[0] >= '0' && at[0] <= '9';

	if (!*at || *at == ',') {
		dq__detail(
		    "an empty pair (a comma with no key=value after it)");
		return;
	}

	dq__detail("malformed pair '%.*s' (want key=value, pairs separated "
		   "by commas, no blanks%s)",
		   (int)(n > 64 ? 64 : n), at,
		   digit ? "; numbers take a decimal point, not a comma" : "");
}

/*
 * Check that @p key occurs at most once before the pair at @p upto. Used
 * for the repeated-key check; quadratic, but parameter strings hold a few
 * pairs, not thousands.
 */
static int
params_seen_before(const char *params, const params_pair *upto)
{
	const char *pos = params;
	params_pair pair;

	while (params_next(&pos, &pair) == 1 && pair.key < upto->key)
		if (pair.key_len == upto->key_len &&
		    memcmp(pair.key, upto->key, upto->key_len) == 0)
			return 1;
	return 0;
}

int
dq_params_check(const char *params, const char *const *keys)
{
	const char *pos = params;
	params_pair pair;
	int r;

	dq__detail_clear();
	if (!keys)
		return -EINVAL;
	if (!params)
		return 0;
	while ((r = params_next(&pos, &pair)) == 1) {
		const char *const *k = keys;

		while (*k && !params_key_is(&pair, *k))
			k++;
		if (!*k) {
			dq__detail("unknown key '%.*s'", (int)pair.key_len,
				   pair.key);
			return -EINVAL;
		}
		if (params_seen_before(params, &pair)) {
			dq__detail("key '%.*s' appears more than once",
				   (int)pair.key_len, pair.key);
			return -EINVAL;
		}
	}
	if (r < 0)
		params_bad_syntax(pos);
	return r;
}

/*
 * Find @p key in @p params and copy its value, NUL-terminated, into @p buf
 * (PARAMS_VALUE_MAX + 1 bytes). The whole string is scanned even after a
 * match, so that every getter rejects a malformed or ambiguous string the
 * same way dq_params_check() does, whichever key it asks for.
 *
 * Returns 1 when found, 0 when absent, -EINVAL when malformed or repeated.
 */
static int
params_find(const char *params, const char *key, char *buf)
{
	const char *pos = params;
	params_pair pair;
	int found = 0;
	int r;

	dq__detail_clear();
	if (!key || !*key)
		return -EINVAL;
	if (!params)
		return 0;
	while ((r = params_next(&pos, &pair)) == 1) {
		if (!params_key_is(&pair, key))
			continue;
		if (found) {
			dq__detail("key '%s' appears more than once", key);
			return -EINVAL;
		}
		memcpy(buf, pair.value, pair.value_len);
		buf[pair.value_len] = '\0';
		found = 1;
	}
	if (r < 0) {
		params_bad_syntax(pos);
		return r;
	}
	return found;
}

/* The value of @key is no number of the kind wanted. */
static int
params_bad_value(const char *key, const char *value, const char *want)
{
	dq__detail("%s: '%s' is not %s", key, value, want);
	return -EINVAL;
}

/* The value of @key is an integer outside [min, max]. */
static int
params_out_of_range(const char *key, const char *value, uint64_t min,
		    uint64_t max)
{
	dq__detail("%s: '%s' is out of range [%llu, %llu]", key, value,
		   (unsigned long long)min, (unsigned long long)max);
	return -ERANGE;
}

/* The value of @key is a real number outside [min, max], which are
 * printed in the "C" locale as the value was read. */
static int
params_out_of_range_f(const char *key, const char *value, double min,
		      double max)
{
	locale_t old = (locale_t)0;

	pthread_once(&c_locale_once, c_locale_make);
	if (c_locale)
		old = uselocale(c_locale);
	dq__detail("%s: '%s' is out of range [%g, %g]", key, value, min, max);
	if (c_locale && old)
		uselocale(old);
	return -ERANGE;
}

int
dq_params_double(const char *params, const char *key, double def, double min,
		 double max, double *out)
{
	char buf[PARAMS_VALUE_MAX + 1];
	char *end;
	double v;
	int r, saved_errno, range;

	if (!out || !(min <= max))
		return -EINVAL;
	r = params_find(params, key, buf);
	if (r <= 0) {
		if (r == 0)
			*out = def;
		return r;
	}
	/* strtod reports through errno; leave the caller's errno as it was. */
	saved_errno = errno;
	errno = 0;
	v = dq__strtod_c(buf, &end);
	range = errno == ERANGE;
	errno = saved_errno;
	if (*end || end == buf)
		return params_bad_value(key, buf, "a number");
	/* Overflow gives +-HUGE_VAL: a real number, just far out of range.
	 * Underflow gives a tiny or zero value, which is what was meant. */
	if (range && fabs(v) > 1.0)
		return params_out_of_range_f(key, buf, min, max);
	/* Spelled-out "inf" and "nan" parse, but are no setting. */
	if (!isfinite(v))
		return params_bad_value(key, buf, "a finite number");
	if (v < min || v > max)
		return params_out_of_range_f(key, buf, min, max);
	*out = v;
	return 0;
}

int
dq_params_u64(const char *params, const char *key, uint64_t def, uint64_t min,
	      uint64_t max, uint64_t *out)
{
	char buf[PARAMS_VALUE_MAX + 1];
	const char *p = buf;
	uint64_t v = 0;
	uint64_t scale = 1;
	int negative = 0;
	int r;

	if (!out || min > max)
		return -EINVAL;
	r = params_find(params, key, buf);
	if (r <= 0) {
		if (r == 0)
			*out = def;
		return r;
	}
	/* A minus sign on a well-formed number is a range error, not a
	 * syntax error: "-3" is a number, just not one that fits (nor does
	 * "-0": an unsigned setting written with a sign is a mistake). */
	if (*p == '-') {
		negative = 1;
		p++;
	}
	if (!(*p >= '0' && *p <= '9'))
		return params_bad_value(key, buf, "an unsigned integer");
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');

		if (v > (UINT64_MAX - d) / 10)
			return params_out_of_range(key, buf, min, max);
		v = v * 10 + d;
	}
	switch (*p) {
	case '\0':
		break;
	case 'k':
	case 'K':
		scale = 1000u;
		p++;
		break;
	case 'M':
		scale = 1000000u;
		p++;
		break;
	case 'G':
		scale = 1000000000u;
		p++;
		break;
	default:
		return params_bad_value(key, buf, "an unsigned integer");
	}
	if (*p)
		return params_bad_value(key, buf, "an unsigned integer");
	if (v > UINT64_MAX / scale)
		return params_out_of_range(key, buf, min, max);
	v *= scale;
	if (negative || v < min || v > max)
		return params_out_of_range(key, buf, min, max);
	*out = v;
	return 0;
}

/* ASCII case-insensitive equality, independent of the C locale. */
static int
params_word_is(const char *s, const char *word)
{
	for (; *s && *word; s++, word++) {
		char c = *s;

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c != *word)
			return 0;
	}
	return !*s && !*word;
}

int
dq_params_bool(const char *params, const char *key, bool def, bool *out)
{
	static const char *const yes[] = {"1", "true", "yes", "on"};
	static const char *const no[] = {"0", "false", "no", "off"};
	char buf[PARAMS_VALUE_MAX + 1];
	int r;

	if (!out)
		return -EINVAL;
	r = params_find(params, key, buf);
	if (r <= 0) {
		if (r == 0)
			*out = def;
		return r;
	}
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (params_word_is(buf, yes[i])) {
			*out = true;
			return 0;
		}
		if (params_word_is(buf, no[i])) {
			*out = false;
			return 0;
		}
	}
	return params_bad_value(key, buf,
				"a boolean (1/0, true/false, "
				"yes/no, on/off)");
}
