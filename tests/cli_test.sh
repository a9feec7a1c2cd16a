#!/usr/bin/env bash
# The binary's command line: bad input is one clear line and the right exit status; a tiny run
# writes JSON with the context and verified results.
set -u
bin=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
expect() {  # expect STATUS PATTERN ARGS...
  local want=$1 pat=$2; shift 2
  "$bin" "$@" >"$tmp/out" 2>"$tmp/err"; local got=$?
  [ "$got" = "$want" ] || fail "'$*' exited $got, wanted $want: $(cat "$tmp/err")"
  grep -q -- "$pat" "$tmp/err" "$tmp/out" || fail "'$*' did not say '$pat': $(cat "$tmp/err")"
  [ "$want" != 2 ] || [ "$(grep -c . "$tmp/err")" -le 1 ] || fail "'$*' printed more than one error line"
}
expect 2 "unknown family 'nosuch'" --family=nosuch
expect 2 "no benchmark matches" --benchmark_filter=nosuchbenchmark
expect 2 "not a valid regex" '--benchmark_filter=(('
# without a GPU a GPU-only filter matches nothing and the line says why
if ! nvidia-smi -L >/dev/null 2>&1; then
  expect 2 "GPU benchmarks are not registered here: no CUDA device" '--benchmark_filter=^layout/gpu_transpose'
fi
expect 2 "needs a positive integer" --dram-mib=abc
expect 2 "needs a positive integer" --dram-mib=0
expect 2 "unknown cache level 'L9'" --levels=L9
expect 2 "unknown option" --bogus
expect 2 "needs positive integers" --chunk-mib=0
expect 0 "layout" --list-families
# a place for the memory-mapped file that does not exist: refused before any work, one line
expect 2 "tmpdir '/nonexistent/dir': No such file or directory" --tmpdir=/nonexistent/dir
# a family's options are listed with their defaults
expect 0 "chunk-mib" --help
# a chunk larger than the array is a skip with its reason
expect 0 "is larger than the array" --levels=L2 --threads=1 '--benchmark_filter=^convert/astype_chunked' \
  --chunk-mib=64 --benchmark_repetitions=1 --benchmark_min_time=0.001
expect 0 "cache levels on this machine" --list
# a working set that cannot fit is a skip with one line, and the run goes on (exit 0)
expect 0 "does not fit" --levels=DRAM --dram-mib=100000000 '--benchmark_filter=^baseline/copy/dtype:f64' \
  --benchmark_repetitions=1 --benchmark_min_time=0.001
# a tiny run writes JSON with context and verified counters
"$bin" --levels=L1 --threads=1 '--benchmark_filter=^(baseline/triad|layout/(rowsum|colsum)_naive|layout/pair/subject:to_fortran_blocked/ref:copy/dtype:f64)' \
  --benchmark_min_time=0.001 --benchmark_repetitions=1 \
  --benchmark_out="$tmp/r.json" --benchmark_out_format=json >/dev/null 2>"$tmp/err" ||
  fail "tiny run failed: $(cat "$tmp/err")"
python3 - "$tmp/r.json" <<'PY' || fail "JSON check failed"
import json, sys
d = json.load(open(sys.argv[1]))
ctx = d["context"]
for k in ("git_commit", "cpu_model", "l3_bytes", "compiler_flags", "gpu_available"):
    assert k in ctx, k
runs = [b for b in d["benchmarks"] if not b.get("error_occurred")]
assert runs, "no runs"
assert all(b.get("verified") == 1 and b.get("label") == "verified" for b in runs), "unverified run"
# the file keeps every repetition beside the aggregates (for U tests)
assert any(b.get("run_type") == "iteration" for b in runs), "no per-repetition rows"
pairs = [b for b in runs if b["name"].startswith("layout/pair/")]
assert pairs, "no paired entry"
for b in pairs:  # the same bytes both ways: a ratio of bandwidths, the pairs counted
    assert 0.01 < b["subject_over_ref_bw"] < 100 and b["pairs"] >= 1, b
PY
# peak memory: what the process's resident high-water mark grew by is what we tracked (the
# buffers), not more: checking a result once must not cost fp64 copies of it
# (L3 runs after DRAM buffers were freed: pages left resident must not be reused unseen)
"$bin" --levels=L3,DRAM --dram-mib=64 --threads=1 \
  '--benchmark_filter=^(baseline/(copy|triad)/dtype:f32|layout/(to_fortran_blocked|colsum_aware)/dtype:f32|convert/astype_prealloc)' \
  --benchmark_min_time=0.001 --benchmark_repetitions=1 \
  --benchmark_out="$tmp/p.json" --benchmark_out_format=json >/dev/null 2>"$tmp/err" ||
  fail "peak run failed: $(cat "$tmp/err")"
python3 - "$tmp/p.json" <<'PY' || fail "peak check failed"
import json, sys
runs = [b for b in json.load(open(sys.argv[1]))["benchmarks"] if b.get("label") != "derived"]
assert len(runs) >= 10, [b["name"] for b in runs]
for b in runs:
    tracked, rss = b["peak_bytes"], b["peak_rss_bytes"]
    if tracked < 2 << 20:
        continue  # small L3 levels: malloc's own pages, not counted page by page
    # rss is 0 where /proc/self/clear_refs cannot be written; huge pages round up a little
    assert rss == 0 or 0.95 * tracked <= rss <= 1.05 * tracked, (b["name"], tracked, rss)
PY
echo "cli ok"
