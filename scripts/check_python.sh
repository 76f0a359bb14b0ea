#!/usr/bin/env bash
# Before make builds or uses the venv: the Python asked for must run, be 3.11 or newer, and be the
# venv's own (a venv made by another Python is never reused silently).
# Usage: check_python.sh PYTHON VENV ASKED   (ASKED=1: PYTHON was given on the command line or env)
set -u
python=$1 venv=$2 asked=$3
version() { "$1" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null; }

if [ -x "$venv/bin/python" ] && [ "$asked" != 1 ]; then
    exit 0   # plain `make ...`: the venv as it is
fi
if ! have=$(version "$python"); then
    hint="pass one that does, e.g. PYTHON=python3"
    # pyenv's shims exist for every installed version but run only the active ones.
    wanted=${python##*python}
    if command -v pyenv >/dev/null && [[ $wanted =~ ^[0-9]+\.[0-9]+$ ]]; then
        for dir in "$(pyenv root)/versions/$wanted"*/; do
            [ -x "$dir/bin/python" ] && hint="pyenv has it: PYTHON=${dir}bin/python" && break
        done
    fi
    echo "make: PYTHON=$python does not run here; $hint" >&2
    exit 1
fi
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "make: PYTHON=$python is Python $have; vizlab needs Python 3.11 or newer" >&2
    exit 1
fi
if [ -x "$venv/bin/python" ] && [ "$(version "$venv/bin/python")" != "$have" ]; then
    echo "make: $venv was made with Python $(version "$venv/bin/python"), but PYTHON=$python is Python $have;" \
         "run 'make clean' first (it deletes $venv), or keep both with VENV=.venv-$have" >&2
    exit 1
fi
