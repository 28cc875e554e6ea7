#!/bin/sh
# What libdistq needs from the system, checked by what it provides (a
# command, a pkg-config module) so that the check works on any system, and
# installed, on Debian only and only when asked, by package name.
#
# usage: deps.sh --check   GROUP...   list what is missing and fail; never
#                                     installs anything (plain `make`)
#        deps.sh --install GROUP...   install what is missing through
#                                     apt-get, saying what (`make deps`,
#                                     `make demo`, `make check`)
#
# GROUP: build   a C compiler, make, pkg-config, hwloc, zlib
#        test    cmocka, clang (libFuzzer), clang-format, locales, abidiff and
#                abidw (abigail-tools), mandoc, g++ and clang++ (the header
#                test), Python's cffi, numpy, pytest, pip, setuptools and
#                venv (make test-python), and the docs group
#        docs    doxygen, python3
#        bench   gnuplot (the plots of bench/run.sh), Numba (its peer,
#                bench/peer_numba.py)
#        mpi     Open MPI (mpicc, mpirun, ompi-c.pc): libdistq-mpi, the
#                distq-mpi program and make test-mpi (and pgrep)
#        all     every group above
set -eu

usage() {
	echo "usage: deps.sh --check|--install build|test|docs|bench|mpi|all..." >&2
	exit 2
}
[ $# -ge 2 ] || usage
mode=$1
shift
case $mode in --check | --install) ;; *) usage ;; esac

have_cmd() { command -v "$1" >/dev/null 2>&1; }
have_pc() { have_cmd pkg-config && pkg-config --exists "$1"; }
# A Python module importable by python3 or by Debian's own /usr/bin/python3
# (a python3 earlier in PATH, pyenv's say, may lack Debian's modules;
# scripts/python-test.sh picks the interpreter that has them).
have_py() {
	for py in python3 /usr/bin/python3; do
		have_cmd "$py" && "$py" -c "import $1" >/dev/null 2>&1 && return 0
	done
	return 1
}

# Open MPI's C binding: its compiler wrapper or its pkg-config module.
have_mpi_dev() { have_cmd mpicc || have_pc ompi-c; }

# need WHAT DEBIAN_PACKAGE TEST...: WHAT is missing when TEST fails.
missing="" packages=""
need() {
	what=$1 pkg=$2
	shift 2
	if ! "$@"; then
		missing="$missing $what"
		case " $packages " in *" $pkg "*) ;; *) packages="$packages $pkg" ;; esac
	fi
}

group() {
	case $1 in
	build)
		cc_cmd=${CC:-cc}
		cc_cmd=${cc_cmd%% *}
		need "C compiler ($cc_cmd)" gcc have_cmd "$cc_cmd"
		need make make have_cmd make
		need pkg-config pkg-config have_cmd pkg-config
		need "hwloc (hwloc.pc)" libhwloc-dev have_pc hwloc
		need "zlib (zlib.pc)" zlib1g-dev have_pc zlib
		;;
	test)
		group build
		need "cmocka (cmocka.pc)" libcmocka-dev have_pc cmocka
		need clang clang have_cmd clang
		need clang++ clang have_cmd clang++
		need g++ g++ have_cmd g++
		need clang-format clang-format have_cmd clang-format
		need abidiff abigail-tools have_cmd abidiff
		need abidw abigail-tools have_cmd abidw
		need mandoc mandoc have_cmd mandoc
		need "locale sources (the comma-decimal locale tests)" locales test -f /usr/share/i18n/locales/de_DE
		need "Python cffi (the distq package)" python3-cffi have_py cffi
		need "Python numpy" python3-numpy have_py numpy
		need "pytest (make test-python)" python3-pytest have_py pytest
		need "pip (the package's offline install test)" python3-pip have_py pip
		need "setuptools (pip install ./python)" python3-setuptools have_py setuptools
		need "venv (the package's offline install test)" python3-venv have_py ensurepip
		group docs
		group mpi
		;;
	mpi)
		need "Open MPI's mpicc and ompi-c.pc (libdistq-mpi)" \
			libopenmpi-dev have_mpi_dev
		need "Open MPI's mpirun (make test-mpi)" openmpi-bin have_cmd mpirun
		need "pgrep (make test-mpi kills one rank)" procps have_cmd pgrep
		;;
	docs)
		need doxygen doxygen have_cmd doxygen
		need "python3 (the Markdown filter of make docs)" python3 have_cmd python3
		;;
	bench)
		need gnuplot gnuplot-nox have_cmd gnuplot
		need "Numba (bench/peer_numba.py)" python3-numba have_py numba
		need "Python cffi (the distq package)" python3-cffi have_py cffi
		;;
	all) for g in build test docs bench mpi; do group $g; done ;;
	*) usage ;;
	esac
}
for g in "$@"; do group "$g"; done

if [ -z "$missing" ]; then
	echo "deps: $* present"
	exit 0
fi

echo "deps: missing:$missing" >&2
if [ "$mode" = --check ]; then
	echo "deps: on Debian, 'make deps' installs them (apt-get:$packages);" \
		"elsewhere install them by hand" >&2
	exit 1
fi

if ! have_cmd apt-get; then
	echo "deps: no apt-get here; install them by hand" \
		"(Debian names:$packages)" >&2
	exit 1
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then
	if have_cmd sudo; then SUDO="sudo"; else
		echo "deps: run as root or install sudo" \
			"(Debian packages:$packages)" >&2
		exit 1
	fi
fi
echo "deps: installing Debian packages:$packages"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $packages
echo "deps: done"
