// SPDX-License-Identifier: GPL-2.0
/*
 * Concurrency stress of the ikfifo sample driver (samples/ikfifo).
 *
 *   fifo_stress [-d NODE] [-p PROCS] [-n CALLS_PER_PROC] [-T TIMEOUT_S]
 *
 * PROCS processes (default 16) start together, each with its own open
 * file, and repeat: exchange the file's tag for a new value unique to the
 * process (the old value must come back exactly: requests reach the right
 * file), write one 16-byte record (producer, sequence, checksums; writes
 * of up to 64 bytes are atomic), read one 16-byte record, which may come
 * from any producer.  Every process writes before it reads, so someone
 * can always make progress.  Shared counters and a bitmap of (producer,
 * sequence) pairs prove at the end that every record was consumed exactly
 * once and intact.  Prints TAP and "# N calls in T s", and every minute a
 * "# progress" line (flushed at once), so that a slow run and a stuck one
 * can be told apart while it runs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ikfifo.h"
#include "kselftest.h"

#define MAX_PROCS	1024
#define REC_MAGIC	0x1f1f0000U

struct record {
	__u32 producer;		/* REC_MAGIC | producer id */
	__u32 seq;
	__u32 mix;		/* derived from producer and seq */
	__u32 check;		/* checksum of the three words above */
};

struct producer {
	unsigned long long done;	/* records this process finished */
	unsigned long long produced, consumed;
	unsigned long long seq_sum_consumed;
};

/* Shared by all processes (MAP_SHARED). */
struct shared {
	unsigned long long calls;
	unsigned long long bad_records, duplicates;
	int failed;
	char first_error[256];
	struct producer prod[MAX_PROCS];
	unsigned long long bitmap[];	/* procs * iters bits */
};

static const char *node = "/dev/ikfifo";
static bool node_given;		/* -d: a missing node is a failure */
static struct shared *sh;
static unsigned int procs = 16, iters;

static __u32 fnv32(const void *data, size_t len)
{
	const unsigned char *p = data;
	__u32 h = 0x811c9dc5U;

	while (len--)
		h = (h ^ *p++) * 0x01000193U;
	return h;
}

static void make_record(struct record *r, __u32 producer, __u32 seq)
{
	r->producer = REC_MAGIC | producer;
	r->seq = seq;
	r->mix = seq * 2654435761U ^ (producer << 20) ^ 0x5a5a5a5aU;
	r->check = fnv32(r, offsetof(struct record, check));
}

static void __printf(1, 2) fail(const char *fmt, ...)
{
	va_list ap;

	if (__atomic_exchange_n(&sh->failed, 1, __ATOMIC_SEQ_CST) == 0) {
		va_start(ap, fmt);
		vsnprintf(sh->first_error, sizeof(sh->first_error), fmt, ap);
		va_end(ap);
	}
}

/* Check a consumed record and account for it. */
static bool consume(const struct record *r)
{
	struct record want;
	__u32 p = r->producer & 0xffff;
	unsigned long long bit, old;

	if ((r->producer & 0xffff0000U) != REC_MAGIC || p >= procs ||
	    r->seq >= iters) {
		__atomic_fetch_add(&sh->bad_records, 1, __ATOMIC_SEQ_CST);
		fail("bad record %08x %08x %08x %08x", r->producer, r->seq,
		     r->mix, r->check);
		return false;
	}
	make_record(&want, p, r->seq);
	if (memcmp(&want, r, sizeof(want))) {
		__atomic_fetch_add(&sh->bad_records, 1, __ATOMIC_SEQ_CST);
		fail("corrupt record of producer %u seq %u", p, r->seq);
		return false;
	}
	bit = (unsigned long long)p * iters + r->seq;
	old = __atomic_fetch_or(&sh->bitmap[bit / 64], 1ULL << (bit % 64),
				__ATOMIC_SEQ_CST);
	if (old & (1ULL << (bit % 64))) {
		__atomic_fetch_add(&sh->duplicates, 1, __ATOMIC_SEQ_CST);
		fail("record of producer %u seq %u consumed twice", p, r->seq);
		return false;
	}
	__atomic_fetch_add(&sh->prod[p].consumed, 1, __ATOMIC_SEQ_CST);
	__atomic_fetch_add(&sh->prod[p].seq_sum_consumed, r->seq, __ATOMIC_SEQ_CST);
	return true;
}

static __u64 tag_of(unsigned int id, unsigned int i)
{
	return ((__u64)(id + 1) << 40) | ((__u64)i << 8) | 0x5a;
}

/* One process's work; returns its exit status. */
static int stress_one(unsigned int id, int start_fd)
{
	unsigned long long calls = 0;
	struct ikfifo_stats st;
	struct record rec, in;
	__u64 prev = 0, tag;
	unsigned int i;
	ssize_t n;
	char c;
	int fd;

	fd = open(node, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		fail("process %u: open: %s", id, strerror(errno));
		return 1;
	}
	/* Wait until the parent lets everyone go at once. */
	if (read(start_fd, &c, 1) != 0) {
		fail("process %u: start barrier", id);
		return 1;
	}
	for (i = 0; i < iters && !__atomic_load_n(&sh->failed, __ATOMIC_RELAXED); i++) {
		tag = tag_of(id, i);
		calls++;
		if (ioctl(fd, IKFIFO_XCHG_TAG, &tag)) {
			fail("process %u: XCHG_TAG: %s", id, strerror(errno));
			break;
		}
		if (tag != prev) {
			fail("process %u: XCHG_TAG returned %#llx, not %#llx", id,
			     (unsigned long long)tag, (unsigned long long)prev);
			break;
		}
		prev = tag_of(id, i);

		make_record(&rec, id, i);
		calls++;
		n = write(fd, &rec, sizeof(rec));
		if (n != sizeof(rec)) {
			fail("process %u: write returned %zd (%s)", id, n,
			     n < 0 ? strerror(errno) : "short");
			break;
		}
		__atomic_fetch_add(&sh->prod[id].produced, 1, __ATOMIC_SEQ_CST);

		calls++;
		n = read(fd, &in, sizeof(in));
		if (n != sizeof(in)) {
			fail("process %u: read returned %zd (%s)", id, n,
			     n < 0 ? strerror(errno) : "short");
			break;
		}
		if (!consume(&in))
			break;
		__atomic_store_n(&sh->prod[id].done, i + 1, __ATOMIC_RELAXED);

		/* Now and then: the FIFO only ever holds whole records. */
		if (i % 64 == 63) {
			calls++;
			if (ioctl(fd, IKFIFO_GET_STATS, &st)) {
				fail("process %u: GET_STATS: %s", id, strerror(errno));
				break;
			}
			if (st.used % sizeof(rec) || st.used > st.capacity) {
				fail("process %u: %u bytes buffered", id, st.used);
				break;
			}
		}
	}
	/* The tag is the last one set. */
	tag = 0;
	calls++;
	if (!sh->failed && (ioctl(fd, IKFIFO_XCHG_TAG, &tag) || tag != prev))
		fail("process %u: final tag %#llx, not %#llx", id,
		     (unsigned long long)tag, (unsigned long long)prev);
	__atomic_fetch_add(&sh->calls, calls, __ATOMIC_SEQ_CST);
	close(fd);
	return sh->failed ? 1 : 0;
}

#define PROGRESS_S	60

static int ticked;

static void on_alarm(int sig)
{
	ticked = 1;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A progress line: records done in all, and by the slowest process. */
static void report_progress(double elapsed)
{
	unsigned long long all = 0, least = ~0ULL, d;
	unsigned int p, slowest = 0;

	for (p = 0; p < procs; p++) {
		d = __atomic_load_n(&sh->prod[p].done, __ATOMIC_RELAXED);
		all += d;
		if (d < least) {
			least = d;
			slowest = p;
		}
	}
	ksft_print_msg("progress: %.0f s, %llu of %llu records, slowest process %u at %llu\n",
		       elapsed, all, (unsigned long long)procs * iters, slowest, least);
	fflush(stdout);
}

/* The final accounting; true if every record was consumed exactly once. */
static bool verify(const struct ikfifo_stats *before,
		   const struct ikfifo_stats *after)
{
	unsigned long long total = (unsigned long long)procs * iters;
	unsigned long long want_sum = (unsigned long long)iters * (iters - 1) / 2;
	unsigned long long bit, moved = total * sizeof(struct record);
	unsigned int p;

	for (p = 0; p < procs; p++) {
		if (sh->prod[p].produced != iters || sh->prod[p].consumed != iters ||
		    sh->prod[p].seq_sum_consumed != want_sum) {
			ksft_print_msg("producer %u: produced %llu consumed %llu seq sum %llu (want %u, %u, %llu)\n",
				       p, sh->prod[p].produced, sh->prod[p].consumed,
				       sh->prod[p].seq_sum_consumed, iters, iters, want_sum);
			return false;
		}
	}
	for (bit = 0; bit < total; bit++) {
		if (!(sh->bitmap[bit / 64] & (1ULL << (bit % 64)))) {
			ksft_print_msg("record of producer %llu seq %llu never consumed\n",
				       bit / iters, bit % iters);
			return false;
		}
	}
	if (sh->bad_records || sh->duplicates) {
		ksft_print_msg("%llu bad records, %llu duplicates\n",
			       sh->bad_records, sh->duplicates);
		return false;
	}
	if (after->used || after->bytes_read - before->bytes_read != moved ||
	    after->bytes_written - before->bytes_written != moved) {
		ksft_print_msg("driver: %u bytes left, %llu read, %llu written, want 0, %llu, %llu\n",
			       after->used,
			       (unsigned long long)(after->bytes_read - before->bytes_read),
			       (unsigned long long)(after->bytes_written - before->bytes_written),
			       moved, moved);
		return false;
	}
	return true;
}

int main(int argc, char **argv)
{
	unsigned long calls_per_proc = 7500, timeout = 300;
	struct ikfifo_stats before, after;
	struct sigaction sa = { .sa_handler = on_alarm };
	int opt, fd, start[2], status;
	unsigned int i, running;
	size_t size;
	pid_t *pids;
	bool ok, killed = false;
	double t0, t;

	while ((opt = getopt(argc, argv, "d:p:n:T:h")) != -1) {
		switch (opt) {
		case 'd':
			node = optarg;
			node_given = true;
			break;
		case 'p':
			procs = strtoul(optarg, NULL, 0);
			break;
		case 'n':
			calls_per_proc = strtoul(optarg, NULL, 0);
			break;
		case 'T':
			timeout = strtoul(optarg, NULL, 0);
			break;
		default:
			fprintf(stderr,
				"%s [-d NODE] [-p PROCS=16] [-n CALLS_PER_PROC=7500] [-T TIMEOUT_S=300]\n",
				argv[0]);
			return opt == 'h' ? 0 : KSFT_FAIL;
		}
	}
	/* Three calls (tag, write, read) per record. */
	iters = (calls_per_proc + 2) / 3;
	if (procs < 1 || procs > MAX_PROCS || iters < 1 || iters > 1U << 24) {
		fprintf(stderr, "%s: bad -p or -n\n", argv[0]);
		return KSFT_FAIL;
	}

	ksft_print_header();
	ksft_set_plan(1);
	fd = open(node, O_RDWR | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && !node_given)
		ksft_exit_skip("%s not present (module not loaded)\n", node);
	if (fd < 0)
		ksft_exit_fail_msg("open %s: %s\n", node, strerror(errno));
	if (ioctl(fd, IKFIFO_CLEAR, 0) < 0 || ioctl(fd, IKFIFO_GET_STATS, &before))
		ksft_exit_fail_msg("CLEAR/GET_STATS: %s\n", strerror(errno));

	size = sizeof(*sh) + ((size_t)procs * iters + 63) / 64 * 8;
	sh = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		  -1, 0);
	pids = calloc(procs, sizeof(*pids));
	if (sh == MAP_FAILED || !pids || pipe(start))
		ksft_exit_fail_msg("setup: %s\n", strerror(errno));

	ksft_print_msg("%u processes, %u records each, capacity %u\n", procs,
		       iters, before.capacity);
	for (i = 0; i < procs; i++) {
		pids[i] = fork();
		if (pids[i] < 0) {
			fail("fork: %s", strerror(errno));
			break;
		}
		if (pids[i] == 0) {
			close(start[1]);
			_exit(stress_one(i, start[0]));
		}
	}
	running = i;
	close(start[0]);

	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	fflush(stdout);
	alarm(PROGRESS_S);
	t0 = now();
	close(start[1]);	/* go */
	while (running) {
		pid_t pid = waitpid(-1, &status, 0);

		if (pid < 0 && errno == EINTR && ticked) {
			ticked = 0;
			report_progress(now() - t0);
			if (now() - t0 < timeout && !killed) {
				alarm(PROGRESS_S);
				continue;
			}
			if (!killed) {
				fail("timed out after %lu s", timeout);
				for (i = 0; i < procs; i++)
					if (pids[i] > 0)
						kill(pids[i], SIGKILL);
				killed = true;
			}
			alarm(PROGRESS_S);
			continue;
		}
		if (pid < 0)
			break;
		running--;
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			fail("a process %s", sh->failed ? "failed" : "died");
	}
	t = now() - t0;
	alarm(0);

	if (ioctl(fd, IKFIFO_GET_STATS, &after))
		fail("GET_STATS: %s", strerror(errno));
	ksft_print_msg("%llu calls in %.2f s (%.0f calls/s)\n", sh->calls, t,
		       sh->calls / (t > 0 ? t : 1));
	ok = !sh->failed && verify(&before, &after);
	if (sh->failed)
		ksft_print_msg("%s\n", sh->first_error);
	close(fd);
	ksft_test_result(ok, "fifo_stress %u processes, %u records each\n",
			 procs, iters);
	ksft_finished();
}
