/*
 * The rate layer: step sizes (and the exploration rate, which follows the
 * same schedules). A rate is constant or scheduled (linear, exponential),
 * evaluated incrementally: one add (linear) or one multiply-add
 * (exponential) per step instead of a pow() or exp(). A new rate (per
 * entry, from a visit count, say) goes here, and the rules ask it for the
 * alpha of the entry they write (docs/architecture.md).
 */
#ifndef DQ_RATE_H
#define DQ_RATE_H

#include "internal.h"

/*
 * A schedule evaluated incrementally. `clock` counts schedule steps so the
 * closed form can be recomputed exactly (resume).
 */
typedef struct dq__sched {
	dq_schedule def;
	double value;
	double inc;    /* linear: per agent step; exp: decay factor */
	double clock;  /* schedule steps so far */
	double stride; /* schedule steps per agent step */
} dq__sched;

void dq__sched_init(dq__sched *sc, const dq_schedule *def, uint32_t stride);
void dq__sched_seek(dq__sched *sc, double clock);

static inline void
dq__sched_step(dq__sched *sc)
{
	switch (sc->def.kind) {
	case DQ_SCHEDULE_LINEAR:
		sc->clock += sc->stride;
		if (sc->clock >= sc->def.steps)
			sc->value = sc->def.end;
		else
			sc->value += sc->inc;
		break;
	case DQ_SCHEDULE_EXP:
		sc->clock += sc->stride;
		sc->value = sc->def.end + (sc->value - sc->def.end) * sc->inc;
		break;
	default:
		break;
	}
}

#endif /* DQ_RATE_H */
