# shellcheck shell=bash
# Shared install + build steps for scripts/characterize and scripts/test; source it, then call
#   db_install_packages   Debian packages the build needs (apt-get only when one is missing)
#   db_setup_venv         .venv with the Python packages the scripts and tests use (PyPI, once)
#   db_build              configure (first time, or when DTYPEBENCH_CMAKE_ARGS change) and build
# or db_setup for all three. Each step is quiet when there is nothing to do.
# Environment: DTYPEBENCH_CMAKE_ARGS (extra cmake arguments, e.g. "-DDTYPEBENCH_CUDA=OFF"),
# DTYPEBENCH_BUILD_DIR (default: build), DTYPEBENCH_PYTHON (the python that makes the venv).

DB_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DB_BUILD_DIR="${DTYPEBENCH_BUILD_DIR:-build}"
case "$DB_BUILD_DIR" in /*) ;; *) DB_BUILD_DIR="$DB_ROOT/$DB_BUILD_DIR" ;; esac
DB_VENV="$DB_ROOT/.venv"
DB_PY="$DB_VENV/bin/python"

# libopenblas-dev, libblis-openmp-dev and libdnnl-dev: the CPU GEMM/convolution libraries
# (optional in CMake);
# libbenchmark-tools: Google Benchmark's compare.py, for U tests between two of our runs;
# chromium: the headless browser that tests/python/test_report_browser.py opens report.html in;
# postgresql: the server tests/python/test_history.py starts to test history's shared database
DB_APT_PACKAGES=(cmake ninja-build g++ libbenchmark-dev libgtest-dev libgmock-dev libomp-dev
                 libopenblas-dev libblis-openmp-dev libdnnl-dev libbenchmark-tools chromium postgresql python3
                 python3-venv)
DB_PIP_PACKAGES=(pytest numpy matplotlib scipy ruptures 'psycopg[binary]')
DB_PIP_MODULES=(pytest numpy matplotlib scipy ruptures psycopg)  # import names of the above

db_say() { echo "setup: $*"; }

# apt-get as root, through sudo otherwise; a clear message when neither works
db_as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    echo "setup: need root to run '$*' (not root and no sudo); install the packages by hand" >&2
    return 1
  fi
}

db_install_packages() {
  if ! command -v dpkg-query >/dev/null 2>&1; then
    db_say "not a Debian/Ubuntu system; install by hand: ${DB_APT_PACKAGES[*]}"
    return 0
  fi
  local missing=() p
  for p in "${DB_APT_PACKAGES[@]}"; do
    # dpkg -s succeeds for removed packages whose config files remain, so read the status
    if [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" != "install ok installed" ]; then
      missing+=("$p")
    fi
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  db_say "installing Debian packages: ${missing[*]}"
  db_as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  db_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${missing[@]}"
}

db_venv_ok() {
  [ -x "$DB_PY" ] || return 1
  local m checks=""
  for m in "${DB_PIP_MODULES[@]}"; do checks+="'$m',"; done
  # find_spec instead of import: matplotlib takes a second to import
  "$DB_PY" -c "import importlib.util as u, sys
sys.exit(any(u.find_spec(m) is None for m in ($checks)))" 2>/dev/null
}

db_setup_venv() {
  db_venv_ok && return 0
  local py="${DTYPEBENCH_PYTHON:-python3}"
  if [ ! -x "$DB_PY" ]; then
    db_say "creating virtualenv .venv with $("$py" --version 2>&1)"
    rm -rf "$DB_VENV"
    "$py" -m venv "$DB_VENV"
  fi
  db_say "installing Python packages into .venv from PyPI: ${DB_PIP_PACKAGES[*]}"
  "$DB_PY" -m pip install --quiet --disable-pip-version-check "${DB_PIP_PACKAGES[@]}"
  db_venv_ok || { echo "setup: .venv still lacks one of: ${DB_PIP_MODULES[*]}" >&2; return 1; }
}

db_configure() {
  local extra=() stamp="$DB_BUILD_DIR/.dtypebench-cmake-args"
  read -r -a extra <<<"${DTYPEBENCH_CMAKE_ARGS:-}"
  if [ -f "$DB_BUILD_DIR/CMakeCache.txt" ] &&
    ! grep -qx 'CMAKE_GENERATOR:INTERNAL=Ninja' "$DB_BUILD_DIR/CMakeCache.txt"; then
    echo "setup: $DB_BUILD_DIR was configured with another generator; remove it or set" \
      "DTYPEBENCH_BUILD_DIR" >&2
    return 1
  fi
  if [ -f "$DB_BUILD_DIR/build.ninja" ] && [ -f "$stamp" ] &&
    [ "$(cat "$stamp")" = "${extra[*]:-}" ]; then
    return 0
  fi
  db_say "configuring: cmake -S . -B ${DB_BUILD_DIR#"$DB_ROOT"/} -G Ninja" \
    "-DCMAKE_BUILD_TYPE=Release ${extra[*]:-}"
  cmake -S "$DB_ROOT" -B "$DB_BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release "${extra[@]}"
  printf '%s' "${extra[*]:-}" >"$stamp"
}

db_build() {
  db_configure
  local jobs rel="${DB_BUILD_DIR#"$DB_ROOT"/}"
  jobs="$(nproc 2>/dev/null || echo 2)"
  # the git-info step runs on every build; stay silent unless some other step runs
  cmake --build "$DB_BUILD_DIR" -j"$jobs" 2>&1 |
    awk -v hdr="setup: building: cmake --build $rel -j$jobs" \
      '!shown && /gitinfo\.cmake/ { next } !shown { print hdr; shown = 1 } { print; fflush() }'
}

db_setup() {
  db_install_packages
  db_setup_venv
  db_build
}
