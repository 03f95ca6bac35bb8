#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The part of `make demo` that runs inside the test VM.
set -eu
repo=$(cd "$(dirname "$0")/.." && pwd)
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

version() {
	python3 - "$1" <<'PY'
import fcntl, struct, sys
# IKERNEL_IOC_VERSION = _IOR(0xB7, 0, struct ikernel_version): 6 x u32
cmd = (2 << 30) | (24 << 16) | (0xB7 << 8) | 0
with open(sys.argv[1], "rb", buffering=0) as f:
    buf = fcntl.ioctl(f, cmd, bytes(24))
major, minor, patch, ring_abi, side, _ = struct.unpack("6I", buf)
print(f"  {sys.argv[1]}: {'host' if side == 1 else 'guest'} stub {major}.{minor}.{patch}, ring ABI {ring_abi}")
PY
}

step "test VM: $(uname -r), $(nproc) vCPUs"
grep -m1 -o -w -E 'svm|vmx' /proc/cpuinfo | sed 's/^/  CPU virtualization: /'
step "loading KVM (driver VMs run here with nested KVM)"
modprobe kvm_amd 2>/dev/null || modprobe kvm_intel
for p in /sys/module/kvm_{amd,intel}/parameters/nested; do
	[ -r "$p" ] && echo "  $p = $(cat "$p")"
done
ls -l /dev/kvm | sed 's/^/  /'

step "insmod host_stub and guest_stub"
dmesg -C
insmod "$repo/host_stub/ikernel_host.ko"
insmod "$repo/guest_stub/ikernel_guest.ko"
dmesg | sed 's/^/  /'
ls -l /dev/ikernel /dev/ikernel_guest | sed 's/^/  /'
step "asking each control device for its version"
version /dev/ikernel
version /dev/ikernel_guest
step "rmmod both"
rmmod ikernel_guest ikernel_host
dmesg | tail -n 2 | sed 's/^/  /'
echo
echo "demo done."
