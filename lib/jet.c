/*
 * The test build's hooks (lib/jet.h). Without DQ_JET this file compiles to
 * nothing: release objects carry no hook.
 */
#ifdef DQ_JET
#include <sched.h>
#include <stdint.h>

#include "jet.h"

dq__atomic_u32 dq__jet_race_period;

void
dq__jet_race_window(void)
{
	static _Thread_local uint32_t passes;
	/* relaxed: a test setting, written before the threads it affects
	 * are created (pthread_create orders it) */
	uint32_t period =
	    dq__load_u32(&dq__jet_race_period, memory_order_relaxed);

	if (period && ++passes % period == 0)
		sched_yield();
}
#else
/* ISO C wants at least one declaration in a translation unit. */
typedef int dq__jet_unused;
#endif
