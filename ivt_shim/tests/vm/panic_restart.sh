#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# (b) A forced guest panic (sysrq c after ready) is detected, the driver VM
# restarts with a new generation and becomes ready again.
. "$(dirname "$0")/lib.sh"
t_plan 6
load_kvm
cfg=$OUT/panic_restart.toml
write_config "$cfg" panic_restart
run_shim "$OUT/panic_restart.log" run --test-panic-generation 1 --exit-after-ready 2 "$cfg"
rc=$?
sed 's/^/# /' "$OUT/panic_restart.log"
t_check "run exits 0 after two generations were ready" [ $rc = 0 ]
t_check "guest panicked (console)" grep -q "Kernel panic - not syncing: sysrq triggered crash" "$OUT/panic_restart.console.log"
log=$OUT/panic_restart.log
t_check "death detected (the panic's KVM_EXIT_SHUTDOWN, or its console line): $(ev_last "$log" down .cause)" \
	[ "$(ev_count "$log" down '.generation == 1 and (.cause == "triple_fault" or .cause == "panic")')" = 1 ]
t_check "restart with backoff: $(ev_last "$log" restart '"\(.restart)/\(.max_restarts) in \(.delay_ms) ms"')" \
	[ "$(ev_count "$log" restart '.restart == 1 and .max_restarts == 2 and .delay_ms == 200')" = 1 ]
line=$(ev "$log" 'select(.event == "ready" and .generation == 2) | "boot-to-ready \(.boot_to_ready_s) s, down-to-ready \(.down_to_ready_s) s"')
t_check "generation 2 ready again: ${line:-none}" \
	[ "$(ev_count "$log" ready '.generation == 2 and .down_to_ready_s != null')" = 1 ]
if [ "${IVT_HOST_STUB:-1}" = 0 ]; then
	t_skip "host_stub not used (IVT_HOST_STUB=0)"
else
	t_check "host_stub sees generation 2 attached and ready" \
		[ "$(ev_last "$log" ready '.host | "\(.state) \(.generation) \(.guest_state)"')" = "2 2 1" ]
fi
t_done
