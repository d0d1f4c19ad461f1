#!/usr/bin/env bash
# Installs the built wheel, then the sdist, into a new virtual environment outside the checkout and
# runs the command line from another folder: the shipped weights must come from the package itself.
# Usage: tests/package/smoke.sh DIST_DIR PYTHON CONSTRAINTS
set -euo pipefail
dist=$(cd "$1" && pwd)
python=$2
constraints=$(cd "$(dirname "$3")" && pwd)/$(basename "$3")
work=$(mktemp -d "${TMPDIR:-/tmp}/siamlab-package.XXXXXX")
trap 'rm -rf "$work"' EXIT
wheel=$(ls "$dist"/siamlab-*.whl)
sdist=$(ls "$dist"/siamlab-*.tar.gz)
echo "wheel: $(basename "$wheel") ($(du -k "$wheel" | cut -f1) KiB)"
echo "sdist: $(basename "$sdist") ($(du -k "$sdist" | cut -f1) KiB)"
"$python" -m venv "$work/env"
"$work/env/bin/python" -m pip install --quiet --upgrade pip
"$work/env/bin/python" -m pip install --quiet -c "$constraints" "$wheel"
mkdir "$work/elsewhere" && cd "$work/elsewhere"
set -x
../env/bin/siamlab --help
../env/bin/siamlab info
../env/bin/siamlab eval --tracker siamfc --dataset synth-test --max-sequences 1
../env/bin/python -c "import siamlab, sys; sys.exit(siamlab.__file__.startswith('$work') is False)"
set +x
# The sdist installs as well, and so carries the weights too.
"$work/env/bin/python" -m pip install --quiet --no-deps --force-reinstall "$sdist"
../env/bin/siamlab info | tee "$work/info.txt"
grep -q "siamfc_tiny.pt" "$work/info.txt"
echo "package smoke test passed"
