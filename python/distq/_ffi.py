"""The binding: a cffi cdef of the C declarations the package uses, and
the loading of libdistq.so.

cffi in ABI mode: nothing is compiled when the package is installed, so
``pip install`` needs neither a C compiler nor the header, and the package
runs from the source tree as it is. The price is that the declarations
below are a copy of ``distq.h``'s, which the compiler cannot check here;
tests/test_binding.py compiles a C file generated from this cdef (every
struct's size and field offsets, every enum value and every function's
type, assigned to a pointer of the declared type) against the real
header, so a header change that breaks the binding fails a test.
"""

import os
import pathlib

import cffi

CDEF = r"""
unsigned dq_version(void);
const char *dq_version_string(void);
const char *dq_strerror(int err);
const char *dq_error_detail(void);

typedef struct dq_rng { uint64_t s[4]; } dq_rng;
int dq_rng_seed(dq_rng *rng, uint64_t seed, uint64_t stream);
uint64_t dq_rng_next_fn(dq_rng *rng);
double dq_rng_uniform_fn(dq_rng *rng);
uint32_t dq_rng_below_fn(dq_rng *rng, uint32_t n);

typedef enum dq_mode {
	DQ_MODE_CAS = 0, DQ_MODE_HOGWILD = 1, DQ_MODE_LOCKED = 2
} dq_mode;
typedef struct dq_table_config {
	uint32_t n_states; uint32_t n_actions; dq_mode mode; double q0;
	bool pad_rows; uint32_t n_stripes; uint32_t channels;
	bool visit_counts;
	uint64_t reserved_[3];
} dq_table_config;
typedef struct dq_table_info {
	uint32_t n_states; uint32_t n_actions; dq_mode mode;
	size_t row_stride; size_t bytes; bool numa_interleaved;
	uint32_t channels; bool visit_counts;
	uint64_t reserved_[2];
} dq_table_info;
typedef struct dq_table dq_table;
int dq_table_config_init(dq_table_config *cfg);
int dq_table_create(dq_table **out, const dq_table_config *cfg);
void dq_table_destroy(dq_table *t);
int dq_table_info_get(const dq_table *t, dq_table_info *info);
int dq_table_get(const dq_table *t, uint32_t s, uint32_t a, double *out);
int dq_table_set(dq_table *t, uint32_t s, uint32_t a, double value);
int dq_table_fill(dq_table *t, double value);
int dq_table_snapshot(const dq_table *t, double *out, size_t n);
int dq_table_load(dq_table *t, const double *in, size_t n);
int dq_table_policy(const dq_table *t, uint32_t *policy, size_t n);
int dq_table_channel_get(const dq_table *t, uint32_t channel, uint32_t s,
			 uint32_t a, double *out);

typedef struct dq_env_spec {
	uint32_t n_states; uint32_t n_actions; uint32_t max_episode_steps;
	uint32_t max_outcomes;
	uint64_t reserved_[6];
} dq_env_spec;
typedef struct dq_step {
	uint32_t next_state; double reward; bool terminated; bool truncated;
} dq_step;
typedef struct dq_outcome {
	double prob; uint32_t next_state; double reward; bool terminated;
} dq_outcome;
typedef struct dq_env dq_env;
typedef struct dq_env_instance dq_env_instance;
int dq_env_open_name(dq_env **out, const char *spec);
void dq_env_close(dq_env *env);
int dq_env_spec_get(const dq_env *env, dq_env_spec *spec);
int dq_env_name(const dq_env *env, const char **name);
int dq_env_success(const dq_env *env, const dq_step *last, bool *success);
int dq_env_outcomes(const dq_env *env, uint32_t s, uint32_t a,
		    dq_outcome *out, size_t cap);
int dq_env_start_probs(const dq_env *env, double *p, size_t n);
int dq_env_instance_create(const dq_env *env, dq_env_instance **out);
void dq_env_instance_destroy(dq_env_instance *inst);
int dq_env_instance_reset(dq_env_instance *inst, dq_rng *rng,
			  uint32_t *state);
int dq_env_instance_step(dq_env_instance *inst, uint32_t action, dq_rng *rng,
			 dq_step *out);
int dq_env_instance_set_state(dq_env_instance *inst, uint32_t s);

typedef enum dq_schedule_kind {
	DQ_SCHEDULE_CONSTANT = 0, DQ_SCHEDULE_LINEAR = 1, DQ_SCHEDULE_EXP = 2
} dq_schedule_kind;
typedef struct dq_schedule {
	dq_schedule_kind kind; double start; double end; double steps;
	uint64_t reserved_[4];
} dq_schedule;
typedef enum dq_rule {
	DQ_RULE_Q = 0, DQ_RULE_SARSA = 1, DQ_RULE_EXPECTED_SARSA = 2,
	DQ_RULE_DOUBLE_Q = 3, DQ_RULE_NSTEP_Q = 4, DQ_RULE_NSTEP_SARSA = 5,
	DQ_RULE_Q_LAMBDA = 6
} dq_rule;
typedef enum dq_policy {
	DQ_POLICY_EGREEDY = 0, DQ_POLICY_SOFTMAX = 1
} dq_policy;
typedef enum dq_trace {
	DQ_TRACE_ACCUMULATING = 0, DQ_TRACE_REPLACING = 1
} dq_trace;
int dq_rule_from_name(const char *name, dq_rule *out);
const char *dq_rule_name(dq_rule rule);
int dq_rule_channels(dq_rule rule, uint32_t *out);
typedef struct dq_agent_config {
	double gamma; dq_schedule alpha; dq_schedule epsilon; uint64_t seed;
	uint32_t stream; uint32_t clock_step; uint32_t return_window;
	bool random_ties; uint32_t sync_every; int rule; double omega;
	uint32_t replay_capacity; uint32_t replay_batch;
	uint32_t replay_minibatches; uint32_t target_every; double target_tau;
	const void *tiles;
	int policy; uint32_t nstep; double lambda; int trace;
	uint32_t trace_max;
	uint64_t reserved_[3];
} dq_agent_config;
typedef struct dq_stats {
	uint64_t steps; uint64_t episodes; uint64_t cas_retries;
	uint64_t returns_n; double mean_return; double epsilon; double alpha;
	uint64_t reserved_[9];
} dq_stats;
typedef struct dq_agent dq_agent;
int dq_agent_config_init(dq_agent_config *cfg);
int dq_agent_config_check(const dq_agent_config *cfg);
int dq_agent_create(dq_agent **out, dq_table *table,
		    const dq_agent_config *cfg);
void dq_agent_destroy(dq_agent *agent);
int dq_agent_act(dq_agent *agent, uint32_t state, uint32_t *action);
int dq_agent_observe(dq_agent *agent, uint32_t s, uint32_t a, double reward,
		     uint32_t next_state, bool terminated);
int dq_agent_act_batch(dq_agent *agent, const uint32_t *states,
		       uint32_t *actions, size_t n);
int dq_agent_observe_batch(dq_agent *agent, const uint32_t *s,
			   const uint32_t *a, const double *rewards,
			   const uint32_t *next_states,
			   const uint8_t *terminated, size_t n, size_t *done);
int dq_agent_sync(dq_agent *agent);
int dq_agent_episode_end(dq_agent *agent);
int dq_agent_stats_get(const dq_agent *agent, dq_stats *out);

typedef enum dq_write_path { DQ_WRITE_AUTO = 0, DQ_WRITE_DIRECT = 1 }
	dq_write_path;
typedef enum dq_pin_policy {
	DQ_PIN_CORES = 0, DQ_PIN_NONE = 1, DQ_PIN_LIST = 2
} dq_pin_policy;
typedef struct dq_progress {
	double seconds; dq_stats total; double steps_per_second;
	double target_fraction; bool final;
	uint64_t reserved_[12];
} dq_progress;
typedef enum dq_share_kind {
	DQ_SHARE_NONE = 0, DQ_SHARE_DISTQL = 1, DQ_SHARE_AVERAGE = 2
} dq_share_kind;
typedef struct dq_share_config {
	dq_share_kind kind; uint32_t flags; double interval; double eta;
	double decay;
} dq_share_config;
int dq_share_parse(const char *spec, dq_share_config *out);
typedef enum dq_eval_unit {
	DQ_EVAL_SECONDS = 0, DQ_EVAL_STEPS = 1, DQ_EVAL_EPISODES = 2
} dq_eval_unit;
typedef struct dq_eval_record {
	uint32_t index; uint32_t n_episodes; double seconds; uint64_t steps;
	uint64_t episodes; uint64_t run_steps; double mean_return;
	double return_se; double mean_discounted; double discounted_se;
	double exact_value; double optimal_value; double gap; double epsilon;
	double alpha; double eval_seconds; bool final;
	uint64_t reserved_[8];
} dq_eval_record;
typedef struct dq_learner_config {
	uint32_t n_threads; dq_agent_config agent; uint64_t max_steps;
	uint64_t max_episodes; double max_seconds; uint32_t max_episode_steps;
	int (*should_stop)(void *arg); void *should_stop_arg;
	void (*progress)(const dq_progress *p, void *arg); void *progress_arg;
	double progress_interval; dq_pin_policy pin; const unsigned *pin_pus;
	size_t n_pin_pus; bool pin_strict; double target_fraction;
	double target_interval; dq_write_path write_path;
	dq_share_config share;
	double eval_every; dq_eval_unit eval_unit; uint32_t eval_episodes;
	void (*eval_callback)(const dq_eval_record *r, void *arg);
	void *eval_arg; double target_return;
	uint64_t reserved_[6];
} dq_learner_config;
typedef enum dq_stop_reason {
	DQ_STOP_NONE = 0, DQ_STOP_STEPS = 1, DQ_STOP_EPISODES = 2,
	DQ_STOP_TIME = 3, DQ_STOP_CALLBACK = 4, DQ_STOP_REQUEST = 5,
	DQ_STOP_TARGET = 6, DQ_STOP_ERROR = 7, DQ_STOP_RETURN = 8
} dq_stop_reason;
typedef struct dq_run_error {
	int code; uint32_t agent; uint64_t step; const char *what;
	uint64_t reserved_[5];
} dq_run_error;
typedef struct dq_run_result {
	dq_stop_reason reason; double seconds; dq_stats total;
	uint64_t run_steps; double target_fraction; double target_seconds;
	uint64_t target_steps; uint32_t pin_failures; int pin_error;
	uint64_t share_pushes; uint64_t share_entries;
	double return_seconds; uint64_t return_steps;
	uint64_t reserved_[5];
} dq_run_result;
typedef struct dq_learner dq_learner;
int dq_learner_config_init(dq_learner_config *cfg);
int dq_learner_create(dq_learner **out, dq_table *table, const dq_env *env,
		      const dq_learner_config *cfg);
void dq_learner_destroy(dq_learner *l);
int dq_learner_run(dq_learner *l, dq_run_result *result);
int dq_learner_target_table(const dq_learner *l, double *q, size_t n);
int dq_learner_stop(dq_learner *l);
int dq_learner_error(const dq_learner *l, dq_run_error *err);
int dq_cores(void);

typedef struct dq_model dq_model;
typedef struct dq_solve_config {
	double gamma; double tolerance; uint64_t max_sweeps;
	uint32_t n_threads;
	uint64_t reserved_[4];
} dq_solve_config;
int dq_solve_config_init(dq_solve_config *cfg);
int dq_model_create(dq_model **out, const dq_env *env);
void dq_model_destroy(dq_model *m);
int dq_model_solve(const dq_model *m, const dq_solve_config *cfg, double *q,
		   size_t nq, double *v, size_t nv, uint32_t *policy,
		   size_t np, uint64_t *sweeps);
int dq_model_evaluate(const dq_model *m, const dq_solve_config *cfg,
		      const uint32_t *policy, size_t np, double *v, size_t nv,
		      double *start_value, uint64_t *sweeps);
int dq_model_evaluate_random(const dq_model *m, const dq_solve_config *cfg,
			     double *v, size_t nv, double *start_value,
			     uint64_t *sweeps);
int dq_model_start_value(const dq_model *m, const double *v, size_t nv,
			 double *out);
int dq_model_optimal_fraction(const dq_model *m, const double *v_star,
			      const double *v_pi, size_t n, double tol,
			      double *frac);

typedef struct dq_checkpoint_meta {
	char env[64]; char params[256]; uint32_t n_states; uint32_t n_actions;
	uint32_t version; dq_mode mode; double gamma; double alpha;
	double epsilon; uint64_t seed; uint64_t steps; uint64_t episodes;
	double seconds; uint32_t n_agents; uint32_t channels;
	bool visit_counts; bool has_rule; int rule;
	uint64_t reserved_[13];
} dq_checkpoint_meta;
int dq_checkpoint_save(const char *path, const dq_table *t,
		       const dq_checkpoint_meta *meta);
int dq_checkpoint_read_meta(const char *path, dq_checkpoint_meta *meta);
int dq_checkpoint_load(const char *path, dq_table *t,
		       dq_checkpoint_meta *meta);

typedef struct dq_tiles_config {
	uint32_t n_tilings; uint32_t dim; uint32_t bins[16]; double low[16];
	double high[16]; uint32_t hash_rows; uint32_t pad_;
	uint64_t reserved_[4];
} dq_tiles_config;
typedef struct dq_tiles dq_tiles;
int dq_tiles_config_init(dq_tiles_config *cfg);
int dq_tiles_config_parse(dq_tiles_config *cfg, const char *text);
int dq_tiles_config_from_env(dq_tiles_config *cfg, const dq_env *env,
			     const char *text);
int dq_tiles_create(dq_tiles **out, const dq_tiles_config *cfg);
void dq_tiles_destroy(dq_tiles *tc);
int dq_tiles_config_get(const dq_tiles *tc, dq_tiles_config *cfg);
int dq_tiles_features(const dq_tiles *tc, uint32_t *rows);
int dq_tiles_active(const dq_tiles *tc, const double *obs, uint32_t *tiles,
		    size_t cap);
int dq_tiles_values(const dq_tiles *tc, const dq_table *table,
		    const double *obs, double *q, size_t n);
int dq_tiles_format(const dq_tiles *tc, char *buf, size_t size);
int dq_tiles_tuned(const char *env, const char **spec, double *alpha,
		   double *epsilon, double *gamma);
int dq_env_obs_dim(const dq_env *env, uint32_t *dim);
int dq_env_instance_observe(const dq_env_instance *inst, double *obs,
			    size_t n);
int dq_checkpoint_save_tiles(const char *path, const dq_table *t,
			     const dq_checkpoint_meta *meta,
			     const dq_tiles *tiles);
int dq_checkpoint_read_tiles(const char *path, dq_tiles_config *cfg);
"""

# The libdistq-specific codes of distq.h (#define constants are not part
# of a cdef that dlopen can check; tests/test_binding.py compares them).
ERRNO_BASE = -1000
EABI = -1001
EENV = -1002
EFORMAT = -1003
EVERSION = -1004
ETRUNC = -1005
ECORRUPT = -1006
EMISMATCH = -1007
EPIN = -1008
ENONFINITE = -1009
EFILEVALUE = -1010
ENOTREG = -1011
ENOTHISSYS = -1013
EAFFINITY = -1014
ERULE = -1015
MAX_THREADS = 4096

# The ABI this binding was written for: the soname's major number.
SONAME = "libdistq.so.0"
ABI_MAJOR = 0

ffi = cffi.FFI()
ffi.cdef(CDEF)


def _candidates():
    """Where to look for libdistq, in order: $DISTQ_LIBRARY (a file, or a
    directory holding the library), the build tree this package sits in
    (python/distq/ -> build/), then the dynamic loader's own search
    (LD_LIBRARY_PATH, the ldconfig cache: an installed library), then
    pkg-config's libdir for distq (a private prefix)."""
    env = os.environ.get("DISTQ_LIBRARY")
    if env:
        p = pathlib.Path(env)
        yield str(p / SONAME) if p.is_dir() else str(p)
        return
    here = pathlib.Path(__file__).resolve().parent
    tree = here.parent.parent / "build" / SONAME
    if tree.exists():
        yield str(tree)
    yield SONAME
    # A private prefix (make install PREFIX=...) that pkg-config knows.
    try:
        import subprocess
        libdir = subprocess.run(
            ["pkg-config", "--variable=libdir", "distq"], capture_output=True,
            text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        libdir = ""
    if libdir and (pathlib.Path(libdir) / SONAME).exists():
        yield str(pathlib.Path(libdir) / SONAME)


def _load():
    errors = []
    for c in _candidates():
        try:
            lib = ffi.dlopen(c)
        except OSError as e:
            errors.append(f"{c}: {e}")
            continue
        major = lib.dq_version() >> 16
        if major != ABI_MAJOR:
            errors.append(f"{c}: libdistq {major}.x, this package needs "
                          f"{ABI_MAJOR}.x")
            continue
        return lib, c
    raise ImportError(
        "distq: cannot load libdistq (build it with 'make', or install it; "
        "DISTQ_LIBRARY=/path/to/libdistq.so.0 names it): "
        + "; ".join(errors))


lib, library_path = _load()

# Ownership. Each C object the package makes is freed by ffi.gc when its
# Python owner goes, but an object some other one depends on (an
# environment and its instances, a table and its agents) must go last,
# whatever order the garbage collector picks (a cycle is collected in any
# order). Dependents are counted here, in module-level state that the
# collector never clears, and a parent whose collection comes first waits
# for its last dependent.
_LIVE = {}  # address -> [raw pointer, destroy, parent address, children,
#             waiting]


def _addr(p):
    return int(ffi.cast("uintptr_t", p))


def owned(ptr, destroy, parent=None):
    """ptr, freed by destroy(ptr) once neither it nor (when it is a
    parent) any of its dependents is reachable. parent: the owned cdata
    ptr depends on."""
    pa = _addr(parent) if parent is not None else None
    _LIVE[_addr(ptr)] = [ptr, destroy, pa, 0, False]
    if pa is not None:
        _LIVE[pa][3] += 1
    return ffi.gc(ptr, _release)


def _release(p):
    a = _addr(p)
    e = _LIVE.get(a)
    if e is None:
        return
    if e[3] > 0:
        e[4] = True
        return
    _free(a)


def _free(a):
    ptr, destroy, pa, _, _ = _LIVE.pop(a)
    destroy(ptr)
    if pa is not None:
        pe = _LIVE[pa]
        pe[3] -= 1
        if pe[3] == 0 and pe[4]:
            _free(pa)
