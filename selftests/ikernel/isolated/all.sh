#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Every isolated-driver test (inside the test VM); exit 1 if any failed.
d=$(dirname "$0")
rc=0
for t in ${IKERNEL_ISOLATED_TESTS:-fifo rtc ppdev}; do
	echo "# === isolated driver test: $t"
	bash "$d/$t.sh" || rc=1
done
# Last: the host kernel took all of the above without a WARN, BUG, oops,
# lockdep splat or hung task.
echo "# === isolated driver test: dmesg"
"$d/../dmesg_test.sh" || rc=1
exit $rc
