#!/usr/bin/env bash
# The supported Airflow versions, each in a fresh venv with the dependencies of its day, running
# the tests that matter per version; then the lowest-direct run that proves pyproject's floors;
# then every other Python version the project claims (requires-python) that Airflow supports:
# Airflow 3.3.2 on 3.10, 3.12 and 3.13 (3.11 is the rows above), and the oldest supported
# Airflow (3.1.8) on the oldest Python (3.10). Python 3.14 (Airflow 3.3 allows it) is not on
# this machine image, so it is not claimed.
#
# Airflow's constraints files (the usual way to get period-correct dependencies) live on GitHub,
# which CI here cannot reach; `uv pip install --exclude-newer <release date + 1 day>` resolves
# as of the release instead, which reproduces them closely.
#
# Usage: scripts/ci/matrix.sh [--install-only] [3.2|lowest|3.3-py3.10|3.3-py3.12|3.3-py3.13|3.1-py3.10 ...]
#        (default: all; "py" = only the rows of other Python versions). --install-only builds the
#        venvs and runs nothing: .ci/run starts it in the background at the beginning, so the
#        downloads (network-bound) overlap the other steps (CPU-bound) instead of adding to them.
# Venvs live in .matrix/ (gitignored) and are rebuilt only when pyproject.toml changes.
set -uo pipefail
cd "$(dirname "$0")/../.."

PYTHON=${PYTHON:-python3}
UV=${UV:-.venv/bin/uv}
CACHE=.matrix
# name | Airflow requirement | exclude-newer (release upload day + 1) | extra pins | Python
# (the Python column empty: $PYTHON, the venv's 3.11; else a version found under pyenv or on PATH)
# Extra pins stand in where the date alone misses the constraints (e.g. structlog<25.5 for
# Airflow 3.1.1, whose constraints pin 25.4.0: 25.5.0 came out hours before it and breaks it).
# Latest patch of each supported minor on PyPI (`pip index versions apache-airflow`); dates from
# PyPI's upload-time of the wheel. The floor run takes the lowest allowed version of every
# direct dependency (`--resolution lowest-direct`) with the index as of the floor release.
# Airflow 3.1.8 on 3.11 is the lowest row (the floor of `apache-airflow` is 3.1.8) and 3.3.2 on
# 3.11 is the main venv that every other CI step uses, so neither has a row of its own.
ROWS=(
    "3.2|apache-airflow==3.2.2|2026-05-30"
    "lowest|apache-airflow|2026-03-12|"
    "3.3-py3.10|apache-airflow==3.3.2|2026-09-18||3.10"
    "3.3-py3.12|apache-airflow==3.3.2|2026-09-18||3.12"
    "3.3-py3.13|apache-airflow==3.3.2|2026-09-18||3.13"
    "3.1-py3.10|apache-airflow==3.1.8|2026-03-12||3.10"
)
# What matters per version: the auth core, the hook against the sandbox, the connection form
# data and provider info, the operator and the sensor through dag.test(), the trigger, the example
# DAGs through `airflow dags test`. The OIDC-provider (Node) tests are version-independent.
SELECTION=(
    tests/core
    tests/hooks/test_hook_sandbox.py
    tests/hooks/test_provider_info.py
    tests/hooks/test_connection_sources.py
    tests/operators
    tests/sensors
    tests/triggers
    tests/transfers/test_api_to_storage.py
    tests/transfers/test_example_dags.py
)
# What can differ between Python versions (datetime parsing, ssl, asyncio, typing at run time,
# cryptography's wheels): the auth core, windows (the Airflow-free part: tests/test_windowing.py
# imports names airflow.sdk has only from 3.2 on), key material, the hook against the sandbox,
# the trigger, and the pull through a real Airflow (the example DAGs). Smaller than SELECTION
# (the operator's and pagination's own tests are left to the 3.11 rows), so the four extra rows
# keep the matrix near ten minutes. With pagination and the operator's tests as well, each row
# ran 390 tests in 3.5 min on a busy machine.
PY_SELECTION=(
    tests/core
    tests/test_windows.py
    tests/registration/test_material.py
    tests/hooks/test_hook_sandbox.py
    tests/triggers
    tests/transfers/test_example_dags.py
)

python_for() {  # "" | "3.10" -> an interpreter path, or nothing when that version is not here
    local version=$1 candidate
    if [ -z "$version" ]; then echo "$PYTHON"; return 0; fi
    for candidate in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$version".*/bin/python"$version"; do
        [ -x "$candidate" ] && { echo "$candidate"; return 0; }
    done
    command -v "python$version" || true
}

if [ ! -x "$UV" ]; then
    "$PYTHON" -m venv .venv && .venv/bin/python -m pip install --quiet uv || exit 2
fi
install_only=0
if [ "${1:-}" = --install-only ]; then install_only=1; shift; fi
wanted=("$@")
selected() {
    [ "${#wanted[@]}" -eq 0 ] && return 0
    local w
    for w in "${wanted[@]}"; do
        [ "$w" = "$1" ] && return 0
        [ "$w" = py ] && [[ "$1" == *-py* ]] && return 0
    done
    return 1
}

stamp_of() { sha256sum pyproject.toml | cut -c1-16; }

install() {  # name requirement date pins python -> 0 when the venv is ready
    local name=$1 req=$2 date=$3 pins=$4 python=$5 venv="$CACHE/$1" extra=()
    local stamp
    stamp="$(stamp_of)-$req-$date-$pins-$python"
    if [ -f "$venv/.stamp" ] && [ "$(cat "$venv/.stamp")" = "$stamp" ]; then
        return 0
    fi
    [ "$name" = lowest ] && extra=(--resolution lowest-direct)
    [ -n "$pins" ] && extra+=("$pins")
    rm -rf "$venv"
    "$UV" venv --quiet --python "$python" "$venv" || return 1
    # Editable: the tests import the checkout; the DAG files come from it too.
    "$UV" pip install --quiet --python "$venv/bin/python" --exclude-newer "${date}T00:00:00Z" \
        "${extra[@]}" "$req" -e ".[test,sandbox]" || return 1
    echo "$stamp" > "$venv/.stamp"
}

run_tests() {  # name -> pytest exit code
    local venv="$CACHE/$1" selection=("${SELECTION[@]}" -m "not fuzz")
    # Property tests have their own CI step (make fuzz); the extra-Python rows also leave out the
    # two multi-process token-store runs (about a minute), which the Airflow rows keep.
    [[ "$1" == *-py* ]] && selection=("${PY_SELECTION[@]}" -m "not fuzz"
        --deselect tests/core/test_token_store.py::test_task_processes_of_a_worker_share_one_token)
    # The whole suite must at least collect on every version; the selection must pass.
    "$venv/bin/python" -m pytest --collect-only -q -p no:cacheprovider tests > "$CACHE/$1.collect.log" 2>&1 \
        || { tail -30 "$CACHE/$1.collect.log"; return 1; }
    "$venv/bin/python" -m pytest -q -p no:cacheprovider --maxfail=5 "${selection[@]}"
}

row() {  # name req date pins pyversion -> exit status; writes $CACHE/<name>.log and .result
    local name=$1 req=$2 date=$3 pins=$4 pyversion=$5 python started installed_in installed result
    python=$(python_for "$pyversion")
    if [ -z "$python" ]; then
        echo "=== $name: no Python $pyversion on this machine ==="
        printf '%-11s %-24s %-26s %s\n' "$name" "$req" "python $pyversion" "MISSING" > "$CACHE/$name.result"
        return 1
    fi
    echo "=== $name: $req on $("$python" -V 2>&1), dependencies as of $date ==="
    started=$(date +%s)
    if ! install "$name" "$req" "$date" "$pins" "$python" > "$CACHE/$name.install.log" 2>&1; then
        tail -30 "$CACHE/$name.install.log"
        printf '%-11s %-24s %-26s %s\n' "$name" "$req" "install" "FAILED" > "$CACHE/$name.result"
        return 1
    fi
    installed_in=$(( $(date +%s) - started ))
    echo "($name: venv ready in ${installed_in} s)"
    [ "$install_only" = 1 ] && return 0
    installed=$("$CACHE/$name/bin/python" -c 'import airflow, platform
print(f"airflow {airflow.__version__}, py {platform.python_version()}")' 2>/dev/null)
    result=passed
    run_tests "$name" || result=FAILED
    printf '%-11s %-24s %-26s %s (venv %ss, tests %ss)\n' "$name" "$req" "$installed" "$result" \
        "$installed_in" $(( $(date +%s) - started - installed_in )) > "$CACHE/$name.result"
    [ "$result" = passed ]
}

# Rows run MATRIX_JOBS at a time (default 2, one per core: each is one pytest process, mostly on
# one core), each into its own log, printed whole when it ends.
jobs_max=${MATRIX_JOBS:-2}
mkdir -p "$CACHE"
declare -a names=()
declare -A pids=()
status=0
finish_one() {  # wait until a row ends; print the log of every row that ended
    local name ended=0
    while [ "$ended" = 0 ]; do
        for name in "${!pids[@]}"; do
            kill -0 "${pids[$name]}" 2>/dev/null && continue
            wait "${pids[$name]}" 2>/dev/null || true
            [ "$(cat "$CACHE/$name.rc" 2>/dev/null)" = 0 ] || status=1
            cat "$CACHE/$name.log"
            unset "pids[$name]"
            ended=1
        done
        [ "$ended" = 1 ] || sleep 1
    done
}
for spec in "${ROWS[@]}"; do
    IFS='|' read -r name req date pins pyversion <<< "$spec"
    selected "$name" || continue
    names+=("$name")
    rm -f "$CACHE/$name.result"
    while [ "${#pids[@]}" -ge "$jobs_max" ]; do finish_one; done
    rm -f "$CACHE/$name.rc"
    { row "$name" "$req" "$date" "$pins" "$pyversion" > "$CACHE/$name.log" 2>&1; echo $? > "$CACHE/$name.rc"; } &
    pids[$name]=$!
done
while [ "${#pids[@]}" -gt 0 ]; do finish_one; done
[ "$install_only" = 1 ] && exit $status

# A newer patch than the table's is a reason to update it, not a failure.
latest=$("$PYTHON" -m pip index versions apache-airflow 2>/dev/null | sed -n 's/^Available versions: //p')
for pinned in $(printf '%s\n' "${ROWS[@]}" | cut -d'|' -f2 | sed -n 's/^apache-airflow==//p' | sort -u); do
    minor=${pinned%.*}
    newest=$(tr ',' '\n' <<< "$latest" | tr -d ' ' | grep -E "^${minor//./\\.}\.[0-9]+$" | sort -V | tail -1)
    [ -n "$newest" ] && [ "$pinned" != "$newest" ] && echo "note: Airflow $minor has $newest on PyPI; update ROWS"
done

echo
echo "Airflow version matrix"
for name in "${names[@]}"; do
    cat "$CACHE/$name.result" 2>/dev/null || printf '%-11s %s\n' "$name" "no result"
done
exit $status
