#!/usr/bin/env bash
# Builds and tests the zoo (zoo/: adapters of other convolution crates as conv-oracle engines,
# their findings and their conformance reports), one member at a time, printing the reports.
#
#   scripts/zoo.sh                  every member
#   scripts/zoo.sh candle tract     the members named (directory names under zoo/)
#
# The zoo's heavy dependencies build in their own target directory, target/zoo unless
# CARGO_TARGET_DIR says otherwise. Exits non-zero when a member fails to build or a test fails.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target/zoo}"

all=(ndarray-conv candle convolutions-rs tract burn)
if [ "$#" -gt 0 ]; then
    members=("$@")
else
    members=("${all[@]}")
fi

status=0
for m in "${members[@]}"; do
    if [ ! -f "zoo/$m/Cargo.toml" ]; then
        echo "zoo.sh: no member $m (members: ${all[*]})" >&2
        exit 2
    fi
    package="zoo-$m"
    echo "=== $m ($package)"
    if ! cargo test --release --manifest-path zoo/Cargo.toml -p "$package" -- --nocapture; then
        echo "=== $m: FAILED" >&2
        status=1
    fi
done
exit "$status"
