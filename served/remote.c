// SPDX-License-Identifier: GPL-2.0
/*
 * Remote ioctls: an ioctl whose argument holds pointers (an array of
 * messages with a buffer each, a chain of structs) runs against the host
 * caller's own memory, fetched a page at a time as the driver touches it.
 *
 * The host sends its caller's argument as it is and a map of the caller's
 * readable memory (Documentation/ring.rst, "Remote ioctls").  A child
 * process, sharing this process's file table, gives up every mapping it
 * inherited except one small hole that the map leaves free (so nothing of
 * this process can collide with the caller's addresses), maps empty
 * anonymous memory where the caller has memory, with the caller's access
 * (read-only where the caller cannot write), registers it with a
 * userfaultfd and calls the ioctl.  The code that does this after the
 * unmapping is a few dozen instructions copied into the hole; it uses no
 * stack.  Each page the driver touches stops it; the fault becomes a step
 * answer naming the page, and the host's next request brings its bytes
 * (UFFDIO_COPY) or says they cannot be read (UFFDIO_POISON: the driver's
 * access faults, EFAULT at that byte, as natively).  Memory the caller has
 * not mapped is not mapped in the child either.  When the ioctl returns,
 * each page is compared with the bytes that came, and only the bytes the
 * driver changed go back, as write-back records.
 *
 * x86-64 only, like the driver VMs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/rseq.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/userfaultfd.h>

#include "remote.h"

#ifndef UFFD_FEATURE_POISON
#define UFFD_FEATURE_POISON	(1 << 14)
#define _UFFDIO_POISON		0x08
struct uffdio_poison {
	struct uffdio_range range;
	__u64 mode;
	__s64 updated;
};
#define UFFDIO_POISON		_IOWR(UFFDIO, _UFFDIO_POISON, struct uffdio_poison)
#endif

#define PAGE_SZ		4096ul
/* The lowest address the child may map, and the end of user space. */
#define USER_LOW	0x10000ul
#define USER_END	0x7ffffffff000ul
#define MAX_SESSIONS	IKERNEL_MAX_SLOTS
#define MAX_HOLES	64
/* A session the host has not continued for this long is given up. */
#define IDLE_S		60

/* One range as the child maps and registers it (struct uffdio_register first). */
struct child_range {
	uint64_t start, len, mode, ioctls;
	uint64_t prot;
};

/* What the code in the hole reads (offsets used by the assembly below). */
struct child_ctx {
	uint64_t low_len;	/*  0: unmap [0, low_len) */
	uint64_t high_start;	/*  8: and [high_start, +high_len) */
	uint64_t high_len;	/* 16 */
	uint64_t uffd;		/* 24 */
	uint64_t fd;		/* 32 */
	uint64_t cmd;		/* 40 */
	uint64_t arg;		/* 48 */
	uint64_t res_fd;	/* 56 */
	uint64_t result;	/* 64 */
	uint64_t nranges;	/* 72 */
	struct child_range ranges[];	/* 80 */
};



/* The signal stack in the hole, after the code page. */
#define ALT_STACK	(32 * 1024)

/* The kernel's struct sigaction (rt_sigaction), with its own restorer. */
struct k_sigaction {
	uintptr_t handler;
	unsigned long flags;
	uintptr_t restorer;
	uint64_t mask;
};

#define K_SA_SIGINFO	0x00000004
#define K_SA_RESTORER	0x04000000
#define K_SA_ONSTACK	0x08000000
#define K_SA_RESTART	0x10000000

/* A page the driver was given: its bytes then, and after the ioctl. */
struct rpage {
	uint64_t addr;
	char *was, *now;
};

struct session {
	int used, busy;
	uint32_t token;
	unsigned int index, handle;
	pid_t child;
	int pidfd;		/* readable once the child is gone */
	/*
	 * The userfaultfd, the result pipe's ends.  The child shares the
	 * file table: the write end stays open until the session ends.
	 */
	int uffd, res, res_w;
	time_t last;
	unsigned int npages;
	struct rpage *pages;
	int ended;		/* the ioctl returned: writing back */
	int cancel;		/* the host cancelled: signal the driver */
	int signalled;		/* the child got its SIGUSR2 */
	int64_t result;
	unsigned int wb_page;	/* write-back: next page and offset in it */
	size_t wb_off;
};

static pthread_mutex_t sessions_lock = PTHREAD_MUTEX_INITIALIZER;
static struct session sessions[MAX_SESSIONS];
static uint32_t next_token;

static void free_pages(struct session *s)
{
	unsigned int i;

	for (i = 0; i < s->npages; i++) {
		free(s->pages[i].was);
		free(s->pages[i].now);
	}
	free(s->pages);
	s->pages = NULL;
	s->npages = 0;
}

/* Ends the child, if any, and closes the session's descriptors. */
static void stop_child(struct session *s)
{
	if (s->child > 0) {
		kill(s->child, SIGKILL);
		while (waitpid(s->child, NULL, 0) < 0 && errno == EINTR)
			;
		s->child = 0;
	}
	if (s->uffd >= 0)
		close(s->uffd);
	if (s->res >= 0)
		close(s->res);
	if (s->res_w >= 0)
		close(s->res_w);
	if (s->pidfd >= 0)
		close(s->pidfd);
	s->uffd = -1;
	s->res = -1;
	s->res_w = -1;
	s->pidfd = -1;
}

/* Frees session @s (taken: busy, or unreachable by other workers). */
static void end_session(struct session *s)
{
	stop_child(s);
	free_pages(s);
	pthread_mutex_lock(&sessions_lock);
	s->used = 0;
	s->busy = 0;
	pthread_mutex_unlock(&sessions_lock);
}

/* The end of run @i of a caller's map, without the writable bit. */
static uint64_t run_end(const uint64_t *map, size_t i)
{
	return map[2 * i + 1] & ~(uint64_t)IKERNEL_MEM_RANGE_WRITABLE;
}

/* Makes the driver's access to the page at @addr fault (EFAULT). */
static void poison_page(struct session *s, uint64_t addr)
{
	struct uffdio_poison p = {
		.range = { .start = addr, .len = PAGE_SZ },
	};

	ioctl(s->uffd, UFFDIO_POISON, &p);
}

/* Leaves session @s, having answered with a step, for the host's next part. */
static void park(struct session *s)
{
	pthread_mutex_lock(&sessions_lock);
	s->busy = 0;
	s->last = time(NULL);
	pthread_mutex_unlock(&sessions_lock);
}

/* Takes session @token of @r's file for this worker; NULL if none. */
static struct session *take_session(const struct ikernel_guest_req *r)
{
	struct session *s = NULL;
	unsigned int i;

	pthread_mutex_lock(&sessions_lock);
	for (i = 0; i < MAX_SESSIONS; i++) {
		if (sessions[i].used && !sessions[i].busy &&
		    sessions[i].token == r->cmd &&
		    sessions[i].index == r->index &&
		    sessions[i].handle == r->handle) {
			s = &sessions[i];
			s->busy = 1;
			break;
		}
	}
	pthread_mutex_unlock(&sessions_lock);
	return s;
}

/*
 * Checks the caller's map (@n records at @map): page aligned, each start
 * before its end, sorted, not overlapping, inside user space.
 */
static int map_ok(const uint64_t *map, size_t n)
{
	uint64_t prev = 0, start, end;
	size_t i;

	for (i = 0; i < n; i++) {
		start = map[2 * i];
		end = run_end(map, i);
		if ((start | end) & (PAGE_SZ - 1) || start >= end ||
		    start < prev || end > USER_END)
			return 0;
		prev = end;
	}
	return 1;
}

/*
 * Places for the hole of @size bytes: the top and the bottom of each gap
 * of the caller's map that has room, at most MAX_HOLES.
 */
static size_t find_holes(const uint64_t *map, size_t n, uint64_t size,
			 uint64_t *out)
{
	uint64_t lo = USER_LOW, hi;
	size_t i, k = 0;

	for (i = 0; i <= n && k + 2 <= MAX_HOLES; i++) {
		hi = i < n ? map[2 * i] : USER_END;
		if (hi > lo && hi - lo >= size) {
			out[k++] = hi - size;
			out[k++] = lo;
		}
		if (i < n)
			lo = run_end(map, i);
		if (lo < USER_LOW)
			lo = USER_LOW;
	}
	return k;
}

/*
 * Unregisters the thread's restartable-sequences area, inherited by the
 * child: the kernel writes to it when the child is preempted, and would
 * kill the child (SIGSEGV) once it is unmapped.  glibc registers at least
 * 32 bytes whatever __rseq_size says.
 */
static int forget_rseq(void)
{
	void *area = (char *)__builtin_thread_pointer() + __rseq_offset;

	if (!__rseq_size)
		return 0;
	if (!syscall(SYS_rseq, area, __rseq_size, RSEQ_FLAG_UNREGISTER, RSEQ_SIG))
		return 0;
	if (__rseq_size != 32 &&
	    !syscall(SYS_rseq, area, 32, RSEQ_FLAG_UNREGISTER, RSEQ_SIG))
		return 0;
	return -errno;
}

/*
 * The child, on its copy of this process's memory: makes the userfaultfd,
 * tells its number on @res_w, maps the hole at the first place of @holes
 * free here too, and jumps to the code copied there.  Never returns.
 */
static void child_main(int fd, const struct ikernel_guest_req *r,
		       const uint64_t *map, size_t n, const uint64_t *holes,
		       size_t nholes, uint64_t size, int res_w)
{
	struct uffdio_api api = {
		.api = UFFD_API, .features = UFFD_FEATURE_POISON,
	};
	size_t code = remote_code_end - remote_code, i;
	struct k_sigaction sa;
	struct child_ctx *ctx;
	sigset_t all;
	stack_t alt;
	char *h = MAP_FAILED;
	int uffd, msg;

	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	msg = forget_rseq();
	if (msg)
		goto fail;
	uffd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (uffd < 0 || ioctl(uffd, UFFDIO_API, &api) < 0) {
		msg = -errno;
		goto fail;
	}
	for (i = 0; i < nholes && h == MAP_FAILED; i++)
		h = mmap((void *)holes[i], size,
			 PROT_READ | PROT_WRITE | PROT_EXEC,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
			 -1, 0);
	if (h == MAP_FAILED) {
		msg = -ENOMEM;
		goto fail;
	}
	memcpy(h, remote_code, code);
	/*
	 * A cancel is SIGUSR2: caught by code in the hole, on a stack in the
	 * hole, so that the driver sees an ordinary signal (not a fatal one),
	 * returns, and what it wrote still goes back.  The handler is
	 * SA_RESTART: when the driver asked for a restart (-ERESTARTSYS),
	 * the kernel has set the ioctl up to run again, which the handler
	 * turns into a return of -ERESTARTSYS (rax at 144 and rip at 168 of
	 * the ucontext), for the host to restart or fail with EINTR as its
	 * caller's handler says; a driver's own -EINTR stays -EINTR.
	 */
	alt = (stack_t){ .ss_sp = h + PAGE_SZ, .ss_size = ALT_STACK };
	sa = (struct k_sigaction){
		.handler = (uintptr_t)h + (remote_on_signal - remote_code),
		.flags = K_SA_SIGINFO | K_SA_RESTORER | K_SA_ONSTACK |
			 K_SA_RESTART,
		.restorer = (uintptr_t)h + (remote_restorer - remote_code),
		.mask = ~0ull,
	};
	if (sigaltstack(&alt, NULL) ||
	    syscall(SYS_rt_sigaction, SIGUSR2, &sa, NULL, 8)) {
		msg = -errno;
		goto fail;
	}
	sigdelset(&all, SIGUSR2);
	sigprocmask(SIG_SETMASK, &all, NULL);
	ctx = (struct child_ctx *)(h + PAGE_SZ + ALT_STACK);
	ctx->low_len = (uint64_t)h;
	ctx->high_start = (uint64_t)h + size;
	ctx->high_len = USER_END - ctx->high_start;
	ctx->uffd = uffd;
	ctx->fd = fd;
	ctx->cmd = r->cmd;
	ctx->arg = r->arg;
	ctx->res_fd = res_w;
	ctx->nranges = n;
	for (i = 0; i < n; i++) {
		ctx->ranges[i] = (struct child_range){
			.start = map[2 * i],
			.len = run_end(map, i) - map[2 * i],
			.mode = UFFDIO_REGISTER_MODE_MISSING,
			.prot = PROT_READ |
				(map[2 * i + 1] & IKERNEL_MEM_RANGE_WRITABLE ?
				 PROT_WRITE : 0),
		};
	}
	msg = uffd;
	if (write(res_w, &msg, sizeof(msg)) != sizeof(msg))
		_exit(1);
	((void (*)(struct child_ctx *))h)(ctx);
	_exit(1);
fail:
	if (write(res_w, &msg, sizeof(msg)) != sizeof(msg))
		_exit(1);
	_exit(1);
}

/* The child is gone without an answer: says how, and reaps it. */
static void child_died(struct session *s)
{
	int status = 0;
	pid_t got;

	do {
		got = waitpid(s->child, &status, 0);
	} while (got < 0 && errno == EINTR);
	if (got == s->child) {
		s->child = 0;
		fprintf(stderr,
			"ikernel-served: remote ioctl %u: the child died (%s %d)\n",
			s->token, WIFSIGNALED(status) ? "signal" : "exit",
			WIFSIGNALED(status) ? WTERMSIG(status) :
			WEXITSTATUS(status));
	}
}

/*
 * Reads @n bytes of the child's result pipe, waiting while the child lives
 * (at most @ms, or for ever if negative); -EIO if it died first, -EINTR
 * if a cancel came, -ETIMEDOUT.
 */
static int from_child(struct session *s, void *buf, size_t n, int ms)
{
	struct pollfd p[2] = {
		{ .fd = s->res, .events = POLLIN },
		{ .fd = s->pidfd, .events = POLLIN },
	};
	int k;

	/* A cancel's SIGUSR1 comes again and again: only the child decides. */
	do {
		k = poll(p, 2, ms);
	} while (k < 0 && errno == EINTR);
	if (k < 0)
		return -errno;
	if (!k)
		return -ETIMEDOUT;
	if (!p[0].revents) {
		child_died(s);
		return -EIO;
	}
	return read(s->res, buf, n) == (ssize_t)n ? 0 : -EIO;
}

/*
 * Writes records of the bytes that changed, from the write-back cursor
 * on, into @buf (at most @max bytes); returns the bytes written, and sets
 * *@more if records remain.
 */
static size_t put_records(struct session *s, char *buf, size_t max,
			  int *more)
{
	size_t used = 0, a, b, need, room;
	struct rpage *p;
	uint32_t len;

	*more = 0;
	for (; s->wb_page < s->npages; s->wb_page++, s->wb_off = 0) {
		p = &s->pages[s->wb_page];
		if (!p->now)
			continue;
		for (a = s->wb_off; a < PAGE_SZ; a = b) {
			while (a < PAGE_SZ && p->was[a] == p->now[a])
				a++;
			if (a == PAGE_SZ)
				break;
			b = a;
			while (b < PAGE_SZ && p->was[b] != p->now[b])
				b++;
			need = IKERNEL_WRITE_BACK_HEADER + ((b - a + 7) & ~7ul);
			if (used + need > max) {
				/* What fits of the run now, the rest next time. */
				room = max > used + IKERNEL_WRITE_BACK_HEADER ?
				       (max - used - IKERNEL_WRITE_BACK_HEADER) & ~7ul : 0;
				if (!room) {
					s->wb_off = a;
					*more = 1;
					return used;
				}
				b = a + room;
				need = IKERNEL_WRITE_BACK_HEADER + room;
			}
			memset(buf + used, 0, need);
			*(uint64_t *)(buf + used) = p->addr + a;
			len = b - a;
			memcpy(buf + used + 8, &len, sizeof(len));
			memcpy(buf + used + IKERNEL_WRITE_BACK_HEADER,
			       p->now + a, b - a);
			used += need;
		}
	}
	return used;
}

/*
 * The ioctl returned: keeps what the driver left in each page, read
 * through /proc/PID/mem (the driver VM's kernel has no process_vm_readv).
 */
static void collect(struct session *s)
{
	char path[64];
	unsigned int i;
	int mem;

	snprintf(path, sizeof(path), "/proc/%d/mem", (int)s->child);
	mem = open(path, O_RDONLY | O_CLOEXEC);
	if (mem < 0) {
		perror("ikernel-served: remote ioctl: /proc/PID/mem");
		return;
	}
	for (i = 0; i < s->npages; i++) {
		s->pages[i].now = malloc(PAGE_SZ);
		if (s->pages[i].now &&
		    pread(mem, s->pages[i].now, PAGE_SZ,
			  (off_t)s->pages[i].addr) != (ssize_t)PAGE_SZ) {
			free(s->pages[i].now);
			s->pages[i].now = NULL;
		}
	}
	close(mem);
}

/*
 * Answers from the write-back cursor on: a write-back step while records
 * remain beyond @reply_max, else the final answer (and the session ends).
 */
static int64_t write_back(struct session *s, char *buf, size_t reply_max,
			  uint32_t *len, uint64_t *aux, int *final)
{
	int64_t res = s->result;
	int more;

	*len = put_records(s, buf, reply_max, &more);
	if (more) {
		*aux = IKERNEL_IOCTL_STEP | IKERNEL_IOCTL_STEP_WRITE_BACK;
		park(s);
		return s->token;
	}
	end_session(s);
	*final = 1;
	return res;
}

/* Whether the page at @addr was given to the child already. */
static int have_page(const struct session *s, uint64_t addr)
{
	unsigned int i;

	for (i = 0; i < s->npages; i++)
		if (s->pages[i].addr == addr)
			return 1;
	return 0;
}

/*
 * Whether the child sleeps in the driver, not in a fault of ours: only
 * then does a signal interrupt the driver's wait and nothing else.  (With
 * a signal pending, the driver's faults on pages still to come do not
 * wait for them but retry until they are there.)
 */
static int in_driver_wait(struct session *s)
{
	struct pollfd p = { .fd = s->uffd, .events = POLLIN };
	char path[64], buf[256], *st;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)s->child);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 1;
	buf[n] = 0;
	st = strrchr(buf, ')');
	if (!st || st[1] != ' ' || (st[2] != 'S' && st[2] != 'D'))
		return 0;
	return poll(&p, 1, 0) == 0;
}

/*
 * Runs the session's ioctl until it needs a page (a step answer) or
 * returns (write-back).  A cancel (SIGUSR1, or a request cancelled before
 * it started) becomes an ordinary signal to the child once it sleeps in
 * the driver: the driver returns as it would natively, and what it wrote
 * goes back.
 */
static int64_t run(struct session *s, char *buf, size_t reply_max,
		   uint32_t *len, uint64_t *aux, int *final)
{
	struct pollfd p[3];
	struct uffd_msg m;
	uint64_t addr;
	ssize_t got;
	int64_t v;
	int err, k;

	for (;;) {
		p[0] = (struct pollfd){ .fd = s->uffd, .events = POLLIN };
		p[1] = (struct pollfd){ .fd = s->res, .events = POLLIN };
		p[2] = (struct pollfd){ .fd = s->pidfd, .events = POLLIN };
		/*
		 * A cancel's SIGUSR1 may have come before this poll: the flag
		 * tells, looked at every 50 ms until the child is signalled.
		 */
		if (!s->signalled && !s->cancel && served_cancelled())
			s->cancel = 1;
		k = poll(p, 3, s->signalled ? -1 : s->cancel ? 5 : 50);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			perror("ikernel-served: remote ioctl: poll");
			end_session(s);
			*final = 1;
			return -EIO;
		}
		if (!k) {
			if (s->cancel && in_driver_wait(s)) {
				kill(s->child, SIGUSR2);
				s->signalled = 1;
			}
			continue;
		}
		if (p[1].revents || p[2].revents) {
			err = from_child(s, &v, sizeof(v), 0);
			if (err) {
				end_session(s);
				*final = 1;
				return -EIO;
			}
			s->result = v;
			collect(s);
			stop_child(s);
			s->ended = 1;
			return write_back(s, buf, reply_max, len, aux, final);
		}
		got = read(s->uffd, &m, sizeof(m));
		if (got != sizeof(m) || m.event != UFFD_EVENT_PAGEFAULT)
			continue;
		addr = m.arg.pagefault.address & ~(PAGE_SZ - 1);
		/*
		 * A fault the page of which came already: the driver, with
		 * a signal pending, retried before it saw the page.
		 */
		if (have_page(s, addr))
			continue;
		if (s->npages >= IKERNEL_REMOTE_PAGES_MAX) {
			/* Beyond what may travel: the driver faults there. */
			poison_page(s, addr);
			continue;
		}
		*aux = IKERNEL_IOCTL_STEP | addr;
		park(s);
		return s->token;
	}
}

int64_t remote_ioctl(const struct ikernel_guest_req *r, int fd, char *buf,
		     size_t reply_max, uint32_t *len, uint64_t *aux,
		     int *final)
{
	size_t n = r->len / 16, nholes, i;
	uint64_t *map;
	uint64_t holes[MAX_HOLES], size;
	struct session *s = NULL;
	int pipefd[2], uffd;
	pid_t child;

	*final = 1;
	/*
	 * The child reads the map from its copy of this process's memory:
	 * not from the window, which it does not inherit.
	 */
	map = malloc(r->len + 1);
	if (!map)
		return -ENOMEM;
	memcpy(map, buf, r->len);
	if (r->len % 16 || !map_ok(map, n)) {
		free(map);
		return -EINVAL;
	}
	size = PAGE_SZ + ALT_STACK + sizeof(struct child_ctx) +
	       n * sizeof(struct child_range);
	size = (size + 0xffff) & ~0xfffful;
	nholes = find_holes(map, n, size, holes);
	if (!nholes) {
		free(map);
		return -ENOMEM;
	}
	pthread_mutex_lock(&sessions_lock);
	for (i = 0; i < MAX_SESSIONS && !s; i++) {
		if (!sessions[i].used) {
			s = &sessions[i];
			*s = (struct session){
				.used = 1, .busy = 1, .index = r->index,
				.handle = r->handle, .uffd = -1, .res = -1,
				.res_w = -1, .pidfd = -1,
			};
			if (!++next_token)
				next_token = 1;
			s->token = next_token;
		}
	}
	pthread_mutex_unlock(&sessions_lock);
	if (!s) {
		free(map);
		return -EBUSY;
	}
	s->pages = calloc(IKERNEL_REMOTE_PAGES_MAX, sizeof(*s->pages));
	if (!s->pages || pipe2(pipefd, O_CLOEXEC)) {
		free(map);
		end_session(s);
		return -ENOMEM;
	}
	/* The child shares the file table: a file the driver makes is ours. */
	child = syscall(SYS_clone, CLONE_FILES | SIGCHLD, NULL, NULL, NULL, 0);
	if (child == 0)
		child_main(fd, r, map, n, holes, nholes, size, pipefd[1]);
	free(map);
	s->res = pipefd[0];
	s->res_w = pipefd[1];
	if (child < 0) {
		end_session(s);
		return -EAGAIN;
	}
	s->child = child;
	s->pidfd = syscall(SYS_pidfd_open, child, 0);
	uffd = -EIO;
	if (s->pidfd < 0 || from_child(s, &uffd, sizeof(uffd), 10000) ||
	    uffd < 0) {
		fprintf(stderr,
			"ikernel-served: remote ioctl %u: no userfaultfd (pidfd %d, %s)\n",
			s->token, s->pidfd, strerror(uffd < 0 ? -uffd : EIO));
		end_session(s);
		return uffd < 0 ? uffd : -EIO;
	}
	s->uffd = uffd;
	*final = 0;
	return run(s, buf, reply_max, len, aux, final);
}

int64_t remote_page(const struct ikernel_guest_req *r, char *buf,
		    size_t reply_max, uint32_t *len, uint64_t *aux,
		    int *final)
{
	struct session *s = take_session(r);
	struct uffdio_copy copy;
	struct rpage *p;

	*final = 1;
	if (!s)
		return -ESRCH;
	*final = 0;
	switch (r->pos) {
	case IKERNEL_PAGE_DATA:
	case IKERNEL_PAGE_UNREADABLE:
		if (s->ended || r->arg & (PAGE_SZ - 1) ||
		    s->npages >= IKERNEL_REMOTE_PAGES_MAX ||
		    (r->pos == IKERNEL_PAGE_DATA && r->len != PAGE_SZ))
			break;
		if (r->pos == IKERNEL_PAGE_UNREADABLE) {
			poison_page(s, r->arg);
			return run(s, buf, reply_max, len, aux, final);
		}
		p = &s->pages[s->npages];
		p->was = malloc(PAGE_SZ);
		if (!p->was)
			break;
		memcpy(p->was, buf, PAGE_SZ);
		p->addr = r->arg;
		s->npages++;
		copy = (struct uffdio_copy){
			.dst = r->arg, .src = (uintptr_t)p->was, .len = PAGE_SZ,
		};
		/* Not where the driver was: it must not wait forever. */
		if (ioctl(s->uffd, UFFDIO_COPY, &copy) < 0 && errno != EEXIST)
			poison_page(s, r->arg);
		return run(s, buf, reply_max, len, aux, final);
	case IKERNEL_PAGE_CONTINUE:
		if (!s->ended)
			break;
		return write_back(s, buf, reply_max, len, aux, final);
	default:
		break;
	}
	/* Abort, or a request that makes no sense: the session ends. */
	end_session(s);
	*final = 1;
	return r->pos == IKERNEL_PAGE_ABORT ? -ECANCELED : -EINVAL;
}

/* Ends every idle session that @pick selects. */
static void drop_where(int (*pick)(const struct session *, const void *),
		       const void *arg)
{
	struct session *s;
	unsigned int i;

	for (i = 0; i < MAX_SESSIONS; i++) {
		s = &sessions[i];
		pthread_mutex_lock(&sessions_lock);
		if (s->used && !s->busy && pick(s, arg))
			s->busy = 1;
		else
			s = NULL;
		pthread_mutex_unlock(&sessions_lock);
		if (s)
			end_session(s);
	}
}

struct file_key {
	unsigned int index, handle;
};

static int of_file(const struct session *s, const void *arg)
{
	const struct file_key *k = arg;

	return s->index == k->index && s->handle == k->handle;
}

static int stale(const struct session *s, const void *arg)
{
	return *(const time_t *)arg - s->last > IDLE_S;
}

void remote_drop_file(unsigned int index, unsigned int handle)
{
	struct file_key k = { index, handle };

	drop_where(of_file, &k);
}

void remote_reap(void)
{
	time_t now = time(NULL);

	drop_where(stale, &now);
}
