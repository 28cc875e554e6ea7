#!/bin/sh
# make test-python: the Python package's pytest suite (python/tests/)
# against the library just built.
#
# usage: python-test.sh BUILD_DIR
#
# The interpreter is $PYTHON, else the first of python3 and /usr/bin/python3
# that imports cffi, numpy and pytest (a python3 earlier in PATH, pyenv's
# say, may lack Debian's modules). Without one the suite is skipped, saying
# why. pytest's "no tests collected" (exit 5) is a failure, never a pass.
set -eu
build=$1

if [ -n "${PYTHON:-}" ]; then
	candidates=$PYTHON
else
	candidates="python3 /usr/bin/python3"
fi
py=""
for c in $candidates; do
	if command -v "$c" >/dev/null 2>&1 &&
		"$c" -c 'import cffi, numpy, pytest' >/dev/null 2>&1; then
		py=$c
		break
	fi
done
if [ -z "$py" ]; then
	echo "test-python: SKIPPED: no Python 3 with cffi, numpy and pytest" \
		"(tried: $candidates; Debian: python3-cffi python3-numpy" \
		"python3-pytest, which make deps installs)"
	exit 0
fi

lib=$(cd "$build" && pwd)/libdistq.so.0
[ -e "$lib" ] || { echo "test-python: $lib not built" >&2; exit 1; }
set +e
DISTQ_LIBRARY=$lib DISTQ_PROGRAM=$(cd "$build" && pwd)/distq \
	DISTQ_INCLUDE=$(pwd)/include PYTHONPATH=$(pwd)/python${PYTHONPATH:+:$PYTHONPATH} \
	PYTHONDONTWRITEBYTECODE=1 \
	"$py" -m pytest -q -p no:cacheprovider -rs python/tests
rc=$?
set -e
case $rc in
0) echo "test-python: passed ($py, $lib)" ;;
5) echo "test-python: pytest collected no tests: that is a failure" >&2
	exit 1 ;;
*) echo "test-python: FAILED (pytest exit $rc)" >&2
	exit 1 ;;
esac
