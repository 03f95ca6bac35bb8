#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# build-kvm-ioapic.sh KDIR OUTDIR: builds kvm.ko and kvm-amd.ko from KDIR's
# source with CONFIG_KVM_IOAPIC forced on, as external modules in OUTDIR.
#
# Temporary workaround for test host kernels configured without
# CONFIG_KVM_IOAPIC (allnoconfig turns it off), which have no
# KVM_CREATE_IRQCHIP and no KVM_CREATE_PIT2.  The real fix is
# CONFIG_KVM_IOAPIC=y in kconfig/kvm.config; then this script is not used.
set -euo pipefail
kdir=$1
out=$2
root=$(cd "$(dirname "$0")/../../.." && pwd)
. "$root/scripts/lib.sh"
src=$(readlink -f "$kdir/source" 2>/dev/null || readlink -f "$kdir/ikernel-source")
if [ -f "$out/kvm-amd.ko" ] && [ "$out/kvm-amd.ko" -nt "$kdir/vmlinux" ]; then
	exit 0
fi
rm -rf "$out"
mkdir -p "$out/virt"
cp -r "$src/arch/x86/kvm/." "$out/"
cp -r "$src/virt/kvm" "$out/virt/kvm"
rm -f "$out/Kconfig"
# Same objects as arch/x86/kvm/Makefile, with the in-kernel I/O APIC, PIC
# and PIT, and the virt/kvm objects taken from the copy.
python3 - "$out/Makefile" <<'PY'
import sys
p = sys.argv[1]
s = open(p).read()
s = s.replace('ccflags-y += -I $(srctree)/arch/x86/kvm',
              'KVM := virt/kvm\nCONFIG_KVM_IOAPIC := y\n'
              'ccflags-y += -DCONFIG_KVM_IOAPIC=1 -I $(src) -I $(src)/virt/kvm')
s = s[:s.index('# Fail the build')]
open(p, 'w').write(s)
PY
kmake -C "$kdir" M="$out" -j"$(nproc)" CONFIG_KVM_INTEL= modules >"$out/build.log" 2>&1 ||
	{ tail -20 "$out/build.log" >&2; exit 1; }
ls "$out/kvm.ko" "$out/kvm-amd.ko" >/dev/null
