#!/bin/bash
# ctest python_client: the package's pytest suite with the build's library
# (PYTHONPATH names build/python, whose _paths.py points at the build).
# A Python process cannot load a library built with AddressSanitizer
# without LD_PRELOAD of libasan: the sanitizer build skips this (77).
[ "${MC_SANITIZE:-OFF}" = ON ] && { echo "skip: a sanitizer build"; exit 77; }
PY=${MC_PYTHON3:-/usr/bin/python3}
"$PY" -c "import numpy, pytest" 2>/dev/null || { echo "$PY lacks python3-numpy or python3-pytest"; exit 1; }
exec "$PY" -m pytest -q -p no:cacheprovider "$(dirname "$0")" "$@"
