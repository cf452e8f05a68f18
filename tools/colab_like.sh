#!/usr/bin/env bash
# The Colab-like check (make test-colab-like): a second environment with Colab's versions
# (Python 3.13 when pyenv has it, TensorFlow 2.20, Keras 3.13, ipywidgets 7.7.1, ipykernel 6),
# the course on sys.path rather than installed, then the unit tests and notebooks 02 and 07
# with nbval-lax (every cell must run; outputs are not compared, the versions differ).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.venv-colab
python=""
for candidate in "${COLAB_PYTHON:-}" "$HOME"/.pyenv/versions/3.13*/bin/python3 python3.13 python3; do
  if [ -n "$candidate" ] && command -v "$candidate" >/dev/null 2>&1; then python=$(command -v "$candidate"); break; fi
done
if [ -z "$python" ]; then
  echo "No Python found for the Colab-like check: install Python 3.13 (e.g. pyenv install 3.13), or set COLAB_PYTHON." >&2
  exit 1
fi
# TensorFlow 2.20 has wheels for Python 3.9 to 3.13 only.
if ! "$python" -c 'import sys; sys.exit(not (3, 9) <= sys.version_info[:2] <= (3, 13))'; then
  echo "$("$python" --version) at $python cannot install TensorFlow 2.20 (it needs Python 3.9 to 3.13)." >&2
  echo "Install Python 3.13 (e.g. pyenv install 3.13), or set COLAB_PYTHON to one." >&2
  exit 1
fi
echo "Colab-like check with $("$python" --version) ($python)"
stamp="$venv/.installed"
if [ ! -f "$stamp" ] || [ requirements-colab-like.txt -nt "$stamp" ] || [ requirements-test.txt -nt "$stamp" ]; then
  rm -rf "$venv"
  "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --upgrade pip
  "$venv/bin/python" -m pip install --quiet -r requirements-colab-like.txt -r requirements-test.txt
  touch "$stamp"
fi
TF_CPP_MIN_LOG_LEVEL=3 "$venv/bin/python" -c 'import tensorflow as tf, keras, ipywidgets, ipykernel, sys; print(f"Python {sys.version.split()[0]}, TensorFlow {tf.__version__}, Keras {keras.__version__}, ipywidgets {ipywidgets.__version__}, ipykernel {ipykernel.__version__}")'
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"   # as Colab's setup cell does, instead of installing
export COURSE_DATA=standin
export COURSE_DATA_DIR="$PWD/build/colab-like-data"  # its own stand-in and model: the versions differ
# Third-party deprecation warnings from the older versions are not the course's to fix: hidden.
"$venv/bin/python" -m pytest tests -o addopts="-p no:cacheprovider --ignore=tests/browser" -q -W ignore::DeprecationWarning
"$venv/bin/python" -m pytest -o addopts="-p no:cacheprovider" --nbval-lax --nbval-current-env \
  notebooks/02_padding_stride_pooling.ipynb notebooks/07_grad_cam.ipynb -q
