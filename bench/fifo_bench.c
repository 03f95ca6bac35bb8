// SPDX-License-Identifier: GPL-2.0
/*
 * Benchmark of the ikfifo sample driver (samples/ikfifo), the same binary
 * against the native node and against an isolated export of it.
 *
 *   fifo_bench lat     -d NODE [-n MAX_CALLS] [-t SECONDS]
 *   fifo_bench tput    -d NODE -s SIZE [-t SECONDS]
 *   fifo_bench par     -d NODE -p PROCS [-t SECONDS]
 *   fifo_bench restart -d NODE [-t SECONDS]
 *
 * Common option: -w WATCHDOG_S (default 120): a point that has not ended
 * WATCHDOG_S seconds after its SECONDS are up is hung; it fails with
 * exit status 3.
 *
 * lat:     null ioctls (IKFIFO_CLEAR on an empty FIFO, argument 0), each
 *          timed; median, p99 and mean round trip.
 * tput:    write SIZE bytes, then read them back, on one open file,
 *          timing the write and the read system calls separately; every
 *          byte read is checked against what was written.
 * par:     PROCS processes, each with its own open file, do null ioctls
 *          for SECONDS; calls per second in aggregate.
 * restart: null ioctls until one fails (the driver VM died), then open
 *          and ioctl until both succeed again; the time between the first
 *          failure and the first success.
 *
 * Each point runs for at most SECONDS (default 3), so a slow node makes a
 * short run, never a failure.  Output: one line, "MODE key=value ...".
 * Exit status 1 on real breakage only: the node cannot be opened, a call
 * fails, or data read back differs from what was written.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ikfifo.h"

#define MAX_PROCS	64
#define PATTERN_SKEW	256

static const char *node = "/dev/ikfifo";
static double seconds = 3.0;
static long max_calls = 100000;
static size_t size = 64;
static int procs = 1;
static unsigned int watchdog_s = 120;

static uint64_t now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static uint64_t mono_ns(void)
{
	return now_ns(CLOCK_MONOTONIC);
}

static void die(const char *what)
{
	fprintf(stderr, "fifo_bench: %s: %s: %s\n", node, what, strerror(errno));
	exit(1);
}

static void on_watchdog(int sig)
{
	static const char msg[] =
		"fifo_bench: watchdog: a call did not return (hung)\n";

	(void)sig;
	(void)!write(2, msg, sizeof(msg) - 1);
	_exit(3);
}

/* Arms the watchdog; no SA_RESTART, so that it interrupts a blocked call. */
static void arm_watchdog(void)
{
	struct sigaction sa = { .sa_handler = on_watchdog };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	alarm((unsigned int)seconds + watchdog_s);
}

static int open_node(void)
{
	int fd = open(node, O_RDWR);

	if (fd < 0)
		die("open");
	return fd;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of n sorted values. */
static uint64_t percentile(const uint64_t *v, long n, double p)
{
	long k = (long)(p / 100.0 * n + 0.999999);

	if (k < 1)
		k = 1;
	if (k > n)
		k = n;
	return v[k - 1];
}

static int do_lat(void)
{
	uint64_t *t, start, end, sum = 0;
	long n = 0;
	int fd = open_node();

	t = calloc(max_calls, sizeof(*t));
	if (!t)
		die("calloc");
	start = mono_ns();
	end = start + (uint64_t)(seconds * 1e9);
	while (n < max_calls) {
		uint64_t a = mono_ns(), b;

		if (ioctl(fd, IKFIFO_CLEAR, 0) < 0)
			die("ioctl IKFIFO_CLEAR");
		b = mono_ns();
		t[n++] = b - a;
		sum += b - a;
		if (b >= end)
			break;
	}
	qsort(t, n, sizeof(*t), cmp_u64);
	printf("lat calls=%ld secs=%.3f median_us=%.2f p99_us=%.2f mean_us=%.2f min_us=%.2f max_us=%.2f\n",
	       n, (mono_ns() - start) / 1e9, percentile(t, n, 50) / 1e3,
	       percentile(t, n, 99) / 1e3, sum / 1e3 / n, t[0] / 1e3,
	       t[n - 1] / 1e3);
	free(t);
	close(fd);
	return 0;
}

static unsigned char pattern_byte(size_t k)
{
	uint32_t x = (uint32_t)k * 2654435761U;

	return (unsigned char)(x >> 24 ^ k);
}

/* Writes all of buf; returns the system calls it took. */
static long write_all(int fd, const unsigned char *buf, size_t len)
{
	long calls = 0;

	while (len) {
		ssize_t r = write(fd, buf, len);

		calls++;
		if (r <= 0)
			die("write");
		buf += r;
		len -= r;
	}
	return calls;
}

static long read_all(int fd, unsigned char *buf, size_t len)
{
	long calls = 0;

	while (len) {
		ssize_t r = read(fd, buf, len);

		calls++;
		if (r <= 0)
			die("read");
		buf += r;
		len -= r;
	}
	return calls;
}

static int do_tput(void)
{
	unsigned char *pat, *in;
	uint64_t wns = 0, rns = 0, start, end;
	long iters = 0, wcalls = 0, rcalls = 0;
	size_t k;
	int fd = open_node();

	pat = malloc(size + PATTERN_SKEW);
	in = malloc(size);
	if (!pat || !in)
		die("malloc");
	for (k = 0; k < size + PATTERN_SKEW; k++)
		pat[k] = pattern_byte(k);
	if (ioctl(fd, IKFIFO_CLEAR, 0) < 0)
		die("ioctl IKFIFO_CLEAR");
	start = mono_ns();
	end = start + (uint64_t)(seconds * 1e9);
	do {
		const unsigned char *out = pat + iters % PATTERN_SKEW;
		uint64_t a, b, c;

		memset(in, 0, size);
		a = mono_ns();
		wcalls += write_all(fd, out, size);
		b = mono_ns();
		rcalls += read_all(fd, in, size);
		c = mono_ns();
		wns += b - a;
		rns += c - b;
		if (memcmp(in, out, size)) {
			fprintf(stderr, "fifo_bench: %s: data read back differs from data written (size %zu, iteration %ld)\n",
				node, size, iters);
			exit(1);
		}
		iters++;
	} while (mono_ns() < end && iters < max_calls);
	printf("tput size=%zu iters=%ld secs=%.3f write_Bps=%.0f read_Bps=%.0f write_calls=%ld read_calls=%ld checked_bytes=%llu\n",
	       size, iters, (mono_ns() - start) / 1e9,
	       (double)size * iters / (wns / 1e9),
	       (double)size * iters / (rns / 1e9), wcalls, rcalls,
	       (unsigned long long)size * iters);
	free(pat);
	free(in);
	close(fd);
	return 0;
}

struct par_shared {
	uint64_t deadline;
	long calls[MAX_PROCS];
	uint64_t end[MAX_PROCS];
};

static void par_child(struct par_shared *sh, int id, int ready_w, int go_r)
{
	int fd;
	char c = 0;
	long n = 0;

	arm_watchdog();
	fd = open_node();
	if (write(ready_w, &c, 1) != 1 || read(go_r, &c, 1) != 1)
		die("start barrier");
	do {
		if (ioctl(fd, IKFIFO_CLEAR, 0) < 0)
			die("ioctl IKFIFO_CLEAR");
		n++;
	} while (mono_ns() < sh->deadline);
	sh->calls[id] = n;
	sh->end[id] = mono_ns();
	close(fd);
	exit(0);
}

static int do_par(void)
{
	struct par_shared *sh;
	int ready[2], go[2], i, status, failed = 0;
	uint64_t start, last = 0;
	long total = 0;
	char buf[MAX_PROCS];

	if (procs < 1 || procs > MAX_PROCS) {
		fprintf(stderr, "fifo_bench: -p must be 1..%d\n", MAX_PROCS);
		return 2;
	}
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		die("mmap");
	if (pipe(ready) || pipe(go))
		die("pipe");
	for (i = 0; i < procs; i++) {
		pid_t pid = fork();

		if (pid < 0)
			die("fork");
		if (!pid) {
			close(ready[0]);
			close(go[1]);
			par_child(sh, i, ready[1], go[0]);
		}
	}
	close(ready[1]);
	close(go[0]);
	for (i = 0; i < procs; i++)
		if (read(ready[0], buf, 1) != 1)
			break;
	start = mono_ns();
	sh->deadline = start + (uint64_t)(seconds * 1e9);
	memset(buf, 0, sizeof(buf));
	if (write(go[1], buf, procs) != procs)
		die("start barrier");
	while (wait(&status) > 0)
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			failed++;
	if (failed) {
		fprintf(stderr, "fifo_bench: %s: %d of %d processes failed\n",
			node, failed, procs);
		return 1;
	}
	for (i = 0; i < procs; i++) {
		total += sh->calls[i];
		if (sh->end[i] > last)
			last = sh->end[i];
	}
	printf("par procs=%d calls=%ld secs=%.3f calls_per_s=%.1f\n", procs,
	       total, (last - start) / 1e9, total / ((last - start) / 1e9));
	return 0;
}

static int do_restart(void)
{
	uint64_t start = mono_ns(), limit, fail_mono = 0, ok_mono;
	uint64_t fail_real = 0, ok_real;
	long before = 0, retries = 0;
	int fd, fail_errno = 0;

	limit = start + (uint64_t)(seconds * 1e9);
	/* Calls succeed until the driver VM dies. */
	fd = open(node, O_RDWR);
	while (mono_ns() < limit) {
		if (fd >= 0 && ioctl(fd, IKFIFO_CLEAR, 0) == 0) {
			before++;
			continue;
		}
		fail_errno = errno;
		fail_mono = mono_ns();
		fail_real = now_ns(CLOCK_REALTIME);
		break;
	}
	if (fd >= 0)
		close(fd);
	if (!fail_mono) {
		printf("restart failure_seen=no calls_before=%ld\n", before);
		return 1;
	}
	/* Then open and ioctl until both work again. */
	for (;;) {
		fd = open(node, O_RDWR);
		if (fd >= 0 && ioctl(fd, IKFIFO_CLEAR, 0) == 0)
			break;
		if (fd >= 0)
			close(fd);
		retries++;
		if (mono_ns() >= limit) {
			printf("restart failure_seen=yes errno=%d service_again=no calls_before=%ld retries=%ld\n",
			       fail_errno, before, retries);
			return 1;
		}
		usleep(10000);
	}
	ok_mono = mono_ns();
	ok_real = now_ns(CLOCK_REALTIME);
	close(fd);
	printf("restart failure_seen=yes errno=%d service_again=yes calls_before=%ld retries=%ld fail_unix=%.3f service_unix=%.3f fail_to_service_s=%.3f\n",
	       fail_errno, before, retries, fail_real / 1e9, ok_real / 1e9,
	       (ok_mono - fail_mono) / 1e9);
	return 0;
}

static void bad_usage(void)
{
	fprintf(stderr,
		"usage: fifo_bench lat|tput|par|restart -d NODE [-t SECONDS] [-n MAX_CALLS] [-s SIZE] [-p PROCS] [-w WATCHDOG_S]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *mode;
	int c;

	if (argc < 2)
		bad_usage();
	mode = argv[1];
	optind = 2;
	while ((c = getopt(argc, argv, "d:t:n:s:p:w:")) != -1) {
		switch (c) {
		case 'd':
			node = optarg;
			break;
		case 't':
			seconds = atof(optarg);
			break;
		case 'n':
			max_calls = atol(optarg);
			break;
		case 's':
			size = strtoul(optarg, NULL, 0);
			break;
		case 'p':
			procs = atoi(optarg);
			break;
		case 'w':
			watchdog_s = strtoul(optarg, NULL, 0);
			break;
		default:
			bad_usage();
		}
	}
	if (seconds <= 0 || max_calls < 1 || !size)
		bad_usage();
	setvbuf(stdout, NULL, _IOLBF, 0);
	arm_watchdog();
	if (!strcmp(mode, "lat"))
		return do_lat();
	if (!strcmp(mode, "tput"))
		return do_tput();
	if (!strcmp(mode, "par"))
		return do_par();
	if (!strcmp(mode, "restart"))
		return do_restart();
	bad_usage();
	return 2;
}
