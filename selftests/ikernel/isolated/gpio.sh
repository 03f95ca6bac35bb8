#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# An in-tree driver with two nodes and an in-tree tool: gpio-sim (one device,
# two banks, so two GPIO chips; selftests/ikernel/gpio/sim.sh) and the
# kernel's tools/gpio/lsgpio (built unmodified by gpio/build.sh).  Natively
# in the test VM, then isolated: both chips of one driver VM exported as
# /dev/gpiochip100 and /dev/gpiochip101.  The same lsgpio must print the
# same chips, labels, lines, names, consumers and flags through the exports
# as natively; the chip name it prints is the guest's (gpiochip0,
# gpiochip1: the driver VM's numbering), and each export's sysfs attributes
# name the guest node it stands for.
#
# lsgpio's ioctls (GPIO_GET_CHIPINFO_IOCTL, GPIO_V2_GET_LINEINFO_IOCTL)
# carry plain structs.  The kernel's gpio-hammer requests two lines as
# outputs (GPIO_V2_GET_LINE_IOCTL hands out a new file, its descriptor in
# the struct) and sets and reads them through that file: its output, and
# lsgpio's view of the requested lines while it runs and after it, must be
# the same natively and through the export.
. "$(dirname "$0")/lib.sh"
lsgpio=${LSGPIO:-$ROOT/build/gpio-tools/lsgpio}
hammer=${GPIO_HAMMER:-$ROOT/build/gpio-tools/gpio-hammer}
sim=$SELF/gpio/sim.sh
log=$OUT/gpio
mkdir -p "$log"
rm -f "$log"/*
plan_done() { echo "1..$t_n"; t_done; }
load_kvm_modules
load_host_stub

# lsgpio_of NAME FILE: lsgpio's listing of /dev/NAME, with the chip's name
# (the first line's first field) left out, into FILE; the name alone into
# FILE.name.
lsgpio_of() {
	"$lsgpio" -n "$1" >"$2.raw" 2>&1 || return 1
	sed -n '1s/^GPIO chip: \([^,]*\),.*/\1/p' "$2.raw" >"$2.name"
	sed '1s/^GPIO chip: [^,]*,/GPIO chip: NAME,/' "$2.raw" >"$2"
}

# hammer_of NAME FILE: gpio-hammer on lines 5 and 6 of /dev/NAME for three
# rounds, its output (chip name left out, carriage returns as newlines) in
# FILE; meanwhile lsgpio's lines 5 and 6 as soon as the request shows, in
# FILE.busy; after it, the chip's whole listing in FILE.after (released
# lines stay outputs, natively too).
hammer_of() {
	local i
	"$hammer" -n "$1" -o 5 -o 6 -c 3 >"$2.raw" 2>&1 &
	local pid=$!
	: >"$2.busy"
	for i in $(seq 1 40); do
		"$lsgpio" -n "$1" 2>/dev/null | grep -E '^[[:space:]]*line +[56]:' >"$2.busy"
		grep -q gpio-hammer "$2.busy" && break
		sleep 0.1
	done
	wait "$pid"
	local rc=$?
	tr '\r' '\n' <"$2.raw" | sed "s/ on $1, / on NAME, /" >"$2"
	lsgpio_of "$1" "$2.after"
	return $rc
}

# Natively.
modprobe gpio-sim
sh "$sim" >"$log/native-sim.out" 2>&1
t_check "gpio-sim made two chips natively: $(tr '\n' ' ' <"$log/native-sim.out")" \
	eval '[ "$(grep -c "^gpio-sim: bank[01] gpiochip" "$log/native-sim.out")" = 2 ]'
chips=($(awk '{print $3}' "$log/native-sim.out"))
for b in 0 1; do
	[ -n "${chips[$b]:-}" ] && sysfs_ident "/dev/${chips[$b]}" >"$log/native-ident-$b"
done
for b in 0 1; do
	lsgpio_of "${chips[$b]}" "$log/native-$b"
done
sed 's/^/# native: /' "$log/native-0.raw" "$log/native-1.raw"
hammer_of "${chips[0]}" "$log/native-hammer"
t_check "natively: gpio-hammer ran ($(grep -c '^\[' "$log/native-hammer") rounds)" \
	eval '[ "$(grep -c "^\[" "$log/native-hammer")" = 3 ]'
sed 's/^/# native: /' "$log/native-hammer" "$log/native-hammer.busy"
d=/sys/kernel/config/gpio-sim/ik
echo 0 >"$d/live"
rmdir "$d/bank0/line3/hog" "$d/bank0/line3" "$d/bank0/line0" "$d/bank0" "$d/bank1" "$d"
rmmod gpio-sim
t_check "natively: gpio-sim removed" eval '! grep -q "^gpio_sim " /proc/modules'

# Isolated: one driver VM, both chips exported.
name=gpio
cfg=$OUT/$name.toml
IVT_IMAGE_EXTRA="run = [\"/bin/gpio-sim-setup\"]
[[image.file]]
src = \"$sim\"
dst = \"/bin/gpio-sim-setup\"
mode = 0o755" write_config "$cfg" "$name" "
[[module]]
name = \"gpio-sim\"

$(ikfifo_node_export /dev/gpiochip0 gpiochip100)

$(ikfifo_node_export /dev/gpiochip1 gpiochip101)"
start_shim "$OUT/$name.log" "$cfg"
t_check "the driver VM is ready" [ "$(ev_count "$OUT/$name.log" ready)" -ge 1 ]
# The chips appear after /init's wait for nodes (the run line makes them);
# ikernel-served serves them as soon as they do.
present() {
	[ "$(cat /sys/class/ikernel/gpiochip100/guest_node 2>/dev/null)" = present ] &&
		[ "$(cat /sys/class/ikernel/gpiochip101/guest_node 2>/dev/null)" = present ]
}
wait_for 60 present
grep -a '^gpio-sim:' "$OUT/$name.console.log" | sed 's/^/# driver VM: /'
t_check "both guest chips are served (sysfs guest_node: present)" present
for n in 0 1; do
	h=gpiochip10$n
	t_check "/dev/$h stands for the guest's /dev/gpiochip$n (sysfs guest_path, index)" \
		eval '[ "$(cat /sys/class/ikernel/$h/guest_path)" = /dev/gpiochip$n ] &&
			[ "$(cat /sys/class/ikernel/$h/index)" = $n ]'
	lsgpio_of "$h" "$log/isolated-$n"
	sed 's/^/# isolated: /' "$log/isolated-$n.raw"
	t_check "lsgpio -n $h: the chip's name is the guest's (gpiochip$n)" \
		eval '[ "$(cat "$log/isolated-$n.name")" = gpiochip$n ]'
	t_check "lsgpio -n $h lists what it lists natively for ${chips[$n]:-?}" \
		diff -u "$log/native-$n" "$log/isolated-$n"
	check_ident "$log/native-ident-$n" "$h" "gpiochip$n"
done
t_check "the hogged line shows its consumer and direction through the export" \
	grep -q 'line  3: "enable" "ikernel-hog" \[used, output\]' "$log/isolated-0"
hammer_of gpiochip100 "$log/isolated-hammer"
rc=$?
sed 's/^/# isolated: /' "$log/isolated-hammer" "$log/isolated-hammer.busy"
t_check "gpio-hammer -n gpiochip100 runs (line request: a new file through the export)" [ $rc = 0 ]
t_check "gpio-hammer prints what it prints natively (values set and read back)" \
	diff -u "$log/native-hammer" "$log/isolated-hammer"
t_check "while it runs, lsgpio shows lines 5 and 6 requested as natively" \
	eval 'grep -q "\"gpio-hammer\" \[used, output\]" "$log/isolated-hammer.busy" &&
		diff -u "$log/native-hammer.busy" "$log/isolated-hammer.busy"'
t_check "after it, lines 5 and 6 are free again, as natively (the line file's release went to the guest)" \
	eval '[ "$(grep -cE "line +[56]: unnamed unused" "$log/isolated-hammer.after")" = 2 ] &&
		diff -u "$log/native-hammer.after" "$log/isolated-hammer.after"'

t_check "the export counted one new file" \
	eval '[ "$(cat /sys/class/ikernel/gpiochip100/stats/new_files)" = 1 ]'
stop_shim
t_check "the shim stopped cleanly (status $SHIM_RC)" [ "$SHIM_RC" = 0 ]
[ "$t_fail" = 0 ] || show_logs "$name"
plan_done
