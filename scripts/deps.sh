#!/bin/sh
# Install the Debian packages libdistq needs to build and test, when they
# are missing. Says what it installs; installs nothing that is present.
#
#   build:  gcc or clang, make, pkg-config, libhwloc-dev, zlib1g-dev
#   test:   libcmocka-dev, clang (libFuzzer, format check), clang-format,
#           locales (localedef builds a comma-decimal locale for the
#           locale tests)
#   docs:   doxygen        bench plots: gnuplot-nox
set -eu

need=""
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed'; }
for p in make pkg-config libhwloc-dev zlib1g-dev libcmocka-dev doxygen \
	clang clang-format gnuplot-nox locales; do
	have_pkg "$p" || need="$need $p"
done
if ! command -v cc >/dev/null 2>&1; then need="$need gcc"; fi

if [ -z "$need" ]; then
	echo "deps: all Debian packages present"
	exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
	echo "deps: missing:$need -- no apt-get here; install them by hand" >&2
	exit 1
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then
	if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
		echo "deps: missing:$need -- run as root or install sudo" >&2
		exit 1
	fi
fi
echo "deps: installing Debian packages:$need"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $need
echo "deps: done"
