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
# cyclonedds-dev (0.10.2, what Unitree's SDK pins) is the DDS library `exoactor deploy` talks through.
for pkg in libegl1 libegl-mesa0 libgl1-mesa-dri libopengl0 libgl1 chromium cyclonedds-dev; do
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
# anny (truth extra) builds its body-model cache (~800 MB, about a minute) on first use.
"$VENV/bin/python" -m pip install -q -e ".[retarget,perceive,imagine,batch,truth,dev]"

# 3. DDS for `exoactor deploy` / `sim-robot`: the cyclonedds==0.10.2 Python binding, built against
#    Debian's libddsc through a prefix of symlinks (CYCLONEDDS_HOME=/usr does not work: Debian keeps
#    libddsc.so in the multiarch folder), and Unitree's SDK without its deps (it would pull the GUI
#    opencv-python over our headless one; its missing `b2` package and CRC library are supplied by
#    exoactor.deploy).
if [ -f /usr/include/ddsc/dds.h ]; then
  dds_home="$VENV/cyclonedds-home"
  mkdir -p "$dds_home"
  ln -sfn /usr/include "$dds_home/include"
  ln -sfn /usr/bin "$dds_home/bin"
  ln -sfn "/usr/lib/$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)" "$dds_home/lib"
  CYCLONEDDS_HOME="$(cd "$dds_home" && pwd)" "$VENV/bin/python" -m pip install -q -e ".[deploy]"
  "$VENV/bin/python" -m pip install -q --no-deps "unitree-sdk2==1.0.1"
else
  echo "warning: cyclonedds-dev is missing: 'exoactor deploy' and 'sim-robot' will not work (sudo apt-get install cyclonedds-dev, then re-run)" >&2
fi

# 4. The asset folder: recorded in the user config (~/.config/exoactor/config.toml), so that every
#    new shell finds it without EXOACTOR_ASSETS (`exoactor assets path` says where assets come
#    from). EXOACTOR_ASSETS if set, else ../shared/assets beside the checkout; without either,
#    assets download into the user cache on first use.
if [ -z "${EXOACTOR_ASSETS:-}" ] && [ -d ../shared/assets ]; then
  EXOACTOR_ASSETS="$(cd ../shared/assets && pwd)"
fi
if [ -n "${EXOACTOR_ASSETS:-}" ]; then
  "$VENV/bin/exoactor" assets use "$EXOACTOR_ASSETS"
fi

# 5. The sample clip (from a PyPI wheel, into the user cache) and a quick self-check.
"$VENV/bin/exoactor" assets fetch sample_clip
"$VENV/bin/exoactor" --version

# 6. The demo: the real sample clip through perceive -> retarget -> track -> report
#    (about a minute on 2 cores), with the assets as a new shell resolves them (no
#    EXOACTOR_ASSETS). EXOACTOR_SKIP_DEMO=1 skips it.
if [ "${EXOACTOR_SKIP_DEMO:-0}" != 1 ]; then
  env -u EXOACTOR_ASSETS "$VENV/bin/exoactor" demo --out runs/demo
fi
echo "installed: activate with 'source $VENV/bin/activate'"
