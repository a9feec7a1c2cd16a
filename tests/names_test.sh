#!/usr/bin/env bash
# Benchmark names are an interface (compare, history and docs key on them): the binary must list
# exactly the names recorded in tests/names/ for a --quick run and an all-levels, 1-and-all-threads
# run, on the machine recorded beside them (its cores and caches stood in through
# DTYPEBENCH_TEST_CPU, so the check holds on any machine). Without a GPU, GPU rows are family/gpu.
set -u
bin=$1 dir=$2
export DTYPEBENCH_TEST_CPU
DTYPEBENCH_TEST_CPU=$(cat "$dir/machine.txt")
status=0
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
check() {  # check FILE ARGS...: with --targets=cpu, the recorded no-GPU rows (family/gpu) go
  local file=$1; shift
  local drop='^$'
  [[ " $* " == *" --targets=cpu "* ]] && drop='^[a-z]*/gpu/repeats:1/manual_time$'
  if ! diff <(grep -v "$drop" "$dir/$file" | sort) <("$bin" "$@" --benchmark_list_tests 2>/dev/null | sort) >"$tmp"; then
    echo "FAIL: names of '$*' differ from tests/names/$file (< recorded, > now):"
    head -20 "$tmp"
    status=1
  fi
}
check quick.txt --quick --targets=cpu
check full.txt --levels=L1,L2,L3,DRAM --threads=1,all --targets=cpu
if ! nvidia-smi -L >/dev/null 2>&1; then  # as recorded, the one skip row per family included
  check quick.txt --quick
  check full.txt --levels=L1,L2,L3,DRAM --threads=1,all
fi
[ $status = 0 ] && echo "names ok: $(wc -l <"$dir/quick.txt") quick, $(wc -l <"$dir/full.txt") full"
exit $status
