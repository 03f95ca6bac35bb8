#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The short fault tests, inside the test VM on the faults kernel: the
# set-up (smoke.sh), then a short campaign (campaign.sh, one round of the
# kinds in IKERNEL_FAULT_KINDS and IKERNEL_HOSTILE_KINDS, by default all).
# `make check` runs this with three of the hostile kinds (scripts/check,
# IKERNEL_CHECK_HOSTILE_KINDS); `make faults` runs the full campaign.
d=$(dirname "$0")
rc=0
echo "# === fault test: smoke"
bash "$d/smoke.sh" || rc=1
echo "# === fault test: campaign (short)"
# One fault of every kind: driver bugs, the VMM killed, and every attack of
# the hostile guest_stub.
IKERNEL_FAULT_ROUNDS=1 bash "$d/campaign.sh" || rc=1
exit $rc
