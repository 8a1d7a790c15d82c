#!/usr/bin/env bash
# Runs the cargo-fuzz targets of fuzz/ for a given time each and prints, per target, the
# executions, the corpus size and the crashes found (libFuzzer writes each crash or hang to
# fuzz/artifacts/TARGET/; turn every one into a regression test under tests/).
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET ...]      (default: 600 s, every target)
#
# Needs the nightly toolchain (libFuzzer's sanitizer flags) and cargo-fuzz, installed here if
# missing. Seeds: the committed vectors for vectors_reader, small .npy files written below for
# npy_reader; cli_spec and conv_api start from nothing (their input is `Arbitrary`).
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-600}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(npy_reader vectors_reader cli_spec conv_api)
fi
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal

mkdir -p fuzz/corpus/npy_reader fuzz/corpus/vectors_reader fuzz/logs
cp fixtures/vectors/*.json fuzz/corpus/vectors_reader/
python3 - fuzz/corpus/npy_reader <<'PY'
import struct, sys, os
out = sys.argv[1]
def npy(name, descr, shape, data, fortran=False, version=1):
    h = "{'descr': '%s', 'fortran_order': %s, 'shape': (%s), }" % (
        descr, fortran, "".join(f"{d}, " for d in shape) if len(shape) != 1 else f"{shape[0]},")
    pre = 10 if version == 1 else 12
    h += " " * ((-(pre + len(h) + 1)) % 64) + "\n"
    head = b"\x93NUMPY" + bytes([version, 0]) + (struct.pack("<H", len(h)) if version == 1 else struct.pack("<I", len(h)))
    open(os.path.join(out, name), "wb").write(head + h.encode() + data)
npy("f8.npy", "<f8", (2, 3), struct.pack("<6d", *range(6)))
npy("f8_be.npy", ">f8", (2, 3), struct.pack(">6d", *range(6)))
npy("f8_fortran.npy", "<f8", (2, 3), struct.pack("<6d", *range(6)), fortran=True)
npy("f4.npy", "<f4", (4,), struct.pack("<4f", 1, 2, 3, 4))
npy("i8.npy", "<i8", (1, 1, 3), struct.pack("<3q", -1, 0, 1))
npy("c16.npy", "<c16", (2,), struct.pack("<4d", 1, 2, 3, 4))
npy("scalar.npy", "<f8", (), struct.pack("<d", 7))
npy("empty.npy", "<f8", (0, 3), b"")
npy("v2.npy", "<f4", (2,), struct.pack("<2f", 1, 2), version=2)
PY

printf '%-16s %12s %10s %8s %s\n' target executions exec/s corpus crashes
for t in "${targets[@]}"; do
    log="fuzz/logs/$t.log"
    # -timeout: an input that runs 10 s is a hang; -rss_limit_mb: one that needs 2 GiB is a
    # memory bug (the reader refuses gigantic claims before allocating).
    (cd fuzz && cargo +nightly fuzz run -O "$t" "corpus/$t" -- \
        -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1) \
        >"$log" 2>&1 || true
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
    rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
    corpus=$(find "fuzz/corpus/$t" -type f | wc -l)
    crashes=$(find "fuzz/artifacts/$t" -type f 2>/dev/null | wc -l)
    printf '%-16s %12s %10s %8s %s\n' "$t" "$execs" "$rate" "$corpus" "$crashes"
done
