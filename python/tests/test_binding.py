"""The cdef of distq/_ffi.py against the real header, through the C
compiler: a header change that breaks the binding fails here.

A C file is generated from the cdef: the header, then every function
declaration of the cdef verbatim (a declaration whose type differs from
the header's is a compile error: "conflicting types"), then a program that
prints sizeof and offsetof of every struct and field the cdef declares,
every enum constant and the DQ_E* codes the package copies; the printed
values must equal cffi's."""

import os
import re
import shutil
import subprocess

import pytest

from distq import _ffi
from distq._ffi import ffi, lib, CDEF
from conftest import include_dir


def statements(cdef):
    """Top-level statements of the cdef (split on ';' outside braces)."""
    out, depth, cur = [], 0, []
    for ch in cdef:
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        if ch == ";" and depth == 0:
            out.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
    return [s for s in out if s]


def prototypes():
    return [s for s in statements(CDEF) if not s.startswith("typedef")]


def function_names():
    return [re.search(r"(\w+)\s*\(", p).group(1) for p in prototypes()]


def typedef_names():
    names = []
    for s in statements(CDEF):
        if s.startswith("typedef"):
            names.append(re.search(r"(\w+)\s*$", s).group(1))
    return names


CONSTANTS = {"ERRNO_BASE": "DQ_ERRNO_BASE", "MAX_THREADS": "DQ_MAX_THREADS"}


def expected():
    """What cffi believes, as the C program should print it."""
    exp = {}
    for name in typedef_names():
        t = ffi.typeof(name)
        if t.kind == "struct" and t.fields is not None:
            exp[f"sizeof {name}"] = ffi.sizeof(name)
            exp[f"alignof {name}"] = ffi.alignof(name)
            for f, _ in t.fields:
                exp[f"offsetof {name}.{f}"] = ffi.offsetof(name, f)
        elif t.kind == "enum":
            exp[f"sizeof {name}"] = ffi.sizeof(name)
            for value, const in t.elements.items():
                exp[f"enum {const}"] = value
    for attr in dir(_ffi):
        if re.fullmatch(r"E[A-Z]+", attr) or attr in CONSTANTS:
            exp[f"const {attr}"] = getattr(_ffi, attr)
    return exp


def c_program():
    lines = ["#include <stddef.h>", "#include <stdio.h>",
             "#include <distq.h>", "",
             "/* The cdef's declarations: conflicting types fail here. */"]
    lines += [p + ";" for p in prototypes()]
    lines += ["", "int main(void) {"]
    for key in expected():
        kind, what = key.split(" ", 1)
        if kind == "sizeof":
            expr = f"sizeof({what})"
        elif kind == "alignof":
            expr = f"_Alignof({what})"
        elif kind == "offsetof":
            t, f = what.split(".")
            expr = f"offsetof({t}, {f})"
        elif kind == "enum":
            expr = what
        else:
            expr = CONSTANTS.get(what, "DQ_" + what)
        lines.append(f'\tprintf("%s %lld\\n", "{key}", (long long)({expr}));')
    lines += ["\treturn 0;", "}"]
    return "\n".join(lines) + "\n"


def test_every_function_is_exported():
    missing = [f for f in function_names() if not hasattr(lib, f)]
    assert not missing, f"not exported by {_ffi.library_path}: {missing}"
    assert len(function_names()) >= 60


def test_cdef_matches_header(tmp_path):
    inc = include_dir()
    if inc is None:
        pytest.skip("distq.h not found (set DISTQ_INCLUDE to its directory)")
    cc = os.environ.get("CC", "cc").split()[0]
    if shutil.which(cc) is None:
        pytest.skip(f"no C compiler ({cc}) to check the cdef with")
    src = tmp_path / "layout.c"
    src.write_text(c_program())
    exe = tmp_path / "layout"
    r = subprocess.run([cc, "-std=c11", "-Wall", "-Werror", f"-I{inc}",
                        str(src), "-o", str(exe)], capture_output=True,
                       text=True)
    assert r.returncode == 0, \
        f"the cdef disagrees with {inc}/distq.h:\n{r.stderr}"
    out = subprocess.run([str(exe)], capture_output=True, text=True,
                         check=True).stdout
    got = {}
    for line in out.splitlines():
        key, _, value = line.rpartition(" ")
        got[key] = int(value)
    exp = expected()
    diff = {k: (exp[k], got.get(k)) for k in exp if exp[k] != got.get(k)}
    assert not diff, f"cffi's layout (left) differs from the C compiler's " \
        f"(right): {diff}"
    assert sum(k.startswith("offsetof") for k in exp) > 90
