// SPDX-License-Identifier: GPL-2.0
/*
 * File operations on an ikbuggy node (samples/ikbuggy), one line each with
 * result and duration, for selftests/ikernel/isolated/buggy.sh.
 *
 *   buggy_call [-T] [-w SECONDS] (-d NODE | -f FD) OP...
 *
 * With -d NODE the program opens NODE (read-write), performs the OPs on
 * that file and closes it; with -f FD it uses the open file FD it
 * inherited (so a shell can keep one file open across several runs).
 * OPs, in order:
 *
 *   read         read(2) of up to 64 KiB
 *   write:TEXT   write(2) of TEXT
 *   fill:N       write(2) of N bytes of 'A' (more than IKBUGGY_MSG_SIZE
 *                smashes the driver's slab)
 *   seek:OFFSET  lseek(2) to OFFSET (SEEK_SET)
 *   count        IKBUGGY_GET_COUNT
 *   oops         IKBUGGY_OOPS
 *   spin         IKBUGGY_SPIN
 *   hang         IKBUGGY_HANG
 *   poll         poll(2) for POLLIN | POLLOUT, no wait
 *   sleep:MS     nanosleep(2), to keep the file open a while
 *
 * Output, one line per operation (open and close included with -d):
 *
 *   OP RESULT MS [DATA]
 *
 * RESULT is the call's return value, or the name of its errno (EIO,
 * ETIMEDOUT, ...) if it failed; MS its duration in milliseconds; DATA is
 * what read returned (a C string literal, at most 64 bytes shown), the
 * counter of count, or poll's revents in hex.  With -T each line ends
 * with @TIME, the wall-clock time (CLOCK_REALTIME, in ms since the epoch)
 * at which the call returned, to compare with other processes' calls.
 *
 * A watchdog (-w, default 120 s) interrupts any call that takes longer:
 * SIGALRM, without SA_RESTART, so the call ends (typically with EINTR)
 * and its line shows how long it took; then the program stops.  Exit
 * status: 0 if every operation succeeded, 1 if one failed, 2 for a usage
 * error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "ikbuggy.h"

#define READ_MAX	(64 * 1024)
#define SHOW_MAX	64

static sig_atomic_t fired;	/* read only after calls that return */
static int show_time;
static long long end_time;	/* of the last call, for -T */
static char buf[READ_MAX];

static void on_alarm(int sig)
{
	fired = 1;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static const char *errname(int err)
{
	static char name[16];
	const char *s = strerrorname_np(err);

	if (s)
		return s;
	snprintf(name, sizeof(name), "E%d", err);
	return name;
}

/* DATA as a C string literal. */
static void print_data(const char *data, long len)
{
	long i, n = len < SHOW_MAX ? len : SHOW_MAX;

	putchar('"');
	for (i = 0; i < n; i++) {
		unsigned char c = data[i];

		if (c == '\n')
			fputs("\\n", stdout);
		else if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20 || c > 0x7e)
			printf("\\x%02x", c);
		else
			putchar(c);
	}
	putchar('"');
	if (len > n)
		printf("...(%ld bytes)", len);
}

/* Prints the start of OP's line; returns 0 if it succeeded. */
static int report(const char *op, long long ret, int err, long long t0)
{
	long long ms = now_ms() - t0;

	if (ret < 0)
		printf("%s %s %lld", op, errname(err), ms);
	else
		printf("%s %lld %lld", op, ret, ms);
	if (show_time) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		end_time = ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
	}
	return ret < 0;
}

/* Ends a line. */
static void end_line(void)
{
	if (show_time)
		printf(" @%lld", end_time);
	putchar('\n');
	fflush(stdout);
}

static void bad_usage(void)
{
	fprintf(stderr,
		"usage: buggy_call [-T] [-w SECONDS] (-d NODE | -f FD) OP...\n"
		"OP: read write:TEXT fill:N seek:OFFSET count oops spin poll sleep:MS\n");
	exit(2);
}

/* Performs one operation on fd; returns 0 if it succeeded. */
static int run_op(int fd, const char *op)
{
	long long t0, ret;
	int failed, err;
	__u32 count = 0;

	t0 = now_ms();
	errno = 0;
	if (!strcmp(op, "read")) {
		ret = read(fd, buf, sizeof(buf));
		failed = report(op, ret, errno, t0);
		if (ret >= 0) {
			putchar(' ');
			print_data(buf, ret);
		}
	} else if (!strncmp(op, "write:", 6)) {
		ret = write(fd, op + 6, strlen(op + 6));
		failed = report("write", ret, errno, t0);
	} else if (!strncmp(op, "fill:", 5)) {
		long n = strtol(op + 5, NULL, 0);

		if (n <= 0 || n > READ_MAX)
			bad_usage();
		memset(buf, 'A', n);
		t0 = now_ms();
		ret = write(fd, buf, n);
		failed = report("fill", ret, errno, t0);
	} else if (!strncmp(op, "seek:", 5)) {
		ret = lseek(fd, strtoll(op + 5, NULL, 0), SEEK_SET);
		failed = report("seek", ret, errno, t0);
	} else if (!strcmp(op, "count")) {
		ret = ioctl(fd, IKBUGGY_GET_COUNT, &count);
		failed = report(op, ret, errno, t0);
		if (ret >= 0)
			printf(" %u", count);
	} else if (!strcmp(op, "oops")) {
		ret = ioctl(fd, IKBUGGY_OOPS);
		failed = report(op, ret, errno, t0);
	} else if (!strcmp(op, "spin")) {
		ret = ioctl(fd, IKBUGGY_SPIN);
		failed = report(op, ret, errno, t0);
	} else if (!strcmp(op, "hang")) {
		ret = ioctl(fd, IKBUGGY_HANG);
		failed = report(op, ret, errno, t0);
	} else if (!strcmp(op, "poll")) {
		struct pollfd p = { .fd = fd, .events = POLLIN | POLLOUT };

		ret = poll(&p, 1, 0);
		err = errno;
		failed = report(op, ret, err, t0);
		if (ret >= 0)
			printf(" %#x", p.revents);
	} else if (!strncmp(op, "sleep:", 6)) {
		long ms = strtol(op + 6, NULL, 0);
		struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

		ret = nanosleep(&ts, NULL);
		failed = report("sleep", ret, errno, t0);
	} else {
		bad_usage();
	}
	end_line();
	return failed;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	const char *node = NULL;
	int fd = -1, opt, i, failed = 0;
	unsigned int watchdog = 120;
	long long t0;

	while ((opt = getopt(argc, argv, "Tw:d:f:")) != -1) {
		switch (opt) {
		case 'T':
			show_time = 1;
			break;
		case 'w':
			watchdog = strtoul(optarg, NULL, 0);
			break;
		case 'd':
			node = optarg;
			break;
		case 'f':
			fd = strtol(optarg, NULL, 0);
			break;
		default:
			bad_usage();
		}
	}
	if ((!node) == (fd < 0) || optind >= argc)
		bad_usage();
	sigaction(SIGALRM, &sa, NULL);

	if (node) {
		alarm(watchdog);
		t0 = now_ms();
		errno = 0;
		fd = open(node, O_RDWR);
		if (report("open", fd, errno, t0)) {
			end_line();
			return 1;
		}
		end_line();
	}
	for (i = optind; i < argc && !fired; i++) {
		alarm(watchdog);
		failed |= run_op(fd, argv[i]);
	}
	alarm(0);
	if (fired) {
		printf("watchdog %u s\n", watchdog);
		failed = 1;
	}
	if (node) {
		alarm(watchdog);
		t0 = now_ms();
		errno = 0;
		failed |= report("close", close(fd), errno, t0);
		end_line();
	}
	return failed;
}
