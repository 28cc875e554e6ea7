"""Shared fixtures: where the source tree, the header and the distq
program are (when the tests run from the tree)."""

import os
import pathlib
import shutil

import pytest

TREE = pathlib.Path(__file__).resolve().parents[2]


def include_dir():
    d = os.environ.get("DISTQ_INCLUDE")
    if d:
        return pathlib.Path(d)
    d = TREE / "include"
    return d if (d / "distq.h").exists() else None


def distq_program():
    p = os.environ.get("DISTQ_PROGRAM")
    if p:
        return p
    p = TREE / "build" / "distq"
    if p.exists():
        return str(p)
    return shutil.which("distq")


@pytest.fixture
def tree():
    return TREE
