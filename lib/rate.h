/*
 * The rate layer: step sizes (and the exploration rate, which follows the
 * same schedules). A rate is constant or scheduled (linear, exponential),
 * evaluated incrementally: one add (linear) or one multiply-add
 * (exponential) per step instead of a pow() or exp(); or per entry, from
 * the entry's visit count (dq__rate_visit_alpha()). A new rate goes here,
 * and the rules ask it for the alpha of the entry they write
 * (docs/architecture.md).
 */
#ifndef DQ_RATE_H
#define DQ_RATE_H

#include <math.h>

#include "table.h"

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

/*
 * Per-entry step size: alpha = 1 / N^omega, N the visit count of (s, a)
 * with this update, taken from the table's count channel with one atomic
 * fetch-add (in every discipline, and also behind the write-back overlay:
 * counts are never copied or merged). Two agents updating one entry at
 * once get distinct counts, so no 128-bit CAS of (value, count) is needed.
 */
DQ__INLINE double
dq__rate_visit_alpha(dq_table *t, uint32_t s, uint32_t a, double omega)
{
	dq__atomic_u64 *p = dq__table_row(t, s) + t->width + a;
	/* relaxed: a counter; the value it returns orders nothing */
	double n = (double)(dq__fetch_add_u64(p, 1, memory_order_relaxed) + 1);

	return omega == 1.0 ? 1.0 / n : pow(n, -omega);
}

/*
 * DistQL's per-entry rate (share.h): eta_i = eta0 decay^N, N the entry's
 * updates before this one, from the same count channel (of the agent's
 * local table, which only its thread writes). log_decay = log(decay).
 */
DQ__INLINE double
dq__rate_eta_alpha(dq_table *t, uint32_t s, uint32_t a, double eta0,
		   double log_decay)
{
	dq__atomic_u64 *p = dq__table_row(t, s) + t->width + a;
	/* relaxed: a counter; the value it returns orders nothing */
	double n = (double)dq__fetch_add_u64(p, 1, memory_order_relaxed);

	return eta0 * exp(n * log_decay);
}

#endif /* DQ_RATE_H */
