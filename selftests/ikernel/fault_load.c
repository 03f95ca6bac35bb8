// SPDX-License-Identifier: GPL-2.0
/*
 * Busy host workload for the fault-injection tests (issue 6).
 *
 *   fault_load [-p PROCS] [-H HANG_MS] [-b PAUSE_MS] [-o STATUS] NODE:OPS...
 *   fault_load -P NODE:OPS [-T TIMEOUT_MS]
 *
 * Load mode: PROCS worker processes (default 4), spread over the nodes,
 * each repeat the node's operations on their own open file until SIGTERM.
 * OPS is a string of r (read up to 64 bytes), w (write 16 bytes) and i
 * (an ioctl no sample knows: the driver's ENOTTY is an answer like any
 * other).  Files are opened O_NONBLOCK so
 * that an empty FIFO answers EAGAIN instead of blocking: every call must
 * end, and one that has not ended after HANG_MS (default 30000) is counted
 * as hung.  A call that fails with EIO makes the worker close and reopen
 * its file, as a program would.  After a failed open, or a call that
 * failed with EIO, a worker pauses PAUSE_MS (default 20) before it tries
 * again.
 *
 * The parent rewrites STATUS (default: stdout at exit only) every 200 ms
 * with one line of counters:
 *
 *   calls N ok N eio N timedout N other N hung N maxcall_ms N
 *
 * ok counts every answer from the driver, errors included, except the
 * three classes that follow: EIO (driver VM down, restarted or broken),
 * ETIMEDOUT (the export's deadline) and other failures of open.  hung
 * counts calls that ran longer than HANG_MS; maxcall_ms is the longest
 * call that ended.
 *
 * Probe mode: opens NODE and runs OPS once, every 50 ms, until all of
 * them get an answer other than EIO, or TIMEOUT_MS (default 120000)
 * passes.  Prints the milliseconds it took and exits 0, or exits 1.
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

#define MAX_PROCS	64
#define MAX_NODES	8

/* Counters of one worker; written by the worker, read by the parent. */
struct worker {
	uint64_t calls, ok, eio, timedout, other;
	uint64_t maxcall_ns;
	uint64_t started_ns;	/* start of the call in progress, 0: none */
	uint64_t hung_call;	/* calls[] index of the last call counted hung */
	uint64_t hung;
};

struct target {
	const char *path;
	const char *ops;
};

static struct worker *workers;
static unsigned int pause_ms = 20;	/* after a failed open, or EIO */
static int stop;		/* set by SIGTERM; read with __atomic_load_n */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void on_stop(int sig)
{
	(void)sig;
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
}

static void msleep(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static int parse_target(char *arg, struct target *t)
{
	char *colon = strrchr(arg, ':');

	if (!colon || !colon[1] || strspn(colon + 1, "rwi") != strlen(colon + 1))
		return -1;
	*colon = '\0';
	t->path = arg;
	t->ops = colon + 1;
	return 0;
}

/* One operation; returns 0 or -errno. */
static int do_op(int fd, char op)
{
	char buf[64];
	ssize_t n;

	switch (op) {
	case 'r':
		n = read(fd, buf, sizeof(buf));
		break;
	case 'w':
		memset(buf, 'f', 16);
		n = write(fd, buf, 16);
		break;
	default:
		/* _IO('k', 0x7f): unknown to the samples, answered ENOTTY. */
		n = ioctl(fd, _IO('k', 0x7f), 0);
		break;
	}
	return n < 0 ? -errno : 0;
}

static void account(struct worker *w, int r, uint64_t t0)
{
	uint64_t d = now_ns() - t0;

	__atomic_store_n(&w->started_ns, 0, __ATOMIC_RELEASE);
	if (d > w->maxcall_ns)
		w->maxcall_ns = d;
	if (r == -EIO)
		w->eio++;
	else if (r == -ETIMEDOUT)
		w->timedout++;
	else
		w->ok++;
	__atomic_add_fetch(&w->calls, 1, __ATOMIC_RELEASE);
}

static void work(struct worker *w, const struct target *t)
{
	int fd = -1;
	size_t i = 0;

	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		uint64_t t0;
		int r;

		if (fd < 0) {
			t0 = now_ns();
			__atomic_store_n(&w->started_ns, t0, __ATOMIC_RELEASE);
			fd = open(t->path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
			r = fd < 0 ? -errno : 0;
			if (fd < 0 && r != -EIO && r != -ETIMEDOUT) {
				__atomic_store_n(&w->started_ns, 0,
						 __ATOMIC_RELEASE);
				w->other++;
				__atomic_add_fetch(&w->calls, 1,
						   __ATOMIC_RELEASE);
				msleep(pause_ms);
				continue;
			}
			account(w, r, t0);
			if (fd < 0) {
				msleep(pause_ms);
				continue;
			}
		}
		t0 = now_ns();
		__atomic_store_n(&w->started_ns, t0, __ATOMIC_RELEASE);
		r = do_op(fd, t->ops[i++ % strlen(t->ops)]);
		account(w, r, t0);
		if (r == -EIO) {
			close(fd);
			fd = -1;
			msleep(pause_ms);
		}
	}
	if (fd >= 0)
		close(fd);
}

static void sum(unsigned int procs, uint64_t hang_ns, FILE *out)
{
	uint64_t calls = 0, ok = 0, eio = 0, tmo = 0, other = 0, hung = 0;
	uint64_t maxcall = 0, now = now_ns();
	unsigned int i;

	for (i = 0; i < procs; i++) {
		struct worker *w = &workers[i];
		uint64_t s = __atomic_load_n(&w->started_ns, __ATOMIC_ACQUIRE);
		uint64_t c = __atomic_load_n(&w->calls, __ATOMIC_ACQUIRE);

		/* A call is counted hung once: by its index. */
		if (s && now > s && now - s > hang_ns && w->hung_call != c + 1) {
			w->hung_call = c + 1;
			w->hung++;
		}
		calls += c;
		ok += w->ok;
		eio += w->eio;
		tmo += w->timedout;
		other += w->other;
		hung += w->hung;
		if (w->maxcall_ns > maxcall)
			maxcall = w->maxcall_ns;
	}
	fprintf(out,
		"calls %llu ok %llu eio %llu timedout %llu other %llu hung %llu maxcall_ms %llu\n",
		(unsigned long long)calls, (unsigned long long)ok,
		(unsigned long long)eio, (unsigned long long)tmo,
		(unsigned long long)other, (unsigned long long)hung,
		(unsigned long long)(maxcall / 1000000));
}

static void write_status(const char *path, unsigned int procs,
			 uint64_t hang_ns)
{
	char tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return;
	sum(procs, hang_ns, f);
	if (fclose(f) == 0)
		rename(tmp, path);
}

static int probe(const struct target *t, unsigned int timeout_ms)
{
	uint64_t t0 = now_ns();

	for (;;) {
		int fd = open(t->path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
		bool good = fd >= 0;
		const char *op;

		for (op = t->ops; good && *op; op++)
			good = do_op(fd, *op) != -EIO;
		if (fd >= 0)
			close(fd);
		if (good) {
			printf("%llu\n",
			       (unsigned long long)((now_ns() - t0) / 1000000));
			return 0;
		}
		if (now_ns() - t0 > (uint64_t)timeout_ms * 1000000)
			return 1;
		msleep(50);
	}
}

static void bad_args(void)
{
	fprintf(stderr,
		"usage: fault_load [-p PROCS] [-H HANG_MS] [-b PAUSE_MS] [-o STATUS] NODE:OPS...\n"
		"       fault_load -P NODE:OPS [-T TIMEOUT_MS]\n"
		"OPS: r (read), w (write 16 bytes), i (unknown ioctl)\n");
	exit(2);
}

int main(int argc, char **argv)
{
	unsigned int procs = 4, hang_ms = 30000, timeout_ms = 120000;
	struct target targets[MAX_NODES], probe_target;
	const char *status = NULL;
	unsigned int nt = 0, i;
	bool probing = false;
	struct sigaction sa;
	pid_t pids[MAX_PROCS];
	int c;

	while ((c = getopt(argc, argv, "p:H:b:o:P:T:h")) != -1) {
		switch (c) {
		case 'p':
			procs = strtoul(optarg, NULL, 0);
			break;
		case 'H':
			hang_ms = strtoul(optarg, NULL, 0);
			break;
		case 'b':
			pause_ms = strtoul(optarg, NULL, 0);
			break;
		case 'o':
			status = optarg;
			break;
		case 'P':
			if (parse_target(optarg, &probe_target))
				bad_args();
			probing = true;
			break;
		case 'T':
			timeout_ms = strtoul(optarg, NULL, 0);
			break;
		default:
			bad_args();
		}
	}
	if (probing)
		return probe(&probe_target, timeout_ms);
	for (; optind < argc && nt < MAX_NODES; optind++, nt++)
		if (parse_target(argv[optind], &targets[nt]))
			bad_args();
	if (!nt || optind < argc || !procs || procs > MAX_PROCS || !hang_ms)
		bad_args();

	workers = mmap(NULL, sizeof(*workers) * procs, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (workers == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	for (i = 0; i < procs; i++) {
		pids[i] = fork();
		if (pids[i] < 0) {
			perror("fork");
			stop = 1;
			procs = i;
			break;
		}
		if (!pids[i]) {
			work(&workers[i], &targets[i % nt]);
			_exit(0);
		}
	}
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		msleep(200);
		if (status)
			write_status(status, procs, (uint64_t)hang_ms * 1000000);
	}
	for (i = 0; i < procs; i++)
		kill(pids[i], SIGTERM);
	for (i = 0; i < procs; i++)
		waitpid(pids[i], NULL, 0);
	if (status)
		write_status(status, procs, (uint64_t)hang_ms * 1000000);
	sum(procs, (uint64_t)hang_ms * 1000000, stdout);
	return 0;
}
