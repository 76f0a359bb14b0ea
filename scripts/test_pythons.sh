#!/usr/bin/env bash
# `make test`: the suite on every Python setup.cfg declares (PYTHONS), each in its own venv with
# the pinned packages (constraints.txt). The default venv ($VENV, made by `make setup`) and
# $WHOLE_ON (3.13 by default; empty: none) run the whole suite; every other Python runs the tests of the
# logger, the journal, the lifecycle (signals, fork), the server and the integrations (SUBSET),
# those not marked slow or browser (CI about 35 minutes on 2 cores). Each Python also installs visdom on an empty pip
# cache, the way docs/install.md says (the fresh-machine check). A Python missing here is skipped
# with one line. Ends with the time each took; exits non-zero if any step failed.
# Usage: test_pythons.sh [--plan]   (from make: VENV, PYTHONS, WHOLE_ON, PYTEST_ARGS in the
# environment; --plan only says which interpreter each Python would use, or that it is skipped)
set -u
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PYTHONS=${PYTHONS:-3.11 3.12 3.13}
WHOLE_ON=${WHOLE_ON-3.13}
PYTEST_ARGS=${PYTEST_ARGS:-}
SUBSET="this_python logger* journal_thread refused_at_call checks values close_summary honest_ending
        status watchdog faults_* replay lifecycle_* signal_endings serve serve_signals server_*
        fast_append batch_endpoint restore tensorboard* lightning* transformers* wandb accelerate
        visdom_client* visdom_messages"
summary=() failed=0

version_of() { "$1" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null; }
clock() { printf "%dm%02ds" $(($1 / 60)) $(($1 % 60)); }

find_python() {   # python3.X on PATH if it runs, else pyenv's newest 3.X.*
    local want=$1 candidate
    for candidate in "python$want" $(ls -d "${PYENV_ROOT:-$HOME/.pyenv}/versions/$want".*/bin/python 2>/dev/null | sort -V -r); do
        [ "$(version_of "$candidate")" = "$want" ] && { command -v "$candidate"; return 0; }
    done
    return 1
}

fresh_install() {   # visdom as docs/install.md installs it, on an empty cache; pip as the venv has it
    local python=$1 upgrade=$2 dir
    dir=$(mktemp -d)
    "$python" -m venv "$dir/venv" || return 1
    if [ "$upgrade" = 1 ]; then "$dir/venv/bin/pip" install -q --no-cache-dir -U pip || return 1; fi
    PIP_CONSTRAINT=constraints.txt PIP_BUILD_CONSTRAINT=constraints.txt \
        "$dir/venv/bin/pip" install -q --no-cache-dir --no-deps visdom
    local rc=$?
    echo "  fresh install of visdom ($("$dir/venv/bin/pip" --version | cut -d' ' -f1-2), empty cache): exit $rc"
    rm -rf "$dir"
    return $rc
}

run_one() {   # version venv python: set up, test, fresh-install check; one summary line
    local want=$1 venv=$2 python=$3 start=$SECONDS setup_s test_s scope rc=0
    echo "=== Python $want ($python) in $venv"
    if [ "$venv" != "$VENV" ]; then
        make --no-print-directory setup-venv VENV="$venv" PYTHON="$python" || rc=1
    fi
    setup_s=$((SECONDS - start))
    local args=()
    if [ "$venv" = "$VENV" ] || [ "$want" = "$WHOLE_ON" ]; then
        scope="whole suite"
    else
        scope="subset"
        args=(-m "not browser and not slow")
        for name in $SUBSET; do args+=(tests/test_$name.py); done   # globs: each module that exists
    fi
    start=$SECONDS
    eval "args+=($PYTEST_ARGS)"   # shell words, quotes kept: PYTEST_ARGS="-k 'a or b'"
    if [ $rc = 0 ]; then
        "$venv/bin/python" -m pytest "${args[@]}" || rc=1
    fi
    fresh_install "$python" 0 || rc=1
    [ "$venv" = "$VENV" ] && { fresh_install "$python" 1 || rc=1; }
    test_s=$((SECONDS - start))
    summary+=("Python $want: set-up $(clock $setup_s), tests $(clock $test_s) ($scope): $([ $rc = 0 ] && echo passed || echo FAILED)")
    [ $rc = 0 ] || failed=1
}

default=$(version_of "$VENV/bin/python") || { echo "test_pythons.sh: no $VENV; run make setup" >&2; exit 1; }
total=$SECONDS
plan=$([ "${1:-}" = --plan ] && echo 1 || echo 0)
if [[ " $PYTHONS " != *" $default "* ]]; then
    echo "Python $default: $VENV/bin/python not run (not in PYTHONS=$PYTHONS)"
elif [ $plan = 1 ]; then
    echo "Python $default: $VENV/bin/python (whole suite)"
else
    run_one "$default" "$VENV" "$VENV/bin/python"
fi
for want in $PYTHONS; do
    [ "$want" = "$default" ] && continue
    if ! python=$(find_python "$want"); then
        skip="skipping Python $want: not on this machine (no python$want on PATH, none in ${PYENV_ROOT:-~/.pyenv}/versions)"
        summary+=("Python $want: $skip")
        echo "make test: $skip"
    elif [ $plan = 1 ]; then
        echo "Python $want: $python ($([ "$want" = "$WHOLE_ON" ] && echo whole suite || echo subset))"
    else
        run_one "$want" ".venv-py$want" "$python"
    fi
done
[ $plan = 1 ] && exit 0
echo "=== make test on $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg) at the end; $(clock $((SECONDS - total))) in all"
printf '%s\n' "${summary[@]}"
exit $failed
