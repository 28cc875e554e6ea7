/*
 * Error strings and the version. One table of messages, no strerror()
 * (whose buffer is not thread-safe everywhere) and no locale lookups.
 */
#include <errno.h>
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

const char *
dq_strerror(int err)
{
	switch (err) {
	case 0:
		return "success";
	case -EINVAL:
		return "invalid argument";
	case -ENOMEM:
		return "out of memory";
	case -ERANGE:
		return "value out of range";
	case -ENOENT:
		/* an unknown environment name records its own detail
		 * ("unknown environment") */
		return "no such file or directory";
	case -ENOTSUP:
		return "not supported (the environment exports no model)";
	case -EBUSY:
		return "busy (already running)";
	case -EAGAIN:
		return "resource temporarily unavailable (thread creation)";
	case -ETIMEDOUT:
		return "did not converge within the sweep limit";
	case -EIO:
		return "input/output error";
	case -ENOSPC:
		return "no space left on device";
	case -EACCES:
		return "permission denied";
	case -EEXIST:
		return "file exists";
	case -EROFS:
		return "read-only file system";
	case -EOVERFLOW:
		return "value too large";
	case -ENOTDIR:
		return "a path component is not a directory";
	case -EISDIR:
		return "is a directory";
	case -EFBIG:
		return "file too large";
	case -ENAMETOOLONG:
		return "file name too long";
	case -ELOOP:
		return "too many levels of symbolic links";
	case -EPERM:
		return "operation not permitted";
	case -EDOM:
		return "no finite value (a policy that never ends, at gamma 1)";
	case -EDQUOT:
		return "disk quota exceeded";
	case -EBADF:
		return "bad file descriptor";
	case DQ_EABI:
		return "environment built for another ABI (DQ_ENV_ABI "
		       "mismatch)";
	case DQ_EENV:
		return "environment broke its contract (state out of range, "
		       "non-finite reward, invalid model or callback error)";
	case DQ_EFORMAT:
		return "not a libdistq file";
	case DQ_EVERSION:
		return "unsupported file version";
	case DQ_ETRUNC:
		return "file is truncated";
	case DQ_ECORRUPT:
		return "file is corrupted (checksum mismatch or inconsistent "
		       "fields)";
	case DQ_EMISMATCH:
		return "file is for another environment, table shape or rule";
	case DQ_EPIN:
		return "strict pinning requested and a binding failed";
	case DQ_ENONFINITE:
		return "write refused: its result would not be finite (inf or "
		       "NaN; values or rewards too large)";
	case DQ_EFILEVALUE:
		return "file holds a non-finite number (inf or NaN) where "
		       "libdistq writes only finite ones";
	case DQ_ENOTREG:
		return "not a regular file (a device, FIFO or socket)";
	case DQ_ENOTHISSYS:
		return "the topology is not this machine's (HWLOC_SYNTHETIC or "
		       "HWLOC_XMLFILE is set): threads cannot be bound";
	case DQ_EAFFINITY:
		return "a binding did not take effect (the OS reports another "
		       "CPU set)";
	case DQ_ERULE:
		return "the learning rule cannot run as configured (more "
		       "writes per step than a write-back window holds, or "
		       "table channels the table lacks)";
	case DQ_EMPIPEER:
		return "a rank of the MPI job did not answer in time (dead or "
		       "stuck)";
	case DQ_EMPI:
		return "an MPI call failed";
	case DQ_EREMOTE:
		return "another rank of the MPI job failed";
	default:
		return "unknown error";
	}
}

/*
 * The detail of the last failure, per thread (as dlerror()). One fixed
 * buffer per thread: no allocation, so recording a detail cannot fail,
 * and a detail is cut short rather than lost.
 */
static _Thread_local char detail[256];

const char *
dq_error_detail(void)
{
	return detail[0] ? detail : NULL;
}

void
dq__detail_clear(void)
{
	detail[0] = '\0';
}

void
dq__detail(const char *fmt, ...)
{
	va_list ap;
	/* %g in the "C" locale whatever the thread's: "0.5", never "0,5".
	 * Without a locale object (out of memory) the thread's is used:
	 * the detail is still recorded. */
	locale_t c = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
	locale_t old = c ? uselocale(c) : (locale_t)0;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	if (c) {
		uselocale(old);
		freelocale(c);
	}
}

void
dq__detail_prefix(const char *prefix)
{
	size_t n = strlen(prefix), len = strlen(detail);

	if (!detail[0] || n >= sizeof(detail))
		return;
	if (len + n >= sizeof(detail))
		len = sizeof(detail) - n - 1;
	memmove(detail + n, detail, len);
	memcpy(detail, prefix, n);
	detail[n + len] = '\0';
}

int
dq__reserved_check(const uint64_t *w, size_t n, const char *what)
{
	for (size_t i = 0; i < n; i++) {
		if (w[i]) {
			dq__detail("%sreserved_[%zu] is not zero: a newer "
				   "caller, or a struct not filled by its "
				   "_init()?",
				   what, i);
			return -EINVAL;
		}
	}
	return 0;
}

unsigned
dq_version(void)
{
	return DQ_VERSION_HEX;
}

#define DQ__STR2(x) #x
#define DQ__STR(x) DQ__STR2(x)

const char *
dq_version_string(void)
{
	return DQ__STR(DQ_VERSION_MAJOR) "." DQ__STR(
	    DQ_VERSION_MINOR) "." DQ__STR(DQ_VERSION_PATCH);
}
