// SPDX-License-Identifier: GPL-2.0
/*
 * Differential test of the ikfifo sample driver (samples/ikfifo).
 *
 *   fifo_test [-d NODE] [-t TRANSCRIPT] [-- HARNESS-OPTIONS]
 *
 * Runs against the driver loaded natively (/dev/ikfifo, the default) or
 * against an isolated export of it forwarded to a driver VM.  Every check
 * asserts what the native driver does, and every operation is also
 * written to TRANSCRIPT, one line each:
 *
 *   TEST OP ret=RET errno=ERRNO [data=LEN:FNV1A64]
 *   TEST OP KEY=VALUE...
 *
 * The transcript holds nothing that differs between runs (no node name,
 * file descriptor number, pid, address or time), so the transcripts of a
 * native and an isolated run must be identical.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ikfifo.h"
#include "kselftest_harness.h"

static const char *node = "/dev/ikfifo";
static bool node_given;		/* -d: a missing node is a failure */
static int transcript_fd = -1;
static int last_errno;

/*
 * Deliberately bad pointers and sizes, laundered so that the compiler
 * does not warn about them.  The pointers: address 1, NULL, and an
 * address no user pointer can have (the start of x86-64's direct map).
 */
static unsigned long launder(unsigned long v)
{
	__asm__("" : "+r"(v));
	return v;
}

#define BAD_PTR ((void *)launder(1))
#define NULL_PTR ((void *)launder(0))
#define KERNEL_PTR ((void *)launder(0xffff888000000000UL))

static unsigned long long fnv1a(const void *data, size_t len)
{
	const unsigned char *p = data;
	unsigned long long h = 0xcbf29ce484222325ULL;

	while (len--)
		h = (h ^ *p++) * 0x100000001b3ULL;
	return h;
}

static const char *errname(int err)
{
	static char buf[16];
	const char *s;

	if (!err)
		return "0";
	s = strerrorname_np(err);
	if (s)
		return s;
	snprintf(buf, sizeof(buf), "E%d", err);
	return buf;
}

/* One transcript line, prefixed with the test's name. */
static void __printf(2, 3)
note(struct __test_metadata *_metadata, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	n = snprintf(line, sizeof(line), "%s ", _metadata->name);
	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	if (transcript_fd >= 0 && write(transcript_fd, line, n) != n)
		ksft_print_msg("transcript write failed: %s\n", strerror(errno));
}

static void note_ret(struct __test_metadata *_metadata, const char *op,
		     long long ret, int err, const void *data)
{
	if (data && ret > 0)
		note(_metadata, "%s ret=%lld errno=%s data=%lld:%016llx", op, ret,
		     errname(err), ret, fnv1a(data, ret));
	else
		note(_metadata, "%s ret=%lld errno=%s", op, ret, errname(err));
}

/*
 * RUN(op, call): run CALL with errno cleared, note it as OP and yield its
 * result; RUN_DATA also notes the hash of the RET bytes at DATA.
 */
#define RUN_DATA(op, data, call) ({					\
	long long __r;							\
	errno = 0;							\
	__r = (long long)(call);					\
	last_errno = __r < 0 ? errno : 0;				\
	note_ret(_metadata, op, __r, last_errno, data);			\
	__r;								\
})
#define RUN(op, call) RUN_DATA(op, NULL, call)

/* CALL must return EXPECT. */
#define CHECK(op, expect, call) do {					\
	long long __ret = RUN(op, call);				\
	ASSERT_EQ((long long)(expect), __ret)				\
		TH_LOG("%s: errno %s", op, errname(last_errno));	\
} while (0)

/* CALL must fail with errno ERR. */
#define CHECK_ERR(op, err, call) do {					\
	long long __ret = RUN(op, call);				\
	ASSERT_EQ(-1LL, __ret) TH_LOG("%s: want %s", op, errname(err));	\
	ASSERT_STREQ(errname(err), errname(last_errno))		\
		TH_LOG("%s", op);					\
} while (0)

/* Open the node; the transcript only says whether that worked. */
static int open_node(struct __test_metadata *_metadata, const char *op,
		     int flags)
{
	int fd;

	errno = 0;
	fd = open(node, flags | O_CLOEXEC);
	last_errno = fd < 0 ? errno : 0;
	note_ret(_metadata, op, fd < 0 ? -1 : 0, last_errno, NULL);
	return fd;
}

/*
 * The bytes written through the FIFO form one stream, byte i being
 * stream_byte(i); put() writes the next bytes of it, get() reads and
 * checks them, so any loss, duplication or reordering shows.
 */
struct stream {
	unsigned long long wpos, rpos;
};

static unsigned char stream_byte(unsigned long long i)
{
	return (unsigned char)(i * 131 + (i >> 8) * 7 + 1);
}

static void stream_fill(unsigned char *buf, unsigned long long pos, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		buf[i] = stream_byte(pos + i);
}

static void put(struct __test_metadata *_metadata, struct stream *s,
		const char *op, int fd, size_t n, long long expect)
{
	static unsigned char buf[1 << 16];
	long long ret;

	ASSERT_GE(sizeof(buf), n);
	stream_fill(buf, s->wpos, n);
	ret = RUN(op, write(fd, buf, n));
	ASSERT_EQ(expect, ret) TH_LOG("%s: errno %s", op, errname(last_errno));
	if (ret > 0)
		s->wpos += ret;
}

/* The N bytes at BUF must be the next ones of the stream. */
static void expect_stream(struct __test_metadata *_metadata, struct stream *s,
			  const char *op, const unsigned char *buf, size_t n)
{
	static unsigned char want[1 << 16];

	ASSERT_GE(sizeof(want), n);
	stream_fill(want, s->rpos, n);
	ASSERT_EQ(0, memcmp(buf, want, n))
		TH_LOG("%s: data differs near stream offset %llu", op, s->rpos);
	s->rpos += n;
}

static void get(struct __test_metadata *_metadata, struct stream *s,
		const char *op, int fd, size_t n, long long expect)
{
	static unsigned char buf[1 << 16];
	long long ret;

	ASSERT_GE(sizeof(buf), n);
	ret = RUN_DATA(op, buf, read(fd, buf, n));
	ASSERT_EQ(expect, ret) TH_LOG("%s: errno %s", op, errname(last_errno));
	if (ret > 0)
		expect_stream(_metadata, s, op, buf, ret);
}

/* Read back everything written, in reads of up to 1024 bytes. */
static void drain(struct __test_metadata *_metadata, struct stream *s, int fd)
{
	unsigned long long left;

	while (s->rpos < s->wpos) {
		left = s->wpos - s->rpos;
		get(_metadata, s, "drain", fd, 1024, left < 1024 ? left : 1024);
	}
}

/* GET_STATS, noted with the byte counters relative to BASE. */
static void stats(struct __test_metadata *_metadata, const char *op, int fd,
		  const struct ikfifo_stats *base, struct ikfifo_stats *st)
{
	CHECK(op, 0, ioctl(fd, IKFIFO_GET_STATS, st));
	note(_metadata, "%s capacity=%u used=%u read=+%llu written=+%llu", op,
	     st->capacity, st->used,
	     (unsigned long long)(st->bytes_read - base->bytes_read),
	     (unsigned long long)(st->bytes_written - base->bytes_written));
}

/* Assert that USED bytes are buffered. */
static void expect_used(struct __test_metadata *_metadata, const char *op,
			int fd, __u32 used)
{
	struct ikfifo_stats st;

	CHECK(op, 0, ioctl(fd, IKFIFO_GET_STATS, &st));
	note(_metadata, "%s used=%u", op, st.used);
	ASSERT_EQ(used, st.used) TH_LOG("%s", op);
}

static bool read_text(const char *path, char *buf, size_t size)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return false;
	buf[n] = '\0';
	return true;
}

/*
 * Wait (up to 10 s) until task TID sleeps in system call NR or NR2, so
 * that what follows happens while it is blocked in the driver.
 */
static bool wait_blocked(pid_t tid, long nr, long nr2)
{
	char path[64], buf[512], *p;
	long cur;
	int i;

	for (i = 0; i < 10000; i++) {
		snprintf(path, sizeof(path), "/proc/%d/syscall", tid);
		if (!read_text(path, buf, sizeof(buf))) {
			/* No /proc/PID/syscall: settle for a long pause. */
			usleep(300000);
			return true;
		}
		cur = strtol(buf, &p, 10);
		if (p != buf && (cur == nr || cur == nr2)) {
			snprintf(path, sizeof(path), "/proc/%d/stat", tid);
			if (read_text(path, buf, sizeof(buf))) {
				p = strrchr(buf, ')');
				if (p && (p[2] == 'S' || p[2] == 'D'))
					return true;
			}
		}
		usleep(1000);
	}
	return false;
}

/* What a child process or thread saw, for the parent to note. */
struct result {
	long long ret;
	int err;
	int revents;
	int done;
	unsigned char data[256];
};

static struct result *shared_result(void)
{
	struct result *r;

	r = mmap(NULL, sizeof(*r), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (r == MAP_FAILED)
		return NULL;
	memset(r, 0, sizeof(*r));
	return r;
}

/* Reap PID, which must exit with status 0. */
#define REAP(pid) do {							\
	int __status;							\
	ASSERT_EQ(pid, waitpid(pid, &__status, 0));			\
	ASSERT_TRUE(WIFEXITED(__status));				\
	ASSERT_EQ(0, WEXITSTATUS(__status));				\
} while (0)

/* Note the child's result and check it against the stream. */
static void check_result(struct __test_metadata *_metadata, struct stream *s,
			 const char *op, struct result *r, long long expect,
			 bool is_read)
{
	note_ret(_metadata, op, r->ret, r->err, is_read ? r->data : NULL);
	ASSERT_EQ(expect, r->ret) TH_LOG("%s: errno %s", op, errname(r->err));
	if (is_read && r->ret > 0)
		expect_stream(_metadata, s, op, r->data, r->ret);
}

FIXTURE(fifo) {
	int fd;				/* O_RDWR, blocking */
	__u32 cap;
	struct ikfifo_stats base;	/* counters at the start */
	struct stream s;
};

FIXTURE_SETUP(fifo)
{
	self->fd = open(node, O_RDWR | O_CLOEXEC);
	if (self->fd < 0 && errno == ENOENT && !node_given)
		SKIP(return, "%s not present (module not loaded)", node);
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", node, strerror(errno));
	/* Whatever an earlier run left behind goes; not in the transcript. */
	ASSERT_LE(0, ioctl(self->fd, IKFIFO_CLEAR, 0));
	ASSERT_EQ(0, ioctl(self->fd, IKFIFO_GET_STATS, &self->base));
	ASSERT_EQ(0, self->base.used);
	self->cap = self->base.capacity;
	/* The tests write up to 1000 bytes at once and 64 KiB at most. */
	ASSERT_LE(1024, self->cap);
	ASSERT_GE(65536, self->cap);
	note(_metadata, "start capacity=%u", self->cap);
}

FIXTURE_TEARDOWN(fifo)
{
	if (self->fd >= 0) {
		ioctl(self->fd, IKFIFO_CLEAR, 0);
		close(self->fd);
	}
}

TEST_F(fifo, open_modes)
{
	unsigned char buf[100];
	int rd, wr, rw;

	rd = open_node(_metadata, "open_rdonly", O_RDONLY);
	ASSERT_LE(0, rd);
	wr = open_node(_metadata, "open_wronly", O_WRONLY);
	ASSERT_LE(0, wr);
	rw = open_node(_metadata, "open_rdwr_nonblock", O_RDWR | O_NONBLOCK);
	ASSERT_LE(0, rw);

	CHECK_ERR("write_rdonly", EBADF, write(rd, "x", 1));
	CHECK_ERR("read_wronly", EBADF, read(wr, buf, 1));
	CHECK_ERR("read_nonblock_empty", EAGAIN, read(rw, buf, 1));
	expect_used(_metadata, "stats_rdonly", rd, 0);
	expect_used(_metadata, "stats_wronly", wr, 0);

	put(_metadata, &self->s, "write_wronly", wr, 10, 10);
	get(_metadata, &self->s, "read_rdonly", rd, 100, 10);
	put(_metadata, &self->s, "write_rdwr", rw, 20, 20);
	get(_metadata, &self->s, "read_rdwr", rw, 100, 20);

	CHECK("close_rdonly", 0, close(rd));
	CHECK("close_wronly", 0, close(wr));
	CHECK("close_rdwr", 0, close(rw));
	CHECK_ERR("read_closed", EBADF, read(rd, buf, 1));
}

TEST_F(fifo, roundtrip)
{
	struct ikfifo_stats st;
	int i;

	put(_metadata, &self->s, "write10", self->fd, 10, 10);
	stats(_metadata, "stats", self->fd, &self->base, &st);
	ASSERT_EQ(10, st.used);
	ASSERT_EQ(10, st.bytes_written - self->base.bytes_written);
	ASSERT_EQ(0, st.bytes_read - self->base.bytes_read);
	/* A short read: what is there, no more. */
	get(_metadata, &self->s, "read100", self->fd, 100, 10);
	stats(_metadata, "stats", self->fd, &self->base, &st);
	ASSERT_EQ(0, st.used);
	ASSERT_EQ(10, st.bytes_read - self->base.bytes_read);

	/* Several writes come back as one read, in order. */
	for (i = 1; i <= 5; i++)
		put(_metadata, &self->s, "write", self->fd, i * 7, i * 7);
	get(_metadata, &self->s, "read_all", self->fd, 1000, 105);
	/* Reads smaller than what is buffered. */
	put(_metadata, &self->s, "write", self->fd, 50, 50);
	for (i = 0; i < 5; i++)
		get(_metadata, &self->s, "read10", self->fd, 10, 10);
	expect_used(_metadata, "empty", self->fd, 0);
}

TEST_F(fifo, zero_length)
{
	unsigned char buf[8];

	/* Even a blocking read of nothing returns at once. */
	CHECK("read0_empty", 0, read(self->fd, buf, 0));
	CHECK("read0_null", 0, read(self->fd, NULL_PTR, 0));
	CHECK("write0", 0, write(self->fd, buf, 0));
	CHECK("write0_null", 0, write(self->fd, NULL_PTR, 0));
	put(_metadata, &self->s, "write", self->fd, 5, 5);
	CHECK("read0_data", 0, read(self->fd, buf, 0));
	expect_used(_metadata, "used", self->fd, 5);
	CHECK("lseek_cur", 5, lseek(self->fd, 0, SEEK_CUR));
}

TEST_F(fifo, nonblock_empty)
{
	unsigned char buf[16];
	int one = 1, zero = 0, nb;

	nb = open_node(_metadata, "open_nonblock", O_RDWR | O_NONBLOCK);
	ASSERT_LE(0, nb);
	CHECK_ERR("read_nonblock", EAGAIN, read(nb, buf, sizeof(buf)));
	/* O_NONBLOCK set after open, two ways, is seen by the driver. */
	CHECK("fcntl_setfl_nonblock", 0, fcntl(self->fd, F_SETFL, O_NONBLOCK));
	CHECK_ERR("read_after_setfl", EAGAIN, read(self->fd, buf, sizeof(buf)));
	CHECK("fcntl_setfl_0", 0, fcntl(self->fd, F_SETFL, 0));
	CHECK("fionbio_1", 0, ioctl(self->fd, FIONBIO, &one));
	CHECK_ERR("read_after_fionbio", EAGAIN, read(self->fd, buf, sizeof(buf)));
	CHECK("fionbio_0", 0, ioctl(self->fd, FIONBIO, &zero));
	CHECK("getfl", O_RDWR, fcntl(self->fd, F_GETFL) & (O_ACCMODE | O_NONBLOCK));
	/* Data present: O_NONBLOCK reads it. */
	put(_metadata, &self->s, "write", self->fd, 3, 3);
	get(_metadata, &self->s, "read_nonblock_data", nb, sizeof(buf), 3);
	CHECK_ERR("read_nonblock_again", EAGAIN, read(nb, buf, sizeof(buf)));
	CHECK("close", 0, close(nb));
}

/* Fill with O_NONBLOCK writes; then the atomicity of small writes. */
TEST_F(fifo, fill_nonblock)
{
	struct pollfd pfd;
	size_t total = 0;
	long long want;
	int nb;

	nb = open_node(_metadata, "open_nonblock", O_RDWR | O_NONBLOCK);
	ASSERT_LE(0, nb);
	while (total < self->cap) {
		want = self->cap - total < 1000 ? self->cap - total : 1000;
		put(_metadata, &self->s, "write1000", nb, 1000, want);
		total += want;
	}
	note(_metadata, "filled total=%zu", total);
	put(_metadata, &self->s, "write1000_full", nb, 1000, -1);
	ASSERT_EQ(EAGAIN, last_errno);
	put(_metadata, &self->s, "write1_full", nb, 1, -1);
	ASSERT_EQ(EAGAIN, last_errno);
	put(_metadata, &self->s, "write64_full", nb, 64, -1);
	ASSERT_EQ(EAGAIN, last_errno);
	expect_used(_metadata, "full", nb, self->cap);
	pfd = (struct pollfd){ .fd = nb, .events = POLLOUT };
	CHECK("poll_out_full", 0, poll(&pfd, 1, 0));

	/* 10 bytes free: 64 bytes must fit entirely, 65 need not. */
	get(_metadata, &self->s, "read10", nb, 10, 10);
	put(_metadata, &self->s, "write64_10free", nb, 64, -1);
	ASSERT_EQ(EAGAIN, last_errno);
	put(_metadata, &self->s, "write10_10free", nb, 10, 10);
	get(_metadata, &self->s, "read10", nb, 10, 10);
	put(_metadata, &self->s, "write65_10free", nb, 65, 10);
	get(_metadata, &self->s, "read100", nb, 100, 100);
	put(_metadata, &self->s, "write64_100free", nb, 64, 64);
	put(_metadata, &self->s, "write64_36free", nb, 64, -1);
	ASSERT_EQ(EAGAIN, last_errno);
	put(_metadata, &self->s, "write36_36free", nb, 36, 36);
	expect_used(_metadata, "full", nb, self->cap);

	/* Everything comes back in order. */
	drain(_metadata, &self->s, nb);
	get(_metadata, &self->s, "read_empty", nb, 1000, -1);
	ASSERT_EQ(EAGAIN, last_errno);
	CHECK("close", 0, close(nb));
}

/* Many passes over the end of the circular buffer. */
TEST_F(fifo, wraparound)
{
	int i;

	for (i = 0; i < 12; i++) {
		put(_metadata, &self->s, "write1000", self->fd, 1000, 1000);
		put(_metadata, &self->s, "write333", self->fd, 333, 333);
		get(_metadata, &self->s, "read777", self->fd, 777, 777);
		get(_metadata, &self->s, "read556", self->fd, 556, 556);
	}
	expect_used(_metadata, "empty", self->fd, 0);
	/* One byte at a time across the end. */
	for (i = 0; i < 40; i++) {
		put(_metadata, &self->s, "write1", self->fd, 1, 1);
		get(_metadata, &self->s, "read1", self->fd, 1, 1);
	}
}

#define POLL_ALL (POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM)

static int do_poll(struct __test_metadata *_metadata, const char *op, int fd,
		   short events, int timeout)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	long long ret;

	ret = RUN(op, poll(&pfd, 1, timeout));
	note(_metadata, "%s revents=0x%x", op, pfd.revents);
	return ret < 0 ? -1 : pfd.revents;
}

TEST_F(fifo, poll_states)
{
	ASSERT_EQ(0, do_poll(_metadata, "poll_in_empty_100ms", self->fd, POLLIN, 100));
	ASSERT_EQ(POLLOUT | POLLWRNORM,
		  do_poll(_metadata, "poll_all_empty", self->fd, POLL_ALL, 0));
	put(_metadata, &self->s, "write1", self->fd, 1, 1);
	ASSERT_EQ(POLL_ALL, do_poll(_metadata, "poll_all_1", self->fd, POLL_ALL, 0));
	ASSERT_EQ(POLLIN, do_poll(_metadata, "poll_in_1", self->fd, POLLIN, 100));
	put(_metadata, &self->s, "fill", self->fd, self->cap - 1, self->cap - 1);
	ASSERT_EQ(POLLIN | POLLRDNORM,
		  do_poll(_metadata, "poll_all_full", self->fd, POLL_ALL, 0));
	ASSERT_EQ(0, do_poll(_metadata, "poll_out_full_100ms", self->fd, POLLOUT, 100));
	get(_metadata, &self->s, "read1", self->fd, 1, 1);
	ASSERT_EQ(POLL_ALL, do_poll(_metadata, "poll_all_1free", self->fd, POLL_ALL, 0));
}

/*
 * Forks a child that polls FD for EVENTS (up to 20 s) and leaves the
 * outcome in R; returns its pid (-1 if fork failed).
 */
static pid_t fork_poller(struct result *r, int fd, short events)
{
	pid_t pid = fork();

	if (pid == 0) {
		struct pollfd pfd = { .fd = fd, .events = events };

		r->ret = poll(&pfd, 1, 20000);
		r->err = r->ret < 0 ? errno : 0;
		r->revents = pfd.revents;
		_exit(0);
	}
	return pid;
}

/* A poll blocked in a child wakes up when another file makes it true. */
TEST_F(fifo, poll_wakeup)
{
	struct result *r = shared_result();
	pid_t pid;

	ASSERT_NE(NULL, r);
	pid = fork_poller(r, self->fd, POLLIN);
	ASSERT_LE(0, pid);
	ASSERT_TRUE(wait_blocked(pid, __NR_poll, __NR_ppoll));
	put(_metadata, &self->s, "write5", self->fd, 5, 5);
	REAP(pid);
	note_ret(_metadata, "child_poll_in", r->ret, r->err, NULL);
	note(_metadata, "child_poll_in revents=0x%x", r->revents);
	ASSERT_EQ(1, r->ret);
	ASSERT_EQ(POLLIN, r->revents);

	/* And POLLOUT when a full FIFO gets space. */
	put(_metadata, &self->s, "fill", self->fd, self->cap - 5, self->cap - 5);
	memset(r, 0, sizeof(*r));
	pid = fork_poller(r, self->fd, POLLOUT);
	ASSERT_LE(0, pid);
	ASSERT_TRUE(wait_blocked(pid, __NR_poll, __NR_ppoll));
	get(_metadata, &self->s, "read1", self->fd, 1, 1);
	REAP(pid);
	note_ret(_metadata, "child_poll_out", r->ret, r->err, NULL);
	note(_metadata, "child_poll_out revents=0x%x", r->revents);
	ASSERT_EQ(1, r->ret);
	ASSERT_EQ(POLLOUT, r->revents);
}

/* A read blocked in a child (own file) is woken by a write elsewhere. */
TEST_F(fifo, blocking_read_wakeup)
{
	struct result *r = shared_result();
	pid_t pid;

	ASSERT_NE(NULL, r);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int fd = open(node, O_RDONLY | O_CLOEXEC);

		r->ret = fd < 0 ? -1 : read(fd, r->data, 100);
		r->err = r->ret < 0 ? errno : 0;
		_exit(0);
	}
	ASSERT_TRUE(wait_blocked(pid, __NR_read, __NR_read));
	put(_metadata, &self->s, "write10", self->fd, 10, 10);
	REAP(pid);
	check_result(_metadata, &self->s, "child_read", r, 10, true);
	expect_used(_metadata, "empty", self->fd, 0);
}

/* A blocked write wakes when a read makes room, and writes what fits. */
TEST_F(fifo, blocking_write_wakeup)
{
	struct result *r = shared_result();
	unsigned char buf[100];
	pid_t pid;

	ASSERT_NE(NULL, r);
	put(_metadata, &self->s, "fill", self->fd, self->cap, self->cap);
	stream_fill(buf, self->s.wpos, sizeof(buf));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		r->ret = write(self->fd, buf, 100);
		r->err = r->ret < 0 ? errno : 0;
		_exit(0);
	}
	ASSERT_TRUE(wait_blocked(pid, __NR_write, __NR_write));
	get(_metadata, &self->s, "read30", self->fd, 30, 30);
	REAP(pid);
	check_result(_metadata, &self->s, "child_write100", r, 30, false);
	self->s.wpos += 30;
	expect_used(_metadata, "full", self->fd, self->cap);
	drain(_metadata, &self->s, self->fd);
}

/* An atomic write waits until all of it fits, however often it wakes. */
TEST_F(fifo, atomic_write_blocks)
{
	struct result *r = shared_result();
	unsigned char buf[64];
	int status;
	pid_t pid;

	ASSERT_NE(NULL, r);
	put(_metadata, &self->s, "fill", self->fd, self->cap - 10, self->cap - 10);
	stream_fill(buf, self->s.wpos, sizeof(buf));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		r->ret = write(self->fd, buf, 64);
		r->err = r->ret < 0 ? errno : 0;
		_exit(0);
	}
	ASSERT_TRUE(wait_blocked(pid, __NR_write, __NR_write));
	get(_metadata, &self->s, "read32", self->fd, 32, 32);
	/* 42 bytes free: the writer must still be waiting. */
	usleep(100000);
	ASSERT_EQ(0, waitpid(pid, &status, WNOHANG));
	ASSERT_TRUE(wait_blocked(pid, __NR_write, __NR_write));
	note(_metadata, "writer_waits_with_42_free yes");
	get(_metadata, &self->s, "read32", self->fd, 32, 32);
	REAP(pid);
	check_result(_metadata, &self->s, "child_write64", r, 64, false);
	self->s.wpos += 64;
	drain(_metadata, &self->s, self->fd);
}

static int alarms;

static void on_alarm(int sig)
{
	__atomic_fetch_add(&alarms, 1, __ATOMIC_SEQ_CST);
}

static void set_alarm_handler(struct __test_metadata *_metadata, int flags)
{
	struct sigaction sa = { .sa_handler = on_alarm, .sa_flags = flags };

	sigemptyset(&sa.sa_mask);
	ASSERT_EQ(0, sigaction(SIGALRM, &sa, NULL));
	__atomic_store_n(&alarms, 0, __ATOMIC_SEQ_CST);
}

/* Helper thread: signal TARGET once it blocks in SYSCALL_NR; optionally
 * wait until it blocks again (restarted) and then write WRITE_LEN bytes.
 */
struct signaller {
	pthread_t target;
	pid_t target_tid;
	long syscall_nr;
	int write_fd;
	unsigned char data[16];
	size_t write_len;
	bool blocked, reblocked;
	long long write_ret;
};

static void *signaller(void *arg)
{
	struct signaller *sg = arg;

	sg->blocked = wait_blocked(sg->target_tid, sg->syscall_nr, sg->syscall_nr);
	pthread_kill(sg->target, SIGALRM);
	if (!sg->write_len)
		return NULL;
	while (!__atomic_load_n(&alarms, __ATOMIC_SEQ_CST))
		usleep(1000);
	sg->reblocked = wait_blocked(sg->target_tid, sg->syscall_nr, sg->syscall_nr);
	sg->write_ret = write(sg->write_fd, sg->data, sg->write_len);
	return NULL;
}

/* Without SA_RESTART a signal ends a blocked read or write with EINTR. */
TEST_F(fifo, signal_eintr)
{
	struct signaller sg = { .target = pthread_self(), .target_tid = gettid() };
	unsigned char buf[64];
	pthread_t t;

	set_alarm_handler(_metadata, 0);
	sg.syscall_nr = __NR_read;
	ASSERT_EQ(0, pthread_create(&t, NULL, signaller, &sg));
	CHECK_ERR("read_interrupted", EINTR, read(self->fd, buf, sizeof(buf)));
	ASSERT_EQ(0, pthread_join(t, NULL));
	ASSERT_TRUE(sg.blocked);
	note(_metadata, "handler_calls=%d", alarms);
	ASSERT_EQ(1, alarms);

	put(_metadata, &self->s, "fill", self->fd, self->cap, self->cap);
	set_alarm_handler(_metadata, 0);
	sg.syscall_nr = __NR_write;
	ASSERT_EQ(0, pthread_create(&t, NULL, signaller, &sg));
	CHECK_ERR("write_interrupted", EINTR, write(self->fd, buf, 1));
	ASSERT_EQ(0, pthread_join(t, NULL));
	ASSERT_TRUE(sg.blocked);
	note(_metadata, "handler_calls=%d", alarms);
	ASSERT_EQ(1, alarms);
	expect_used(_metadata, "still_full", self->fd, self->cap);
}

/* With SA_RESTART the interrupted read restarts and gets the data. */
TEST_F(fifo, signal_restart)
{
	struct signaller sg = { .target = pthread_self(), .target_tid = gettid() };
	unsigned char buf[64];
	pthread_t t;

	set_alarm_handler(_metadata, SA_RESTART);
	sg.syscall_nr = __NR_read;
	sg.write_fd = self->fd;
	sg.write_len = 10;
	stream_fill(sg.data, self->s.wpos, sg.write_len);
	ASSERT_EQ(0, pthread_create(&t, NULL, signaller, &sg));
	get(_metadata, &self->s, "read_restarted", self->fd, sizeof(buf), 10);
	ASSERT_EQ(0, pthread_join(t, NULL));
	self->s.wpos += 10;
	ASSERT_TRUE(sg.blocked);
	ASSERT_TRUE(sg.reblocked);
	note(_metadata, "handler_calls=%d writer_ret=%lld", alarms, sg.write_ret);
	ASSERT_EQ(1, alarms);
	ASSERT_EQ(10, sg.write_ret);
}

struct reader {
	int fd;
	pid_t tid;
	struct result r;
};

static void *reader(void *arg)
{
	struct reader *rd = arg;

	__atomic_store_n(&rd->tid, gettid(), __ATOMIC_SEQ_CST);
	rd->r.ret = read(rd->fd, rd->r.data, 100);
	rd->r.err = rd->r.ret < 0 ? errno : 0;
	__atomic_store_n(&rd->r.done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

/*
 * close() of the file descriptor while another thread is blocked reading
 * through it: the read holds its own reference to the file, keeps
 * waiting, and completes when data arrives through another file.
 */
TEST_F(fifo, close_during_read)
{
	struct reader rd = {};
	unsigned char buf[4];
	pthread_t t;

	rd.fd = open_node(_metadata, "open_reader", O_RDONLY);
	ASSERT_LE(0, rd.fd);
	ASSERT_EQ(0, pthread_create(&t, NULL, reader, &rd));
	while (!__atomic_load_n(&rd.tid, __ATOMIC_SEQ_CST))
		usleep(1000);
	ASSERT_TRUE(wait_blocked(rd.tid, __NR_read, __NR_read));
	CHECK("close_reader_fd", 0, close(rd.fd));
	usleep(100000);
	ASSERT_EQ(0, __atomic_load_n(&rd.r.done, __ATOMIC_SEQ_CST));
	ASSERT_TRUE(wait_blocked(rd.tid, __NR_read, __NR_read));
	note(_metadata, "reader_still_blocked yes");
	put(_metadata, &self->s, "write10", self->fd, 10, 10);
	ASSERT_EQ(0, pthread_join(t, NULL));
	check_result(_metadata, &self->s, "thread_read", &rd.r, 10, true);
	CHECK_ERR("read_closed_fd", EBADF, read(rd.fd, buf, sizeof(buf)));
}

TEST_F(fifo, bad_pointers)
{
	long page = sysconf(_SC_PAGESIZE);
	unsigned char *ro, *none;
	__u64 tag;
	__u32 cap;

	ro = mmap(NULL, page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, ro);
	none = mmap(NULL, page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, none);

	put(_metadata, &self->s, "write10", self->fd, 10, 10);
	/* A failed read consumes nothing, a failed write adds nothing. */
	CHECK_ERR("read_ptr1", EFAULT, read(self->fd, BAD_PTR, 10));
	CHECK_ERR("read_null", EFAULT, read(self->fd, NULL_PTR, 10));
	CHECK_ERR("read_kernel", EFAULT, read(self->fd, KERNEL_PTR, 10));
	CHECK_ERR("read_readonly", EFAULT, read(self->fd, ro, 10));
	CHECK_ERR("read_protnone", EFAULT, read(self->fd, none, 10));
	CHECK_ERR("write_ptr1", EFAULT, write(self->fd, BAD_PTR, 10));
	CHECK_ERR("write_null", EFAULT, write(self->fd, NULL_PTR, 10));
	CHECK_ERR("write_kernel", EFAULT, write(self->fd, KERNEL_PTR, 10));
	CHECK_ERR("write_protnone", EFAULT, write(self->fd, none, 10));
	expect_used(_metadata, "used", self->fd, 10);
	get(_metadata, &self->s, "read_intact", self->fd, 100, 10);

	CHECK_ERR("get_stats_ptr1", EFAULT, ioctl(self->fd, IKFIFO_GET_STATS, BAD_PTR));
	CHECK_ERR("get_stats_null", EFAULT, ioctl(self->fd, IKFIFO_GET_STATS, NULL_PTR));
	CHECK_ERR("get_stats_kernel", EFAULT, ioctl(self->fd, IKFIFO_GET_STATS, KERNEL_PTR));
	CHECK_ERR("get_stats_readonly", EFAULT, ioctl(self->fd, IKFIFO_GET_STATS, ro));
	CHECK_ERR("set_tag_ptr1", EFAULT, ioctl(self->fd, IKFIFO_SET_TAG, BAD_PTR));
	CHECK_ERR("set_tag_protnone", EFAULT, ioctl(self->fd, IKFIFO_SET_TAG, none));
	CHECK_ERR("get_cap_ptr1", EFAULT, ioctl(self->fd, IKFIFO_LEGACY_GET_CAP, BAD_PTR));
	CHECK_ERR("get_cap_null", EFAULT, ioctl(self->fd, IKFIFO_LEGACY_GET_CAP, NULL_PTR));
	CHECK_ERR("get_cap_readonly", EFAULT, ioctl(self->fd, IKFIFO_LEGACY_GET_CAP, ro));

	/* A faulting exchange leaves the tag alone, even half way. */
	tag = 5;
	CHECK("set_tag5", 0, ioctl(self->fd, IKFIFO_SET_TAG, &tag));
	CHECK_ERR("xchg_tag_ptr1", EFAULT, ioctl(self->fd, IKFIFO_XCHG_TAG, BAD_PTR));
	CHECK_ERR("xchg_tag_kernel", EFAULT, ioctl(self->fd, IKFIFO_XCHG_TAG, KERNEL_PTR));
	CHECK_ERR("xchg_tag_readonly", EFAULT, ioctl(self->fd, IKFIFO_XCHG_TAG, ro));
	tag = 7;
	CHECK("xchg_tag7", 0, ioctl(self->fd, IKFIFO_XCHG_TAG, &tag));
	note(_metadata, "old_tag=%llu", (unsigned long long)tag);
	ASSERT_EQ(5, tag);

	cap = 0;
	CHECK("get_cap", 0, ioctl(self->fd, IKFIFO_LEGACY_GET_CAP, &cap));
	ASSERT_EQ(self->cap, cap);
	munmap(ro, page);
	munmap(none, page);
}

/* A buffer of 16 accessible bytes followed by an inaccessible page. */
static unsigned char *edge_buffer(struct __test_metadata *_metadata, long page)
{
	unsigned char *map;

	map = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, map);
	ASSERT_EQ(0, mprotect(map + page, page, PROT_NONE));
	return map + page - 16;
}

/*
 * Huge counts on a small buffer.  The VFS refuses a count that runs past
 * the end of user space; a read returns what is buffered however large
 * the count.
 */
TEST_F(fifo, huge_lengths)
{
	long page = sysconf(_SC_PAGESIZE);
	unsigned char *edge = edge_buffer(_metadata, page);
	long long ret;

	put(_metadata, &self->s, "write10", self->fd, 10, 10);
	CHECK_ERR("read_size_max", EFAULT, read(self->fd, edge, launder(SIZE_MAX)));
	CHECK_ERR("read_ssize_max_plus1", EFAULT,
		  read(self->fd, edge, launder((size_t)SSIZE_MAX + 1)));
	CHECK_ERR("write_size_max", EFAULT, write(self->fd, edge, launder(SIZE_MAX)));
	CHECK_ERR("write_ssize_max_plus1", EFAULT,
		  write(self->fd, edge, launder((size_t)SSIZE_MAX + 1)));
	expect_used(_metadata, "used", self->fd, 10);
	/* 10 bytes fit in the 16 valid ones. */
	ret = RUN_DATA("read_1g_10buffered", edge, read(self->fd, edge, 1UL << 30));
	ASSERT_EQ(10, ret);
	expect_stream(_metadata, &self->s, "read_1g_10buffered", edge, 10);
	expect_used(_metadata, "used", self->fd, 0);
	munmap(edge + 16 - page, 2 * page);
}

/*
 * A copy that runs from accessible memory into an inaccessible page.
 * ikfifo copies all it moves at once, so it fails with EFAULT and moves
 * nothing; only when no more than the accessible part is moved does the
 * call succeed.  (A proxy that copies user memory before or after the
 * driver runs cannot always tell these cases apart: a separate test so
 * that a known divergence here is seen as such.)
 */
TEST_F(fifo, fault_mid_buffer)
{
	long page = sysconf(_SC_PAGESIZE);
	unsigned char *edge = edge_buffer(_metadata, page);

	stream_fill(edge, self->s.wpos, 16);
	CHECK_ERR("write_1g_empty", EFAULT, write(self->fd, edge, 1UL << 30));
	CHECK_ERR("write32_empty", EFAULT, write(self->fd, edge, 32));
	expect_used(_metadata, "used", self->fd, 0);
	/* Exactly 16 bytes of space: only the valid bytes are copied. */
	put(_metadata, &self->s, "fill", self->fd, self->cap - 16, self->cap - 16);
	stream_fill(edge, self->s.wpos, 16);
	CHECK("write_1g_16free", 16, write(self->fd, edge, 1UL << 30));
	self->s.wpos += 16;
	expect_used(_metadata, "used", self->fd, self->cap);
	/* A full FIFO does not fit into 16 bytes, nor do 32 of its bytes. */
	CHECK_ERR("read_1g_full", EFAULT, read(self->fd, edge, 1UL << 30));
	CHECK_ERR("read32_full", EFAULT, read(self->fd, edge, 32));
	expect_used(_metadata, "used", self->fd, self->cap);
	drain(_metadata, &self->s, self->fd);
	munmap(edge + 16 - page, 2 * page);
}

/*
 * Buffers whose pages are not mapped yet: a file's pages in the page cache
 * that this process never touched, and fresh anonymous memory, each across
 * a page boundary.  The data must arrive whole (an isolated export copies
 * with page faults off under its lock, and must fault them in elsewhere).
 */
TEST_F(fifo, unfaulted_pages)
{
	long page = sysconf(_SC_PAGESIZE);
	/* Across a page boundary in both buffers. */
	size_t n = self->cap < page ? self->cap : page;
	size_t off = page - 100;
	unsigned char *data, *src, *dst;
	int mfd;

	data = malloc(n);
	ASSERT_NE(NULL, data);
	stream_fill(data, self->s.wpos, n);
	mfd = memfd_create("fifo_test", MFD_CLOEXEC);
	ASSERT_LE(0, mfd);
	ASSERT_EQ((ssize_t)n, pwrite(mfd, data, n, off));
	src = mmap(NULL, 2 * page, PROT_READ, MAP_SHARED, mfd, 0);
	ASSERT_NE(MAP_FAILED, src);
	dst = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, dst);

	CHECK("write_from_unfaulted", n, write(self->fd, src + off, n));
	self->s.wpos += n;
	expect_used(_metadata, "used", self->fd, n);
	CHECK("read_to_unfaulted", n, read(self->fd, dst + off, n));
	expect_stream(_metadata, &self->s, "read_to_unfaulted", dst + off, n);

	munmap(dst, 2 * page);
	munmap(src, 2 * page);
	close(mfd);
	free(data);
}

TEST_F(fifo, ioctls)
{
	struct {
		struct ikfifo_stats st;
		__u64 canary;
	} sb;
	__u64 cap64, tag;

	memset(&sb, 0xa5, sizeof(sb));
	CHECK("get_stats", 0, ioctl(self->fd, IKFIFO_GET_STATS, &sb.st));
	note(_metadata, "stats capacity=%u used=%u", sb.st.capacity, sb.st.used);
	ASSERT_EQ(self->cap, sb.st.capacity);
	ASSERT_EQ(0, sb.st.used);
	ASSERT_EQ(0xa5a5a5a5a5a5a5a5ULL, sb.canary);

	/* LEGACY_GET_CAP stores exactly 4 bytes. */
	cap64 = ~0ULL;
	CHECK("legacy_get_cap", 0, ioctl(self->fd, IKFIFO_LEGACY_GET_CAP, &cap64));
	note(_metadata, "legacy_get_cap value=0x%llx", (unsigned long long)cap64);
	ASSERT_EQ(0xffffffff00000000ULL | self->cap, cap64);

	/* CLEAR: integer argument 0, returns the bytes discarded. */
	put(_metadata, &self->s, "write10", self->fd, 10, 10);
	CHECK_ERR("clear_arg1", EINVAL, ioctl(self->fd, IKFIFO_CLEAR, 1));
	CHECK_ERR("clear_argptr", EINVAL, ioctl(self->fd, IKFIFO_CLEAR, &tag));
	CHECK("clear", 10, ioctl(self->fd, IKFIFO_CLEAR, 0));
	CHECK("clear_empty", 0, ioctl(self->fd, IKFIFO_CLEAR, 0));
	expect_used(_metadata, "used", self->fd, 0);
	self->s.rpos = self->s.wpos;
	put(_metadata, &self->s, "write_after_clear", self->fd, 30, 30);
	get(_metadata, &self->s, "read_after_clear", self->fd, 100, 30);

	/* A fresh file's tag is 0. */
	tag = 0x1111;
	CHECK("xchg_tag", 0, ioctl(self->fd, IKFIFO_XCHG_TAG, &tag));
	note(_metadata, "old_tag=0x%llx", (unsigned long long)tag);
	ASSERT_EQ(0, tag);
	tag = 0x2222;
	CHECK("xchg_tag", 0, ioctl(self->fd, IKFIFO_XCHG_TAG, &tag));
	note(_metadata, "old_tag=0x%llx", (unsigned long long)tag);
	ASSERT_EQ(0x1111, tag);
	tag = 0xfedcba9876543210ULL;
	CHECK("set_tag", 0, ioctl(self->fd, IKFIFO_SET_TAG, &tag));
	tag = 0;
	CHECK("xchg_tag", 0, ioctl(self->fd, IKFIFO_XCHG_TAG, &tag));
	note(_metadata, "old_tag=0x%llx", (unsigned long long)tag);
	ASSERT_EQ(0xfedcba9876543210ULL, tag);

	/* Unknown commands, and known numbers with the wrong size or type. */
	CHECK_ERR("ioctl_0", ENOTTY, ioctl(self->fd, 0, 0));
	CHECK_ERR("ioctl_k7f", ENOTTY, ioctl(self->fd, _IO('k', 0x7f), 0));
	CHECK_ERR("ioctl_6b12", ENOTTY, ioctl(self->fd, 0x6b12, 0));
	CHECK_ERR("ioctl_6b0f", ENOTTY, ioctl(self->fd, 0x6b0f, &tag));
	CHECK_ERR("ioctl_ffffffff", ENOTTY, ioctl(self->fd, 0xffffffff, &tag));
	CHECK_ERR("get_stats_size4", ENOTTY, ioctl(self->fd, _IOR('k', 1, __u32), &tag));
	CHECK_ERR("set_tag_size4", ENOTTY, ioctl(self->fd, _IOW('k', 2, __u32), &tag));
	CHECK_ERR("xchg_tag_as_ior", ENOTTY, ioctl(self->fd, _IOR('k', 3, __u64), &tag));
	/*
	 * The two legacy numbers read as _IO('k', 0x10) and _IO('k', 0x11):
	 * no direction, no size.  With the bits a newer driver would use,
	 * they are unknown.
	 */
	CHECK_ERR("clear_as_iow", ENOTTY, ioctl(self->fd, _IOW('k', 0x10, int), 0));
	CHECK_ERR("get_cap_as_ior", ENOTTY, ioctl(self->fd, _IOR('k', 0x11, __u32), &cap64));
	CHECK_ERR("fionread", ENOTTY, ioctl(self->fd, FIONREAD, &cap64));
	CHECK("isatty", 0, isatty(self->fd));
	ASSERT_EQ(ENOTTY, errno);
}

/* The lowest free descriptor: a leaked descriptor would move it. */
static int lowest_free_fd(void)
{
	int fd = dup(0);

	if (fd >= 0)
		close(fd);
	return fd;
}

/* Notes the descriptor flags of a new file (not its number). */
static void note_new_fd(struct __test_metadata *_metadata, const char *op,
			int fd)
{
	int fdfl = fcntl(fd, F_GETFD), fl = fcntl(fd, F_GETFL);

	note(_metadata, "%s valid=%d cloexec=%d accmode=%d nonblock=%d", op,
	     fdfl >= 0, fdfl >= 0 && (fdfl & FD_CLOEXEC), fl & O_ACCMODE,
	     !!(fl & O_NONBLOCK));
}

/*
 * Ioctls that hand out a new file: its descriptor in the argument or as
 * the return value, and the new file's read, poll, ioctl and close.
 */
TEST_F(fifo, new_files)
{
	struct ikfifo_peek req;
	unsigned char buf[100];
	int low, peek, peek2;
	struct stream at;
	__u64 tag;

	low = lowest_free_fd();
	put(_metadata, &self->s, "write10", self->fd, 10, 10);

	memset(&req, 0, sizeof(req));
	req.tag = 0x77;
	req.flags = IKFIFO_PEEK_CLOEXEC;
	req.fd = -1;
	CHECK("new_peek", 0, ioctl(self->fd, IKFIFO_NEW_PEEK, &req));
	peek = req.fd;
	note(_metadata, "new_peek tag=0x%llx flags=%u fd_is_lowest=%d",
	     (unsigned long long)req.tag, req.flags, peek == low);
	ASSERT_EQ(low, peek);
	note_new_fd(_metadata, "new_peek_fd", peek);
	ASSERT_LE(0, fcntl(peek, F_GETFD));

	/* Peeking leaves the bytes where they are. */
	at = self->s;
	get(_metadata, &at, "peek_read", peek, 100, 10);
	at = self->s;
	get(_metadata, &at, "peek_read_again", peek, 4, 4);
	expect_used(_metadata, "used_after_peek", self->fd, 10);
	ASSERT_EQ(POLLIN | POLLRDNORM,
		  do_poll(_metadata, "peek_poll", peek, POLL_ALL, 0));

	/* The new file takes ioctls of its own, with its own tag. */
	tag = 0x88;
	CHECK("peek_xchg_tag", 0, ioctl(peek, IKFIFO_XCHG_TAG, &tag));
	note(_metadata, "peek_old_tag=0x%llx", (unsigned long long)tag);
	ASSERT_EQ(0x77, tag);
	tag = 0;
	CHECK("main_xchg_tag", 0, ioctl(self->fd, IKFIFO_XCHG_TAG, &tag));
	note(_metadata, "main_old_tag=0x%llx", (unsigned long long)tag);
	ASSERT_EQ(0, tag);
	expect_used(_metadata, "peek_stats", peek, 10);

	/* Read-only and not seekable, as the driver made it. */
	CHECK_ERR("peek_write", EBADF, write(peek, "x", 1));
	CHECK_ERR("peek_lseek", ESPIPE, lseek(peek, 0, SEEK_SET));
	CHECK_ERR("peek_pread", ESPIPE, pread(peek, buf, 1, 0));

	/* The return-value form, non-blocking. */
	peek2 = RUN("peek_fd", ioctl(self->fd, IKFIFO_PEEK_FD,
				     IKFIFO_PEEK_NONBLOCK));
	ASSERT_LE(0, peek2);
	note_new_fd(_metadata, "peek_fd_fd", peek2);
	at = self->s;
	get(_metadata, &at, "peek2_read", peek2, 3, 3);
	tag = 1;
	CHECK("peek2_xchg_tag", 0, ioctl(peek2, IKFIFO_XCHG_TAG, &tag));
	note(_metadata, "peek2_old_tag=0x%llx", (unsigned long long)tag);
	ASSERT_EQ(0, tag);

	/* Drained through the node: the peek files see an empty FIFO. */
	get(_metadata, &self->s, "read10", self->fd, 100, 10);
	CHECK_ERR("peek2_read_empty", EAGAIN, read(peek2, buf, 1));
	ASSERT_EQ(0, do_poll(_metadata, "peek_poll_empty", peek, POLL_ALL, 0));

	/* A new file from a new file. */
	memset(&req, 0, sizeof(req));
	req.tag = 0x99;
	CHECK("peek_new_peek", 0, ioctl(peek2, IKFIFO_NEW_PEEK, &req));
	note_new_fd(_metadata, "peek_new_peek_fd", req.fd);
	tag = 0;
	CHECK("peek3_xchg_tag", 0, ioctl(req.fd, IKFIFO_XCHG_TAG, &tag));
	note(_metadata, "peek3_old_tag=0x%llx", (unsigned long long)tag);
	ASSERT_EQ(0x99, tag);
	CHECK("close_peek3", 0, close(req.fd));

	/*
	 * The same struct again: its fd field still holds the number just
	 * closed, which the new descriptor takes again.
	 */
	low = req.fd;
	req.tag = 0x55;
	CHECK("new_peek_reused_struct", 0, ioctl(self->fd, IKFIFO_NEW_PEEK, &req));
	note(_metadata, "new_peek_reused_struct same_number=%d", req.fd == low);
	tag = 0;
	CHECK("peek4_xchg_tag", 0, ioctl(req.fd, IKFIFO_XCHG_TAG, &tag));
	note(_metadata, "peek4_old_tag=0x%llx", (unsigned long long)tag);
	ASSERT_EQ(0x55, tag);
	CHECK("close_peek4", 0, close(req.fd));
	low = peek;

	/* Bad flags: no file. */
	req.flags = 0x80;
	CHECK_ERR("new_peek_badflags", EINVAL,
		  ioctl(self->fd, IKFIFO_NEW_PEEK, &req));
	CHECK_ERR("peek_fd_badflags", EINVAL,
		  ioctl(self->fd, IKFIFO_PEEK_FD, 0x80));

	CHECK("close_peek", 0, close(peek));
	CHECK("close_peek2", 0, close(peek2));
	CHECK_ERR("read_closed_peek", EBADF, read(peek, buf, 1));
	note(_metadata, "no_fd_leaked=%d", lowest_free_fd() == low);
	ASSERT_EQ(low, lowest_free_fd());
}

/* A peek file's poll and blocking read wake up when bytes come. */
TEST_F(fifo, new_file_wakeup)
{
	struct result *r = shared_result();
	unsigned char buf[16];
	pid_t pid;
	int peek;

	ASSERT_NE(NULL, r);
	peek = RUN("peek_fd", ioctl(self->fd, IKFIFO_PEEK_FD, IKFIFO_PEEK_CLOEXEC));
	ASSERT_LE(0, peek);
	ASSERT_EQ(0, do_poll(_metadata, "peek_poll_empty_100ms", peek, POLLIN, 100));
	pid = fork_poller(r, peek, POLLIN);
	ASSERT_LE(0, pid);
	ASSERT_TRUE(wait_blocked(pid, __NR_poll, __NR_ppoll));
	put(_metadata, &self->s, "write5", self->fd, 5, 5);
	REAP(pid);
	note_ret(_metadata, "child_poll_peek", r->ret, r->err, NULL);
	note(_metadata, "child_poll_peek revents=0x%x", r->revents);
	ASSERT_EQ(1, r->ret);
	ASSERT_EQ(POLLIN, r->revents);
	get(_metadata, &self->s, "read5", self->fd, 16, 5);

	/* A blocking read of the peek file, woken by a write. */
	memset(r, 0, sizeof(*r));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		r->ret = read(peek, buf, sizeof(buf));
		r->err = r->ret < 0 ? errno : 0;
		_exit(0);
	}
	ASSERT_TRUE(wait_blocked(pid, __NR_read, __NR_read));
	put(_metadata, &self->s, "write7", self->fd, 7, 7);
	REAP(pid);
	note_ret(_metadata, "child_read_peek", r->ret, r->err, NULL);
	ASSERT_EQ(7, r->ret);
	CHECK("close_peek", 0, close(peek));
}

/*
 * A new file whose descriptor cannot be written back: EFAULT, and no
 * descriptor is left behind (the driver installs it only after the copy).
 */
TEST_F(fifo, new_file_efault)
{
	struct ikfifo_peek *ro;
	int low;

	ro = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, ro);
	memset(ro, 0, sizeof(*ro));
	ro->tag = 5;
	ASSERT_EQ(0, mprotect(ro, 4096, PROT_READ));
	low = lowest_free_fd();
	CHECK_ERR("new_peek_readonly_arg", EFAULT,
		  ioctl(self->fd, IKFIFO_NEW_PEEK, ro));
	note(_metadata, "no_fd_leaked=%d fd_field=%d", lowest_free_fd() == low,
	     ro->fd);
	ASSERT_EQ(low, lowest_free_fd());
	ASSERT_EQ(0, ro->fd);
	CHECK_ERR("new_peek_null", EFAULT,
		  ioctl(self->fd, IKFIFO_NEW_PEEK, NULL));
	ASSERT_EQ(low, lowest_free_fd());
	munmap(ro, 4096);
}

/*
 * The driver's view of LEN bytes of the shared area at OFF, noted as OP
 * (printable bytes only, as the tests write them); into OUT if given.
 */
static int shm_read(struct __test_metadata *_metadata, const char *op, int fd,
		    unsigned int off, unsigned int len, char *out)
{
	struct ikfifo_shm_io io = { .offset = off, .len = len };
	long long r = RUN(op, ioctl(fd, IKFIFO_SHM_READ, &io));

	if (r == 0) {
		note(_metadata, "%s data=%.*s", op, (int)len, (char *)io.data);
		if (out)
			memcpy(out, io.data, len);
	}
	return r;
}

/* The driver writes the string TEXT to the shared area at OFF. */
static int shm_write(struct __test_metadata *_metadata, const char *op, int fd,
		     unsigned int off, const char *text)
{
	struct ikfifo_shm_io io = { .offset = off, .len = strlen(text) };

	memcpy(io.data, text, io.len);
	return RUN(op, ioctl(fd, IKFIFO_SHM_WRITE, &io));
}

/* mmap() noted as OP: only whether it worked and the errno. */
static void *map_node(struct __test_metadata *_metadata, const char *op,
		      int fd, size_t len, int prot, int flags, off_t off)
{
	void *m;

	errno = 0;
	m = mmap(NULL, len, prot, flags, fd, off);
	last_errno = m == MAP_FAILED ? errno : 0;
	note_ret(_metadata, op, m == MAP_FAILED ? -1 : 0, last_errno, NULL);
	return m;
}

/* The process and the driver see the same bytes of a shared mapping. */
TEST_F(fifo, mmap_shared)
{
	size_t pg = getpagesize(), size = IKFIFO_SHM_PAGES * pg;
	char got[IKFIFO_SHM_IO_MAX];
	unsigned char *m, *m2;
	unsigned int i;

	m = map_node(_metadata, "mmap_shared", self->fd, size,
		     PROT_READ | PROT_WRITE, MAP_SHARED, 0);
	ASSERT_NE(MAP_FAILED, m);
	/* The process writes every page; the driver reads across them. */
	for (i = 0; i < IKFIFO_SHM_PAGES; i++)
		memset(m + i * pg, 'A' + i, pg);
	for (i = 0; i + 1 < IKFIFO_SHM_PAGES; i++) {
		ASSERT_EQ(0, shm_read(_metadata, "driver_reads_across",
				      self->fd, (i + 1) * pg - 4, 8, got));
		ASSERT_EQ('A' + i, got[0]);
		ASSERT_EQ('A' + i + 1, got[7]);
	}
	/* The driver writes; the process sees it at once. */
	ASSERT_EQ(0, shm_write(_metadata, "driver_writes", self->fd,
			       2 * pg + 100, "written by the driver"));
	note(_metadata, "process_sees data=%.21s", (char *)m + 2 * pg + 100);
	ASSERT_EQ(0, memcmp(m + 2 * pg + 100, "written by the driver", 21));
	/* A second, read-only mapping from page 2 shows the same page. */
	m2 = map_node(_metadata, "mmap_offset", self->fd, pg, PROT_READ,
		      MAP_SHARED, 2 * pg);
	ASSERT_NE(MAP_FAILED, m2);
	note(_metadata, "offset_sees data=%.21s first=%c", (char *)m2 + 100,
	     m2[0]);
	ASSERT_EQ(0, memcmp(m2 + 100, "written by the driver", 21));
	m[2 * pg] = 'z';
	note(_metadata, "offset_sees_write first=%c", m2[0]);
	ASSERT_EQ('z', m2[0]);
	CHECK("munmap_offset", 0, munmap(m2, pg));
	CHECK("munmap", 0, munmap(m, size));
	/* The memory is the driver's: a new mapping finds the bytes again. */
	m = map_node(_metadata, "mmap_again", self->fd, size, PROT_READ,
		     MAP_SHARED, 0);
	ASSERT_NE(MAP_FAILED, m);
	note(_metadata, "mapped_again first=%c page3=%c", m[0], m[3 * pg]);
	ASSERT_EQ('A', m[0]);
	ASSERT_EQ('D', m[3 * pg]);
	CHECK("munmap_again", 0, munmap(m, size));
}

/* What the driver refuses, what the VFS refuses, and private mappings. */
TEST_F(fifo, mmap_limits)
{
	size_t pg = getpagesize(), size = IKFIFO_SHM_PAGES * pg;
	struct ikfifo_peek req = { .tag = 1 };
	unsigned char *m;
	char got[8];
	int ro;

	map_node(_metadata, "mmap_past_end", self->fd, pg, PROT_READ,
		 MAP_SHARED, IKFIFO_SHM_PAGES * pg);
	ASSERT_EQ(EINVAL, last_errno);
	map_node(_metadata, "mmap_too_long", self->fd, size + pg, PROT_READ,
		 MAP_SHARED, 0);
	ASSERT_EQ(EINVAL, last_errno);
	map_node(_metadata, "mmap_straddling_end", self->fd, 2 * pg, PROT_READ,
		 MAP_SHARED, 3 * pg);
	ASSERT_EQ(EINVAL, last_errno);

	ro = open_node(_metadata, "open_rdonly", O_RDONLY);
	ASSERT_LE(0, ro);
	map_node(_metadata, "mmap_rdonly_shared_write", ro, pg,
		 PROT_READ | PROT_WRITE, MAP_SHARED, 0);
	ASSERT_EQ(EACCES, last_errno);
	m = map_node(_metadata, "mmap_rdonly_read", ro, pg, PROT_READ,
		     MAP_SHARED, 0);
	ASSERT_NE(MAP_FAILED, m);
	CHECK("munmap_rdonly", 0, munmap(m, pg));
	CHECK("close_rdonly", 0, close(ro));

	/* A private mapping: its writes stay the process's own. */
	ASSERT_EQ(0, shm_write(_metadata, "driver_writes_p0", self->fd, 0,
			       "p0-driver"));
	m = map_node(_metadata, "mmap_private", self->fd, 2 * pg,
		     PROT_READ | PROT_WRITE, MAP_PRIVATE, 0);
	ASSERT_NE(MAP_FAILED, m);
	note(_metadata, "private_sees data=%.9s", (char *)m);
	ASSERT_EQ(0, memcmp(m, "p0-driver", 9));
	memcpy(m, "p0-process", 10);
	ASSERT_EQ(0, shm_read(_metadata, "driver_after_private_write",
			      self->fd, 0, 8, got));
	ASSERT_EQ(0, memcmp(got, "p0-drive", 8));
	/* An untouched page of it still shows what the driver writes. */
	ASSERT_EQ(0, shm_write(_metadata, "driver_writes_p1", self->fd, pg,
			       "p1-driver"));
	note(_metadata, "private_untouched_sees data=%.9s", (char *)m + pg);
	ASSERT_EQ(0, memcmp(m + pg, "p1-driver", 9));
	CHECK("munmap_private", 0, munmap(m, 2 * pg));

	/* A peek file has no mmap. */
	CHECK("new_peek", 0, ioctl(self->fd, IKFIFO_NEW_PEEK, &req));
	map_node(_metadata, "mmap_peek", req.fd, pg, PROT_READ, MAP_SHARED, 0);
	ASSERT_EQ(ENODEV, last_errno);
	CHECK("close_peek", 0, close(req.fd));
}

/* A child inherits the mapping: the same pages, both ways. */
TEST_F(fifo, mmap_fork)
{
	size_t pg = getpagesize(), size = IKFIFO_SHM_PAGES * pg;
	struct result *r = shared_result();
	char got[16];
	unsigned char *m;
	pid_t pid;

	ASSERT_NE(NULL, r);
	m = map_node(_metadata, "mmap_shared", self->fd, size,
		     PROT_READ | PROT_WRITE, MAP_SHARED, 0);
	ASSERT_NE(MAP_FAILED, m);
	memcpy(m + pg + 5, "before fork", 11);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		memcpy(r->data, m + pg + 5, 11);
		memcpy(m + pg + 5, "child wrote", 11);
		_exit(0);
	}
	REAP(pid);
	note(_metadata, "child_saw data=%.11s", (char *)r->data);
	ASSERT_EQ(0, memcmp(r->data, "before fork", 11));
	note(_metadata, "parent_sees data=%.11s", (char *)m + pg + 5);
	ASSERT_EQ(0, memcmp(m + pg + 5, "child wrote", 11));
	ASSERT_EQ(0, shm_read(_metadata, "driver_sees_child", self->fd,
			      pg + 5, 11, got));
	ASSERT_EQ(0, memcmp(got, "child wrote", 11));

	/* The parent unmaps; the child's copy of the mapping still works. */
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		while (!__atomic_load_n(&r->done, __ATOMIC_ACQUIRE))
			usleep(1000);
		memcpy(r->data, m + 3 * pg, 13);
		_exit(0);
	}
	CHECK("parent_munmap", 0, munmap(m, size));
	ASSERT_EQ(0, shm_write(_metadata, "driver_writes", self->fd, 3 * pg,
			       "for the child"));
	__atomic_store_n(&r->done, 1, __ATOMIC_RELEASE);
	REAP(pid);
	note(_metadata, "child_sees data=%.13s", (char *)r->data);
	ASSERT_EQ(0, memcmp(r->data, "for the child", 13));
}

TEST_F(fifo, tags_per_file)
{
	struct result *r = shared_result();
	int a, b, d, fds[32], i;
	__u64 tag;
	pid_t pid;

	ASSERT_NE(NULL, r);
	a = open_node(_metadata, "open_a", O_RDWR);
	ASSERT_LE(0, a);
	b = open_node(_metadata, "open_b", O_RDONLY);
	ASSERT_LE(0, b);
	tag = 0xa;
	CHECK("set_tag_a", 0, ioctl(a, IKFIFO_SET_TAG, &tag));
	tag = 0xb;
	CHECK("set_tag_b", 0, ioctl(b, IKFIFO_SET_TAG, &tag));
	tag = 0x1a;
	CHECK("xchg_tag_a", 0, ioctl(a, IKFIFO_XCHG_TAG, &tag));
	note(_metadata, "old_tag=0x%llx", (unsigned long long)tag);
	ASSERT_EQ(0xa, tag);
	tag = 0x1b;
	CHECK("xchg_tag_b", 0, ioctl(b, IKFIFO_XCHG_TAG, &tag));
	note(_metadata, "old_tag=0x%llx", (unsigned long long)tag);
	ASSERT_EQ(0xb, tag);

	/* A dup and a fork share the open file, and so its tag. */
	d = dup(a);
	ASSERT_LE(0, d);
	tag = 0x2a;
	CHECK("xchg_tag_dup", 0, ioctl(d, IKFIFO_XCHG_TAG, &tag));
	note(_metadata, "old_tag=0x%llx", (unsigned long long)tag);
	ASSERT_EQ(0x1a, tag);
	CHECK("close_dup", 0, close(d));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		__u64 t = 0x3a;

		r->ret = ioctl(a, IKFIFO_XCHG_TAG, &t);
		r->err = r->ret < 0 ? errno : 0;
		memcpy(r->data, &t, sizeof(t));
		_exit(0);
	}
	REAP(pid);
	memcpy(&tag, r->data, sizeof(tag));
	note_ret(_metadata, "child_xchg_tag", r->ret, r->err, NULL);
	note(_metadata, "child_old_tag=0x%llx", (unsigned long long)tag);
	ASSERT_EQ(0, r->ret);
	ASSERT_EQ(0x2a, tag);
	tag = 0;
	CHECK("xchg_tag_a", 0, ioctl(a, IKFIFO_XCHG_TAG, &tag));
	note(_metadata, "old_tag=0x%llx", (unsigned long long)tag);
	ASSERT_EQ(0x3a, tag);

	/* Many files at once, each with its own tag. */
	for (i = 0; i < 32; i++) {
		fds[i] = open(node, O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, fds[i]);
		tag = 1000 + i;
		ASSERT_EQ(0, ioctl(fds[i], IKFIFO_SET_TAG, &tag));
	}
	for (i = 31; i >= 0; i--) {
		tag = 0;
		ASSERT_EQ(0, ioctl(fds[i], IKFIFO_XCHG_TAG, &tag));
		ASSERT_EQ(1000 + i, tag);
		ASSERT_EQ(0, close(fds[i]));
	}
	note(_metadata, "32_files_own_tags yes");
	tag = 0;
	CHECK("xchg_tag_b", 0, ioctl(b, IKFIFO_XCHG_TAG, &tag));
	note(_metadata, "old_tag=0x%llx", (unsigned long long)tag);
	ASSERT_EQ(0x1b, tag);
	CHECK("close_a", 0, close(a));
	CHECK("close_b", 0, close(b));
}

TEST_F(fifo, llseek)
{
	unsigned char buf[16];
	int f, e;

	f = open_node(_metadata, "open_f", O_RDWR);
	ASSERT_LE(0, f);
	e = open_node(_metadata, "open_e", O_RDWR);
	ASSERT_LE(0, e);
	CHECK("pos_fresh", 0, lseek(f, 0, SEEK_CUR));
	/* The position counts the bytes moved through this file. */
	put(_metadata, &self->s, "write10", f, 10, 10);
	CHECK("pos_after_write", 10, lseek(f, 0, SEEK_CUR));
	get(_metadata, &self->s, "read4", f, 4, 4);
	CHECK("pos_after_read", 14, lseek(f, 0, SEEK_CUR));
	put(_metadata, &self->s, "write5_e", e, 5, 5);
	CHECK("pos_e", 5, lseek(e, 0, SEEK_CUR));
	CHECK("pos_f_unchanged", 14, lseek(f, 0, SEEK_CUR));
	CHECK("pos_self_unchanged", 0, lseek(self->fd, 0, SEEK_CUR));

	CHECK("seek_set100", 100, lseek(f, 100, SEEK_SET));
	CHECK("seek_cur-50", 50, lseek(f, -50, SEEK_CUR));
	CHECK_ERR("seek_cur-51", EINVAL, lseek(f, -51, SEEK_CUR));
	CHECK("pos_kept", 50, lseek(f, 0, SEEK_CUR));
	CHECK_ERR("seek_end0", EINVAL, lseek(f, 0, SEEK_END));
	CHECK_ERR("seek_end10", EINVAL, lseek(f, 10, SEEK_END));
	CHECK_ERR("seek_set-1", EINVAL, lseek(f, -1, SEEK_SET));
	CHECK_ERR("seek_data", EINVAL, lseek(f, 0, SEEK_DATA));
	CHECK_ERR("seek_hole", EINVAL, lseek(f, 0, SEEK_HOLE));
	CHECK_ERR("seek_whence99", EINVAL, lseek(f, 0, 99));
	CHECK("pos_kept", 50, lseek(f, 0, SEEK_CUR));
	get(_metadata, &self->s, "read3", f, 3, 3);
	CHECK("pos_after_read", 53, lseek(f, 0, SEEK_CUR));

	/* At the very end of the offset range nothing more can move. */
	CHECK("seek_set_max", LLONG_MAX, lseek(f, LLONG_MAX, SEEK_SET));
	CHECK_ERR("seek_cur1_overflow", EINVAL, lseek(f, 1, SEEK_CUR));
	CHECK_ERR("read_at_max", EINVAL, read(f, buf, 1));
	CHECK_ERR("write_at_max", EINVAL, write(f, "x", 1));
	CHECK("seek_set_max-5", LLONG_MAX - 5, lseek(f, LLONG_MAX - 5, SEEK_SET));
	CHECK_ERR("read10_past_max", EINVAL, read(f, buf, 10));
	get(_metadata, &self->s, "read5_to_max", f, 5, 5);
	CHECK("pos_max", LLONG_MAX, lseek(f, 0, SEEK_CUR));
	expect_used(_metadata, "used", self->fd, 3);
	CHECK("close_f", 0, close(f));
	CHECK("close_e", 0, close(e));
}

TEST_F(fifo, pread_pwrite_readv)
{
	unsigned char a[5], b[5], c[128];
	struct iovec iov[2];
	long long ret;
	int f, nb;

	f = open_node(_metadata, "open_f", O_RDWR);
	ASSERT_LE(0, f);
	/* The offset is the driver's to interpret: ikfifo ignores it. */
	stream_fill(c, self->s.wpos, 10);
	CHECK("pwrite10_at1000", 10, pwrite(f, c, 10, 1000));
	self->s.wpos += 10;
	CHECK("pos_after_pwrite", 0, lseek(f, 0, SEEK_CUR));
	memset(c, 0, sizeof(c));
	ret = RUN_DATA("pread100_at5000", c, pread(f, c, 100, 5000));
	ASSERT_EQ(10, ret);
	expect_stream(_metadata, &self->s, "pread", c, 10);
	CHECK("pos_after_pread", 0, lseek(f, 0, SEEK_CUR));
	CHECK_ERR("pread_at-1", EINVAL, pread(f, c, 10, -1));
	CHECK_ERR("pwrite_at-1", EINVAL, pwrite(f, c, 10, -1));
	CHECK_ERR("pread_at_max", EINVAL, pread(f, c, 10, LLONG_MAX));

	/* readv/writev: one driver call per segment, stop at a short one. */
	stream_fill(a, self->s.wpos, 3);
	stream_fill(b, self->s.wpos + 3, 5);
	iov[0] = (struct iovec){ a, 3 };
	iov[1] = (struct iovec){ b, 5 };
	CHECK("writev_3_5", 8, writev(f, iov, 2));
	self->s.wpos += 8;
	CHECK("pos_after_writev", 8, lseek(f, 0, SEEK_CUR));
	put(_metadata, &self->s, "write1", f, 1, 1);
	iov[0] = (struct iovec){ a, 5 };
	iov[1] = (struct iovec){ b, 5 };
	memset(a, 0, 5);
	memset(b, 0, 5);
	CHECK("readv_5_5_9buffered", 9, readv(f, iov, 2));
	memcpy(c, a, 5);
	memcpy(c + 5, b, 4);
	note(_metadata, "readv data=9:%016llx", fnv1a(c, 9));
	expect_stream(_metadata, &self->s, "readv", c, 9);
	CHECK("pos_after_readv", 18, lseek(f, 0, SEEK_CUR));
	/* A second segment that finds the FIFO empty: EAGAIN is not lost data. */
	nb = open_node(_metadata, "open_nonblock", O_RDWR | O_NONBLOCK);
	ASSERT_LE(0, nb);
	put(_metadata, &self->s, "write5", nb, 5, 5);
	CHECK("readv_5_5_5buffered_nonblock", 5, readv(nb, iov, 2));
	expect_stream(_metadata, &self->s, "readv_nonblock", a, 5);
	CHECK_ERR("readv_empty_nonblock", EAGAIN, readv(nb, iov, 2));
	CHECK_ERR("preadv2_nowait", EOPNOTSUPP, preadv2(nb, iov, 2, -1, RWF_NOWAIT));
	CHECK_ERR("pwritev2_nowait", EOPNOTSUPP, pwritev2(nb, iov, 2, -1, RWF_NOWAIT));

	expect_used(_metadata, "used", self->fd, 0);
	CHECK("close_nb", 0, close(nb));
	CHECK("close_f", 0, close(f));
}

/*
 * Ioctls whose argument points at more user memory: IKFIFO_XFER's array
 * of messages, each with a buffer of its own, and IKFIFO_CHAIN's linked
 * list of nodes.  The driver stores only the out fields (done, nr_done,
 * count); every other byte of the structs and around the buffers must
 * stay as the caller left it.
 */
#define DONE_UNSET	0xddddddddU	/* an out field the driver did not store */
#define MSG_PAD(i)	(0x11110000U + (i))

/* PAGES fresh read-write pages. */
static unsigned char *map_pages(struct __test_metadata *_metadata, long pages)
{
	void *map;

	map = mmap(NULL, pages * sysconf(_SC_PAGESIZE), PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, map);
	return map;
}

/*
 * A read-write page followed by a page with nothing mapped (mapped, then
 * unmapped again; nothing maps it until the test unmaps the first).
 */
static unsigned char *page_before_hole(struct __test_metadata *_metadata,
				       long page)
{
	unsigned char *map = map_pages(_metadata, 2);

	ASSERT_EQ(0, munmap(map + page, page));
	return map;
}

static __u64 uptr(const void *p)
{
	return (__u64)(uintptr_t)p;
}

static void set_msg(struct ikfifo_msg *m, int i, const void *buf, __u32 len,
		    __u32 flags)
{
	m->buf = uptr(buf);
	m->len = len;
	m->flags = flags;
	m->done = DONE_UNSET;
	m->pad = MSG_PAD(i);
}

/* "5" for a stored count, "-" for one left alone. */
static const char *out_field(char *buf, size_t size, __u32 v)
{
	if (v == DONE_UNSET)
		snprintf(buf, size, "-");
	else
		snprintf(buf, size, "%u", v);
	return buf;
}

/* Notes the done fields of the N messages at MSGS. */
static void note_msgs(struct __test_metadata *_metadata, const char *op,
		      const struct ikfifo_msg *msgs, int n)
{
	char line[256], v[16];
	int i, len = 0;

	line[0] = '\0';
	for (i = 0; i < n; i++)
		len += snprintf(line + len, sizeof(line) - len, "%s%s",
				i ? "," : "", out_field(v, sizeof(v), msgs[i].done));
	note(_metadata, "%s done=%s", op, line);
}

/*
 * IKFIFO_XFER of the N messages at MSGS through X, noted as OP with the
 * nr_done the driver stored; the other fields of X must stay as set.
 */
static long long xfer(struct __test_metadata *_metadata, const char *op,
		      int fd, struct ikfifo_xfer *x, const void *msgs, __u32 n)
{
	char v[16];
	long long ret;

	x->msgs = uptr(msgs);
	x->nmsgs = n;
	x->nr_done = DONE_UNSET;
	ret = RUN(op, ioctl(fd, IKFIFO_XFER, x));
	note(_metadata, "%s nr_done=%s", op, out_field(v, sizeof(v), x->nr_done));
	ASSERT_EQ(uptr(msgs), x->msgs) TH_LOG("%s", op);
	ASSERT_EQ(n, x->nmsgs) TH_LOG("%s", op);
	return ret;
}

/* The bytes of the N messages other than done must be as set_msg() left them. */
static bool msgs_intact(const struct ikfifo_msg *msgs, int n,
			const struct ikfifo_msg *want)
{
	int i;

	for (i = 0; i < n; i++)
		if (msgs[i].buf != want[i].buf || msgs[i].len != want[i].len ||
		    msgs[i].flags != want[i].flags || msgs[i].pad != want[i].pad)
			return false;
	return true;
}

/* LEN bytes at P all equal to C. */
static bool all_bytes(const unsigned char *p, size_t len, unsigned char c)
{
	while (len--)
		if (*p++ != c)
			return false;
	return true;
}

/* Read the N bytes buffered, which must be WANT, and note them. */
static void read_back(struct __test_metadata *_metadata, const char *op,
		      int fd, const char *want)
{
	size_t n = strlen(want);
	char buf[128];
	long long ret;

	memset(buf, 0, sizeof(buf));
	ret = RUN_DATA(op, buf, read(fd, buf, sizeof(buf) - 1));
	ASSERT_EQ((long long)n, ret) TH_LOG("%s: errno %s", op, errname(last_errno));
	note(_metadata, "%s text=%s", op, buf);
	ASSERT_STREQ(want, buf);
}

/*
 * Two writes and a read in one batch, each buffer in a page of its own
 * (one across a page boundary): the bytes go through in order, only the
 * done fields and nr_done are stored, the bytes around the read buffer
 * stay.  Then a read message longer than what is buffered.
 */
TEST_F(fifo, xfer_batch)
{
	long page = sysconf(_SC_PAGESIZE);
	unsigned char *map = map_pages(_metadata, 4);
	struct ikfifo_msg *msgs = (void *)map, want[3];
	unsigned char *a = map + 2 * page - 5;
	unsigned char *b = map + 3 * page - 3;	/* across into C's page */
	unsigned char *c = map + 3 * page + 100;
	struct ikfifo_stats st;
	struct ikfifo_xfer x;
	bool pads, guards;

	memcpy(a, "hello", 5);
	memcpy(b, " world", 6);
	memset(c - 16, 0x5a, 16 + 11 + 16);
	set_msg(&msgs[0], 0, a, 5, 0);
	set_msg(&msgs[1], 1, b, 6, 0);
	set_msg(&msgs[2], 2, c, 11, IKFIFO_MSG_READ);
	memcpy(want, msgs, sizeof(want));
	ASSERT_EQ(0, xfer(_metadata, "xfer3", self->fd, &x, msgs, 3));
	note_msgs(_metadata, "xfer3", msgs, 3);
	note(_metadata, "xfer3 text=%.11s", c);
	pads = msgs_intact(msgs, 3, want);
	guards = all_bytes(c - 16, 16, 0x5a) && all_bytes(c + 11, 16, 0x5a);
	note(_metadata, "xfer3 pad0=0x%x pad1=0x%x pad2=0x%x intact=%d guards=%d",
	     msgs[0].pad, msgs[1].pad, msgs[2].pad, pads, guards);
	ASSERT_EQ(3, x.nr_done);
	ASSERT_EQ(5, msgs[0].done);
	ASSERT_EQ(6, msgs[1].done);
	ASSERT_EQ(11, msgs[2].done);
	ASSERT_EQ(0, memcmp(c, "hello world", 11));
	ASSERT_TRUE(pads);
	ASSERT_TRUE(guards);
	stats(_metadata, "stats", self->fd, &self->base, &st);
	ASSERT_EQ(0, st.used);

	/* A read message takes what is there, up to its length. */
	memcpy(a, "abc", 3);
	memset(c, 0x5a, 11);
	set_msg(&msgs[0], 0, a, 3, 0);
	set_msg(&msgs[1], 1, c, 8, IKFIFO_MSG_READ);
	ASSERT_EQ(0, xfer(_metadata, "xfer_short_read", self->fd, &x, msgs, 2));
	note_msgs(_metadata, "xfer_short_read", msgs, 2);
	note(_metadata, "xfer_short_read text=%.3s rest_intact=%d", c,
	     all_bytes(c + 3, 8 + 16, 0x5a));
	ASSERT_EQ(2, x.nr_done);
	ASSERT_EQ(3, msgs[1].done);
	ASSERT_EQ(0, memcmp(c, "abc", 3));
	ASSERT_TRUE(all_bytes(c + 3, 8 + 16, 0x5a));
	expect_used(_metadata, "used", self->fd, 0);
	munmap(map, 4 * page);
}

/*
 * The limits of a batch: 1 to IKFIFO_XFER_MAX messages, writes that take
 * no more than the free space and never block, a read message of length
 * 0 that does not block either.
 */
TEST_F(fifo, xfer_limits)
{
	static const char digits[] = "0123456789abcdefg";
	struct ikfifo_msg msgs[IKFIFO_XFER_MAX + 1];
	struct ikfifo_xfer x;
	char buf[16];
	int i;

	for (i = 0; i <= IKFIFO_XFER_MAX; i++)
		set_msg(&msgs[i], i, digits + i, 1, 0);
	ASSERT_EQ(-1, xfer(_metadata, "xfer0", self->fd, &x, msgs, 0));
	ASSERT_EQ(EINVAL, last_errno);
	ASSERT_EQ(DONE_UNSET, x.nr_done);
	ASSERT_EQ(-1, xfer(_metadata, "xfer_max_plus1", self->fd, &x, msgs,
			   IKFIFO_XFER_MAX + 1));
	ASSERT_EQ(EINVAL, last_errno);
	ASSERT_EQ(DONE_UNSET, x.nr_done);
	note_msgs(_metadata, "xfer_max_plus1", msgs, IKFIFO_XFER_MAX + 1);
	expect_used(_metadata, "used", self->fd, 0);
	ASSERT_EQ(0, xfer(_metadata, "xfer_max", self->fd, &x, msgs,
			  IKFIFO_XFER_MAX));
	ASSERT_EQ(IKFIFO_XFER_MAX, x.nr_done);
	note_msgs(_metadata, "xfer_max", msgs, IKFIFO_XFER_MAX + 1);
	read_back(_metadata, "read_max", self->fd, "0123456789abcdef");

	/* Empty and blocking: a read of nothing still returns at once. */
	set_msg(&msgs[0], 0, buf, 0, IKFIFO_MSG_READ);
	ASSERT_EQ(0, xfer(_metadata, "xfer_read0_empty", self->fd, &x, msgs, 1));
	note_msgs(_metadata, "xfer_read0_empty", msgs, 1);
	ASSERT_EQ(0, msgs[0].done);

	/* Writes take the free space only, and 0 bytes when it is full. */
	put(_metadata, &self->s, "fill_but4", self->fd, self->cap - 4,
	    self->cap - 4);
	set_msg(&msgs[0], 0, digits, 10, 0);
	set_msg(&msgs[1], 1, digits, 10, 0);
	ASSERT_EQ(0, xfer(_metadata, "xfer_write_4free", self->fd, &x, msgs, 2));
	note_msgs(_metadata, "xfer_write_4free", msgs, 2);
	ASSERT_EQ(4, msgs[0].done);
	ASSERT_EQ(0, msgs[1].done);
	expect_used(_metadata, "used_full", self->fd, self->cap);
	CHECK("clear", self->cap, ioctl(self->fd, IKFIFO_CLEAR, 0));

	/* The argument itself. */
	CHECK_ERR("xfer_arg_ptr1", EFAULT, ioctl(self->fd, IKFIFO_XFER, BAD_PTR));
	CHECK_ERR("xfer_arg_null", EFAULT, ioctl(self->fd, IKFIFO_XFER, NULL_PTR));
	CHECK_ERR("xfer_arg_kernel", EFAULT, ioctl(self->fd, IKFIFO_XFER, KERNEL_PTR));
	expect_used(_metadata, "used", self->fd, 0);
}

/*
 * Buffers and message arrays that fault.  What moved before the fault
 * stays moved and is counted in done; nothing else changes.
 */
TEST_F(fifo, xfer_efault)
{
	long page = sysconf(_SC_PAGESIZE);
	unsigned char *edge_page = page_before_hole(_metadata, page);
	unsigned char *hole = edge_page + page;
	unsigned char *edge = hole - 4;		/* 4 bytes, then nothing */
	unsigned char *map = map_pages(_metadata, 3);
	struct ikfifo_msg *msgs = (void *)map;
	unsigned char *ro = map + page, *none = map + 2 * page;
	struct ikfifo_xfer *xp;
	struct ikfifo_xfer x;

	ASSERT_EQ(0, mprotect(ro, page, PROT_READ));
	ASSERT_EQ(0, mprotect(none, page, PROT_NONE));

	/* The array itself: nothing runs, nothing is stored. */
	ASSERT_EQ(-1, xfer(_metadata, "xfer_msgs_unmapped", self->fd, &x,
			   hole, 1));
	ASSERT_EQ(EFAULT, last_errno);
	ASSERT_EQ(DONE_UNSET, x.nr_done);
	ASSERT_EQ(-1, xfer(_metadata, "xfer_msgs_across_hole", self->fd, &x,
			   hole - sizeof(*msgs), 2));
	ASSERT_EQ(EFAULT, last_errno);
	ASSERT_EQ(DONE_UNSET, x.nr_done);
	expect_used(_metadata, "used", self->fd, 0);

	/* A read into 4 good bytes: 4 of 10 delivered, 6 left. */
	CHECK("write10", 10, write(self->fd, "0123456789", 10));
	set_msg(&msgs[0], 0, edge, 10, IKFIFO_MSG_READ);
	ASSERT_EQ(-1, xfer(_metadata, "xfer_read_into_hole", self->fd, &x,
			   msgs, 1));
	ASSERT_EQ(EFAULT, last_errno);
	note_msgs(_metadata, "xfer_read_into_hole", msgs, 1);
	note(_metadata, "xfer_read_into_hole text=%.4s", edge);
	ASSERT_EQ(0, x.nr_done);
	ASSERT_EQ(4, msgs[0].done);
	ASSERT_EQ(0, memcmp(edge, "0123", 4));
	expect_used(_metadata, "used_6", self->fd, 6);
	read_back(_metadata, "read_rest", self->fd, "456789");

	/* A read into a read-only page: nothing delivered, nothing taken. */
	CHECK("write10", 10, write(self->fd, "0123456789", 10));
	set_msg(&msgs[0], 0, ro, 10, IKFIFO_MSG_READ);
	ASSERT_EQ(-1, xfer(_metadata, "xfer_read_readonly", self->fd, &x,
			   msgs, 1));
	ASSERT_EQ(EFAULT, last_errno);
	note_msgs(_metadata, "xfer_read_readonly", msgs, 1);
	ASSERT_EQ(0, x.nr_done);
	ASSERT_EQ(0, msgs[0].done);
	read_back(_metadata, "read_intact", self->fd, "0123456789");

	/* Writes from nothing, and from 4 good bytes. */
	set_msg(&msgs[0], 0, none, 10, 0);
	ASSERT_EQ(-1, xfer(_metadata, "xfer_write_protnone", self->fd, &x,
			   msgs, 1));
	ASSERT_EQ(EFAULT, last_errno);
	note_msgs(_metadata, "xfer_write_protnone", msgs, 1);
	ASSERT_EQ(0, msgs[0].done);
	expect_used(_metadata, "used_0", self->fd, 0);
	memcpy(edge, "WXYZ", 4);
	set_msg(&msgs[0], 0, edge, 10, 0);
	ASSERT_EQ(-1, xfer(_metadata, "xfer_write_from_hole", self->fd, &x,
			   msgs, 1));
	ASSERT_EQ(EFAULT, last_errno);
	note_msgs(_metadata, "xfer_write_from_hole", msgs, 1);
	ASSERT_EQ(4, msgs[0].done);
	read_back(_metadata, "read_4", self->fd, "WXYZ");

	/* The fault ends the batch; what ran before it stays done. */
	set_msg(&msgs[0], 0, "abc", 3, 0);
	set_msg(&msgs[1], 1, none, 3, 0);
	set_msg(&msgs[2], 2, "def", 3, 0);
	ASSERT_EQ(-1, xfer(_metadata, "xfer_second_faults", self->fd, &x,
			   msgs, 3));
	ASSERT_EQ(EFAULT, last_errno);
	note_msgs(_metadata, "xfer_second_faults", msgs, 3);
	ASSERT_EQ(1, x.nr_done);
	ASSERT_EQ(3, msgs[0].done);
	ASSERT_EQ(0, msgs[1].done);
	ASSERT_EQ(DONE_UNSET, msgs[2].done);
	read_back(_metadata, "read_first", self->fd, "abc");

	/*
	 * Messages in a read-only page: the driver reads them and moves the
	 * bytes, but cannot store done.
	 */
	ASSERT_EQ(0, mprotect(ro, page, PROT_READ | PROT_WRITE));
	set_msg((struct ikfifo_msg *)ro, 0, "ghi", 3, 0);
	ASSERT_EQ(0, mprotect(ro, page, PROT_READ));
	ASSERT_EQ(-1, xfer(_metadata, "xfer_msgs_readonly", self->fd, &x,
			   ro, 1));
	ASSERT_EQ(EFAULT, last_errno);
	note_msgs(_metadata, "xfer_msgs_readonly", (void *)ro, 1);
	ASSERT_EQ(0, x.nr_done);
	read_back(_metadata, "read_moved", self->fd, "ghi");

	/* An argument that cannot be written: the batch runs, EFAULT. */
	ASSERT_EQ(0, mprotect(ro, page, PROT_READ | PROT_WRITE));
	xp = (void *)(ro + 512);
	xp->msgs = uptr(msgs);
	xp->nmsgs = 1;
	xp->nr_done = DONE_UNSET;
	set_msg(&msgs[0], 0, "jkl", 3, 0);
	ASSERT_EQ(0, mprotect(ro, page, PROT_READ));
	CHECK_ERR("xfer_arg_readonly", EFAULT, ioctl(self->fd, IKFIFO_XFER, xp));
	note_msgs(_metadata, "xfer_arg_readonly", msgs, 1);
	note(_metadata, "xfer_arg_readonly nr_done_unchanged=%d",
	     xp->nr_done == DONE_UNSET);
	ASSERT_EQ(3, msgs[0].done);
	read_back(_metadata, "read_moved", self->fd, "jkl");

	expect_used(_metadata, "used", self->fd, 0);
	munmap(map, 3 * page);
	munmap(edge_page, page);
}

/* O_NONBLOCK: a read message that finds the FIFO empty ends the batch. */
TEST_F(fifo, xfer_nonblock)
{
	struct ikfifo_msg msgs[3];
	struct ikfifo_xfer x;
	char buf[16], buf2[16];
	int nb;

	nb = open_node(_metadata, "open_nonblock", O_RDWR | O_NONBLOCK);
	ASSERT_LE(0, nb);
	set_msg(&msgs[0], 0, buf, 5, IKFIFO_MSG_READ);
	ASSERT_EQ(-1, xfer(_metadata, "xfer_read_empty", nb, &x, msgs, 1));
	ASSERT_EQ(EAGAIN, last_errno);
	note_msgs(_metadata, "xfer_read_empty", msgs, 1);
	ASSERT_EQ(0, x.nr_done);
	ASSERT_EQ(DONE_UNSET, msgs[0].done);

	memset(buf, 0, sizeof(buf));
	set_msg(&msgs[0], 0, "xy", 2, 0);
	set_msg(&msgs[1], 1, buf, 5, IKFIFO_MSG_READ);
	set_msg(&msgs[2], 2, buf2, 5, IKFIFO_MSG_READ);
	ASSERT_EQ(-1, xfer(_metadata, "xfer_read_then_empty", nb, &x, msgs, 3));
	ASSERT_EQ(EAGAIN, last_errno);
	note_msgs(_metadata, "xfer_read_then_empty", msgs, 3);
	note(_metadata, "xfer_read_then_empty text=%s", buf);
	ASSERT_EQ(2, x.nr_done);
	ASSERT_EQ(2, msgs[1].done);
	ASSERT_EQ(DONE_UNSET, msgs[2].done);
	ASSERT_STREQ("xy", buf);
	expect_used(_metadata, "used", self->fd, 0);
	CHECK("close_nb", 0, close(nb));
}

/* Changes another thread makes while a batch waits for data. */
struct late_writer {
	pid_t target_tid;
	int fd;
	struct ikfifo_msg *msg;
	unsigned char *guard;
	bool blocked;
	long long write_ret;
};

static void *late_writer(void *arg)
{
	struct late_writer *lw = arg;

	lw->blocked = wait_blocked(lw->target_tid, __NR_ioctl, __NR_ioctl);
	lw->msg->pad = 0xfeedf00d;
	*lw->guard = 0x77;
	lw->write_ret = write(lw->fd, "late!", 5);
	return NULL;
}

/*
 * A read message waits for a writer; meanwhile another thread changes
 * bytes next to the ones the driver stores, in the same page (the
 * message's pad, the byte after the read buffer).  Its changes stay: the
 * driver writes only the bytes read and done.
 */
TEST_F(fifo, xfer_blocked_memory_changes)
{
	long page = sysconf(_SC_PAGESIZE);
	unsigned char *map = map_pages(_metadata, 1);
	struct ikfifo_msg *msgs = (void *)map;
	struct ikfifo_xfer *x = (void *)(map + 128);
	unsigned char *buf = map + 256;
	struct late_writer lw = { .target_tid = gettid(), .msg = &msgs[0] };
	pthread_t t;

	memset(buf, 0x5a, 64);
	lw.guard = buf + 5;
	set_msg(&msgs[0], 0, buf, 5, IKFIFO_MSG_READ);
	lw.fd = open_node(_metadata, "open_writer", O_WRONLY);
	ASSERT_LE(0, lw.fd);
	ASSERT_EQ(0, pthread_create(&t, NULL, late_writer, &lw));
	ASSERT_EQ(0, xfer(_metadata, "xfer_read_blocks", self->fd, x, msgs, 1));
	ASSERT_EQ(0, pthread_join(t, NULL));
	note_msgs(_metadata, "xfer_read_blocks", msgs, 1);
	note(_metadata, "xfer_read_blocks text=%.5s pad=0x%x guard=0x%02x next=0x%02x",
	     buf, msgs[0].pad, buf[5], buf[6]);
	note(_metadata, "xfer_read_blocks len=%u flags=%u writer_ret=%lld",
	     msgs[0].len, msgs[0].flags, lw.write_ret);
	ASSERT_TRUE(lw.blocked);
	ASSERT_EQ(5, lw.write_ret);
	ASSERT_EQ(1, x->nr_done);
	ASSERT_EQ(5, msgs[0].done);
	ASSERT_EQ(0, memcmp(buf, "late!", 5));
	ASSERT_EQ(0xfeedf00d, msgs[0].pad);
	ASSERT_EQ(0x77, buf[5]);
	ASSERT_TRUE(all_bytes(buf + 6, 64 - 6, 0x5a));
	expect_used(_metadata, "used", self->fd, 0);
	CHECK("close_writer", 0, close(lw.fd));
	munmap(map, page);
}

/*
 * Signals during a read message's wait: with SA_RESTART the batch
 * restarts when nothing ran yet, but ends with EINTR once messages have
 * run (a restart would run them twice); without SA_RESTART, EINTR.
 */
TEST_F(fifo, xfer_signal)
{
	struct signaller sg = { .target = pthread_self(), .target_tid = gettid(),
				.syscall_nr = __NR_ioctl };
	struct ikfifo_msg msgs[3];
	struct ikfifo_xfer x;
	char buf[32], buf2[8];
	pthread_t t;

	set_alarm_handler(_metadata, SA_RESTART);
	sg.write_fd = self->fd;
	sg.write_len = 5;
	memcpy(sg.data, "later", 5);
	memset(buf, 0, sizeof(buf));
	set_msg(&msgs[0], 0, buf, sizeof(buf) - 1, IKFIFO_MSG_READ);
	ASSERT_EQ(0, pthread_create(&t, NULL, signaller, &sg));
	ASSERT_EQ(0, xfer(_metadata, "xfer_restarted", self->fd, &x, msgs, 1));
	ASSERT_EQ(0, pthread_join(t, NULL));
	note_msgs(_metadata, "xfer_restarted", msgs, 1);
	note(_metadata, "xfer_restarted text=%s handler_calls=%d writer_ret=%lld",
	     buf, alarms, sg.write_ret);
	ASSERT_TRUE(sg.blocked);
	ASSERT_TRUE(sg.reblocked);
	ASSERT_EQ(1, alarms);
	ASSERT_EQ(5, sg.write_ret);
	ASSERT_EQ(1, x.nr_done);
	ASSERT_STREQ("later", buf);

	set_alarm_handler(_metadata, SA_RESTART);
	sg.write_len = 0;
	set_msg(&msgs[0], 0, "ab", 2, 0);
	set_msg(&msgs[1], 1, buf, 2, IKFIFO_MSG_READ);
	set_msg(&msgs[2], 2, buf2, 1, IKFIFO_MSG_READ);
	ASSERT_EQ(0, pthread_create(&t, NULL, signaller, &sg));
	ASSERT_EQ(-1, xfer(_metadata, "xfer_interrupted_after_2", self->fd, &x,
			   msgs, 3));
	ASSERT_EQ(0, pthread_join(t, NULL));
	ASSERT_EQ(EINTR, last_errno);
	note_msgs(_metadata, "xfer_interrupted_after_2", msgs, 3);
	note(_metadata, "xfer_interrupted_after_2 handler_calls=%d", alarms);
	ASSERT_TRUE(sg.blocked);
	ASSERT_EQ(1, alarms);
	ASSERT_EQ(2, x.nr_done);
	ASSERT_EQ(DONE_UNSET, msgs[2].done);

	set_alarm_handler(_metadata, 0);
	set_msg(&msgs[0], 0, buf, 2, IKFIFO_MSG_READ);
	ASSERT_EQ(0, pthread_create(&t, NULL, signaller, &sg));
	ASSERT_EQ(-1, xfer(_metadata, "xfer_interrupted", self->fd, &x, msgs, 1));
	ASSERT_EQ(0, pthread_join(t, NULL));
	ASSERT_EQ(EINTR, last_errno);
	note_msgs(_metadata, "xfer_interrupted", msgs, 1);
	note(_metadata, "xfer_interrupted handler_calls=%d", alarms);
	ASSERT_TRUE(sg.blocked);
	ASSERT_EQ(1, alarms);
	ASSERT_EQ(0, x.nr_done);
	expect_used(_metadata, "used", self->fd, 0);
}

static void set_node(struct ikfifo_node *n, const void *next, const void *buf,
		     __u32 len)
{
	n->next = uptr(next);
	n->buf = uptr(buf);
	n->len = len;
	n->done = DONE_UNSET;
}

/*
 * IKFIFO_CHAIN from HEAD through C, noted as OP with the count the driver
 * stored and the done fields of the N nodes at NODES; C's head and pad
 * must stay as set.
 */
static long long chain(struct __test_metadata *_metadata, const char *op,
		       int fd, struct ikfifo_chain *c, const void *head,
		       struct ikfifo_node **nodes, int n)
{
	char line[256], v[16];
	long long ret;
	int i, len = 0;

	c->head = uptr(head);
	c->count = DONE_UNSET;
	c->pad = 0x5a5a5a5a;
	ret = RUN(op, ioctl(fd, IKFIFO_CHAIN, c));
	line[0] = '\0';
	for (i = 0; i < n; i++)
		len += snprintf(line + len, sizeof(line) - len, "%s%s",
				i ? "," : "",
				out_field(v, sizeof(v), nodes[i]->done));
	note(_metadata, "%s count=%s done=%s pad=0x%x", op,
	     out_field(v, sizeof(v), c->count), line, c->pad);
	ASSERT_EQ(uptr(head), c->head) TH_LOG("%s", op);
	ASSERT_EQ(0x5a5a5a5a, c->pad) TH_LOG("%s", op);
	return ret;
}

/*
 * Three nodes, each in a page of its own (one across a page boundary),
 * with their buffers in others (one across a boundary): appended in
 * order, only done and count stored.
 */
TEST_F(fifo, chain_nodes)
{
	long page = sysconf(_SC_PAGESIZE);
	unsigned char *map = map_pages(_metadata, 6);
	struct ikfifo_node *nodes[3], want[3];
	unsigned char *bufs[3];
	struct ikfifo_chain c;
	bool intact = true;
	int i;

	nodes[0] = (void *)(map + 64);
	nodes[1] = (void *)(map + 2 * page + 128);
	nodes[2] = (void *)(map + 5 * page - 8);	/* across into page 5 */
	bufs[0] = map + page;
	bufs[1] = map + 3 * page - 2;			/* across into page 3 */
	bufs[2] = map + 5 * page + 100;
	memcpy(bufs[0], "alpha", 5);
	memcpy(bufs[1], "-beta-", 6);
	memcpy(bufs[2], "gamma!", 6);
	set_node(nodes[0], nodes[1], bufs[0], 5);
	set_node(nodes[1], nodes[2], bufs[1], 6);
	set_node(nodes[2], NULL, bufs[2], 6);
	for (i = 0; i < 3; i++)
		want[i] = *nodes[i];
	ASSERT_EQ(0, chain(_metadata, "chain3", self->fd, &c, nodes[0], nodes, 3));
	for (i = 0; i < 3; i++)
		intact &= nodes[i]->next == want[i].next &&
			  nodes[i]->buf == want[i].buf &&
			  nodes[i]->len == want[i].len;
	note(_metadata, "chain3 nodes_intact=%d", intact);
	ASSERT_EQ(3, c.count);
	ASSERT_EQ(5, nodes[0]->done);
	ASSERT_EQ(6, nodes[1]->done);
	ASSERT_EQ(6, nodes[2]->done);
	ASSERT_TRUE(intact);
	read_back(_metadata, "read_chain", self->fd, "alpha-beta-gamma!");
	munmap(map, 6 * page);
}

/*
 * No nodes; a loop (E2BIG after IKFIFO_CHAIN_MAX nodes); nodes that take
 * no more than the free space.
 */
TEST_F(fifo, chain_limits)
{
	struct ikfifo_node loop, two[2], *nodes[2] = { &two[0], &two[1] };
	struct ikfifo_node *lp = &loop;
	struct ikfifo_chain c;

	ASSERT_EQ(0, chain(_metadata, "chain_empty", self->fd, &c, NULL, NULL, 0));
	ASSERT_EQ(0, c.count);
	expect_used(_metadata, "used", self->fd, 0);

	set_node(&loop, &loop, "x", 1);
	ASSERT_EQ(-1, chain(_metadata, "chain_loop", self->fd, &c, &loop, &lp, 1));
	ASSERT_EQ(E2BIG, last_errno);
	ASSERT_EQ(IKFIFO_CHAIN_MAX, c.count);
	ASSERT_EQ(1, loop.done);
	expect_used(_metadata, "used_max", self->fd, IKFIFO_CHAIN_MAX);
	CHECK("clear", IKFIFO_CHAIN_MAX, ioctl(self->fd, IKFIFO_CLEAR, 0));

	put(_metadata, &self->s, "fill_but4", self->fd, self->cap - 4,
	    self->cap - 4);
	set_node(&two[0], &two[1], "0123456789", 10);
	set_node(&two[1], NULL, "0123456789", 10);
	ASSERT_EQ(0, chain(_metadata, "chain_4free", self->fd, &c, &two[0],
			   nodes, 2));
	ASSERT_EQ(2, c.count);
	ASSERT_EQ(4, two[0].done);
	ASSERT_EQ(0, two[1].done);
	expect_used(_metadata, "used_full", self->fd, self->cap);
	CHECK("clear", self->cap, ioctl(self->fd, IKFIFO_CLEAR, 0));

	CHECK_ERR("chain_arg_ptr1", EFAULT, ioctl(self->fd, IKFIFO_CHAIN, BAD_PTR));
	CHECK_ERR("chain_arg_null", EFAULT, ioctl(self->fd, IKFIFO_CHAIN, NULL_PTR));
	expect_used(_metadata, "used", self->fd, 0);
}

/* Nodes and buffers that fault: what was appended before stays. */
TEST_F(fifo, chain_efault)
{
	long page = sysconf(_SC_PAGESIZE);
	unsigned char *edge_page = page_before_hole(_metadata, page);
	unsigned char *hole = edge_page + page;
	unsigned char *edge = hole - 4;
	unsigned char *map = map_pages(_metadata, 2);
	struct ikfifo_node *n = (void *)map, *nodes[3] = { &n[0], &n[1], &n[2] };
	struct ikfifo_node *ro = (void *)(map + page);
	struct ikfifo_chain c;

	/* The second node's next points at nothing. */
	set_node(&n[0], &n[1], "abc", 3);
	set_node(&n[1], hole, "def", 3);
	ASSERT_EQ(-1, chain(_metadata, "chain_next_unmapped", self->fd, &c,
			    &n[0], nodes, 2));
	ASSERT_EQ(EFAULT, last_errno);
	ASSERT_EQ(2, c.count);
	read_back(_metadata, "read_2nodes", self->fd, "abcdef");

	ASSERT_EQ(-1, chain(_metadata, "chain_head_unmapped", self->fd, &c,
			    hole, NULL, 0));
	ASSERT_EQ(EFAULT, last_errno);
	ASSERT_EQ(0, c.count);
	ASSERT_EQ(-1, chain(_metadata, "chain_node_across_hole", self->fd, &c,
			    hole - 8, NULL, 0));
	ASSERT_EQ(EFAULT, last_errno);
	ASSERT_EQ(0, c.count);
	expect_used(_metadata, "used", self->fd, 0);

	/* A buffer of 4 good bytes in the second node. */
	memcpy(edge, "WXYZ", 4);
	set_node(&n[0], &n[1], "abc", 3);
	set_node(&n[1], &n[2], edge, 10);
	set_node(&n[2], NULL, "def", 3);
	ASSERT_EQ(-1, chain(_metadata, "chain_buf_into_hole", self->fd, &c,
			    &n[0], nodes, 3));
	ASSERT_EQ(EFAULT, last_errno);
	ASSERT_EQ(1, c.count);
	ASSERT_EQ(4, n[1].done);
	ASSERT_EQ(DONE_UNSET, n[2].done);
	read_back(_metadata, "read_7", self->fd, "abcWXYZ");

	/* A node in a read-only page: appended, but done cannot be stored. */
	set_node(ro - 1, ro, "abc", 3);		/* last node of page 0 */
	ASSERT_EQ(0, mprotect(ro, page, PROT_READ | PROT_WRITE));
	set_node(ro, NULL, "ghi", 3);
	ASSERT_EQ(0, mprotect(ro, page, PROT_READ));
	nodes[0] = ro - 1;
	nodes[1] = ro;
	ASSERT_EQ(-1, chain(_metadata, "chain_node_readonly", self->fd, &c,
			    ro - 1, nodes, 2));
	ASSERT_EQ(EFAULT, last_errno);
	ASSERT_EQ(1, c.count);
	read_back(_metadata, "read_moved", self->fd, "abcghi");

	expect_used(_metadata, "used", self->fd, 0);
	munmap(map, 2 * page);
	munmap(edge_page, page);
}

static void print_help(const char *prog)
{
	fprintf(stderr,
		"usage: %s [-d NODE] [-t TRANSCRIPT] [-- HARNESS-OPTIONS]\n"
		"  -d NODE        device node (default /dev/ikfifo)\n"
		"  -t TRANSCRIPT  write the transcript of every operation there\n",
		prog);
}

int main(int argc, char **argv)
{
	const char *transcript = NULL;
	int opt, first;

	while ((opt = getopt(argc, argv, "+d:t:h")) != -1) {
		switch (opt) {
		case 'd':
			node = optarg;
			node_given = true;
			break;
		case 't':
			transcript = optarg;
			break;
		case 'h':
			print_help(argv[0]);
			return 0;
		default:
			print_help(argv[0]);
			return KSFT_FAIL;
		}
	}
	if (transcript) {
		transcript_fd = open(transcript,
				     O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC,
				     0644);
		if (transcript_fd < 0) {
			perror(transcript);
			return KSFT_FAIL;
		}
	}
	/* What follows the options (after "--") goes to the harness. */
	first = optind - 1;
	argv[first] = argv[0];
	optind = 1;
	return test_harness_run(argc - first, argv + first);
}
