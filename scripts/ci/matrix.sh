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
# Usage: scripts/ci/matrix.sh [3.1|3.2|3.3|lowest|3.3-py3.10|3.3-py3.12|3.3-py3.13|3.1-py3.10 ...]
#        (default: all; "py" = only the rows of other Python versions)
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
ROWS=(
    "3.1|apache-airflow==3.1.8|2026-03-12"
    "3.2|apache-airflow==3.2.2|2026-05-30"
    "3.3|apache-airflow==3.3.2|2026-09-18"
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

mkdir -p "$CACHE"
declare -a summary
status=0
for row in "${ROWS[@]}"; do
    IFS='|' read -r name req date pins pyversion <<< "$row"
    selected "$name" || continue
    python=$(python_for "$pyversion")
    if [ -z "$python" ]; then
        echo "=== $name: no Python $pyversion on this machine ==="
        summary+=("$(printf '%-11s %-24s %-26s %s' "$name" "$req" "python $pyversion" "MISSING")")
        status=1
        continue
    fi
    echo "=== $name: $req on $("$python" -V 2>&1), dependencies as of $date ==="
    started=$(date +%s)
    if ! install "$name" "$req" "$date" "$pins" "$python" > "$CACHE/$name.install.log" 2>&1; then
        tail -30 "$CACHE/$name.install.log"
        summary+=("$(printf '%-11s %-24s %-26s %s' "$name" "$req" "install" "FAILED")")
        status=1
        continue
    fi
    installed=$("$CACHE/$name/bin/python" -c 'import airflow, platform
print(f"airflow {airflow.__version__}, py {platform.python_version()}")' 2>/dev/null)
    if run_tests "$name"; then
        result=passed
    else
        result=FAILED
        status=1
    fi
    summary+=("$(printf '%-11s %-24s %-26s %s (%ss)' "$name" "$req" "$installed" "$result" \
        $(( $(date +%s) - started )))")
done

# A newer patch than the table's is a reason to update it, not a failure.
latest=$("$PYTHON" -m pip index versions apache-airflow 2>/dev/null | sed -n 's/^Available versions: //p')
for row in "${ROWS[@]}"; do
    IFS='|' read -r name req _ <<< "$row"
    [ "$name" = lowest ] || [[ "$name" == *-py* ]] && continue
    newest=$(tr ',' '\n' <<< "$latest" | tr -d ' ' | grep -E "^${name//./\\.}\.[0-9]+$" | sort -V | tail -1)
    [ -n "$newest" ] && [ "$req" != "apache-airflow==$newest" ] && echo "note: $name has $newest on PyPI; update ROWS"
done

echo
echo "Airflow version matrix"
printf '%s\n' "${summary[@]}"
exit $status
