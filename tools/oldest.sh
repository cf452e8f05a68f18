#!/usr/bin/env bash
# make test-oldest: the floors of requirements.txt, installed exactly (">=" read as "=="), in .venv-oldest,
# with the test tools, then the unit tests. It shows that the declared minimum versions are true.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.venv-oldest
python="${OLDEST_PYTHON:-python3}"
stamp="$venv/.installed"
floors="$venv/floors.txt"
if [ ! -f "$stamp" ] || [ requirements.txt -nt "$stamp" ] || [ requirements-test.txt -nt "$stamp" ]; then
  rm -rf "$venv"
  "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --upgrade pip
  grep -vE '^\s*(#|$)' requirements.txt | sed -E 's/>=/==/' > "$floors"
  echo "Installing the floors: $(tr '\n' ' ' < "$floors")"
  # The test tools may be any version that agrees with the floors; the floors are held exactly.
  "$venv/bin/python" -m pip install --quiet -r "$floors" -r requirements-test.txt -c "$floors"
  touch "$stamp"
fi
"$venv/bin/python" - <<'PY'
from importlib import metadata
floors = [line.strip().split("==") for line in open(".venv-oldest/floors.txt") if "==" in line]
wrong = [(name, wanted, metadata.version(name)) for name, wanted in floors
         if not metadata.version(name).startswith(wanted)]
print("versions:", ", ".join(f"{name} {metadata.version(name)}" for name, _ in floors))
assert not wrong, f"not the floors: {wrong}"
PY
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
export COURSE_DATA=standin
export COURSE_DATA_DIR="$PWD/build/oldest-data"
"$venv/bin/python" -m pytest tests -o addopts="-p no:cacheprovider --ignore=tests/browser" -q -W ignore::DeprecationWarning
