/*
 * Test hooks, compiled only into the test build of the library (DQ_JET,
 * jemalloc's "JET" idea): the unit tests link $(BUILD)/jet/libdistq-jet.a,
 * whose objects are compiled with -DDQ_JET; the installed library's objects
 * carry no hook, and every hook below expands to nothing there.
 *
 * DQ__JET_RACE_WINDOW() marks the gap between reading a value and
 * publishing what was computed from it (liburcu's debug-yield idea). While
 * a test sets dq__jet_race_period to N > 0, every Nth pass of each thread
 * through a window yields the CPU there, so another thread runs inside the
 * window: a read-modify-write that is not atomic loses updates in nearly
 * every run, instead of once in a while.
 */
#ifndef DQ_JET_H
#define DQ_JET_H

#ifdef DQ_JET
#include "atomic.h"

/* 0: windows do nothing (the default); N: yield at every Nth pass. */
extern dq__atomic_u32 dq__jet_race_period;

void dq__jet_race_window(void);

#define DQ__JET_RACE_WINDOW() dq__jet_race_window()
#else
#define DQ__JET_RACE_WINDOW() ((void)0)
#endif

#endif /* DQ_JET_H */
