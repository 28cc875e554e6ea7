"""Install the distq package: pure Python over the shared library
libdistq.so.0 (cffi in ABI mode: nothing is compiled here).

    python3 -m pip install ./python        # in a virtual environment
    python3 -m pip install --user ./python # or --break-system-packages

Works offline with Debian's python3-pip and python3-setuptools: there is
no pyproject.toml, so pip builds with the installed setuptools instead
of downloading one into an isolated build environment.
"""

from setuptools import setup

setup(
    name="distq",
    version="0.1.0",
    description="Fast parallel tabular Q-learning (libdistq) from Python",
    long_description=__doc__,
    packages=["distq"],
    python_requires=">=3.9",
    install_requires=["cffi>=1.12", "numpy>=1.20"],
    extras_require={"progress": ["tqdm"], "plot": ["matplotlib"],
                    "test": ["pytest"]},
    license="see the libdistq source tree",
)
