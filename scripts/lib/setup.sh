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

ensure_frontend() {
  # The mobile front end (miniprogram/): `npm ci` only when package-lock.json changed since the
  # last install, `npm run build` (into the git-ignored miniprogram/dist) only when its sources did.
  local dir=miniprogram lock src
  command -v npm >/dev/null 2>&1 || { echo "Node.js 20+ with npm is required to build miniprogram/" >&2; return 1; }
  lock=$(sha256sum "$dir/package-lock.json" | cut -c1-16)
  if [ ! -f "$dir/node_modules/.suanpan-installed-$lock" ]; then
    echo "==> npm ci (miniprogram)"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
    touch "$dir/node_modules/.suanpan-installed-$lock"
  fi
  src=$(cd "$dir" && find src public index.html vite.config.ts tsconfig.json package-lock.json -type f -print0 |
    sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)
  if [ ! -f "$dir/dist/index.html" ] || [ ! -f "$dir/node_modules/.suanpan-built-$src" ]; then
    echo "==> building the front end (miniprogram/dist)"
    (cd "$dir" && npm run build --silent -- --logLevel warn)
    rm -f "$dir"/node_modules/.suanpan-built-*
    touch "$dir/node_modules/.suanpan-built-$src"
  fi
}

ensure_chromium() {
  # Browser tests drive Debian's Chromium (a test tool's own browser download does not work
  # here) and need CJK fonts so that Chinese renders in the screenshots.
  local missing=()
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || missing+=(fonts-noto-cjk)
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "==> apt-get install ${missing[*]} (browser tests)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "Browser tests need: apt-get install ${missing[*]} (they are skipped without it unless CI=true)" >&2
  fi
}

frontend_unit_tests() {
  echo "==> vitest (miniprogram)"
  (cd miniprogram && npx --no-install vitest run --reporter=dot)
}
