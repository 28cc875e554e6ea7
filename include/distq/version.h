/*
 * libdistq: the version numbers.
 *
 * Part of <distq.h>, which includes every part; this one may also be
 * included alone. The conventions are at the top of <distq.h>.
 */
#ifndef DISTQ_VERSION_H
#define DISTQ_VERSION_H

#include "api.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/** @defgroup version Version
 * @{ */

#define DQ_VERSION_MAJOR 0 /**< Incompatible ABI changes (the soname). */
#define DQ_VERSION_MINOR 1 /**< Compatible additions. */
#define DQ_VERSION_PATCH 0 /**< Fixes only. */
/** The version as one number: 0xMMmmpp. */
#define DQ_VERSION_HEX \
	((DQ_VERSION_MAJOR << 16) | (DQ_VERSION_MINOR << 8) | DQ_VERSION_PATCH)

/**
 * The version of the library actually linked, as DQ_VERSION_HEX.
 *
 * @return 0xMMmmpp.
 * Thread-safety: safe from any thread.
 * Ordering: none (a constant).
 */
DQ_API unsigned dq_version(void);

/**
 * The version of the library actually linked, as "MAJOR.MINOR.PATCH".
 *
 * @return a static string.
 * Thread-safety: safe from any thread.
 * Ordering: none (a constant).
 */
DQ_API const char *dq_version_string(void);

/** @} */

#ifdef __cplusplus
}
#endif
#endif /* DISTQ_VERSION_H */
