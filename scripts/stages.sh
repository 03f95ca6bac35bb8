# SPDX-License-Identifier: GPL-2.0
#
# stages.sh: the stage runner shared by scripts/check and scripts/soak
# (sourced after lib.sh).  A caller sets STAGE_LOGS (its log directory)
# and declares its stages in order with stage_def; stages_select then
# reads STAGES (a subset, by name, comma- or space-separated; default all)
# and stage_wanted tells whether one runs.  Every stage prints its name,
# limit and log when it starts; every result is one TAP-style line, and
# stages_summary prints the last line, "N passed, N failed".

passed=0
failed=0
skipped=0
STAGE_NAMES=()
declare -A STAGE_HELP=() STAGE_LIMIT=() STAGE_ON=() STAGE_SECS=() STAGE_RESULT=()

# stage_def NAME LIMIT_S DESCRIPTION: declares a stage.
stage_def() {
	STAGE_NAMES+=("$1")
	STAGE_LIMIT[$1]=$2
	STAGE_HELP[$1]=$3
}

# stages_help: one line per declared stage, for --help.
stages_help() {
	local n
	for n in "${STAGE_NAMES[@]}"; do
		printf '  %-13s %5s s  %s\n' "$n" "${STAGE_LIMIT[$n]}" "${STAGE_HELP[$n]}"
	done
}

# stages_select: reads STAGES; dies on a name no stage has.
stages_select() {
	local want n found
	want=$(tr ',' ' ' <<<"${STAGES:-}")
	if [ -z "${want// /}" ]; then
		for n in "${STAGE_NAMES[@]}"; do STAGE_ON[$n]=1; done
		return 0
	fi
	for w in $want; do
		found=0
		for n in "${STAGE_NAMES[@]}"; do
			[ "$n" = "$w" ] && { STAGE_ON[$n]=1; found=1; }
		done
		[ $found = 1 ] || die "unknown stage '$w' in STAGES (stages: ${STAGE_NAMES[*]})"
	done
}

# stage_wanted NAME: whether NAME was selected.
stage_wanted() { [ -n "${STAGE_ON[$1]:-}" ]; }

# stage_need NAME: selects NAME too (a stage that a selected one needs).
stage_need() { STAGE_ON[$1]=1; }

# stage_limit NAME: its limit in seconds (VM_TIMEOUT overrides every VM
# stage's: the caller passes it in).
stage_limit() { echo "${STAGE_LIMIT[$1]}"; }

# vm_limit NAME: a test VM stage's limit, or VM_TIMEOUT for every one.
vm_limit() { echo "${VM_TIMEOUT:-$(stage_limit "$1")}"; }

# stage_begin NAME LOG: announces a stage.
stage_begin() {
	echo "# === stage $1: limit $(stage_limit "$1") s, log $2"
	STAGE_T0=$(date +%s)
}

# stage_end NAME RESULT: records how a stage went and how long it took.
stage_end() {
	STAGE_SECS[$1]=$(( $(date +%s) - STAGE_T0 ))
	STAGE_RESULT[$1]=$2
}

result() { # result ok|fail NAME
	if [ "$1" = ok ]; then
		passed=$((passed + 1))
		echo "ok - $2"
	else
		failed=$((failed + 1))
		echo "not ok - $2"
	fi
}

# stage NAME CMD...: a stage that is one check, run with its limit; its
# output goes to a log, whose end is shown on failure.
stage() {
	local name=$1 log=$STAGE_LOGS/$1.log s rc=0
	shift
	stage_begin "$name" "$log"
	s=$STAGE_T0
	timeout --kill-after=10 "$(stage_limit "$name")" "$@" >"$log" 2>&1 || rc=$?
	if [ $rc = 0 ]; then
		result ok "$name ($(( $(date +%s) - s )) s)"
		stage_end "$name" ok
		return 0
	fi
	[ $rc = 124 ] && echo "# $name: stopped at its limit of $(stage_limit "$name") s"
	result fail "$name ($(( $(date +%s) - s )) s, log: $log)"
	tail -n 40 "$log" | sed 's/^/# /'
	stage_end "$name" fail
	return 1
}

# count_tap LOG PREFIX: add the TAP results found in LOG.  Top-level lines only:
# "ok N name", "not ok N name", "ok - name"; "# SKIP" results count as
# skipped, and so do "not ok ... # TODO" (a known failure, reported as todo).
count_tap() {
	local line desc diag=0
	while IFS= read -r line; do
		# The diagnostics after a failure (up to 40 lines) go with it, so
		# that the summary alone says why.
		if [ $diag -gt 0 ]; then
			case $line in
			"#"*) echo "#   $line"; diag=$((diag - 1)); continue ;;
			*) diag=0 ;;
			esac
		fi
		desc=${line#not ok }
		desc=${desc#ok }
		desc=${desc#- }
		[[ $desc =~ ^[0-9]+\ (.*)$ ]] && desc=${BASH_REMATCH[1]}
		case $line in
		"not ok "*"# TODO"*)
			skipped=$((skipped + 1)); echo "todo - $2: $desc" ;;
		"not ok "*)
			failed=$((failed + 1)); echo "not ok - $2: $desc"; diag=40 ;;
		"ok "*"# SKIP"* | "ok "*"# skip"*)
			skipped=$((skipped + 1)); echo "skip - $2: $desc" ;;
		"ok "*)
			passed=$((passed + 1)); echo "ok - $2: $desc" ;;
		esac
	done < "$1"
}

# vm_stage NAME LOG CMD...: run CMD, which boots a test VM (its limit is
# the caller's business: IVT_VM_TIMEOUT or --timeout) and prints TAP, and
# count the TAP results; a VM that ran no tests, or failed without a
# failing test, is one failure.  VM_CONSOLE: the VM's console log, quoted
# when the VM timed out.
vm_stage() {
	local name=$1 log=$2 s vrc before f0=$failed
	shift 2
	stage_begin "$name" "$log"
	s=$STAGE_T0
	"$@" >"$log" 2>&1
	vrc=$?
	echo "# $name: exit $vrc after $(( $(date +%s) - s )) s (log: $log)"
	before=$((passed + failed))
	count_tap "$log" "$name"
	if [ $((passed + failed)) = "$before" ]; then
		result fail "$name ran no tests (exit $vrc, log: $log)"
		tail -n 30 "$log" | sed 's/^/# /'
	elif [ $vrc != 0 ] && ! grep -q '^not ok' "$log"; then
		result fail "$name exited with $vrc"
	fi
	if [ $vrc = 124 ]; then
		# The VM's time ran out: what it was doing last, and the last
		# reports of its kernel.
		echo "# $name: the test VM timed out; the end of its log:"
		tail -n 40 "$log" | sed 's/^/#   /'
		if [ -r "${VM_CONSOLE:-}" ]; then
			echo "# $name: the last kernel reports on its console ($VM_CONSOLE):"
			grep -aE -A 8 "$("$IKERNEL_ROOT"/selftests/ikernel/kernel-reports)" \
				"$VM_CONSOLE" | tail -n 30 | tr -d '\r' | sed 's/^/#   /'
		fi
	fi
	if [ $failed = "$f0" ]; then stage_end "$name" ok; else stage_end "$name" fail; fi
}

# ring_stage [VAR=VALUE...]: the stage "ring", ring/check.sh with the
# given environment, each of its results counted.
ring_stage() {
	local log=$STAGE_LOGS/ring.log f0=$failed
	stage_begin ring "$log"
	env "$@" timeout --kill-after=10 "$(stage_limit ring)" "$IKERNEL_ROOT/ring/check.sh" >"$log" 2>&1
	grep -E '^(not )?ok - ' "$log" | sed -E 's/^((not )?ok) - ring: /\1 /' >"$STAGE_LOGS/ring.tap"
	[ -s "$STAGE_LOGS/ring.tap" ] || result fail "ring/check.sh produced no results (log: $log)"
	count_tap "$STAGE_LOGS/ring.tap" ring
	if [ $failed = "$f0" ]; then stage_end ring ok; else stage_end ring fail; fi
}

# stage_skip NAME WHY: a selected stage that cannot run is one failure.
stage_skip() {
	echo "# === stage $1: not run"
	result fail "$1 not run: $2"
	STAGE_RESULT[$1]=fail
	STAGE_SECS[$1]=0
}

# stages_summary T0: the times of the stages that ran, then the last line.
stages_summary() {
	local n line=
	for n in "${STAGE_NAMES[@]}"; do
		[ -n "${STAGE_RESULT[$n]:-}" ] && line+=" $n ${STAGE_SECS[$n]} s (${STAGE_RESULT[$n]});"
	done
	echo "# stages:${line%;}"
	echo "# total time $(( $(date +%s) - $1 )) s; $skipped skipped"
	echo "$passed passed, $failed failed"
}
