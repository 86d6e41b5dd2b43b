# Shared by the bench/*.sh scripts: source it after `set -euo pipefail`.

# bench_build DIR TARGET: configures DIR (RelWithDebInfo, Ninja) if it has no build yet, then builds
# TARGET there, so a bench always runs the current source.
bench_build() {
  local dir=$1 target=$2
  if [[ ! -f "$dir/build.ninja" ]]; then
    cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  fi
  cmake --build "$dir" --target "$target" >/dev/null
}

# bench_require NAME BIN: stops with a clear message when BIN (a bench binary) was not built.
bench_require() {
  [[ -x $2 ]] || { echo "$1: missing $2 (build it first)" >&2; exit 1; }
}

# bench_load: the load average, printed beside figures (a loaded machine's figures read differently).
bench_load() {
  echo "load $(cut -d' ' -f1-3 /proc/loadavg)"
}
