/*
 * libdistq - parallel tabular Q-learning on one shared Q-table.
 *
 * The umbrella header: everything a program, an environment or a
 * simulator needs, declared in one part per concept under distq/, which
 * this file includes in full; nothing else is public. Each part may also
 * be included alone (and includes the parts it needs):
 *   <distq/version.h>    version numbers       <distq/error.h>   error codes
 *   <distq/rng.h>        random streams        <distq/table.h>   the Q-table
 *   <distq/env.h>        environments (the plug-in interface for their
 *                        authors, and opened environments)
 *   <distq/writepath.h>  how updates reach the table
 *   <distq/agent.h>      agents                <distq/learner.h> agent threads
 *   <distq/solve.h>      models, exact solutions
 *   <distq/checkpoint.h> checkpoint files   <distq/tiles.h>   tile coding
 * Every part compiles as C99, C11, C17 and C++11 to C++20
 * (scripts/header-test.sh).
 *
 * Conventions (the same in every part):
 *  - Functions return 0 on success and a negative error code on failure
 *    (a negative errno or a DQ_E* code); dq_strerror() describes any code.
 *    Three queries whose only answer is a count, "how many there are",
 *    return it (>= 0) instead: dq_env_builtins(), dq_env_outcomes() and
 *    dq_learner_agent_cpus(); dq_cores() returns a count and never fails.
 *  - Objects and counts come back through out-parameters; *out is left
 *    untouched on failure.
 *  - dq_X_destroy(NULL) is a no-op.
 *  - Config structs are filled with defaults by dq_X_config_init() and then
 *    adjusted by the caller; always start from dq_X_config_init() (or from
 *    an all-zero struct where there is no init function).
 *  - The library never prints, exits or aborts on bad input.
 *
 * Growing structs (how a later minor version adds fields without breaking
 * programs built against this header):
 *  - Every public struct that may grow (the configs, results, counters,
 *    progress, run error, agent state, checkpoint metadata, table info,
 *    write-path counters, environment spec, schedule) ends in reserved
 *    space, uint64_t reserved_[N], sized per struct so that its size and
 *    every field's offset stay fixed for the whole major version
 *    (DQ_VERSION_MAJOR, the soname). This is libuv's choice: the caller
 *    allocates the structs (on the stack, inside its own structs), the
 *    library embeds them in each other (dq_schedule in dq_agent_config in
 *    dq_learner_config, dq_stats in dq_progress and dq_run_result), and a
 *    struct whose size moved would overrun an older program's memory. A
 *    size field checked by the library (Win32, Vulkan) fails when structs
 *    nest; opaque objects with setters (hwloc) cost a call per field.
 *  - The init functions zero the reserved words, and so does the library
 *    in every struct it fills. The library refuses (-EINVAL) a struct it
 *    reads whose reserved words are not zero: a field added later takes
 *    the place of reserved words, and its zero means "as before", so a
 *    program built against this header asks for the old behaviour. A
 *    struct without an init function (dq_checkpoint_meta,
 *    dq_agent_state) starts all-zero: "= {0}", memset, or as the library
 *    returned it.
 *  - A later field takes whole 64-bit words from the front of reserved_
 *    (a smaller field comes with explicit padding to the word), so that
 *    sizeof and every other offset stay as they are. tests/test_abi.c
 *    holds the sizes and offsets; abi/ checks the built library.
 *  - Never growing: dq_rng (a fixed state), dq_step, dq_outcome and
 *    dq_env_param (written in arrays or on every step by environments;
 *    a change is a new DQ_ENV_ABI). dq_env_ops grows through its own
 *    reserved pointer slots (see there).
 */
#ifndef DISTQ_H
#define DISTQ_H

#include "distq/version.h"
#include "distq/error.h"
#include "distq/rng.h"
#include "distq/table.h"
#include "distq/env.h"
#include "distq/writepath.h"
#include "distq/agent.h"
#include "distq/share.h"
#include "distq/learner.h"
#include "distq/solve.h"
#include "distq/checkpoint.h"
#include "distq/tiles.h"

#endif /* DISTQ_H */
