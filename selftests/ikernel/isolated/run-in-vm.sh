#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run-in-vm.sh [TEST]: builds what the isolated-driver tests need, boots the
# test VM (with a parallel port recorded to build/isolated/lpt.out)
# and runs selftests/ikernel/isolated/TEST.sh inside it (default: all.sh).
# TAP on stdout; exit status of the test.  KDIR: the kernel build tree
# (default: the cached one, scripts/build-kernel --print-only).
set -euo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
t=${1:-all}
out=$root/build/ivt-shim-tests
mkdir -p "$out" "$root/build/isolated"
cd "$root"
kdir=${KDIR:-$(scripts/build-kernel --print-only)}
cargo build --release -q -p ivt-shim --features test-hooks
make -s modules test-modules served selftests KDIR="$kdir" >/dev/null
selftests/ikernel/rtc/build.sh "$(. scripts/lib.sh && kernel_source "$kdir")" "$root/build/rtc-selftest" \
	"$kdir/usr/include" >/dev/null
make -s -C samples/ppdev_blink >/dev/null
# Its own parallel-port recording, so that a concurrent ivt-shim VM test run
# cannot truncate it under ppdev.sh.
lpt=$root/build/isolated/lpt.out
: >"$lpt"
exec scripts/vm-run --kernel "$kdir" --timeout "${IVT_VM_TIMEOUT:-3600}" \
	--qemu-opts "-parallel file:$lpt" -- \
	env IVT_KDIR="$kdir" IVT_LPT_OUT="$lpt" IKERNEL_FIFO_STRESS_ARGS="${IKERNEL_FIFO_STRESS_ARGS:-}" \
	IKERNEL_HOSTILE_KINDS="${IKERNEL_HOSTILE_KINDS:-}" IKERNEL_HOSTILE_AFTER="${IKERNEL_HOSTILE_AFTER:-}" \
	IKERNEL_HOSTILE_STRESS_ARGS="${IKERNEL_HOSTILE_STRESS_ARGS:-}" \
	IKERNEL_HOSTILE_CALL_LIMIT="${IKERNEL_HOSTILE_CALL_LIMIT:-}" \
	IKERNEL_HOSTILE_GENERATION="${IKERNEL_HOSTILE_GENERATION:-}" \
	IKERNEL_ISOLATED_TESTS="${IKERNEL_ISOLATED_TESTS:-}" \
	IKERNEL_FIFO_STRESS_TIMEOUT="${IKERNEL_FIFO_STRESS_TIMEOUT:-}" \
	IKERNEL_FIFO_STRESS_CALLS="${IKERNEL_FIFO_STRESS_CALLS:-}" \
	IKERNEL_FIFO_STRESS_DEATHS="${IKERNEL_FIFO_STRESS_DEATHS:-}" \
	IKERNEL_SOAK_S="${IKERNEL_SOAK_S:-}" IKERNEL_SOAK_N="${IKERNEL_SOAK_N:-}" \
	IKERNEL_SOAK_T="${IKERNEL_SOAK_T:-}" IKERNEL_SOAK_KVM="${IKERNEL_SOAK_KVM:-}" \
	IKERNEL_SOAK_CMDLINE="${IKERNEL_SOAK_CMDLINE:-}" \
	bash "selftests/ikernel/isolated/$t.sh"
