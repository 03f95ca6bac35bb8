// SPDX-License-Identifier: GPL-2.0
/*
 * ppblink: the iKernel parallel-port LED demo.
 *
 * Eight LEDs on the data lines D0-D7 of a parallel port show each byte
 * written to the port's data register.  ppblink claims the port through
 * ppdev, writes a byte pattern to the data register (PPWDATA) with an
 * optional delay between bytes, and releases the port.  The node is the
 * native one (/dev/parport0) or the one exported from a driver VM
 * (/dev/ik_parport0): the program is the same.
 *
 * Options:
 *   -d MS  wait MS milliseconds after each byte but the last
 *   -s     pulse STROBE after each byte, as a printer handshake does; an
 *          emulated printer port (QEMU -parallel file:...) records a data
 *          byte only on a STROBE pulse, never on a data-register write
 *   -v     read the data register back (PPRDATA) and fail on a mismatch
 *   -q     do not draw the LEDs
 *
 * Exit status: 0 on success, 1 on an error of the device, 2 on bad usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <linux/parport.h>
#include <linux/ppdev.h>

#define MAX_BYTES	4096
#define MAX_DELAY_MS	60000

static const unsigned char blink[] = {
	0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0x55, 0xaa,
};

static const char *prog = "ppblink";

static void print_usage(void)
{
	fprintf(stderr,
		"usage: %s [-d MS] [-s] [-v] [-q] DEVICE [BYTE...]\n"
		"  DEVICE  a ppdev node, e.g. /dev/parport0 or /dev/ik_parport0\n"
		"  BYTE    0-255, decimal, 0x hex or 0 octal (default: the blink\n"
		"          sequence 0x01 0x02 ... 0x80 0x55 0xaa)\n"
		"  -d MS   delay in milliseconds between bytes (0-%d)\n"
		"  -s      pulse STROBE after each byte (printer handshake)\n"
		"  -v      read each byte back with PPRDATA and compare\n"
		"  -q      quiet: do not draw the LEDs\n",
		prog, MAX_DELAY_MS);
}

/* Parses a number in [0, max]; returns -1 if @s is not one. */
static long parse_num(const char *s, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 0);
	if (errno || end == s || *end || v < 0 || v > max)
		return -1;
	return v;
}

/* Parses @count byte arguments into @bytes; returns -1 on a bad one. */
static int parse_bytes(char **args, int count, unsigned char *bytes,
		       size_t *n)
{
	long v;
	int i;

	if (count > MAX_BYTES) {
		fprintf(stderr, "%s: at most %d bytes\n", prog, MAX_BYTES);
		return -1;
	}
	for (i = 0; i < count; i++) {
		v = parse_num(args[i], 0xff);
		if (v < 0) {
			fprintf(stderr, "%s: bad byte '%s' (0-255)\n",
				prog, args[i]);
			return -1;
		}
		bytes[i] = v;
	}
	*n = count;
	return 0;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {
		.tv_sec = ms / 1000,
		.tv_nsec = (ms % 1000) * 1000000L,
	};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* One row of eight LEDs, D7 on the left: '*' lit, '.' dark. */
static void draw(unsigned char b)
{
	char leds[9];
	int i;

	for (i = 0; i < 8; i++)
		leds[i] = (b & (0x80 >> i)) ? '*' : '.';
	leds[8] = '\0';
	printf("0x%02x  %s\n", b, leds);
	fflush(stdout);
}

static int pp_ioctl(int fd, const char *dev, unsigned long req,
		    const char *name, void *arg)
{
	if (ioctl(fd, req, arg) == 0)
		return 0;
	fprintf(stderr, "%s: %s: ioctl %s failed: %s\n",
		prog, dev, name, strerror(errno));
	return -1;
}

/* Writes @b to the data register, then strobes and verifies as asked. */
static int put_byte(int fd, const char *dev, unsigned char b, int strobe,
		    int verify)
{
	unsigned char ctl = PARPORT_CONTROL_INIT | PARPORT_CONTROL_SELECT;
	unsigned char rd;

	if (pp_ioctl(fd, dev, PPWDATA, "PPWDATA", &b))
		return -1;
	if (verify) {
		if (pp_ioctl(fd, dev, PPRDATA, "PPRDATA", &rd))
			return -1;
		if (rd != b) {
			fprintf(stderr,
				"%s: %s: data register reads back 0x%02x after writing 0x%02x\n",
				prog, dev, rd, b);
			return -1;
		}
	}
	if (!strobe)
		return 0;
	/* nInit high, nSelectIn low (selected): raise STROBE, then drop it. */
	ctl |= PARPORT_CONTROL_STROBE;
	if (pp_ioctl(fd, dev, PPWCONTROL, "PPWCONTROL", &ctl))
		return -1;
	ctl &= ~PARPORT_CONTROL_STROBE;
	return pp_ioctl(fd, dev, PPWCONTROL, "PPWCONTROL", &ctl);
}

int main(int argc, char **argv)
{
	unsigned char bytes[MAX_BYTES];
	int strobe = 0, verify = 0, quiet = 0;
	unsigned char ctl;
	long delay = 0;
	const char *dev;
	size_t n, i;
	int opt, fd, ret = 0;

	if (argc > 0 && argv[0][0]) {
		prog = strrchr(argv[0], '/');
		prog = prog ? prog + 1 : argv[0];
	}
	while ((opt = getopt(argc, argv, "d:svqh")) != -1) {
		switch (opt) {
		case 'd':
			delay = parse_num(optarg, MAX_DELAY_MS);
			if (delay < 0) {
				fprintf(stderr, "%s: bad delay '%s' (0-%d ms)\n",
					prog, optarg, MAX_DELAY_MS);
				return 2;
			}
			break;
		case 's':
			strobe = 1;
			break;
		case 'v':
			verify = 1;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'h':
			print_usage();
			return 0;
		default:
			print_usage();
			return 2;
		}
	}
	if (optind >= argc) {
		print_usage();
		return 2;
	}
	dev = argv[optind++];
	if (optind == argc) {
		memcpy(bytes, blink, sizeof(blink));
		n = sizeof(blink);
	} else if (parse_bytes(argv + optind, argc - optind, bytes, &n)) {
		return 2;
	}

	fd = open(dev, O_RDWR);
	if (fd < 0) {
		fprintf(stderr, "%s: cannot open %s: %s%s\n", prog, dev,
			strerror(errno),
			errno == ENOENT ? " (is ppdev loaded?)" : "");
		return 1;
	}
	if (pp_ioctl(fd, dev, PPCLAIM, "PPCLAIM", NULL)) {
		close(fd);
		return 1;
	}
	if (strobe) {
		/* A known control state: selected, not in reset, no STROBE. */
		ctl = PARPORT_CONTROL_INIT | PARPORT_CONTROL_SELECT;
		if (pp_ioctl(fd, dev, PPWCONTROL, "PPWCONTROL", &ctl))
			ret = 1;
	}
	for (i = 0; i < n && !ret; i++) {
		if (put_byte(fd, dev, bytes[i], strobe, verify)) {
			ret = 1;
			break;
		}
		if (!quiet)
			draw(bytes[i]);
		if (delay && i + 1 < n)
			sleep_ms(delay);
	}
	if (pp_ioctl(fd, dev, PPRELEASE, "PPRELEASE", NULL))
		ret = 1;
	if (close(fd)) {
		fprintf(stderr, "%s: closing %s failed: %s\n",
			prog, dev, strerror(errno));
		ret = 1;
	}
	if (ret)
		fprintf(stderr, "%s: %s: stopped after %zu of %zu bytes\n",
			prog, dev, i, n);
	else
		printf("%s: wrote %zu bytes to %s%s\n", prog, n, dev,
		       strobe ? " (strobed)" : "");
	return ret;
}
