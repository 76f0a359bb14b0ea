#!/usr/bin/env bash
# `make test`: the suite on every Python setup.cfg declares (PYTHONS), each in its own venv with
# the pinned packages (constraints.txt). The default venv ($VENV, made by `make setup`) and
# $WHOLE_ON (3.13 by default; empty: none) run the whole suite; every other Python runs the tests of the
# logger, the journal, the lifecycle (signals, fork), the server and the integrations (SUBSET),
# those not marked slow or browser. Each Python also installs visdom on an empty pip cache, the way
# docs/install.md says (the fresh-machine check). A Python missing here is skipped with one line.
# Two lanes at once, since one pytest leaves the 2 cores idle part of the time (it waits on servers):
#   in front: the default Python's whole suite, then part 2 of WHOLE_ON's (the modules not in
#     SUBSET), then the fresh installs;
#   behind: the other venvs' set-up (downloads, installs), the subsets, then part 1 of WHOLE_ON's
#     whole suite (every test of SUBSET's modules, slow and browser ones too). Its output goes to
#     $LOGS/behind.log, shown at the end (a failed set-up's log also when its tests are due).
# Never two parts that build this checkout (pip wheel) at once: SUBSET's modules do not.
# Ends with the time each took; exits non-zero if any step failed.
# Usage: test_pythons.sh [--plan]   (from make: VENV, PYTHONS, WHOLE_ON, PYTEST_ARGS in the
# environment; --plan only says which interpreter each Python would use, or that it is skipped)
set -u
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PYTHONS=${PYTHONS:-3.11 3.12 3.13}
WHOLE_ON=${WHOLE_ON-3.13}
PYTEST_ARGS=${PYTEST_ARGS:-}
LOGS=test-artifacts/pythons
SUBSET="this_python logger* journal_thread refused_at_call checks values close_summary honest_ending
        status watchdog faults_* replay lifecycle_* signal_endings serve serve_signals server_*
        fast_append batch_endpoint restore tensorboard* lightning* transformers* wandb accelerate
        visdom_client* visdom_messages"

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
    echo "  fresh install of visdom by $python ($("$dir/venv/bin/pip" --version | cut -d' ' -f1-2), empty cache): exit $rc"
    rm -rf "$dir"
    return $rc
}

set_up() {   # want venv python: the venv and its UI files; $LOGS/X.Y.setup says "exit-code seconds"
    local start=$SECONDS rc=0
    make --no-print-directory setup-venv VENV="$2" PYTHON="$3" >"$LOGS/$1-setup.log" 2>&1 || rc=1
    echo "$rc $((SECONDS - start))" >"$LOGS/$1.setup"
}

set_up_done() {   # want: wait for the lane behind to finish that set-up; "exit-code seconds"
    until [ -e "$LOGS/$1.setup" ] || ! kill -0 "${behind:-$BASHPID}" 2>/dev/null; do sleep 1; done
    cat "$LOGS/$1.setup" 2>/dev/null || echo "1 0"
}

run_one() {   # version venv python part: its tests; one summary line in $LOGS/X.Y-part.summary
    local want=$1 venv=$2 python=$3 part=$4 setup="0 0" start=$SECONDS waited rc=0 args=() name file
    [ "$venv" = "$VENV" ] || setup=$(set_up_done "$want")
    waited=$((SECONDS - start))
    echo "=== Python $want ($python) in $venv: $(scope "$part")"
    if [ "${setup% *}" != 0 ]; then
        echo "set-up of $venv failed; its log ($LOGS/$want-setup.log):"
        cat "$LOGS/$want-setup.log"
        rc=1
    fi
    [ "$part" = subset ] && args=(-m "not browser and not slow")
    for name in $SUBSET; do
        for file in tests/test_$name.py; do   # globs: each module that exists
            [ -e "$file" ] || continue
            case $part in subset|modules) args+=("$file");; others) args+=("--ignore=$file");; esac
        done
    done
    start=$SECONDS
    eval "args+=($PYTEST_ARGS)"   # shell words, quotes kept: PYTEST_ARGS="-k 'a or b'"
    if [ $rc = 0 ]; then
        "$venv/bin/python" -m pytest "${args[@]}"
        case $?,$part in 0,*|5,subset|5,modules|5,others) ;; *) rc=1;; esac   # 5: PYTEST_ARGS left
    fi                                                                      # none of a part's tests
    echo "Python $want: $([ "$part" = others ] || echo "set-up $(clock "${setup#* }"), ")$([ $waited -gt 1 ] &&
          echo "waited $(clock $waited), ")tests $(clock $((SECONDS - start))) ($(scope "$part")):" \
         "$([ $rc = 0 ] && echo passed || echo FAILED)" >"$LOGS/$want-$part.summary"
    return $rc
}

scope() {
    case $1 in
        whole) echo "whole suite";;
        subset) echo "subset";;
        modules) echo "whole suite, part 1: the subset's modules, every test";;
        others) echo "whole suite, part 2: the other modules";;
    esac
}

fresh_installs() {   # each Python's, and the default one's with the newest pip; one summary line
    local start=$SECONDS rc=0 want venv python
    for want in "${order[@]}"; do
        read -r venv python <<<"${pythons[$want]}"
        fresh_install "$python" 0 || rc=1
        [ "$venv" = "$VENV" ] && { fresh_install "$python" 1 || rc=1; }
    done
    echo "fresh installs of visdom on an empty pip cache: $(clock $((SECONDS - start))):" \
         "$([ $rc = 0 ] && echo passed || echo FAILED)" >"$LOGS/fresh.summary"
    return $rc
}

default=$(version_of "$VENV/bin/python") || { echo "test_pythons.sh: no $VENV; run make setup" >&2; exit 1; }
total=$SECONDS
plan=$([ "${1:-}" = --plan ] && echo 1 || echo 0)
[ $plan = 1 ] || { rm -rf "$LOGS"; mkdir -p "$LOGS"; }
declare -A pythons   # X.Y -> "venv python" of each Python to run, in this order:
order=()
front=() behind_jobs=()   # "X.Y part" of each pytest run, per lane, in order
if [[ " $PYTHONS " != *" $default "* ]]; then
    echo "Python $default: $VENV/bin/python not run (not in PYTHONS=$PYTHONS)"
else
    [ $plan = 1 ] && echo "Python $default: $VENV/bin/python (whole suite)"
    pythons[$default]="$VENV $VENV/bin/python" order+=("$default")
    front+=("$default whole")
fi
for want in $PYTHONS; do
    [ "$want" = "$default" ] && continue
    if ! python=$(find_python "$want"); then
        skip="skipping Python $want: not on this machine (no python$want on PATH, none in ${PYENV_ROOT:-~/.pyenv}/versions)"
        echo "make test: $skip"
        [ $plan = 1 ] || echo "Python $want: $skip" >"$LOGS/$want.summary"
        continue
    fi
    pythons[$want]=".venv-py$want $python" order+=("$want")
    if [ "$want" = "$WHOLE_ON" ]; then   # in two parts, one per lane (each part in one pytest)
        [ $plan = 1 ] && echo "Python $want: $python (whole suite)"
        behind_jobs+=("$want modules") front+=("$want others")
    else
        [ $plan = 1 ] && echo "Python $want: $python (subset)"
        behind_jobs+=("$want subset")
    fi
done
[ $plan = 1 ] && exit 0

lane() {   # "X.Y part"...: each in turn; non-zero if any failed
    local job want part failed=0
    for job in "$@"; do
        read -r want part <<<"$job"
        run_one "$want" ${pythons[$want]} "$part" || failed=1
    done
    return $failed
}

(   # the lane behind: every set-up first (the lane in front may wait for one), then its tests
    for want in "${order[@]}"; do
        [ "$want" = "$default" ] || set_up "$want" ${pythons[$want]}
    done
    lane "${behind_jobs[@]}"
) >"$LOGS/behind.log" 2>&1 &
behind=$!
echo "=== beside these: the other venvs' set-up, then ${#behind_jobs[@]} test run(s) ($LOGS/behind.log, shown after)"

failed=0
lane "${front[@]}" || failed=1
fresh_installs || failed=1
wait $behind || failed=1
echo "=== the lane behind: set-ups, then tests ($LOGS/behind.log)"
cat "$LOGS/behind.log"
echo "=== make test on $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg) at the end; $(clock $((SECONDS - total))) in all"
for want in $PYTHONS; do cat "$LOGS/$want"*.summary 2>/dev/null; done
cat "$LOGS/fresh.summary"
exit $failed
