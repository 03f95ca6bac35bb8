#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run-in-vm.sh [TEST]: builds ivt-shim and the test helpers on this machine,
# boots the test VM (scripts/vm-run, QEMU with a parallel port recorded to
# build/ivt-shim-tests/lpt.out) and runs ivt_shim/tests/vm/TEST.sh inside
# it (default: all.sh).  TAP on stdout; exit status of the test.  KDIR:
# the kernel build tree (default: the cached one).
set -euo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
t=${1:-all}
out=$root/build/ivt-shim-tests
mkdir -p "$out"
cargo build --release -q -p ivt-shim --features test-hooks --manifest-path "$root/Cargo.toml"
gcc -static -Os -Wall -o "$out/parport-write" "$root/ivt_shim/tests/vm/parport-write.c"
kdir=${KDIR:-$("$root/scripts/build-kernel" --print-only)}
: >"$out/lpt.out"
cd "$root"
exec scripts/vm-run --kernel "$kdir" --timeout "${IVT_VM_TIMEOUT:-3600}" --qemu-opts "-parallel file:$out/lpt.out" -- \
	env IVT_KDIR="$kdir" IVT_LPT_OUT="$out/lpt.out" \
	IVT_HOST_STUB="${IVT_HOST_STUB:-1}" \
	bash "ivt_shim/tests/vm/$t.sh"
