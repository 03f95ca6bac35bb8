#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run-in-vm.sh [TEST]: builds what the fault tests need, boots the test VM
# on the faults kernel (kconfig/faults.config: KASAN, kmemleak, lockdep,
# hung-task detection) and runs selftests/ikernel/faults/TEST.sh inside it
# (default: smoke).  TAP on stdout; exit status of the test.
#
# Only the test host runs the faults kernel, with the modules built against
# it (scripts/build-modules --flavour faults, into build/faults/modules);
# driver VMs boot the default kernel with the default in-tree guest_stub and
# driver modules, which is much faster under nested virtualization (the
# hostile ones with guest_stub's test flavour, make test-modules).  The
# test VM's console log is build/faults/console.log.
#
# Environment: IKERNEL_FAULTS_MEMORY (test VM memory, default 2G),
# IVT_VM_TIMEOUT (seconds, default 3600; make check gives it 2100; check.sh's
# watchdog stops the campaign 240 s before it).
# Every IKERNEL_* variable (e.g. IKERNEL_FAULT_ROUNDS) and KMEMLEAK_SETTLE
# is passed on to TEST.
set -euo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
t=${1:-smoke}
mkdir -p "$root/build/faults"
cd "$root"
# A campaign's results are written anew; none of a previous run may pass
# for this one's (scripts/faults-table).
case $t in
campaign | check) rm -f build/faults/out/{faults-table.md,faults.tsv,fault.current} ;;
esac
kdir=$(scripts/build-kernel)
fkdir=$(scripts/build-kernel --flavour faults)
cargo build --release -q -p ivt-shim --features test-hooks
make -s modules test-modules served selftests KDIR="$kdir" >/dev/null
fmods=$(scripts/build-modules --flavour faults --kernel "$fkdir")
vm_timeout=${IVT_VM_TIMEOUT:-3600}
# The test VM starts with a clean environment.
pass=()
for v in $(compgen -e); do
	case $v in
	IKERNEL_* | KMEMLEAK_SETTLE) pass+=("$v=${!v}") ;;
	esac
done
# kasan_multi_shot: every KASAN report, not only the first; a large log
# buffer, so that a debug kernel's chatter cannot push a test's dmesg
# marker out of it.  no5lvl: 4-level paging.  QEMU's TCG CPU has LA57, and
# with 5-level paging a timer interrupt that lands while identify_cpu()
# has cleared boot_cpu_data's capabilities (LA57 among them) makes KASAN
# report every access to the direct map as wild; under TCG each report
# takes longer than a tick, so the test VM never gets past that point
# (seen in a CI run: 33,789 reports in 14 minutes, all at 0.0055 s).
exec scripts/vm-run --kernel "$fkdir" --timeout "$vm_timeout" \
	--memory "${IKERNEL_FAULTS_MEMORY:-2G}" --log "$root/build/faults/console.log" \
	--append "kasan_multi_shot log_buf_len=4M no5lvl" -- \
	env "${pass[@]}" IVT_KDIR="$kdir" FAULTS_MODULES="$fmods" FAULTS_T0="$(date +%s)" \
	FAULTS_VM_TIMEOUT="$vm_timeout" \
	bash "selftests/ikernel/faults/$t.sh"
