/*
 * Checkpoints: the file format, atomic writes and validation.
 *
 * The format (docs/checkpoint-format.md is the specification) is written
 * and read one byte at a time through put_/get_ helpers, never by dumping
 * a struct, so it is the same on every compiler and byte order. A
 * checkpoint is a fixed 416-byte header protected by its own CRC-32, the
 * S x A values as IEEE-754 binary64, and a 12-byte trailer holding the file
 * length and a CRC-32 over every byte before it.
 *
 * The header has its own checksum so that the reader can trust the sizes
 * it announces before it reads the rest: a short file whose header checks
 * out is truncated (DQ_ETRUNC), while a header with a flipped bit is
 * corrupt (DQ_ECORRUPT) and never sends the reader looking for a length
 * that was never written.
 *
 * This file uses only the table's public interface: a checkpoint is a
 * snapshot of values plus what the caller tells it about the run.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "internal.h"

/* Byte offsets of the version 1 header; see docs/checkpoint-format.md. */
#define CKP_MAGIC "DISTQCKP"
#define CKP_MAGIC_LEN 8u
#define CKP_OFF_VERSION 8u
#define CKP_OFF_HEADER_LEN 12u
#define CKP_OFF_VALUE_TYPE 16u
#define CKP_OFF_MODE 20u
#define CKP_OFF_STATES 24u
#define CKP_OFF_ACTIONS 28u
#define CKP_OFF_SEED 32u
#define CKP_OFF_STEPS 40u
#define CKP_OFF_EPISODES 48u
#define CKP_OFF_GAMMA 56u
#define CKP_OFF_ALPHA 64u
#define CKP_OFF_EPSILON 72u
#define CKP_OFF_SECONDS 80u
#define CKP_OFF_ENV 88u
#define CKP_OFF_PARAMS 152u
#define CKP_OFF_RESERVED 408u
#define CKP_OFF_HEADER_CRC 412u
#define CKP_HEADER_LEN 416u	  /* what version 1 writes, and the minimum */
#define CKP_HEADER_MAX (1u << 20) /* larger headers are nonsense */
#define CKP_TRAILER_LEN 12u	  /* u64 file length, u32 CRC-32 */
#define CKP_VALUE_F64LE 1u

#define CKP_ENV_LEN 64u
#define CKP_PARAMS_LEN 256u

/* Values are encoded and decoded through a bounded buffer, not all at once. */
#define CKP_CHUNK_VALUES 8192u
#define CKP_CHUNK_BYTES (CKP_CHUNK_VALUES * 8u)

_Static_assert(sizeof(((dq_checkpoint_meta *)0)->env) == CKP_ENV_LEN,
	       "meta.env must match the file's field");
_Static_assert(sizeof(((dq_checkpoint_meta *)0)->params) == CKP_PARAMS_LEN,
	       "meta.params must match the file's field");
_Static_assert(CKP_OFF_ENV + CKP_ENV_LEN == CKP_OFF_PARAMS, "layout");
_Static_assert(CKP_OFF_PARAMS + CKP_PARAMS_LEN == CKP_OFF_RESERVED, "layout");

/* ---------------------------------------------------------------- bytes -- */

static void
put_u32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void
put_u64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* A double travels as the little-endian bytes of its binary64 pattern. */
static void
put_f64(uint8_t *p, double v)
{
	uint64_t bits;

	memcpy(&bits, &v, sizeof(bits));
	put_u64(p, bits);
}

static uint32_t
get_u32(const uint8_t *p)
{
	uint32_t v = 0;

	for (int i = 3; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static uint64_t
get_u64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static double
get_f64(const uint8_t *p)
{
	uint64_t bits = get_u64(p);
	double v;

	memcpy(&v, &bits, sizeof(v));
	return v;
}

/* zlib's crc32() takes a uInt length; every caller passes a chunk. */
static uint32_t
crc_update(uint32_t crc, const uint8_t *p, size_t n)
{
	return (uint32_t)crc32(crc, p, (uInt)n);
}

static bool
str_terminated(const char *s, size_t cap)
{
	return memchr(s, '\0', cap) != NULL;
}

static bool
mode_valid(uint32_t mode)
{
	return mode == DQ_MODE_CAS || mode == DQ_MODE_HOGWILD ||
	       mode == DQ_MODE_LOCKED;
}

/*
 * The file length for a table of S x A values, or false when it does not fit
 * in 64 bits (or in size_t, since the values must fit in memory to be
 * loaded).
 */
static bool
ckp_file_len(uint64_t header_len, uint32_t s, uint32_t a, uint64_t *len)
{
	uint64_t n = (uint64_t)s * a;
	size_t bytes;

	if (n > (UINT64_MAX - header_len - CKP_TRAILER_LEN) / 8)
		return false;
	if (n > SIZE_MAX ||
	    dq__mul_overflows((size_t)n, sizeof(double), &bytes))
		return false;
	*len = header_len + n * 8 + CKP_TRAILER_LEN;
	return true;
}

/* --------------------------------------------------------------- header -- */

/* Lay out the version 1 header, including its own CRC. */
static void
ckp_header_encode(uint8_t *h, const dq_checkpoint_meta *m, uint32_t s,
		  uint32_t a)
{
	memset(h, 0, CKP_HEADER_LEN);
	memcpy(h, CKP_MAGIC, CKP_MAGIC_LEN);
	put_u32(h + CKP_OFF_VERSION, DQ_CHECKPOINT_VERSION);
	put_u32(h + CKP_OFF_HEADER_LEN, CKP_HEADER_LEN);
	put_u32(h + CKP_OFF_VALUE_TYPE, CKP_VALUE_F64LE);
	put_u32(h + CKP_OFF_MODE, (uint32_t)m->mode);
	put_u32(h + CKP_OFF_STATES, s);
	put_u32(h + CKP_OFF_ACTIONS, a);
	put_u64(h + CKP_OFF_SEED, m->seed);
	put_u64(h + CKP_OFF_STEPS, m->steps);
	put_u64(h + CKP_OFF_EPISODES, m->episodes);
	put_f64(h + CKP_OFF_GAMMA, m->gamma);
	put_f64(h + CKP_OFF_ALPHA, m->alpha);
	put_f64(h + CKP_OFF_EPSILON, m->epsilon);
	put_f64(h + CKP_OFF_SECONDS, m->seconds);
	/* strncpy pads with NULs: the bytes after the string are defined. */
	strncpy((char *)h + CKP_OFF_ENV, m->env, CKP_ENV_LEN);
	strncpy((char *)h + CKP_OFF_PARAMS, m->params, CKP_PARAMS_LEN);
	put_u32(h + CKP_OFF_HEADER_CRC, crc_update(0, h, CKP_OFF_HEADER_CRC));
}

/*
 * Classify a header of which only @n bytes exist (n < CKP_HEADER_LEN): a
 * magic prefix means a truncated checkpoint, anything else is some other
 * file. The version is judged as soon as it is all there, so that a short
 * file from a future version says so rather than "truncated".
 */
static int
ckp_header_partial(const uint8_t *h, size_t n)
{
	size_t m = n < CKP_MAGIC_LEN ? n : CKP_MAGIC_LEN;

	if (memcmp(h, CKP_MAGIC, m) != 0)
		return DQ_EFORMAT;
	if (n >= CKP_OFF_VERSION + 4 &&
	    get_u32(h + CKP_OFF_VERSION) != DQ_CHECKPOINT_VERSION)
		return DQ_EVERSION;
	return DQ_ETRUNC;
}

/*
 * Check a complete fixed header and decode it into @m. The order matters:
 * magic, then version (a file we cannot interpret says so), then the
 * header CRC (so no field below is believed unless it is what was written),
 * then the fields' own sense. @len receives the file length the header
 * implies.
 */
static int
ckp_header_decode(const uint8_t *h, dq_checkpoint_meta *m, uint64_t *len)
{
	uint32_t hlen, s, a, mode;

	if (memcmp(h, CKP_MAGIC, CKP_MAGIC_LEN) != 0)
		return DQ_EFORMAT;
	if (get_u32(h + CKP_OFF_VERSION) != DQ_CHECKPOINT_VERSION)
		return DQ_EVERSION;
	if (get_u32(h + CKP_OFF_HEADER_CRC) !=
	    crc_update(0, h, CKP_OFF_HEADER_CRC))
		return DQ_ECORRUPT;
	if (get_u32(h + CKP_OFF_VALUE_TYPE) != CKP_VALUE_F64LE)
		return DQ_EVERSION;

	hlen = get_u32(h + CKP_OFF_HEADER_LEN);
	s = get_u32(h + CKP_OFF_STATES);
	a = get_u32(h + CKP_OFF_ACTIONS);
	mode = get_u32(h + CKP_OFF_MODE);
	if (hlen < CKP_HEADER_LEN || hlen > CKP_HEADER_MAX || hlen % 8 ||
	    get_u32(h + CKP_OFF_RESERVED) != 0 || !mode_valid(mode) || !s ||
	    !a || !ckp_file_len(hlen, s, a, len))
		return DQ_ECORRUPT;

	memset(m, 0, sizeof(*m));
	memcpy(m->env, h + CKP_OFF_ENV, CKP_ENV_LEN);
	memcpy(m->params, h + CKP_OFF_PARAMS, CKP_PARAMS_LEN);
	m->n_states = s;
	m->n_actions = a;
	m->version = DQ_CHECKPOINT_VERSION;
	m->mode = (dq_mode)mode;
	m->seed = get_u64(h + CKP_OFF_SEED);
	m->steps = get_u64(h + CKP_OFF_STEPS);
	m->episodes = get_u64(h + CKP_OFF_EPISODES);
	m->gamma = get_f64(h + CKP_OFF_GAMMA);
	m->alpha = get_f64(h + CKP_OFF_ALPHA);
	m->epsilon = get_f64(h + CKP_OFF_EPSILON);
	m->seconds = get_f64(h + CKP_OFF_SECONDS);
	if (!str_terminated(m->env, CKP_ENV_LEN) ||
	    !str_terminated(m->params, CKP_PARAMS_LEN) || !isfinite(m->gamma) ||
	    !isfinite(m->alpha) || !isfinite(m->epsilon) ||
	    !isfinite(m->seconds))
		return DQ_ECORRUPT;
	return 0;
}

/* ------------------------------------------------------------------ I/O -- */

/* write() until done; EINTR and short writes are not errors. */
static int
write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (w == 0)
			return -EIO; /* no progress and no reason: give up */
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/*
 * read() exactly @n bytes. End of file first means the file shrank after
 * fstat() told us its size: that is a truncated file.
 */
static int
read_all(int fd, uint8_t *p, size_t n)
{
	while (n) {
		ssize_t r = read(fd, p, n);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			return DQ_ETRUNC;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/* ----------------------------------------------------------------- save -- */

static int
meta_check(const dq_checkpoint_meta *m)
{
	if (!str_terminated(m->env, sizeof(m->env)) ||
	    !str_terminated(m->params, sizeof(m->params)) ||
	    !mode_valid((uint32_t)m->mode) || !isfinite(m->gamma) ||
	    !isfinite(m->alpha) || !isfinite(m->epsilon) ||
	    !isfinite(m->seconds))
		return -EINVAL;
	return 0;
}

/*
 * Write header, values and trailer to @fd. The values are encoded a chunk
 * at a time so that the extra memory is bounded whatever the table's size;
 * the CRC runs over exactly the bytes written.
 */
static int
ckp_write_body(int fd, const uint8_t *header, const double *vals, size_t n,
	       uint64_t file_len)
{
	uint8_t *buf = malloc(CKP_CHUNK_BYTES);
	uint8_t trailer[CKP_TRAILER_LEN];
	uint32_t crc;
	int err;

	if (!buf)
		return -ENOMEM;
	crc = crc_update(0, header, CKP_HEADER_LEN);
	err = write_all(fd, header, CKP_HEADER_LEN);
	for (size_t i = 0; !err && i < n; i += CKP_CHUNK_VALUES) {
		size_t k = n - i < CKP_CHUNK_VALUES ? n - i : CKP_CHUNK_VALUES;

		for (size_t j = 0; j < k; j++)
			put_f64(buf + 8 * j, vals[i + j]);
		crc = crc_update(crc, buf, 8 * k);
		err = write_all(fd, buf, 8 * k);
	}
	free(buf);
	if (err)
		return err;
	put_u64(trailer, file_len);
	crc = crc_update(crc, trailer, 8);
	put_u32(trailer + 8, crc);
	return write_all(fd, trailer, CKP_TRAILER_LEN);
}

/* The directory that will hold @path, as a new string ("." for none). */
static char *
dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	size_t len = slash ? (size_t)(slash - path) : 1;
	char *dir;

	if (slash == path)
		len = 1; /* "/name": the root */
	dir = malloc(len + 1);
	if (!dir)
		return NULL;
	memcpy(dir, slash ? path : ".", len);
	dir[len] = '\0';
	return dir;
}

/*
 * A file that replaces another keeps the other's permission bits; mkstemp()
 * gives 0600 otherwise, which suits a file nobody else asked to read.
 */
static int
keep_mode(int fd, const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
		return 0;
	if (fchmod(fd, st.st_mode & 0777) != 0)
		return -errno;
	return 0;
}

/*
 * The atomic write protocol: temporary file beside the target, written and
 * fsync'ed, closed (close can report a deferred write error), renamed over
 * the target, then the directory fsync'ed so the rename itself is durable.
 * The directory is opened before the rename so that every failure which
 * can still be undone happens while the old file is in place; only a
 * failing directory fsync is reported after the new file is visible.
 */
static int
ckp_write_file(const char *path, const uint8_t *header, const double *vals,
	       size_t n, uint64_t file_len)
{
	static const char suffix[] = ".tmp.XXXXXX";
	size_t plen = strlen(path);
	char *tmp = malloc(plen + sizeof(suffix));
	char *dir = dir_of(path);
	int fd = -1, dfd = -1, err = 0;

	if (!tmp || !dir) {
		err = -ENOMEM;
		goto out;
	}
	memcpy(tmp, path, plen);
	memcpy(tmp + plen, suffix, sizeof(suffix));
	fd = mkstemp(tmp);
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	/* mkstemp() cannot open with O_CLOEXEC; narrow the window in which
	 * a concurrent fork+exec could inherit the descriptor. */
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) != 0)
		err = -errno;
	if (!err)
		err = keep_mode(fd, path);
	if (!err)
		err = ckp_write_body(fd, header, vals, n, file_len);
	if (!err && fsync(fd) != 0)
		err = -errno;
	if (close(fd) != 0 && !err)
		err = -errno;
	if (err)
		goto unlink;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		err = -errno;
		goto unlink;
	}
	if (rename(tmp, path) != 0) {
		err = -errno;
		goto unlink;
	}
	/* Past the point of no return: the new file is in place. Some file
	 * systems cannot fsync a directory (EINVAL); that is not a failure. */
	if (fsync(dfd) != 0 && errno != EINVAL)
		err = -errno;
	goto out;
unlink:
	unlink(tmp);
out:
	if (dfd >= 0)
		close(dfd);
	free(dir);
	free(tmp);
	return err;
}

int
dq_checkpoint_save(const char *path, const dq_table *t,
		   const dq_checkpoint_meta *meta)
{
	uint8_t header[CKP_HEADER_LEN];
	dq_table_info info;
	uint64_t file_len;
	double *vals;
	size_t n;
	int err;

	if (!path || !*path || !t || !meta)
		return -EINVAL;
	err = meta_check(meta);
	if (err)
		return err;
	err = dq_table_info_get(t, &info);
	if (err)
		return err;
	if (!ckp_file_len(CKP_HEADER_LEN, info.n_states, info.n_actions,
			  &file_len))
		return -ERANGE;
	n = (size_t)info.n_states * info.n_actions;
	/* Snapshot first: a failed allocation must not leave a temp file. */
	vals = malloc(n * sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	err = dq_table_snapshot(t, vals, n);
	if (!err) {
		ckp_header_encode(header, meta, info.n_states, info.n_actions);
		err = ckp_write_file(path, header, vals, n, file_len);
	}
	free(vals);
	return err;
}

/* ----------------------------------------------------------------- read -- */

/* An open checkpoint whose header has been validated. */
typedef struct ckp_reader {
	int fd;
	uint64_t size;	     /* from fstat */
	uint64_t header_len; /* where the values start */
	uint32_t crc;	     /* running CRC-32 over what was read */
	dq_checkpoint_meta meta;
} ckp_reader;

/*
 * Open @path and validate everything up to the values: that it is a regular
 * file, that its size is at least what the header says (and no more), and
 * the header itself. No byte is read past what fstat() reported.
 */
static int
ckp_open(const char *path, ckp_reader *r)
{
	uint8_t h[CKP_HEADER_LEN];
	uint64_t len;
	struct stat st;
	size_t n;
	int err;

	r->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (r->fd < 0)
		return -errno;
	if (fstat(r->fd, &st) != 0)
		return -errno;
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	if (!S_ISREG(st.st_mode))
		return DQ_EFORMAT;
	r->size = (uint64_t)st.st_size;
	n = r->size < CKP_HEADER_LEN ? (size_t)r->size : CKP_HEADER_LEN;
	err = read_all(r->fd, h, n);
	if (err)
		return err;
	if (n < CKP_HEADER_LEN)
		return ckp_header_partial(h, n);
	err = ckp_header_decode(h, &r->meta, &len);
	if (err)
		return err;
	if (r->size < len)
		return DQ_ETRUNC;
	if (r->size > len)
		return DQ_ECORRUPT; /* bytes after the trailer */
	r->header_len = get_u32(h + CKP_OFF_HEADER_LEN);
	r->crc = crc_update(0, h, CKP_HEADER_LEN);
	return 0;
}

/* Feed @n bytes of the file to the CRC, for header bytes we do not know. */
static int
ckp_skip(ckp_reader *r, uint8_t *buf, uint64_t n)
{
	while (n) {
		size_t k = n < CKP_CHUNK_BYTES ? (size_t)n : CKP_CHUNK_BYTES;
		int err = read_all(r->fd, buf, k);

		if (err)
			return err;
		r->crc = crc_update(r->crc, buf, k);
		n -= k;
	}
	return 0;
}

/*
 * Read the rest of an opened checkpoint: any header extension, the values
 * (decoded into @out when it is not NULL), and the trailer, and check the
 * CRC and that every value is finite. The whole file is read either way,
 * so read_meta() and load() judge a file alike.
 */
static int
ckp_read_values(ckp_reader *r, double *out)
{
	uint64_t n = (uint64_t)r->meta.n_states * r->meta.n_actions;
	uint8_t *buf = malloc(CKP_CHUNK_BYTES);
	uint8_t trailer[CKP_TRAILER_LEN];
	bool finite = true;
	int err;

	if (!buf)
		return -ENOMEM;
	err = ckp_skip(r, buf, r->header_len - CKP_HEADER_LEN);
	for (uint64_t i = 0; !err && i < n; i += CKP_CHUNK_VALUES) {
		size_t k = n - i < CKP_CHUNK_VALUES ? (size_t)(n - i)
						    : CKP_CHUNK_VALUES;

		err = read_all(r->fd, buf, 8 * k);
		if (err)
			break;
		r->crc = crc_update(r->crc, buf, 8 * k);
		for (size_t j = 0; j < k; j++) {
			double v = get_f64(buf + 8 * j);

			finite = finite && isfinite(v);
			if (out)
				out[i + j] = v;
		}
	}
	free(buf);
	if (err)
		return err;
	err = read_all(r->fd, trailer, CKP_TRAILER_LEN);
	if (err)
		return err;
	r->crc = crc_update(r->crc, trailer, 8);
	if (get_u64(trailer) != r->size || get_u32(trailer + 8) != r->crc)
		return DQ_ECORRUPT;
	/* A table only ever holds finite values: a file with any other was
	 * not written by dq_checkpoint_save(), whatever its CRC says. */
	return finite ? 0 : DQ_ECORRUPT;
}

static void
ckp_close(ckp_reader *r)
{
	if (r->fd >= 0)
		close(r->fd);
}

int
dq_checkpoint_read_meta(const char *path, dq_checkpoint_meta *meta)
{
	ckp_reader r = {.fd = -1};
	int err;

	if (!path || !meta)
		return -EINVAL;
	err = ckp_open(path, &r);
	if (!err)
		err = ckp_read_values(&r, NULL);
	ckp_close(&r);
	if (!err)
		*meta = r.meta;
	return err;
}

/*
 * The values go to a temporary buffer first and reach the table only when
 * the whole file has checked out, so a failure leaves the table as it was.
 * A file for another shape is still read through, so that a damaged file
 * is reported as damaged rather than as a mismatch.
 */
int
dq_checkpoint_load(const char *path, dq_table *t, dq_checkpoint_meta *meta)
{
	ckp_reader r = {.fd = -1};
	dq_table_info info;
	double *vals = NULL;
	size_t n;
	int err;

	if (!path || !t)
		return -EINVAL;
	err = dq_table_info_get(t, &info);
	if (err)
		return err;
	err = ckp_open(path, &r);
	if (err)
		goto out;
	if (r.meta.n_states != info.n_states ||
	    r.meta.n_actions != info.n_actions) {
		err = ckp_read_values(&r, NULL);
		if (!err)
			err = DQ_EMISMATCH;
		goto out;
	}
	n = (size_t)info.n_states * info.n_actions;
	vals = malloc(n * sizeof(*vals));
	if (!vals) {
		err = -ENOMEM;
		goto out;
	}
	err = ckp_read_values(&r, vals);
	if (!err)
		err = dq_table_load(t, vals, n);
	if (!err && meta)
		*meta = r.meta;
out:
	free(vals);
	ckp_close(&r);
	return err;
}
