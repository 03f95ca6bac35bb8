#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A guest whose heartbeat stops (the shim freezes its vCPU after ready) is
# detected as hung, reported down and restarted.
. "$(dirname "$0")/lib.sh"
t_plan 4
load_kvm
cfg=$OUT/hang_restart.toml
write_config "$cfg" hang_restart
sed -i 's/^\[restart\]$/&\nheartbeat_timeout_s = 5/' "$cfg"
run_shim "$OUT/hang_restart.log" run --test-hang-generation 1 --exit-after-ready 2 "$cfg"
rc=$?
sed 's/^/# /' "$OUT/hang_restart.log"
t_check "run exits 0 after two generations were ready" [ $rc = 0 ]
log=$OUT/hang_restart.log
t_check "hang detected: heartbeat stopped ($(ev_last "$log" down .detail))" \
	[ "$(ev_count "$log" down '.generation == 1 and .cause == "hang"')" = 1 ]
t_check "generation 2 ready again" [ "$(ev_count "$log" ready '.generation == 2')" = 1 ]
if [ "${IVT_HOST_STUB:-1}" = 0 ]; then
	t_skip "host_stub not used (IVT_HOST_STUB=0)"
else
	t_check "host_stub sees generation 2 attached and ready" \
		[ "$(ev_last "$log" ready '.host | "\(.state) \(.generation) \(.guest_state)"')" = "2 2 1" ]
fi
t_done
