/*
 * libdistq: DQ_API, which marks every public function (exported from the
 * shared library when building it). Included by the other parts.
 */
#ifndef DISTQ_API_H
#define DISTQ_API_H

#if defined(DQ_BUILDING_LIBRARY) && defined(__GNUC__)
#define DQ_API __attribute__((visibility("default")))
#else
#define DQ_API
#endif

#endif /* DISTQ_API_H */
