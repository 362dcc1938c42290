# Shared set-up for ./scripts/run and ./scripts/test: sourced, not executed.
# Creates .venv with Python >= 3.11 and installs pinned requirements, skipping the install when
# the requirement files have not changed since the last successful one (a second run is quick).

find_python() {
  for candidate in "${PYTHON:-}" python3.11 python3.12 python3.13 python3; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 &&
      "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
      command -v "$candidate"
      return 0
    fi
  done
  echo "Python 3.11 or newer is required (set PYTHON=/path/to/python3.11)" >&2
  return 1
}

ensure_venv() {
  # $1: requirements file to install (requirements.txt or requirements-dev.txt)
  local req="$1" py stamp digest
  if [ ! -x .venv/bin/python ]; then
    py=$(find_python)
    echo "==> creating .venv with $py"
    "$py" -m venv .venv
  fi
  digest=$(cat requirements.txt "$req" | sha256sum | cut -c1-16)
  stamp=".venv/.installed-$(basename "$req" .txt)-$digest"
  if [ ! -f "$stamp" ]; then
    echo "==> installing $req"
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -r "$req"
    rm -f .venv/.installed-"$(basename "$req" .txt)"-*
    touch "$stamp"
  fi
}
