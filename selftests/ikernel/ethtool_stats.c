// SPDX-License-Identifier: GPL-2.0
/*
 * ethtool_stats IFNAME: prints the interface's driver and its ethtool
 * statistics ("NAME: VALUE" lines), as `ethtool -i` and `ethtool -S` would
 * (this machine has no ethtool), through the SIOCETHTOOL ioctl.
 *
 * ethtool_stats --no-tso IFNAME: turns TCP segmentation offload off, as
 * `ethtool -K IFNAME tso off` would.  QEMU's e1000 counts a TSO send as one
 * packet in its statistics registers, which the driver reports: the test
 * that compares frame counts needs one count per frame on the wire.
 */
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

static int ethtool(int fd, const char *ifname, void *cmd)
{
	struct ifreq ifr = { 0 };

	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", ifname);
	ifr.ifr_data = cmd;
	return ioctl(fd, SIOCETHTOOL, &ifr);
}

int main(int argc, char **argv)
{
	struct ethtool_drvinfo info = { .cmd = ETHTOOL_GDRVINFO };
	struct ethtool_gstrings *names;
	struct ethtool_stats *stats;
	unsigned int i, n;
	int fd;

	if (argc == 3 && !strcmp(argv[1], "--no-tso")) {
		struct ethtool_value off = { .cmd = ETHTOOL_STSO, .data = 0 };

		fd = socket(AF_INET, SOCK_DGRAM, 0);
		if (fd < 0 || ethtool(fd, argv[2], &off)) {
			perror("ethtool_stats: ETHTOOL_STSO");
			return 1;
		}
		return 0;
	}
	if (argc != 2) {
		fprintf(stderr, "usage: ethtool_stats IFNAME | --no-tso IFNAME\n");
		return 2;
	}
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || ethtool(fd, argv[1], &info)) {
		perror("ethtool_stats: ETHTOOL_GDRVINFO");
		return 1;
	}
	printf("driver: %s\nbus-info: %s\n", info.driver, info.bus_info);
	n = info.n_stats;
	names = calloc(1, sizeof(*names) + n * ETH_GSTRING_LEN);
	stats = calloc(1, sizeof(*stats) + n * sizeof(__u64));
	if (!names || !stats)
		return 1;
	names->cmd = ETHTOOL_GSTRINGS;
	names->string_set = ETH_SS_STATS;
	names->len = n;
	stats->cmd = ETHTOOL_GSTATS;
	stats->n_stats = n;
	if (ethtool(fd, argv[1], names) || ethtool(fd, argv[1], stats)) {
		perror("ethtool_stats: ETHTOOL_GSTRINGS/GSTATS");
		return 1;
	}
	printf("NIC statistics:\n");
	for (i = 0; i < n; i++)
		printf("     %.*s: %llu\n", ETH_GSTRING_LEN,
		       (char *)names->data + i * ETH_GSTRING_LEN,
		       (unsigned long long)stats->data[i]);
	close(fd);
	return 0;
}
