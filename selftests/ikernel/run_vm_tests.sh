#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside the test VM (scripts/vm-run): every ikernel selftest, in
# order, each printing TAP.  dmesg_test.sh runs last so that it sees what
# all the others left in the kernel log.
set -u
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"

# The test VM's host kernel runs driver VMs with nested KVM.
modprobe kvm_amd 2>/dev/null || modprobe kvm_intel 2>/dev/null ||
	echo "# neither kvm_amd nor kvm_intel loads; KVM tests will fail"

rc=0
for t in modules_test.sh kunit_test.sh control_test channel_test kvm_smoke_test fifo_native.sh dmesg_test.sh; do
	echo "# selftests: ikernel: $t"
	"./$t" || rc=1
done
exit $rc
