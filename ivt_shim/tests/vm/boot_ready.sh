#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# (a) A driver VM with guest_stub boots and reports ready; boot-to-ready
# time is printed.
. "$(dirname "$0")/lib.sh"
t_plan 5
load_kvm
t_check "ivt-shim check: this machine can run driver VMs" sh -c "'$IVT_SHIM' check >'$OUT/check.log' 2>&1"
sed 's/^/# /' "$OUT/check.log"
cfg=$OUT/boot_ready.toml
write_config "$cfg" boot_ready
t_check "build-image builds the initramfs" sh -c "'$IVT_SHIM' build-image '$cfg' >'$OUT/boot_ready.image.log' 2>&1"
mode=$(ready_mode)
run_shim "$OUT/boot_ready.log" run --exit-after-ready 1 "$cfg"
rc=$?
sed 's/^/# /' "$OUT/boot_ready.log"
t_check "run exits 0 after the guest is ready (ready via $mode)" [ $rc = 0 ]
line=$(grep -o 'generation 1: READY, boot-to-ready [0-9.]* s' "$OUT/boot_ready.log")
t_check "boot-to-ready time printed: ${line:-none}" [ -n "$line" ]
t_check "guest_stub loaded in the driver VM" grep -q "ikernel guest stub" "$OUT/boot_ready.console.log"
t_done
