#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Runs every ivt-shim VM test (inside the test VM); exit 1 if any failed.
d=$(dirname "$0")
rc=0
for t in bad_config boot_ready smp panic_restart hang_restart port_io; do
	echo "# === ivt-shim VM test: $t"
	bash "$d/$t.sh" || rc=1
done
exit $rc
