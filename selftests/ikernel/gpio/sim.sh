#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# sim.sh: makes one gpio-sim device with two banks, so two GPIO chips of one
# driver: bank0 "ik-ctl" (8 lines; line 0 named "reset", line 3 "enable"
# and hogged high as "ikernel-hog") and bank1 "ik-data" (4 lines), then
# prints "gpio-sim: BANK CHIP" for each.  POSIX sh: it runs natively on
# the test host and in a driver VM's busybox /init alike.  Needs gpio-sim
# loaded and configfs.
set -e
c=/sys/kernel/config
[ -d "$c/gpio-sim" ] || mount -t configfs none "$c"
d=$c/gpio-sim/ik
mkdir "$d" "$d/bank0" "$d/bank1"
echo 8 >"$d/bank0/num_lines"
echo ik-ctl >"$d/bank0/label"
echo 4 >"$d/bank1/num_lines"
echo ik-data >"$d/bank1/label"
mkdir "$d/bank0/line0" "$d/bank0/line3" "$d/bank0/line3/hog"
echo reset >"$d/bank0/line0/name"
echo enable >"$d/bank0/line3/name"
echo ikernel-hog >"$d/bank0/line3/hog/name"
echo output-high >"$d/bank0/line3/hog/direction"
echo 1 >"$d/live"
for b in bank0 bank1; do
	echo "gpio-sim: $b $(cat "$d/$b/chip_name")"
done
