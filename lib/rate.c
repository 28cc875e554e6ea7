/*
 * The rate layer's schedules (rate.h): set up and seek.
 */
#include <math.h>

#include "rate.h"

void
dq__sched_init(dq__sched *sc, const dq_schedule *def, uint32_t stride)
{
	sc->def = *def;
	sc->stride = stride;
	dq__sched_seek(sc, 0.0);
}

/*
 * Put a schedule at schedule-time `clock` using the closed form, and derive
 * the per-step increment from the stride.
 */
void
dq__sched_seek(dq__sched *sc, double clock)
{
	const dq_schedule *d = &sc->def;

	sc->clock = clock;
	switch (d->kind) {
	case DQ_SCHEDULE_LINEAR:
		sc->inc = (d->end - d->start) / d->steps * sc->stride;
		sc->value =
		    clock >= d->steps
			? d->end
			: d->start + (d->end - d->start) * (clock / d->steps);
		break;
	case DQ_SCHEDULE_EXP:
		sc->inc = exp(-sc->stride / d->steps);
		sc->value =
		    d->end + (d->start - d->end) * exp(-clock / d->steps);
		break;
	default:
		sc->inc = 0.0;
		sc->value = d->start;
		break;
	}
}
