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
# --family and --benchmark_filter together: the filter picks among that family's rows
expect 0 "baseline/read/dtype:f64" --family=baseline '--benchmark_filter=read/dtype:f64' --benchmark_list_tests
grep -q -v "^baseline/read/dtype:f64" "$tmp/out" && fail "--family with a filter listed other rows"
expect 2 "no benchmark matches" --family=layout '--benchmark_filter=^baseline/read'
# without a GPU a GPU-only filter matches nothing and the line says why
if ! nvidia-smi -L >/dev/null 2>&1; then
  expect 2 "GPU benchmarks are not registered here: no CUDA device" '--benchmark_filter=^layout/gpu_transpose'
fi
expect 2 "needs a positive integer" --dram-mib=abc
expect 2 "needs a positive integer" --dram-mib=0
expect 2 "unknown cache level 'L9'" --levels=L9
expect 2 "unknown option" --bogus
expect 2 "needs positive integers" --chunk-mib=0
expect 2 "has no layer 'nosuch'" --conv-layers=r50_3x3_64,nosuch
expect 2 "needs positive integers" --conv-batch=0
expect 2 "needs positive integers" --conv-gpu-batch=abc
expect 0 "layout" --list-families
# --list as JSON: parseable, each spec with its target, and the axes' values as this run has them
expect 0 '"families"' --list --format=json --family=layout --levels=L1,DRAM
python3 - "$tmp/out" <<'PY' || fail "--list --format=json: wrong shape"
import json, sys
doc = json.load(open(sys.argv[1]))
assert [f["name"] for f in doc["families"]] == ["layout"], doc["families"]
specs = doc["families"][0]["specs"]
assert all(s["target"] in ("cpu", "gpu") and s["timing"] for s in specs)
strided = [s for s in specs if s["variant"] == "strided"][0]
axes = {a["key"]: a["values"] for a in strided["axes"]}
assert axes["level"] == ["L1", "DRAM"] and axes["stride"][0] == "1", axes
assert any(s["timing"] == "pair" and s["policy"]["min_time"] == 0.2 for s in specs)
PY
expect 2 "goes with --list" --format=json
expect 2 "needs json or text" --list --format=xml
# empty values are errors, not "the default" (which would start the full suite)
for opt in --threads= --family= --levels= --targets= --chunk-mib=; do
  expect 2 "needs a value" "$opt"
done
expect 2 "empty item" --threads=1,,2
expect 2 "empty item" --levels=L2,
# out of range, overflowing, repeated
expect 2 "needs a positive integer up to" --threads=4294967296
expect 2 "needs a positive integer up to" --threads=99999999999999999999
expect 2 "needs a positive integer up to" --threads=999
expect 2 "needs a positive integer up to" --dram-mib=17592186044416
expect 2 "lists 'L2' twice" --levels=L2,L2
expect 2 "lists '2' twice" --threads=2,2
expect 2 "lists 16 twice" --chunk-mib=16,16
expect 2 "is not a shape set" --gemm-shapes=square,foo
expect 2 "needs positive integers" --gemm-sizes=0
expect 2 "unknown target" --targets=tpu
# the Google Benchmark flags we rely on are checked too
expect 2 "needs a positive number of seconds" --benchmark_min_time=abc
expect 2 "needs a positive integer" --benchmark_repetitions=abc
expect 2 "must be json, console or csv" --benchmark_out_format=xml
expect 2 "must be json, console or csv" --benchmark_format=tabular
expect 2 "needs a value" --benchmark_out=
# --benchmark_out is checked before any work (Google Benchmark opens it only when the run starts),
# under --list too, and nothing is created by the check
expect 2 "directory '/nonexistent/dir': No such file or directory" --benchmark_out=/nonexistent/dir/x.json
expect 2 "'$tmp' is a directory" --benchmark_out="$tmp"
expect 2 "is a directory" --list --benchmark_out="$tmp"
expect 2 "No such file or directory" --list-families --benchmark_out=/nonexistent/dir/x.json
expect 0 "cache levels on this machine" --list --benchmark_out="$tmp/never.json"
[ ! -e "$tmp/never.json" ] || fail "checking --benchmark_out created the file"
# a repeated option is refused, not "the last one wins"
expect 2 "^dtypebench: --threads is given twice ('--threads=1', then '--threads=2')" --threads=1 --threads=2 --list
expect 2 "--quick is given twice" --quick --quick --list
expect 2 "--chunk-mib is given twice" --chunk-mib=1 --chunk-mib=2 --list
expect 2 "--benchmark_filter is given twice" --benchmark_filter=a --benchmark_filter=b --list
# past 4 threads per core the line names the way past it
expect 2 "up to [0-9]* (4 per core; --oversubscribe allows up to 4096)" --threads=4097
expect 2 "up to 4096, got '4097'" --oversubscribe --threads=4097
# a value is echoed with its control characters escaped and cut after 80 characters, also where a
# family's option check builds the line
expect 2 'unknown family .a\\x1b\[31mb\\x0ac.' "--family=$(printf 'a\033[31mb\nc')"
! grep -q "$(printf '\033')" "$tmp/err" || fail "a control character was echoed raw"
expect 2 'needs positive integers.*\\x1b' "--chunk-mib=$(printf '\033')"
! grep -q "$(printf '\033')" "$tmp/err" || fail "a family's check echoed a control character raw"
long=$(head -c 100000 /dev/zero | tr '\0' a)
expect 2 "unknown family 'a\{80\}\.\.\.' (known:" "--family=$long"
expect 2 "is not a shape set" "--gemm-shapes=$long"
[ "$(wc -c <"$tmp/err")" -lt 500 ] || fail "a 100 KB value was echoed whole"
# a place for the memory-mapped file that does not exist: refused before any work, one line
expect 2 "tmpdir '/nonexistent/dir': No such file or directory" --tmpdir=/nonexistent/dir
# a family's options are listed with their defaults
expect 0 "chunk-mib" --help
# a chunk larger than the array is a skip with its reason
expect 0 "is larger than the array" --levels=L2 --threads=1 '--benchmark_filter=^convert/astype_chunked' \
  --chunk-mib=64 --benchmark_repetitions=1 --benchmark_min_time=0.001
expect 0 "cache levels on this machine" --list
expect 0 "default 1,16; quick 16" --help
tiny=(--levels=L1 --threads=1 --benchmark_repetitions=2)
# Google Benchmark 1.8's "0.01s" form is taken (and our other defaults survive it)
expect 0 "ran" "${tiny[@]}" '--benchmark_filter=^baseline/read/dtype:f64' --benchmark_min_time=0.01s \
  --benchmark_out="$tmp/m.json"
python3 - "$tmp/m.json" <<'PY' || fail "--benchmark_min_time=0.01s was not honoured"
import json, sys
runs = [b for b in json.load(open(sys.argv[1]))["benchmarks"] if b["run_type"] == "iteration"]
assert len(runs) == 2, len(runs)  # --benchmark_repetitions=2 survives too
for b in runs:  # each repetition ran about 0.01 s, not Google Benchmark's default 0.5 s
    assert b["iterations"] * b["real_time"] * 1e-6 < 0.1, b
PY
# a filter copied from a result name, suffix and all
expect 0 "ran" "${tiny[@]}" --benchmark_min_time=0.001 \
  '--benchmark_filter=^baseline/read/dtype:f64/.*threads:1/real_time$'
# CSV on the console and in the file, whatever counters each row has
expect 0 "ran" "${tiny[@]}" --benchmark_min_time=0.001 --benchmark_format=csv \
  '--benchmark_filter=^(baseline/(read|fma_peak)|convert/view)'
grep -q '^name,iterations,real_time' "$tmp/out" || fail "no CSV header on the console"
grep -q '"baseline/fma_peak/dtype:f64/threads:1/real_time_median",.*"verified"' "$tmp/out" ||
  fail "CSV rows lack the disposition"
expect 0 "ran" "${tiny[@]}" --benchmark_min_time=0.001 --benchmark_out="$tmp/r.csv" \
  --benchmark_out_format=csv '--benchmark_filter=^(baseline/(read|fma_peak)|convert/view)'
grep -q '^name,iterations' "$tmp/r.csv" && ! grep -q '"benchmarks"' "$tmp/r.csv" || fail "--benchmark_out_format=csv did not write CSV"
# CSV on the console and in the file: a skipped row has the header's width and its disposition in
# the label, as in the JSON (DRAM rows of 100 TB skip; convert/view brings other counters)
csv_run=(--levels=L1,DRAM --dram-mib=100000000 --threads=1 --benchmark_repetitions=2
  --benchmark_min_time=0.001 '--benchmark_filter=^(baseline/(read|copy)/dtype:f64|convert/view/)')
expect 0 " skipped" "${csv_run[@]}" --benchmark_format=csv --benchmark_out="$tmp/k.csv" \
  --benchmark_out_format=csv
python3 - "$tmp/out" "$tmp/k.csv" <<'PY' || fail "a CSV row is not the header's width or lacks its disposition"
import csv, sys
for path in sys.argv[1:]:
    lines = open(path).read().splitlines()  # the file starts with the context, as the console's stderr
    start = next(i for i, line in enumerate(lines) if line.startswith("name,iterations,"))
    head, *rows = list(csv.reader(lines[start:]))
    assert len(head) > 10 and rows, (path, head)
    for r in rows:
        assert len(r) == len(head), (path, len(r), len(head), r)
    row = [dict(zip(head, r)) for r in rows]
    skipped = [r for r in row if r["error_occurred"] == "true"]
    assert skipped and all(r["label"].startswith("skipped: does not fit") and
                           r["error_message"].startswith("skip: ") for r in skipped), (path, skipped)
    assert any(r["label"] == "verified" and r["bytes"] for r in row), path
    cv = [r for r in row if r["name"].endswith("_cv")]  # a cv is a ratio, not a time
    assert cv and all(0 <= float(r["real_time"]) < 10 for r in cv), cv
PY
# strict JSON: the cv of a counter whose mean is 0 (peak_rss_bytes of fma_peak) is absent, not NaN
expect 0 "ran" "${tiny[@]}" --benchmark_min_time=0.001 --benchmark_out="$tmp/s.json" \
  '--benchmark_filter=^baseline/(fma_peak|read)'
python3 -c 'import json,sys; json.loads(open(sys.argv[1]).read(), parse_constant=lambda c: sys.exit("not JSON: " + c))' \
  "$tmp/s.json" || fail "the JSON is not strict"
# a skip is counted once per benchmark, not once per repetition
expect 0 " 1 skipped" --levels=DRAM --dram-mib=100000000 --threads=1 --benchmark_repetitions=3 \
  '--benchmark_filter=^baseline/copy/dtype:f64' --benchmark_min_time=0.001
# a source file larger than the disk: a skip before a byte is written, said once for 3 repetitions
mkdir "$tmp/big"
expect 0 "the source file needs" --levels=DRAM --dram-mib=100000000 --threads=1 --tmpdir="$tmp/big" \
  '--benchmark_filter=^convert/astype_chunked' --chunk-mib=1 --benchmark_repetitions=3 \
  --benchmark_min_time=0.001
[ "$(grep -c 'ERROR OCCURRED' "$tmp/out")" = 1 ] || fail "a skip was printed more than once"
[ -z "$(ls -A "$tmp/big")" ] || fail "a source file was left behind"
# the chunked conversion's source file: gone even when the process is killed mid-run
mkdir "$tmp/src"
"$bin" --levels=DRAM --dram-mib=256 --threads=1 --tmpdir="$tmp/src" --benchmark_repetitions=50 \
  '--benchmark_filter=^convert/astype_chunked' >/dev/null 2>&1 &
pid=$!
for _ in $(seq 20); do sleep 0.1; [ -n "$(ls -A "$tmp/src")" ] && break; done
sleep 1
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
[ -z "$(ls -A "$tmp/src")" ] || fail "kill -9 left $(ls "$tmp/src") behind"
# a --tmpdir too small for the source file: a skip before anything is written, and the run goes on
if mkdir "$tmp/small" && mount -t tmpfs -o size=8m tmpfs "$tmp/small" 2>/dev/null; then
  expect 0 "which has 8.00 MiB free" --levels=DRAM --dram-mib=64 --threads=1 --tmpdir="$tmp/small" \
    '--benchmark_filter=^convert/astype_(chunked|prealloc)' --chunk-mib=1 \
    --benchmark_repetitions=1 --benchmark_min_time=0.001
  grep -q "astype_prealloc" "$tmp/out" || { umount "$tmp/small"; fail "the run did not go on"; }
  [ -z "$(ls -A "$tmp/small")" ] || { umount "$tmp/small"; fail "a file was left on the tmpfs"; }
  umount "$tmp/small"
else
  echo "cli: the small-tmpfs check was not run (mounting a tmpfs needs root)"
fi
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
