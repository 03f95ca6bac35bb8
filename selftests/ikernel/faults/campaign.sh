#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The fault campaign of issue 6: every kind of fault a driver VM can throw
# at the host, ROUNDS times each (IKERNEL_FAULT_ROUNDS, default 1; `make
# faults` runs 7 rounds, over 100 faults), while fault_load keeps host
# processes busy on the exported nodes.  Runs inside the test VM on the
# faults kernel (KASAN, lockdep, kmemleak, hung-task detection).
#
# Kinds:
#   oops            the driver dereferences NULL (ikbuggy); oops=panic kills
#                   the driver VM and the shim restarts it
#   spin            the driver spins forever in an ioctl: ETIMEDOUT at the
#                   export's deadline, the VM keeps serving
#   hang            the driver spins with interrupts off: the guest stops,
#                   its heartbeat stops (20 s: nested TCG under a KASAN host
#                   is slow enough that 5 s gave false deaths), the shim
#                   restarts it
#   corrupt         the driver smashes its slab on a long write
#   vmm-kill        SIGKILL of the shim: the channel goes, nodes vanish,
#                   blocked calls fail; a new shim serves again
#   hostile:KIND    the hostile mode (ikernel_guest.hostile) of guest_stub's
#                   test flavour (make test-modules) breaks
#                   the ring, floods doorbells or events, or probes memory
#                   outside its VM; a kind that breaks the ring costs a
#                   restart, the kinds the host absorbs come one after
#                   another in one boot (ikernel_guest.hostile_attacks)
#   panic-on-load   the driver panics in module init: the VM dies at every
#                   boot, the shim backs off and gives up after
#                   IKERNEL_PANIC_RESTARTS restarts (default 2; each boot
#                   is a fault in the table)
#
# For each kind the table gives the number of faults, whether the host
# survived (kernel alive, no KASAN/lockdep/hung-task/WARN report since the
# kind began), calls that completed with an error, calls that hung (a call
# that has not ended 10 s after it started: must be 0), and the median and
# worst time to recovery (fault to the first call served again).  TAP
# lines assert the semantics; the table goes to $OUT/faults-table.md.
. "$(dirname "$0")/lib.sh"
ROUNDS=${IKERNEL_FAULT_ROUNDS:-1}
FAULT_KINDS=${IKERNEL_FAULT_KINDS:-oops spin hang corrupt vmm-kill panic-on-load}
HOSTILE_KINDS=${IKERNEL_HOSTILE_KINDS-wrong_id,dup_resp,len_past,index_jump,torn_header,late_change,doorbell_flood,event_flood,probe_outside}
PANIC_RESTARTS=${IKERNEL_PANIC_RESTARTS:-2}
TSV=$OUT/faults.tsv
TABLE=$OUT/faults-table.md
: >"$TSV"

load_kvm

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# probe NODE:OPS: milliseconds until NODE serves again (fault_load -P).
probe() {
	"$LOAD" -P "$1" -T 180000
}

# fault_begin KIND / fault_end KIND RECOVERY_MS: one fault's line in the
# TSV: kind, host sound (no kernel report since fault_begin: lib.sh's
# dmesg_sound), calls that ended in an error, hung calls, recovery.  While
# a fault is under way, $CURRENT holds its number and kind: if the test
# host dies, scripts/faults-table charges the death to that fault.
F_N=0
CURRENT=$OUT/fault.current
rm -f "$CURRENT" "$TABLE"
fault_begin() {
	F_N=$((F_N + 1))
	printf '%s\t%s\n' "$F_N" "$1" >"$CURRENT"
	dmesg_mark "fault-$F_N"
	F_ERRS=$(load_errs)
	F_HUNG=$(load_get hung)
}
fault_end() {
	local sound=yes
	if ! dmesg_sound "fault-$F_N" >>"$OUT/campaign-dmesg.txt"; then
		sound=no
		echo "(fault $F_N: $1)" >>"$OUT/campaign-dmesg.txt"
	fi
	printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$sound" \
		$(($(load_errs) - F_ERRS)) $(($(load_get hung) - F_HUNG)) "$2" >>"$TSV"
	rm -f "$CURRENT"
}

# generation: the shim's newest generation that is READY.
generation() { ready_generation "$OUT/campaign.log"; }

# down GEN: the shim reported generation GEN down.
down() { [ "$(ev_count "$OUT/campaign.log" down ".generation == $1")" != 0 ]; }

# boot_deaths: generations the shim saw die before they were READY (no
# injected fault does that: under nested TCG a driver VM now and then
# hangs or triple-faults in early boot; the shim restarts it).
boot_deaths() {
	ev "$OUT/campaign.log" 'select(.event == "ready" or .event == "down") |
		"\(.event) \(.generation)"' | tr -d '"' |
		awk '$1 == "ready" { r[$2] = 1 } $1 == "down" && !($2 in r) { n++ }
		     END { print n + 0 }'
}

# The hostile kinds split in two: those that put bytes into the ring no
# valid guest would, so that host_stub marks the channel broken and the
# shim restarts the VM (one attack per generation), and those the host
# absorbs (late_change rewrites a field after the host copied it, floods
# are rate-limited, probes outside the VM are MMIO exits): guest_stub makes
# those one after another in the same boot (ikernel_guest.hostile_attacks),
# without a restart between them.
BREAKING="wrong_id dup_resp len_past index_jump torn_header"
HOSTILE_BREAK=
HOSTILE_ABSORB=
IFS=, read -r -a hostile_all <<<"$HOSTILE_KINDS"
for k in "${hostile_all[@]}"; do
	case " $BREAKING " in
	*" $k "*) HOSTILE_BREAK+=${HOSTILE_BREAK:+,}$k ;;
	*) HOSTILE_ABSORB+=${HOSTILE_ABSORB:+,}$k ;;
	esac
done

# hostile_config KINDS ATTACKS [AFTER]: the shim's configuration for a
# hostile section, in which each generation's guest_stub attacks ATTACKS
# times with KINDS in turn, each time after AFTER more requests (default
# 200; a boot of several attacks gets 500, half a minute of the load under
# TCG, so that the campaign has judged one attack before the next comes).
# The driver VMs load the test flavour of guest_stub, the only one with the
# hostile mode (make test-modules).
HOSTILE_SHIM=
hostile_config() {
	GUEST_STUB=$TEST_GUEST_STUB campaign_config "$cfg" campaign \
		"ikernel_guest.hostile=$(hostile_param "$1") ikernel_guest.hostile_after=${3:-200} ikernel_guest.hostile_attacks=$2" \
		"" 1000
}
# The absorbed kinds' attacks in one boot: every kind ROUNDS times.
absorb_attacks() {
	local k
	IFS=, read -r -a k <<<"$HOSTILE_ABSORB"
	echo $((ROUNDS * ${#k[@]}))
}

# want KIND: KIND is in IKERNEL_FAULT_KINDS.
want() { case " $FAULT_KINDS " in *" $1 "*) return 0 ;; esac; return 1; }

buggy() { "$CALL" -w 60 -d /dev/ik_buggy "$@" 2>&1; }
write_fd() { printf 'reopened-file\n' >&"$1"; }

# inject OP: sets off ikbuggy's bug OP on a file of its own; buggy_call's
# lines in $out, the start in $t0 and the generation before it in $igen.
# If the open before it fails, the bug was never set off: the driver VM
# stalled or died on its own (nested TCG: once, a fresh driver VM's
# heartbeat stopped for 20 s before any fault), so once ik_buggy serves
# again it tries again, three times in all.
inject() {
	local n=1
	while :; do
		igen=$(generation)
		t0=$(now_ms)
		out=$(buggy "$1")
		case $out in "open "[0-9]*) return 0 ;; esac
		[ $n -lt 3 ] || return 1
		n=$((n + 1))
		t_diag "$1: the open before it failed ($(head -n1 <<<"$out")); again once ik_buggy serves"
		probe /dev/ik_buggy:r >/dev/null
	done
}

# lost KIND WHAT: after the fault KIND the host no longer serves (WHAT
# says how).  Every later fault would wait out its own timeouts for
# nothing (minutes each under nested TCG: together more than make check
# gives the stage), so the campaign injects no more and goes on to its
# closing checks, which then fail on the missing faults.
LOST=
lost() {
	t_not_ok "$1: $2; no further faults injected"
	show_logs campaign
	LOST=$1
}
# up: no fault has left the host unable to serve.
up() { [ -z "$LOST" ]; }

# (check.sh runs this right after smoke.sh, whose last kmemleak check
# forgot every suspect, as a baseline does: FAULTS_KMEMLEAK_CLEARED=1
# saves a baseline's two scans, half a minute.)
[ "${FAULTS_KMEMLEAK_CLEARED:-}" = 1 ] || kmemleak_baseline
dmesg_mark campaign
: >"$OUT/campaign-dmesg.txt"
cfg=$OUT/campaign.toml
campaign_config "$cfg" campaign "" "" 1000
start_shim "$OUT/campaign.log" "$cfg"
if ! wait_node /dev/ik_fifo 60 || ! wait_node /dev/ik_buggy 10; then
	t_not_ok "driver VM exports ik_fifo and ik_buggy"
	show_logs campaign
	stop_shim
	t_done
fi
t_ok "driver VM exports ik_fifo and ik_buggy"
start_load

# Files opened before a restart: ik_fifo reopens (reopen = true), ik_buggy
# stays failed.
exec 7<>/dev/ik_fifo 8<>/dev/ik_buggy

# --- Driver bugs ---------------------------------------------------------
for round in $(seq "$ROUNDS"); do
	# oops: EIO within moments, a new generation, service back.
	if want oops && up; then
	fault_begin oops
	inject oops
	wait_generation "$OUT/campaign.log" $((igen + 1))
	rec=$(probe /dev/ik_buggy:r)
	fault_end oops "${rec:+$(($(now_ms) - t0))}"
	[ -n "$rec" ] || lost oops "ik_buggy does not serve again (3 min)"
	if [ "$round" = 1 ] && up; then
		# EIO once the shim notices the death, or ETIMEDOUT if the
		# export's deadline comes first (the panic's console output
		# alone takes seconds under nested TCG).
		t_check "oops: the call fails with EIO or ETIMEDOUT (got: $out)" \
			grep -Eq '^oops (EIO|ETIMEDOUT)' <<<"$out"
		t_check "oops: the shim restarts the driver VM" [ "$(generation)" -gt "$igen" ]
		r=$("$CALL" -f 8 read 2>&1)
		t_check "oops: a file opened before the restart fails with EIO" \
			grep -q '^read EIO' <<<"$r"
		# (fault_load's workers share the FIFO: only the write is ours.)
		write_fd 7
		wrote=$?
		reopens=$(grep -o 'ik_fifo .* reopens [0-9]*' /sys/kernel/debug/ikernel/stats |
			awk '{ print $NF }')
		t_check "oops: a file of a reopen export works after the restart (reopens $reopens)" \
			[ $wrote = 0 ]
	fi
	fi

	# spin: ETIMEDOUT at the deadline, while the other node keeps serving.
	if want spin && up; then
	fault_begin spin
	inject spin
	took=$(($(now_ms) - t0))
	rec=$(probe /dev/ik_fifo:wr)
	fault_end spin "$rec"
	[ -n "$rec" ] || lost spin "ik_fifo does not serve (3 min)"
	if [ "$round" = 1 ]; then
		t_check "spin: the call ends with ETIMEDOUT after ${BUGGY_TMO} ms (${took} ms: $out)" \
			grep -q '^spin ETIMEDOUT' <<<"$out"
	fi
	fi

	# hang: interrupts off forever; the heartbeat stops, the shim restarts.
	if want hang && up; then
	fault_begin hang
	inject hang
	wait_generation "$OUT/campaign.log" $((igen + 1))
	rec=$(probe /dev/ik_buggy:r)
	fault_end hang "${rec:+$(($(now_ms) - t0))}"
	[ -n "$rec" ] || lost hang "ik_buggy does not serve again (3 min)"
	if [ "$round" = 1 ] && up; then
		t_check "hang: the call ends with an error (got: $out)" \
			grep -Eq '^hang (EIO|ETIMEDOUT)' <<<"$out"
		t_check "hang: the shim restarts the hung driver VM" [ "$(generation)" -gt "$igen" ]
	fi
	fi

	# corrupt: whatever the guest does next, service comes back.
	if want corrupt && up; then
	fault_begin corrupt
	t0=$(now_ms)
	buggy fill:4096 read read >/dev/null
	rec=$(probe /dev/ik_buggy:r)
	fault_end corrupt "${rec:+$(($(now_ms) - t0))}"
	[ -n "$rec" ] || lost corrupt "ik_buggy does not serve again (3 min)"
	fi

	# vmm-kill: the shim dies with calls in flight.
	if want vmm-kill && up; then
	fault_begin vmm-kill
	t0=$(now_ms)
	kill -KILL "$SHIM_PID"
	# A shim stuck in the kernel does not die of SIGKILL: say where,
	# rather than wait for it forever.
	i=0
	while kill -0 "$SHIM_PID" 2>/dev/null && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
	if kill -0 "$SHIM_PID" 2>/dev/null; then
		fault_end vmm-kill ""
		lost vmm-kill "the shim is still alive 30 s after SIGKILL"
		for t in /proc/"$SHIM_PID"/task/*; do
			t_diag "$(cat "$t/comm" 2>/dev/null) ($(awk '{ print $3 }' "$t/stat" 2>/dev/null)):"
			sed 's/^/#   /' "$t/stack" 2>/dev/null
		done
		# (stop_shim would wait for it forever.)
		SHIM_PID=
		break
	fi
	wait "$SHIM_PID" 2>/dev/null
	i=0
	while [ -e /dev/ik_fifo ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	gone=$([ -e /dev/ik_fifo ] && echo no || echo yes)
	# In the last round the new shim is the hostile section's: one
	# boot of the driver VM fewer (a minute and a half on the KASAN
	# host).
	# (Not a boot of several attacks: the load would set those off
	# before the hostile section watches.)
	if [ "$round" = "$ROUNDS" ] && [ -n "$HOSTILE_BREAK" ]; then
		hostile_config "$HOSTILE_BREAK" 1 200
		HOSTILE_SHIM=1
	fi
	start_shim "$OUT/campaign.log" "$cfg"
	wait_node /dev/ik_fifo 60
	wait_node /dev/ik_buggy 10
	rec=$(probe /dev/ik_fifo:wr)
	fault_end vmm-kill "${rec:+$(($(now_ms) - t0))}"
	[ -n "$rec" ] || lost vmm-kill "a new shim does not serve ik_fifo (3 min)"
	if [ "$round" = 1 ] && up; then
		t_check "vmm-kill: the nodes go away with the shim" [ "$gone" = yes ]
		t_check "vmm-kill: a new shim serves again" [ -n "$rec" ]
	fi
	fi
	# The load's files died with the channel; it reopens by itself.
	up || break
done
exec 7>&- 8>&-
up && [ -n "$HOSTILE_SHIM" ] || stop_shim

# --- A hostile guest_stub -----------------------------------------------
# hostile_section KINDS ATTACKS: a shim whose driver VMs attack ATTACKS
# times per boot with KINDS in turn (see hostile_config), until every kind
# attacked ROUNDS times.  A kind that leaves the VM running ends with an
# oops once its boot has no attack left, so that the next generation
# attacks again.  The section's shim is already running if HOSTILE_SHIM is
# set.
declare -A seen_violation served_again attacked
HOSTILE_BOOT_DEATHS=0
hostile_section() {
	local -a kinds
	local n total done_faults=0 last=0 gen=0 handled=0 same=no absorbed kind i rec
	IFS=, read -r -a kinds <<<"$1"
	n=${#kinds[@]}
	# The attacks are paced by the load: guest_stub counts the requests
	# it answers, so the load runs only while the campaign waits for an
	# attack and while the VM it broke restarts, and the next attack
	# cannot come before the campaign has judged this one (its dmesg
	# window and its calls are its own).  Before the load was paced in a
	# section of one attack per boot, a new generation could attack and
	# die while the campaign still probed the last one; it then judged
	# the generation after, and as the kinds go by generation, the soak
	# of 2026-12-05 never judged torn_header.
	stop_load
	if [ -z "$HOSTILE_SHIM" ]; then
		hostile_config "$1" "$2" "$( [ "$2" -gt 1 ] && echo 500 || echo 200)"
		start_shim "$OUT/campaign.log" "$cfg"
	fi
	HOSTILE_SHIM=
	wait_node /dev/ik_buggy 60
	# A generation that dies in boot (nested TCG) skips its kinds, so the
	# kinds come round again until each has attacked ROUNDS times (at most
	# n more faults than planned).
	total=$((ROUNDS * n))
	while [ "$(short_kinds "${kinds[@]}")" -gt 0 ] && [ $done_faults -lt $((total + n)) ]; do
		# A boot with an attack left armed the next one; otherwise the
		# next generation to attack is newer than the last: one that
		# died in boot is skipped (ready_timeout_s, then the shim's
		# backoff, then the next boot: 180 + 2 + 40 s at worst).
		if [ $same = no ]; then
			if ! wait_generation "$OUT/campaign.log" $((last + 1)); then
				t_diag "no generation after $last became READY in 300 s"
				break
			fi
			gen=$(next_ready "$last")
			last=$gen
			handled=0
		fi
		# The kind this attack armed (its attack line may never reach
		# the console: the shim can kill the VM first).
		kind=$(armed "$gen" | sed -n "$((handled + 1))p")
		[ -n "$kind" ] || { t_diag "generation $gen armed no attack"; break; }
		handled=$((handled + 1))
		fault_begin "hostile:$kind"
		# The new load's counters start at 0, inside the window.
		start_load
		F_ERRS=0
		F_HUNG=0
		# Wait for the attack (the load's requests set it off) or the
		# death it causes.
		i=0
		while [ "$(console_text | grep -ac "ikernel_hostile: attack [a-z_]* generation $gen\b")" \
			-lt $handled ] && ! down "$gen" && [ $i -lt 120 ]; do
			sleep 1; i=$((i + 1))
		done
		t0=$(now_ms)
		i=0
		if [ "$2" -gt 1 ]; then
			# A boot of several attacks: this one is judged as
			# soon as it is over (its "done" or "stopped" line, or
			# the VM's death), with the load stopped, so that the
			# next one (hostile_after requests later) waits.
			while [ "$(attacks_over "$gen")" -lt $handled ] && ! down "$gen" &&
				[ $i -lt 60 ]; do
				sleep 1; i=$((i + 1))
			done
			stop_load
			rec=$(probe /dev/ik_fifo:wr)
		else
			while ! down "$gen" && [ $i -lt 20 ]; do sleep 1; i=$((i + 1)); done
		fi
		absorbed=no
		if down "$gen"; then
			# The shim took the VM down (a broken ring): recovery is
			# the restart until the node serves again.  The load ran
			# through the restart; it stops before the probe, so the
			# new generation attacks only once this one is judged.
			wait_generation "$OUT/campaign.log" $((gen + 1))
			[ "$2" -gt 1 ] || { stop_load; rec=$(probe /dev/ik_fifo:wr); }
			fault_end "hostile:$kind" "${rec:+$(($(now_ms) - t0))}"
		else
			# The host absorbed it without a restart: service must
			# go on.
			absorbed=yes
			[ "$2" -gt 1 ] || { stop_load; rec=$(probe /dev/ik_fifo:wr); }
			fault_end "hostile:$kind" "${rec:+0}"
		fi
		[ "$(ev_count "$OUT/campaign.log" down ".generation == $gen and .cause == \"broken\"")" != 0 ] &&
			seen_violation[$kind]=1
		attacked[$kind]=$((${attacked[$kind]:-0} + 1))
		[ -n "$rec" ] && served_again[$kind]=$((${served_again[$kind]:-0} + 1))
		done_faults=$((done_faults + 1))
		same=no
		[ $absorbed = yes ] && [ "$(short_kinds "${kinds[@]}")" -gt 0 ] || continue
		# The same boot's next attack is armed once this one is done (a
		# flood lasts 10 s); with none left, an oops moves on to the
		# next generation.
		i=0
		while [ "$(armed "$gen" | wc -l)" -le $handled ] && ! down "$gen" &&
			[ $i -lt 30 ] && [ $handled -lt "$2" ]; do
			sleep 1; i=$((i + 1))
		done
		if [ "$(armed "$gen" | wc -l)" -gt $handled ] && ! down "$gen"; then
			same=yes
		elif ! down "$gen"; then
			inject oops
			wait_generation "$OUT/campaign.log" $((igen + 1))
		fi
	done
	# The closing checks expect the load that ran from the start.
	start_load
	HOSTILE_BOOT_DEATHS=$((HOSTILE_BOOT_DEATHS + $(boot_deaths)))
	stop_shim
}
# next_ready GEN: the oldest generation newer than GEN that was READY (one
# that died in boot never was).  Not the newest: a generation the campaign
# has not judged yet is never skipped.
next_ready() {
	ev "$OUT/campaign.log" "select(.event == \"ready\" and .generation > $1) | .generation" |
		sort -n | head -n 1
}
# attacks_over GEN: the attacks of generation GEN that are over (their
# "done" or "stopped" line).
attacks_over() {
	console_text | awk -v g="$1" '
		/===== ivt-shim: generation [0-9]+ starting/ { cur = $4 + 0 }
		cur == g && /ikernel_hostile: attack [a-z_]+ (done|stopped)/ { n++ }
		END { print n + 0 }'
}
# console_text: the driver VMs' console log. It is on the 9p share, where a
# read that races the shim's appends now and then fails with ENODATA (10
# times in a full campaign on 2026-11-28: hostile_section's waits then
# ended at once, on an empty count); a failed read is retried, and prints
# nothing after 5 tries, which makes the waits go on.
console_text() {
	local i text
	for i in 1 2 3 4 5; do
		if text=$(cat "$OUT/campaign.console.log" 2>/dev/null); then
			printf '%s\n' "$text"
			return 0
		fi
		sleep 0.2
	done
	return 1
}
# armed GEN: the kinds generation GEN armed, in order.
armed() {
	console_text |
		grep -ao "ikernel_hostile: armed: [a-z_]* after [0-9]* requests, generation $1\b" |
		awk '{ print $3 }'
}
# short_kinds KIND...: how many of the KINDs attacked fewer than ROUNDS times.
short_kinds() {
	local k c=0
	for k in "$@"; do
		[ "${attacked[$k]:-0}" -lt "$ROUNDS" ] && c=$((c + 1))
	done
	echo $c
}

if [ -n "$HOSTILE_KINDS" ] && up; then
[ -n "$HOSTILE_BREAK" ] && hostile_section "$HOSTILE_BREAK" 1
[ -n "$HOSTILE_ABSORB" ] && up && hostile_section "$HOSTILE_ABSORB" "$(absorb_attacks)"
t_diag "driver VMs that died in boot, before READY, outside any fault: $HOSTILE_BOOT_DEATHS"
# served_every_time KIND: it attacked at least ROUNDS times, and the node
# served again after every attack.
served_every_time() {
	[ "${attacked[$1]:-0}" -ge "$ROUNDS" ] &&
		[ "${served_again[$1]:-0}" = "${attacked[$1]:-0}" ]
}
for k in "${hostile_all[@]}"; do
	t_check "hostile:$k: the host keeps serving, after a restart if the ring broke (after ${served_again[$k]:-0} of ${attacked[$k]:-0} attacks, at least $ROUNDS)" \
		served_every_time "$k"
done
# The kinds that put bytes into the ring no valid guest would.
for k in $BREAKING; do
	case ",$HOSTILE_KINDS," in *",$k,"*) ;; *) continue ;; esac
	t_check "hostile:$k: host_stub finds the violation and the shim restarts the VM" \
		[ -n "${seen_violation[$k]:-}" ]
done
fi

# --- A driver that panics while loading ---------------------------------
if want panic-on-load && up; then
fault_begin panic-on-load
campaign_config "$cfg" campaign "" "panic_on_load=1" "$PANIC_RESTARTS"
rm -f "$OUT/panic-on-load.events"
timeout 600 "$IVT_SHIM" run --events "$OUT/panic-on-load.events" "$cfg" >"$OUT/panic-on-load.log" 2>&1
rc=$?
sound=$(dmesg_sound "fault-$F_N" >/dev/null && echo yes || echo no)
deaths=$(ev_count "$OUT/panic-on-load.log" down)
for i in $(seq "$deaths"); do
	printf 'panic-on-load\t%s\t0\t0\t\n' "$sound" >>"$TSV"
done
rm -f "$CURRENT"
gave_up=no
[ "$deaths" -gt "$PANIC_RESTARTS" ] && [ "$rc" != 0 ] && [ "$rc" != 124 ] && gave_up=yes
t_check "panic-on-load: every boot dies ($deaths), the shim gives up (exit $rc)" \
	[ $gave_up = yes ]
t_check "panic-on-load: no node appears" [ ! -e /dev/ik_buggy ]
fi

stop_load
t_diag "load: $(cat "$OUT/load.status")"

# --- The table ------------------------------------------------------------
awk -F'\t' -f "$(dirname "$0")/table.awk" "$TSV" >"$TABLE"
sed 's/^/# /' "$TABLE"

faults=$(wc -l <"$TSV")
IFS=, read -r -a hk <<<"$HOSTILE_KINDS"
expect=$((ROUNDS * ($(wc -w <<<"$FAULT_KINDS") + ${#hk[@]})))
want panic-on-load && expect=$((expect - ROUNDS + PANIC_RESTARTS + 1))
t_check "$faults faults injected ($expect expected)" [ "$faults" -ge "$expect" ]
# (eval: a bare "! a | b" here would pipe t_check's own TAP line into b.)
t_check "the host survived every fault" eval '! cut -f2 "$TSV" | grep -q no'
t_check "no call hung" [ "$(awk -F'\t' '{ n += $4 } END { print n + 0 }' "$TSV")" = 0 ]
t_check "the host kernel reported nothing (KASAN, lockdep, hung task, WARN)" dmesg_sound campaign
t_check "kmemleak finds no leak" kmemleak_check campaign
t_plan "$t_n"
t_done
