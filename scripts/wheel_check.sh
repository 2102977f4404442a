#!/usr/bin/env bash
# Build photoid's wheel, install it into a fresh venv for each Python and check that it works.
#
# usage: scripts/wheel_check.sh [-w WORKDIR] [PYTHON...]
#
#   PYTHON   an interpreter path, or a version (3.12, 3.12.1) looked up under `pyenv root`
#            (or $PYENV_ROOT). Default: the newest pyenv 3.11.*, 3.12.* and 3.13.*.
#   WORKDIR  where the wheel, the venvs and the logs go (default $PHOTOID_WHEEL_CHECK_DIR or
#            /tmp/photoid-wheel-check). Each Python's venv is made afresh there.
#
# The wheel is built with `pip wheel --no-deps` from a copy of the files git tracks (plus
# untracked, not-ignored ones), so a stale build/ folder cannot leak into it. Each venv gets
# `pip install WHEEL` with the ranges of pyproject.toml alone, NOT constraints.txt; pip's own
# configuration on the machine (the same that `make venv` uses: its find-links and indexes, where
# torch and torchvision lie on disk) applies as usual. Then, per Python: `photoid --help`,
# `python -m photoid --help`, a smoke test of the public API (photoid.load_dataset, fit,
# load_engine, identify_photos and the package data) and `photoid demo` in a temp folder, with no
# network (`unshare -n`) where the machine allows it. One summary line per Python at the end;
# exit status 1 if any Python failed. Pip installs are slow: the Pythons run one after another.
set -euo pipefail

if [[ "${1:-}" == "__one" ]]; then
    # Internal: check one Python (run as a child so that `set -e` applies to every step).
    shift
    py=$1 wheel=$2 dir=$3
    log=$dir/log.txt
    step() { echo "$1" >"$dir/step"; echo "== $1" >>"$log"; }
    start=$SECONDS
    rm -rf "$dir/venv" "$dir/run"
    mkdir -p "$dir/run"
    : >"$log"

    step "create venv"
    "$py" -m venv "$dir/venv" >>"$log" 2>&1
    vpy=$dir/venv/bin/python
    pyver=$("$vpy" -c 'import platform; print(platform.python_version())')

    step "upgrade pip"
    "$vpy" -m pip install --quiet --upgrade pip >>"$log" 2>&1

    step "pip install wheel"
    # PIP_CONSTRAINT from the caller's environment would defeat the point: drop it.
    env -u PIP_CONSTRAINT "$vpy" -m pip install "$wheel" >>"$log" 2>&1

    step "pip check"
    "$vpy" -m pip check >>"$log" 2>&1

    cd "$dir/run"
    step "photoid --help"
    "$dir/venv/bin/photoid" --help >>"$log" 2>&1

    step "python -m photoid --help"
    "$vpy" -m photoid --help >>"$log" 2>&1

    step "python API smoke test"
    "$vpy" - "$dir/run/smoke" >>"$log" 2>&1 <<'PY'
import sys
import time
from importlib import metadata, resources
from pathlib import Path

t0 = time.perf_counter()
import photoid

assert time.perf_counter() - t0 < 5, "import photoid is meant to be instant"
assert "torch" not in sys.modules, "import photoid loaded torch"
assert "site-packages" in photoid.__file__, f"photoid imported from {photoid.__file__}"
assert photoid.__version__ == metadata.version("photoid"), (
    photoid.__version__,
    metadata.version("photoid"),
)
assert set(photoid.__all__) >= {"fit", "identify_photos", "load_dataset", "load_engine"}

# The package data the wheel must carry.
pkg = resources.files("photoid")
for name in [
    "py.typed",
    "catalog/migrations/env.py",
    "catalog/migrations/script.py.mako",
    "service/templates/base.html",
    "service/static/style.css",
    "service/static/review.js",
]:
    assert pkg.joinpath(name).is_file(), f"missing package data: photoid/{name}"
versions = pkg.joinpath("catalog/migrations/versions")
assert any(p.name.endswith(".py") for p in versions.iterdir()), "no migration scripts"

from photoid.data.synth import generate

root = Path(sys.argv[1])
data = root / "data"
generate(data, individuals=4, images_per=3, seed=0, size=128)
dataset = photoid.load_dataset(str(data))
engine = photoid.fit(dataset, method="local", out=root / "engine")
engine = photoid.load_engine(root / "engine")
photos = [dataset.root / image for image in dataset.table["image"]]
assert len(photos) == 12 and all(p.is_file() for p in photos), photos
answers = photoid.identify_photos(engine, photos[:3])
assert len(answers) == 3, answers
assert all(a.candidates for a in answers), answers
from photoid.core import Identification

assert all(isinstance(a, Identification) for a in answers)
top = [(a.candidates[0].identity, round(a.candidates[0].score, 3)) for a in answers]
print("API smoke test ok:", len(dataset.table), "rows;", top)
PY

    step "photoid demo"
    offline=()
    if unshare -n true 2>/dev/null; then
        offline=(unshare -n)
        echo "(demo runs with no network: unshare -n)" >>"$log"
    fi
    demo_start=$SECONDS
    "${offline[@]}" "$dir/venv/bin/photoid" demo "$dir/run/demo-out" >"$dir/demo.txt" 2>&1 || {
        cat "$dir/demo.txt" >>"$log"
        exit 1
    }
    demo_s=$((SECONDS - demo_start))
    cat "$dir/demo.txt" >>"$log"
    top1=$(grep -m1 '^top-1 accuracy:' "$dir/demo.txt" | sed 's/^top-1 accuracy: *//')
    map5=$(grep -m1 '^MAP@5:' "$dir/demo.txt" | sed 's/^MAP@5: *//')
    [[ -n "$top1" && -n "$map5" ]] || { echo "demo printed no result" >>"$log"; exit 1; }

    step "versions"
    read -r v_photoid v_numpy v_torch v_tv < <("$vpy" -c '
from importlib.metadata import version as v
print(v("photoid"), v("numpy"), v("torch"), v("torchvision"))')
    echo "python $pyver | photoid $v_photoid | numpy $v_numpy | torch $v_torch" \
        "| torchvision $v_tv | demo: top-1 $top1, MAP@5 $map5 (${demo_s} s) |" \
        "$((SECONDS - start)) s | OK" >"$dir/summary"
    echo ok >"$dir/step"
    exit 0
fi

work=${PHOTOID_WHEEL_CHECK_DIR:-/tmp/photoid-wheel-check}
while getopts "w:h" opt; do
    case $opt in
        w) work=$OPTARG ;;
        h) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) exit 2 ;;
    esac
done
shift $((OPTIND - 1))

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
self=$repo/scripts/wheel_check.sh
pyenv_root=${PYENV_ROOT:-$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")}

resolve_python() {  # a path, a command, or a version under pyenv root
    local want=$1 found
    if [[ "$want" == */* && -x "$want" ]]; then echo "$want"; return; fi
    if [[ "$want" =~ ^[0-9]+\.[0-9]+(\.[0-9]+)?$ ]]; then
        found=$(find "$pyenv_root/versions" -maxdepth 1 -name "$want*" 2>/dev/null \
            | grep -E "/$want(\.[0-9]+)?$" | sort -V | tail -n1 || true)
        if [[ -n "$found" && -x "$found/bin/python" ]]; then echo "$found/bin/python"; return; fi
    fi
    command -v "$want" || { echo "no Python found for '$want'" >&2; return 1; }
}

pythons=("$@")
((${#pythons[@]})) || pythons=(3.11 3.12 3.13)
resolved=()
for p in "${pythons[@]}"; do resolved+=("$(resolve_python "$p")"); done

mkdir -p "$work"
work=$(cd "$work" && pwd)
echo "work folder: $work"

# Build the wheel from a clean copy of the source tree.
build_start=$SECONDS
rm -rf "$work/src" "$work/dist"
mkdir -p "$work/src" "$work/dist"
if git -C "$repo" rev-parse --git-dir >/dev/null 2>&1; then
    git -C "$repo" ls-files -z --cached --others --exclude-standard \
        | (cd "$repo" && tar --null --ignore-failed-read -T - -cf -) 2>/dev/null \
        | tar -xf - -C "$work/src"
    echo "source: $(git -C "$repo" rev-parse --short HEAD)" \
        "$(git -C "$repo" diff --quiet HEAD -- . 2>/dev/null && echo clean || echo '+ uncommitted edits')"
else
    tar -C "$repo" --exclude=./build --exclude=./dist --exclude=./.venv --exclude='*.egg-info' \
        -cf - . | tar -xf - -C "$work/src"
fi
rm -rf "$work"/src/src/*.egg-info
"${resolved[0]}" -m pip wheel --quiet --no-deps --ignore-requires-python --wheel-dir "$work/dist" "$work/src" \
    >"$work/build.log" 2>&1 || { cat "$work/build.log"; echo "wheel build failed" >&2; exit 1; }
wheel=$(ls "$work"/dist/photoid-*.whl)
echo "wheel: $wheel ($((SECONDS - build_start)) s)"

status=0
summaries=()
for py in "${resolved[@]}"; do
    ver=$("$py" -c 'import platform; print(platform.python_version())')
    dir=$work/py$ver
    mkdir -p "$dir"
    rm -f "$dir/summary" "$dir/step"
    echo "--- Python $ver ($py): log in $dir/log.txt"
    t0=$SECONDS
    if bash "$self" __one "$py" "$wheel" "$dir"; then
        line=$(cat "$dir/summary")
    else
        status=1
        line="python $ver | FAILED at '$(cat "$dir/step" 2>/dev/null)' after $((SECONDS - t0)) s | see $dir/log.txt"
        tail -n 25 "$dir/log.txt" || true
    fi
    echo "$line"
    summaries+=("$line")
done

echo
echo "summary ($(basename "$wheel")):"
printf '%s\n' "${summaries[@]}"
exit $status
