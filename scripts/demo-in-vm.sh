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

step "a driver VM under ivt-shim"
insmod "$repo/host_stub/ikernel_host.ko"
out=$repo/build/demo
mkdir -p "$out"
export IKERNEL_IMAGE_CACHE=$out/images
cat >"$out/demo.toml" <<TOML
# A driver VM running guest_stub; written by scripts/demo-in-vm.sh.
[vm]
kernel = "$IKERNEL_KDIR/arch/x86/boot/bzImage"
memory_mib = 128
console_log = "$out/driver-vm.console.log"

[image]
guest_stub = "$repo/guest_stub/ikernel_guest.ko"

[restart]
max_restarts = 1
backoff_initial_ms = 200
ready_timeout_s = 600
TOML
shim=$repo/target/release/ivt-shim
"$shim" check 2>&1 | sed 's/^/  /'
"$shim" build-image "$out/demo.toml" 2>&1 | tail -n 1 | sed 's/^/  /'
echo "  ivt-shim run: boot the driver VM, panic it once it is ready (sysrq c),"
echo "  let the shim restart it, stop after the second ready."
echo "  (nested KVM under TCG is slow: a boot takes 15-30 s)"
timeout 1000 "$shim" run --test-panic-generation 1 --exit-after-ready 2 \
	"$out/demo.toml" >"$out/shim.log" 2>&1
echo "  ivt-shim exited with $?; its log:"
sed 's/^/    /' "$out/shim.log"
echo "  the driver VM's console (ikernel lines):"
grep -E "ikernel|Kernel panic" "$out/driver-vm.console.log" | tail -n 8 | sed 's/^/    /'
echo
led_rc=0
bash "$repo/scripts/demo-led.sh" || led_rc=$?
rmmod ikernel_host
echo
echo "demo done."
exit $led_rc
