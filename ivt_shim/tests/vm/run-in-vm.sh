#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run-in-vm.sh [TEST]: builds ivt-shim and the test helpers on this machine,
# boots the test VM (scripts/vm-run, QEMU with a parallel port recorded to
# build/ivt-shim-tests/lpt.out) and runs ivt_shim/tests/vm/TEST.sh inside
# it (default: all.sh).  TAP on stdout; exit status of the test.
set -euo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
t=${1:-all}
out=$root/build/ivt-shim-tests
mkdir -p "$out"
cargo build --release -q -p ivt-shim --manifest-path "$root/Cargo.toml"
gcc -static -Os -Wall -o "$out/parport-write" "$root/ivt_shim/tests/vm/parport-write.c"
kdir=$("$root/scripts/build-kernel" --print-only)
kvm_mods=
if ! grep -q '^CONFIG_KVM_IOAPIC=y' "$kdir/.config"; then
	echo "# $kdir has no CONFIG_KVM_IOAPIC: building kvm modules with it into build/kvm-ioapic" >&2
	"$root/ivt_shim/tests/vm/build-kvm-ioapic.sh" "$kdir" "$root/build/kvm-ioapic"
	kvm_mods=$root/build/kvm-ioapic
fi
: >"$out/lpt.out"
cd "$root"
exec scripts/vm-run --timeout "${IVT_VM_TIMEOUT:-3600}" --qemu-opts "-parallel file:$out/lpt.out" -- \
	env IVT_KDIR="$kdir" IVT_KVM_MODULES="$kvm_mods" IVT_LPT_OUT="$out/lpt.out" \
	IVT_HOST_STUB="${IVT_HOST_STUB:-1}" \
	bash "ivt_shim/tests/vm/$t.sh"
