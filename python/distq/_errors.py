"""Errors: every failing library call raises a distq.Error carrying the
library's own message (dq_strerror(), and dq_error_detail() where the
function records one), also an instance of the Python exception its kind
calls for."""

import errno as _errno

from . import _ffi
from ._ffi import ffi, lib


class Error(Exception):
    """Base of every libdistq error. ``code`` is the library's (negative)
    error code, ``detail`` what dq_error_detail() said, or None."""

    def __init__(self, message, code=0, detail=None):
        super().__init__(message)
        self.code = code
        self.detail = detail


class InvalidArgument(Error, ValueError):
    """-EINVAL, -ERANGE, -EDOM, DQ_ENONFINITE: a bad argument or value."""


class UnknownEnvironment(InvalidArgument, LookupError):
    """distq.make() of a name that is no built-in environment (nor one of
    the Gymnasium ids it maps); the message lists the known names."""


class FileError(Error, OSError):
    """A file could not be read or written; ``errno`` and ``filename`` as
    in OSError (errno is None for DQ_ENOTREG: not a regular file)."""

    def __init__(self, message, code=0, detail=None, filename=None):
        Error.__init__(self, message, code, detail)
        self.errno = -code if -1000 < code < 0 else None
        self.strerror = message
        self.filename = filename

    def __str__(self):
        return self.args[0]


class FileFormatError(Error, ValueError):
    """A checkpoint that is not one, is of another version, truncated,
    corrupted, holds non-finite values or belongs to another shape."""


class OutOfMemory(Error, MemoryError):
    """-ENOMEM."""


class NotSupported(Error, NotImplementedError):
    """-ENOTSUP: e.g. the exact model of an environment that has none."""


class Timeout(Error, TimeoutError):
    """-ETIMEDOUT: the solver's sweep limit came first."""


class Busy(Error, RuntimeError):
    """-EBUSY."""


class EnvironmentError_(Error, RuntimeError):
    """DQ_EENV: an environment broke its contract; DQ_EPIN and other
    run-time failures."""


_FILE_CONTENT = {_ffi.EFORMAT, _ffi.EVERSION, _ffi.ETRUNC, _ffi.ECORRUPT,
                 _ffi.EMISMATCH, _ffi.EFILEVALUE}


def strerror(code):
    """dq_strerror(code) as a str."""
    return ffi.string(lib.dq_strerror(int(code))).decode()


def error_detail():
    """dq_error_detail() of the calling thread, or None."""
    p = lib.dq_error_detail()
    return None if p == ffi.NULL else ffi.string(p).decode("utf-8", "replace")


def make_error(code, what=None, detail=False, filename=None):
    """The exception for a library error code. ``detail``: the call that
    failed records a detail (read it now, in this thread)."""
    d = error_detail() if detail else None
    msg = strerror(code)
    if what:
        msg = f"{what}: {msg}"
    if d:
        msg = f"{msg} ({d})"
    if filename is not None and (code in _FILE_CONTENT or
                                 -1000 < code < 0 or code == _ffi.ENOTREG):
        if code in _FILE_CONTENT:
            return FileFormatError(msg, code, d)
        if code not in (-_errno.EINVAL, -_errno.ERANGE, -_errno.ENOMEM):
            return FileError(msg, code, d, filename)
    if code in (-_errno.EINVAL, -_errno.ERANGE, -_errno.EDOM,
                _ffi.ENONFINITE):
        return InvalidArgument(msg, code, d)
    if code == -_errno.ENOMEM:
        return OutOfMemory(msg, code, d)
    if code in (-_errno.ENOTSUP, -_errno.EOPNOTSUPP):
        return NotSupported(msg, code, d)
    if code == -_errno.ETIMEDOUT:
        return Timeout(msg, code, d)
    if code == -_errno.EBUSY:
        return Busy(msg, code, d)
    if code in _FILE_CONTENT:
        return FileFormatError(msg, code, d)
    return EnvironmentError_(msg, code, d)


def check(code, what=None, detail=False, filename=None):
    """Raise for a negative code; return it otherwise."""
    if code < 0:
        raise make_error(code, what, detail, filename)
    return code
