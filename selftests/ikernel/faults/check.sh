#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The short fault tests, inside the test VM on the faults kernel: the
# set-up (smoke.sh), then a short campaign (campaign.sh, one round of the
# kinds in IKERNEL_FAULT_KINDS and IKERNEL_HOSTILE_KINDS).  `make check`
# runs only smoke.sh for now (see scripts/check); `make faults` runs the
# full campaign.
d=$(dirname "$0")
rc=0
echo "# === fault test: smoke"
bash "$d/smoke.sh" || rc=1
echo "# === fault test: campaign (short)"
# Every driver-bug kind, and two hostile kinds: one that breaks the ring
# (a restart) and a doorbell flood (throttled, no restart).
IKERNEL_FAULT_ROUNDS=1 IKERNEL_HOSTILE_KINDS=${IKERNEL_HOSTILE_KINDS-wrong_id,doorbell_flood} \
	bash "$d/campaign.sh" || rc=1
exit $rc
