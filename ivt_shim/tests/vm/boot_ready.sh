#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# (a) A driver VM with guest_stub boots and reports ready; boot-to-ready
# time is printed; SIGTERM shuts the shim down in order.
. "$(dirname "$0")/lib.sh"
t_plan 7
load_kvm
t_check "ivt-shim check: this machine can run driver VMs" sh -c "'$IVT_SHIM' check >'$OUT/check.log' 2>&1"
sed 's/^/# /' "$OUT/check.log"
cfg=$OUT/boot_ready.toml
write_config "$cfg" boot_ready
t_check "build-image builds the initramfs" sh -c "'$IVT_SHIM' build-image '$cfg' >'$OUT/boot_ready.image.log' 2>&1"
mode=$(ready_mode)
log=$OUT/boot_ready.log
start_shim "$log" "$cfg"
line=$(grep -o 'generation 1: READY, boot-to-ready [0-9.]* s' "$log")
t_check "guest ready (ready via $mode)" [ -n "$line" ]
t_check "boot-to-ready time printed: ${line:-none}" [ -n "$line" ]
stop_shim
rc=$SHIM_RC
sed 's/^/# /' "$log"
t_check "SIGTERM: orderly shutdown, exit 0" sh -c "[ $rc = 0 ] && grep -q 'orderly shutdown' '$log'"
if [ "${IVT_HOST_STUB:-1}" = 0 ]; then
	t_skip "host_stub not used (IVT_HOST_STUB=0)"
else
	t_check "window from host_stub, which sees the guest ready: $(grep -o 'host_stub GET_STATE.*' "$log")" \
		sh -c "grep -q '(host_stub)' '$log' && grep -q 'host_stub GET_STATE: state 2 generation 1 guest_state 1' '$log'"
fi
t_check "guest_stub loaded in the driver VM" grep -q "ikernel-init: loaded ikernel_guest" "$OUT/boot_ready.console.log"
t_done
