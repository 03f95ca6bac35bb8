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
boot=$(ev "$log" 'select(.event == "ready" and .generation == 1) | .boot_to_ready_s' | head -n 1)
t_check "guest ready (ready via $mode)" [ "$(ev_count "$log" ready '.generation == 1')" = 1 ]
t_check "boot-to-ready time reported: ${boot:-none} s" [ -n "$boot" ]
stop_shim
rc=$SHIM_RC
sed 's/^/# /' "$log"
t_check "SIGTERM: orderly shutdown, exit 0" \
	[ "$rc/$(ev_last "$log" exit .reason)/$(ev_count "$log" down)" = 0/signal/0 ]
if [ "${IVT_HOST_STUB:-1}" = 0 ]; then
	t_skip "host_stub not used (IVT_HOST_STUB=0)"
else
	host=$(ev_last "$log" ready '.host | "\(.state) \(.generation) \(.guest_state)"')
	t_check "window from host_stub, which sees the guest ready (GET_STATE state generation guest_state: $host)" \
		[ "$host" = "2 1 1" ]
fi
t_check "guest_stub loaded in the driver VM" grep -q "ikernel-init: loaded ikernel_guest" "$OUT/boot_ready.console.log"
t_done
