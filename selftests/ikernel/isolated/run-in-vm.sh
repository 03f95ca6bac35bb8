#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run-in-vm.sh [TEST]: builds what the isolated-driver tests need, boots the
# test VM (with a parallel port recorded to build/isolated/lpt.out)
# and runs selftests/ikernel/isolated/TEST.sh inside it (default: all.sh).
# TAP on stdout; exit status of the test.  KDIR: the kernel build tree
# (default: the cached one, scripts/build-kernel --print-only).  service.sh
# boots the test VM with systemd as PID 1 (scripts/vm-run --systemd) and
# installs the shipped ivt-shim, built here (IKERNEL_SHIPPED_TARGET,
# scripts/lib.sh); vfio.sh boots it with an IOMMU and three NICs
# (IKERNEL_VFIO_IOMMU and IKERNEL_VFIO_APPEND change the IOMMU's options
# and add kernel arguments).
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
selftests/ikernel/gpio/build.sh "$(. scripts/lib.sh && kernel_source "$kdir")" "$root/build/gpio-tools" \
	"$kdir/usr/include" >/dev/null
make -s -C samples/ppdev_blink >/dev/null
vm_opts=()
shipped=
# vfio.sh, netdev.sh and net-bench.sh: q35 with QEMU's Intel IOMMU, two e1000 NICs and an e1000e on one
# hub.
if [ "$t" = vfio ] || [ "$t" = netdev ] || [ "$t" = net-bench ]; then
	# One line: virtme-ng drops what follows a newline in --qemu-opts.
	nic() { echo "-netdev hubport,id=ikn$1,hubid=7 -device ${2:-e1000},netdev=ikn$1,mac=52:54:00:1c:00:0$1"; }
	# IKERNEL_VFIO_IOMMU: the IOMMU's options (intremap=off needs
	# IKERNEL_VFIO_APPEND=vfio_iommu_type1.allow_unsafe_interrupts=1).
	vm_opts+=(--qemu-opts "-device intel-iommu,${IKERNEL_VFIO_IOMMU:-intremap=on,caching-mode=on} $(nic 1) $(nic 2) $(nic 3 e1000e)"
		--append "intel_iommu=on iommu=pt ${IKERNEL_VFIO_APPEND:-}")
fi
if [ "$t" = service ]; then
	vm_opts+=(--systemd)
	# virtme-ng's systemd boot mounts a tmpfs on /lib/modules before any
	# overlay exists, so the directory must exist on this machine's
	# (read-only shared) root; containers often lack it.
	if [ ! -d /lib/modules ]; then
		echo "# creating /lib/modules (empty) for virtme-ng --systemd" >&2
		mkdir -p /lib/modules
	fi
	shipped=$(. scripts/lib.sh && echo "$IKERNEL_SHIPPED_TARGET")
	CARGO_TARGET_DIR=$shipped cargo build --release -q -p ivt-shim
fi
# Its own parallel-port recording, so that a concurrent ivt-shim VM test run
# cannot truncate it under ppdev.sh.
lpt=$root/build/isolated/lpt.out
: >"$lpt"
exec scripts/vm-run --kernel "$kdir" --timeout "${IVT_VM_TIMEOUT:-3600}" \
	--qemu-opts "-parallel file:$lpt" "${vm_opts[@]}" -- \
	env IVT_KDIR="$kdir" IKERNEL_SHIPPED_TARGET="$shipped" IVT_LPT_OUT="$lpt" IKERNEL_FIFO_STRESS_ARGS="${IKERNEL_FIFO_STRESS_ARGS:-}" \
	IKERNEL_HOSTILE_KINDS="${IKERNEL_HOSTILE_KINDS:-}" IKERNEL_HOSTILE_AFTER="${IKERNEL_HOSTILE_AFTER:-}" \
	IKERNEL_HOSTILE_STRESS_ARGS="${IKERNEL_HOSTILE_STRESS_ARGS:-}" \
	IKERNEL_HOSTILE_CALL_LIMIT="${IKERNEL_HOSTILE_CALL_LIMIT:-}" \
	IKERNEL_HOSTILE_GENERATION="${IKERNEL_HOSTILE_GENERATION:-}" \
	IKERNEL_ISOLATED_TESTS="${IKERNEL_ISOLATED_TESTS:-}" IKERNEL_VFIO_QEMU="${IKERNEL_VFIO_QEMU:-}" IKERNEL_VFIO_WAIT="${IKERNEL_VFIO_WAIT:-}" \
	IKERNEL_FIFO_STRESS_TIMEOUT="${IKERNEL_FIFO_STRESS_TIMEOUT:-}" \
	IKERNEL_FIFO_STRESS_CALLS="${IKERNEL_FIFO_STRESS_CALLS:-}" \
	IKERNEL_FIFO_STRESS_DEATHS="${IKERNEL_FIFO_STRESS_DEATHS:-}" \
	IKERNEL_SOAK_S="${IKERNEL_SOAK_S:-}" IKERNEL_SOAK_N="${IKERNEL_SOAK_N:-}" \
	IKERNEL_SOAK_T="${IKERNEL_SOAK_T:-}" IKERNEL_SOAK_KVM="${IKERNEL_SOAK_KVM:-}" \
	IKERNEL_SOAK_CMDLINE="${IKERNEL_SOAK_CMDLINE:-}" \
	bash "selftests/ikernel/isolated/$t.sh"
