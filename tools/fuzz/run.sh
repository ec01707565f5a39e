#!/usr/bin/env bash
# Fuzz optilog's parsers with libFuzzer (swiftc -sanitize=fuzzer,address).
#   tools/fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]     default: 30 s, every target
# Seeds come from the fixtures (and one real checkpoint); new inputs that found new paths are kept
# in .build-fuzz/corpus/TARGET, crashes in .build-fuzz/crashes/. A crash makes the script fail:
# copy the input to tools/fuzz/corpus/TARGET/ (replayed by the tests) and fix the parser.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-30}; shift || true
targets=${*:-checkpoint idx gzip npy pickle npz csv where zip64 nesting}
swift build --build-path .build-fuzz --product optilog-fuzz \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING -Xswiftc -parse-as-library >/dev/null
swift build --product optilog >/dev/null
fuzzer=.build-fuzz/debug/optilog-fuzz
seeds=.build-fuzz/seeds
rm -rf "$seeds"; mkdir -p "$seeds"/{checkpoint,idx,gzip,npy,pickle,npz,csv,where,zip64,nesting} .build-fuzz/crashes
# Seeds: the fixtures, a checkpoint of a one-epoch run, filters.
cp fixtures/digits-28x28-test-labels-idx1-ubyte.gz fixtures/nycflights13-weather-jfk-hourly.csv.gz "$seeds/gzip/"
cp fixtures/imdb-format-sample.npz "$seeds/npz/"
python3 - "$seeds" <<'PY'
import gzip, sys, zipfile
seeds = sys.argv[1]
open(f"{seeds}/idx/labels.idx", "wb").write(gzip.open("fixtures/digits-28x28-test-labels-idx1-ubyte.gz").read())
images = gzip.open("fixtures/digits-28x28-test-images-idx3-ubyte.gz").read()
open(f"{seeds}/idx/images.idx", "wb").write(images[:16] + images[16:16 + 3 * 784])
images = bytearray(images[:16 + 3 * 784]); images[4:8] = (3).to_bytes(4, "big")   # a valid 3-image file
open(f"{seeds}/idx/three-images.idx", "wb").write(bytes(images))
weather = gzip.open("fixtures/nycflights13-weather-jfk-hourly.csv.gz").read().decode().split("\n")
open(f"{seeds}/csv/jena-layout.csv", "w").write("\n".join(weather[:200]) + "\n")
with zipfile.ZipFile("fixtures/imdb-format-sample.npz") as z:
    for name in z.namelist():
        data = z.read(name)
        open(f"{seeds}/npy/{name}", "wb").write(data)
        if name.startswith("x_"):
            header = int.from_bytes(data[8:10], "little")
            open(f"{seeds}/pickle/{name}.pickle", "wb").write(data[10 + header:])
PY
sed -n 1,20p fixtures/boston_house_prices.csv > "$seeds/csv/boston.csv"
# zip64: the true fields (all zero), and each one saturated; nesting: tuples, lists, marks.
python3 - "$seeds" <<'PY'
import sys
seeds = sys.argv[1]
npy = b"\x93NUMPY\x01\x00" + (118).to_bytes(2, "little") + b"{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }".ljust(117) + b"\n" + b"\x00\x00\x80\x3f"
open(f"{seeds}/zip64/true-fields", "wb").write(bytes(48) + npy)
for i in range(6):
    fields = bytearray(48); fields[8 * i:8 * i + 8] = (2**63 - 1).to_bytes(8, "little")
    open(f"{seeds}/zip64/huge-{i}", "wb").write(bytes(fields) + npy)
for name, pattern in [("tuples", b"\x00\x10\x00\x02"), ("lists", b"\x01\x10\x00\x00\x04"), ("marks", b"\x02\x10\x00\x01\x00\x06")]:
    open(f"{seeds}/nesting/{name}", "wb").write(pattern)
PY
printf 'task=imdb, optimizer=adam|nadam' > "$seeds/where/1"
printf 'learning_rate<=0.01 and status!=diverged' > "$seeds/where/2"
printf "dataset~'fashion', seed>=2" > "$seeds/where/3"
db=.build-fuzz/seed.sqlite; rm -f "$db"*
.build/debug/optilog run --task boston --optimizer adam --epochs 1 --db "$db" >/dev/null 2>&1
.build/debug/optilog sql "SELECT hex(blob) FROM checkpoints LIMIT 1" --db "$db" --format tsv | tail -1 | xxd -r -p > "$seeds/checkpoint/boston.blob"
status=0
for target in $targets; do
    mkdir -p ".build-fuzz/corpus/$target"
    echo "== $target ($seconds s)"
    if ! OPTILOG_FUZZ_TARGET=$target "$fuzzer" -max_total_time="$seconds" -rss_limit_mb=4096 -max_len=65536 \
            -artifact_prefix=".build-fuzz/crashes/$target-" -print_final_stats=1 \
            ".build-fuzz/corpus/$target" "$seeds/$target" tools/fuzz/corpus/"$target" 2>&1 | grep -E "^(#|stat::number_of_executed_units|stat::new_units_added|==.*ERROR|SUMMARY)" | tail -4; then
        :
    fi
    if ls .build-fuzz/crashes/"$target"-* >/dev/null 2>&1; then echo "CRASH in $target: $(ls .build-fuzz/crashes/"$target"-*)"; status=1; fi
done
exit $status
