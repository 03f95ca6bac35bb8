// SPDX-License-Identifier: GPL-2.0
/*
 * ikernel-served: the driver VM's serving process.
 *
 * guest_stub takes the host's requests from the shared window and hands them
 * out through /dev/ikernel_guest.  This process performs each one with an
 * ordinary system call on the real device node, from a pool of threads, so
 * the unmodified driver sees a genuine process with genuine user buffers
 * (copy_to_user, get_user and friends work as for any local caller), and a
 * request that blocks in the driver holds only its own thread.
 *
 * A watcher thread keeps the host's view of every open file's poll mask
 * current: each answer carries the file's mask, and changes caused by
 * anything else are pushed as events.
 *
 * A node may be missing (a module not loaded yet, slow set-up, or a wrong
 * configuration): opens of it fail with ENODEV, the other nodes are served
 * as usual, and a thread looks for the missing node once a second.  Which
 * nodes exist is reported to guest_stub (IKERNEL_IOC_GUEST_EXPORTS) at start
 * and on every change, for the host's logs and statistics.
 *
 * A NODE "net:IF" is the network interface IF of a net export (net.c).
 *
 * usage: ikernel-served [-v] NODE...   (export index = position)
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <linux/ikernel.h>

#include "net.h"
#include "remote.h"

/* One worker per request the ring can hold in flight: none waits. */
#define WORKERS		IKERNEL_MAX_SLOTS
/* The largest payload or reply of one request. */
#define BUF_SIZE	IKERNEL_MAX_SLOT_DATA
#define MAX_FILES	4096
#define PAGE		4096ul
/* Scratch for mirroring a caller's partly inaccessible buffer (see mirror). */
#define SCRATCH_SIZE	(2 * BUF_SIZE + PAGE)
#define MAX_CANCELLED	64
#define WATCH_BITS	(POLLIN | POLLPRI | POLLOUT | POLLRDNORM | \
			 POLLRDBAND | POLLWRNORM | POLLWRBAND)

struct file_slot {
	int used;
	int fd;
	unsigned int index;
	int nonblock;		/* O_NONBLOCK as last set on fd */
	int seekable;		/* pread, pwrite and lseek work */
	int info;		/* /proc/self/fdinfo/<fd>, or -1 */
	int64_t pos;		/* the driver's position in fd, as last seen */
	unsigned int mask;	/* poll mask as the host last heard it */
	int dirty;		/* mask changed, event not delivered yet */
	struct file_map *maps;	/* the file's mappings for the host (do_mmap) */
};

/*
 * A mapping of a file made for the host (IKERNEL_OP_MMAP).  It lives until
 * the file is released: the host's pages are these pages, and the driver
 * must not free them while a host process may still map them.
 */
struct file_map {
	struct file_map *next;
	void *addr;
	size_t len;
};

struct inflight {
	int active;
	unsigned int id;
	pthread_t thread;
	int cancelled;		/* the host asked to interrupt it */
};

static const char **nodes;
static unsigned int nr_nodes;
static int ctl = -1;
static int wake_fd = -1;
static int verbose;
static int pagemap = -1;	/* /proc/self/pagemap, for do_mmap */
/* -z: the window, mapped from /dev/ikernel_guest; requests served in place */
static char *window;

static pthread_mutex_t files_lock = PTHREAD_MUTEX_INITIALIZER;
static struct file_slot files[MAX_FILES];
/*
 * Descriptors the table holds (a file's fd or its fdinfo), by number, for
 * telling them from a driver's new descriptor (new_file) without a scan.
 * Numbers from fd_base + FD_INDEX up are looked for in the table.
 */
#define FD_INDEX	(2 * MAX_FILES + 256)
static unsigned char fd_in_table[FD_INDEX];	/* by fd - fd_base */
/*
 * Descriptors below fd_base are this process's start-up files and copies of
 * /dev/null that hold the numbers (reserve_low_fds), so that every file
 * opened later, the driver's new ones included, is numbered from fd_base
 * up: a driver's new descriptor then rarely equals an int that the caller
 * put in the argument (a line offset, a count, its own descriptor).
 */
#define FD_BASE		1024
static int fd_base = 3;

#define FD_CLOSING	2	/* fd_in_table: released, being closed */

/* Marks @fd as one of the table's (@how: 1 or FD_CLOSING); files_lock held. */
static void index_fd(int fd, int how)
{
	if (fd >= fd_base && fd - fd_base < FD_INDEX)
		fd_in_table[fd - fd_base] = how;
}

/* Forgets @fd, closed now, unless it is in use again; files_lock held. */
static void unindex_closed(int fd)
{
	if (fd >= fd_base && fd - fd_base < FD_INDEX &&
	    fd_in_table[fd - fd_base] == FD_CLOSING)
		fd_in_table[fd - fd_base] = 0;
}

static pthread_mutex_t inflight_lock = PTHREAD_MUTEX_INITIALIZER;
static struct inflight inflight[WORKERS];
/* Cancels that came before their request started, for 2 s. */
static struct {
	unsigned int id;
	time_t when;
} cancelled[MAX_CANCELLED];
static unsigned int cancelled_next;

/*
 * What each worker is doing, for the stall report: a request that has been
 * in the driver (or waiting to be answered) for STALL_S seconds is logged
 * once, with the kernel stack of its thread.
 */
#define STALL_S		60
enum { W_IDLE, W_SERVING, W_ANSWERING };
static const char *const w_state_name[] = { "idle", "in the driver", "answering" };
static pthread_mutex_t wstate_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	pid_t tid;
	int state;
	unsigned int id, op, handle;
	time_t since;
	unsigned int reported;	/* id + 1 of the request last reported */
} wstate[WORKERS];

struct worker {
	unsigned int slot;
	char *buf;		/* the request's buffer: own or in the window */
	size_t buf_size;	/* its size, at most BUF_SIZE */
	char *scratch;		/* SCRATCH_SIZE bytes */
	char *before;		/* an ioctl argument as it came, for new_file */
};

static void on_cancel(int sig)
{
	(void)sig;	/* only interrupts a blocking system call */
}

static unsigned int poll_now(int fd)
{
	struct pollfd p = { .fd = fd, .events = WATCH_BITS };

	if (poll(&p, 1, 0) < 0)
		return POLLERR;
	return p.revents & 0xffff;
}

static void wake_watcher(void)
{
	uint64_t one = 1;

	if (write(wake_fd, &one, sizeof(one)) < 0 && verbose)
		perror("ikernel-served: eventfd");
}

/* The watcher's returns from poll(), counted under round_lock. */
static pthread_mutex_t round_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t round_cond = PTHREAD_COND_INITIALIZER;
static unsigned long watch_round;

/*
 * Wakes the watcher and waits (at most 2 s) until it has come back from
 * its poll().  A poll() holds a reference to every file it watches, so the
 * driver's release of a file closed meanwhile only runs when the watcher
 * returns.  Answering a release before that lets the host's next open of
 * an exclusive device (an RTC) fail with EBUSY.
 */
static void wait_watcher_round(void)
{
	struct timespec until;
	unsigned long start;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 2;
	pthread_mutex_lock(&round_lock);
	start = watch_round;
	wake_watcher();
	while (watch_round == start)
		if (pthread_cond_timedwait(&round_cond, &round_lock, &until))
			break;
	pthread_mutex_unlock(&round_lock);
}

/* Keeps fd's O_NONBLOCK as the host file's.  Called with files_lock held. */
static void sync_nonblock(struct file_slot *f, unsigned int flags)
{
	int want = !!(flags & O_NONBLOCK);
	int fl;

	if (f->nonblock == want)
		return;
	fl = fcntl(f->fd, F_GETFL);
	if (fl < 0)
		return;
	fl = want ? (fl | O_NONBLOCK) : (fl & ~O_NONBLOCK);
	if (!fcntl(f->fd, F_SETFL, fl))
		f->nonblock = want;
}

/* What a request needs to know about its file. */
struct file_ref {
	int fd;
	int seekable;
	int info;
	int64_t pos;
};

/*
 * Looks up the file of a request and returns its fd with O_NONBLOCK set as
 * asked, or -1 with errno EBADF for a handle that is not open.
 */
static int file_get(const struct ikernel_guest_req *r, struct file_ref *ref)
{
	struct file_slot *f;
	int fd = -1;

	pthread_mutex_lock(&files_lock);
	if (r->handle >= 1 && r->handle <= MAX_FILES) {
		f = &files[r->handle - 1];
		if (f->used && f->index == r->index) {
			sync_nonblock(f, r->flags);
			fd = f->fd;
			if (ref)
				*ref = (struct file_ref){
					.fd = fd, .seekable = f->seekable,
					.info = f->info, .pos = f->pos,
				};
		}
	}
	pthread_mutex_unlock(&files_lock);
	if (fd < 0)
		errno = EBADF;
	return fd;
}

static int file_fd(const struct ikernel_guest_req *r)
{
	return file_get(r, NULL);
}

/*
 * The position the driver left in @ref's file, read from fdinfo so that
 * finding it out does not call the driver's llseek; lseek only without
 * /proc.
 */
static int64_t driver_pos(const struct file_ref *ref)
{
	char text[128];
	ssize_t n = -1;

	if (ref->info >= 0)
		n = pread(ref->info, text, sizeof(text) - 1, 0);
	if (n > 4 && !strncmp(text, "pos:", 4)) {
		text[n] = 0;
		return strtoll(text + 4, NULL, 10);
	}
	return lseek(ref->fd, 0, SEEK_CUR);
}

/* Remembers where the driver left the position of @r's file. */
static void note_pos(const struct ikernel_guest_req *r, int fd, int64_t pos)
{
	struct file_slot *f;

	pthread_mutex_lock(&files_lock);
	if (r->handle >= 1 && r->handle <= MAX_FILES) {
		f = &files[r->handle - 1];
		if (f->used && f->fd == fd && f->index == r->index)
			f->pos = pos;
	}
	pthread_mutex_unlock(&files_lock);
}

/* Samples a file's mask for an answer; the watcher need not send it. */
static unsigned int answer_mask(unsigned int handle)
{
	struct file_slot *f;
	unsigned int m = 0;

	pthread_mutex_lock(&files_lock);
	if (handle >= 1 && handle <= MAX_FILES && files[handle - 1].used) {
		f = &files[handle - 1];
		m = poll_now(f->fd);
		f->mask = m;
		f->dirty = 0;
	}
	pthread_mutex_unlock(&files_lock);
	return m;
}

/* /proc/self/fdinfo/@fd, opened (for a seekable file's position), or -1. */
static int open_fdinfo(int fd)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	return open(path, O_RDONLY | O_CLOEXEC);
}

/*
 * Enters @fd, a file of export @index, in the table with its fdinfo @info
 * (or -1): returns its handle, or -EMFILE when the table is full (the
 * caller still owns both then).  Called with files_lock held.
 */
static int64_t add_file_locked(int fd, unsigned int index, int nonblock,
			       int seekable, int info)
{
	unsigned int h;

	for (h = 0; h < MAX_FILES && files[h].used; h++)
		;
	if (h == MAX_FILES)
		return -EMFILE;
	files[h] = (struct file_slot){
		.used = 1, .fd = fd, .index = index,
		.nonblock = nonblock, .seekable = seekable,
		.info = info, .pos = 0,
	};
	index_fd(fd, 1);
	index_fd(info, 1);
	return h + 1;
}

static int64_t do_open(const struct ikernel_guest_req *r, uint64_t *aux)
{
	int flags = (r->flags & (O_ACCMODE | O_NONBLOCK | O_APPEND |
				 O_SYNC | O_DSYNC | O_NDELAY)) |
		    O_CLOEXEC | O_NOCTTY;
	int64_t h;
	int fd, info = -1;

	if (r->index >= nr_nodes)
		return -ENODEV;
	fd = open(nodes[r->index], flags);
	/* No node (yet): the device is missing, not a file. */
	if (fd < 0 && errno == ENOENT)
		return -ENODEV;
	if (fd < 0)
		return -errno;
	*aux = lseek(fd, 0, SEEK_CUR) >= 0 ? IKERNEL_OPEN_SEEKABLE : 0;
	if (*aux & IKERNEL_OPEN_SEEKABLE)
		info = open_fdinfo(fd);
	pthread_mutex_lock(&files_lock);
	h = add_file_locked(fd, r->index, !!(flags & O_NONBLOCK),
			    !!(*aux & IKERNEL_OPEN_SEEKABLE), info);
	pthread_mutex_unlock(&files_lock);
	if (h < 0) {
		if (info >= 0)
			close(info);
		close(fd);
	}
	return h;
}

static int64_t do_release(const struct ikernel_guest_req *r)
{
	struct file_map *maps = NULL, *m;
	int fd = -1, info = -1;

	/* A remote ioctl the host gave up on holds the file: end it. */
	remote_drop_file(r->index, r->handle);
	pthread_mutex_lock(&files_lock);
	if (r->handle >= 1 && r->handle <= MAX_FILES &&
	    files[r->handle - 1].used && files[r->handle - 1].index == r->index) {
		fd = files[r->handle - 1].fd;
		info = files[r->handle - 1].info;
		maps = files[r->handle - 1].maps;
		files[r->handle - 1].maps = NULL;
		files[r->handle - 1].used = 0;
		/*
		 * Still ours until closed: never taken for a driver's new
		 * descriptor.  The close (the driver's release, which may
		 * sleep) happens without the lock.
		 */
		index_fd(fd, FD_CLOSING);
		index_fd(info, FD_CLOSING);
	}
	pthread_mutex_unlock(&files_lock);
	if (fd < 0)
		return -EBADF;
	/* A mapping holds the file too: the driver's release needs both gone. */
	while (maps) {
		m = maps;
		maps = m->next;
		munmap(m->addr, m->len);
		free(m);
	}
	if (info >= 0)
		close(info);
	close(fd);
	/*
	 * Unless reused meanwhile.  (A driver's descriptor that got one of
	 * these numbers in that moment is not recognised as new.)
	 */
	pthread_mutex_lock(&files_lock);
	unindex_closed(fd);
	unindex_closed(info);
	pthread_mutex_unlock(&files_lock);
	wait_watcher_round();
	return 0;
}

/*
 * Mirrors the accessibility of the host caller's buffer: returns a buffer of
 * @size bytes whose first @w bytes are writable, the bytes up to @r only
 * readable and the rest (if @r < @size) not accessible at all, holding the
 * first @r bytes of @payload.  The host found those bounds in its caller's
 * mappings, so they are page boundaries there (r - w is whole pages when
 * 0 < w <= r < size); here the buffer is placed so that they are page
 * boundaries too, and the driver's copy_to_user or copy_from_user faults at
 * the same byte as it would have natively.  NULL if it does not fit.
 */
static char *mirror(struct worker *wk, const char *payload, size_t size,
		    size_t r, size_t w)
{
	char *mid = wk->scratch + BUF_SIZE;	/* page aligned */
	char *end = wk->scratch + SCRATCH_SIZE;
	char *x, *ro, *none;

	if (w > r || r > size || size > BUF_SIZE)
		return NULL;
	if (r < size)
		x = mid - r;		/* x + r: no access from here */
	else if (w)
		x = mid - w;		/* x + w: read-only from here */
	else
		x = mid;
	ro = w ? x + w : (char *)((uintptr_t)x & ~(PAGE - 1));
	none = r < size ? x + r :
	       (char *)(((uintptr_t)(x + size) + PAGE - 1) & ~(PAGE - 1));
	if (mprotect(wk->scratch, SCRATCH_SIZE, PROT_READ | PROT_WRITE))
		return NULL;
	memcpy(x, payload, r);
	if (none > ro && mprotect(ro, none - ro, PROT_READ))
		return NULL;
	if (r < size && mprotect(none, end - none, PROT_NONE))
		return NULL;
	return x;
}

/*
 * Natively a read or write works at the file's position, which the driver
 * moves as it likes (or not at all).  When the host's position is where the
 * driver left fd's own, the call goes through fd's position, and the answer
 * reports where the driver left it.  Otherwise (pread or pwrite on the host,
 * or a file reopened after a restart) it is a pread or pwrite at the host's
 * position, whose answer can only assume the driver advanced by the count.
 */
static int at_host_pos(const struct ikernel_guest_req *r,
		       const struct file_ref *f)
{
	return f->seekable && f->pos == (int64_t)r->pos;
}

/* The position to answer with after a transfer of @n bytes. */
static uint64_t pos_after(const struct ikernel_guest_req *r,
			  const struct file_ref *f, int at_pos, ssize_t n)
{
	int64_t now;

	if (!f->seekable)
		return r->pos;
	if (at_pos) {
		now = driver_pos(f);
		if (now >= 0) {
			note_pos(r, f->fd, now);
			return now;
		}
	}
	return r->pos + n;
}

static int64_t do_read(const struct ikernel_guest_req *r, struct worker *wk,
		       uint32_t *len, uint64_t *aux)
{
	struct file_ref f;
	char *p = wk->buf;
	int at_pos;
	ssize_t n;

	if (file_get(r, &f) < 0)
		return -errno;
	/* arg: how much of the caller's buffer is writable. */
	if (r->arg < r->reply_max) {
		p = mirror(wk, "", r->reply_max, r->arg, r->arg);
		if (!p)
			return -EFAULT;
	}
	at_pos = at_host_pos(r, &f);
	n = f.seekable && !at_pos ? pread(f.fd, p, r->reply_max, r->pos) : -1;
	if (!f.seekable || at_pos || (n < 0 && errno == ESPIPE))
		n = read(f.fd, p, r->reply_max);
	if (n < 0)
		return -errno;
	if (p != wk->buf)
		memcpy(wk->buf, p, n);
	*len = n;
	*aux = pos_after(r, &f, at_pos, n);
	return n;
}

static int64_t do_write(const struct ikernel_guest_req *r, struct worker *wk,
			uint64_t *aux)
{
	size_t count = r->cmd;	/* bytes the caller asked to write */
	struct file_ref f;
	char *p = wk->buf;
	int at_pos;
	ssize_t n;

	if (file_get(r, &f) < 0)
		return -errno;
	if (count < r->len)
		return -EINVAL;
	/* The payload is the readable part of the caller's buffer. */
	if (r->len < count) {
		p = mirror(wk, wk->buf, count, r->len, 0);
		if (!p)
			return -EFAULT;
	}
	at_pos = at_host_pos(r, &f);
	n = f.seekable && !at_pos ? pwrite(f.fd, p, count, r->pos) : -1;
	if (!f.seekable || at_pos || (n < 0 && errno == ESPIPE))
		n = write(f.fd, p, count);
	if (n < 0)
		return -errno;
	*aux = pos_after(r, &f, at_pos, n);
	return n;
}

static int64_t do_llseek(const struct ikernel_guest_req *r, uint64_t *aux)
{
	struct file_ref f;
	off_t off;

	if (file_get(r, &f) < 0)
		return -errno;
	/* The host keeps the position; start from it if fd is elsewhere. */
	if ((!f.seekable || f.pos != (int64_t)r->pos) &&
	    lseek(f.fd, (off_t)r->pos, SEEK_SET) < 0 && errno == ESPIPE)
		return -ESPIPE;
	off = lseek(f.fd, (off_t)r->arg, (int)r->cmd);
	note_pos(r, f.fd, driver_pos(&f));
	if (off < 0)
		return -errno;
	*aux = off;
	return off;
}

/*
 * IKERNEL_OP_MMAP: maps the range of the file as the host process asked,
 * faults its pages in through the driver and answers with the
 * guest-physical frame of each, read from /proc/self/pagemap; a page the
 * driver would not map (its fault handler failed) is ~0, which the host
 * leaves unmapped, so that touching it is SIGBUS there as here.  The
 * mapping always has PROT_READ, to be read in; it is kept until the file
 * is released.
 */
static int64_t do_mmap(const struct ikernel_guest_req *r, struct worker *wk,
		       uint32_t *len)
{
	int shared = !!(r->cmd & IKERNEL_MMAP_SHARED);
	int prot = (r->cmd & (PROT_READ | PROT_WRITE | PROT_EXEC)) | PROT_READ;
	uint64_t *frame = (uint64_t *)wk->buf;
	size_t pages, i, max = wk->buf_size;
	struct file_map *m;
	struct file_ref f;
	char *addr;
	int64_t h;

	if (max > r->reply_max)
		max = r->reply_max;
	if (!r->arg || r->arg % PAGE || r->pos % PAGE ||
	    r->pos > INT64_MAX - r->arg)
		return -EINVAL;
	pages = r->arg / PAGE;
	if (pages > max / sizeof(*frame))
		return -ENOMEM;
	if (pagemap < 0)
		return -ENODEV;
	if (file_get(r, &f) < 0)
		return -errno;
	m = malloc(sizeof(*m));
	if (!m)
		return -ENOMEM;
	addr = mmap(NULL, r->arg, prot, shared ? MAP_SHARED : MAP_PRIVATE,
		    f.fd, (off_t)r->pos);
	if (addr == MAP_FAILED) {
		free(m);
		return -errno;
	}
	/* Not a remote ioctl's child's (remote.c), which unmaps all. */
	madvise(addr, r->arg, MADV_DONTFORK);
	/* All at once; page by page only if some page fails. */
	if (madvise(addr, r->arg, MADV_POPULATE_READ))
		for (i = 0; i < pages; i++)
			madvise(addr + i * PAGE, PAGE, MADV_POPULATE_READ);
	if (pread(pagemap, frame, pages * sizeof(*frame),
		  (off_t)((uintptr_t)addr / PAGE * sizeof(*frame))) !=
	    (ssize_t)(pages * sizeof(*frame))) {
		h = errno ? -errno : -EIO;
		munmap(addr, r->arg);
		free(m);
		return h;
	}
	for (i = 0; i < pages; i++) {
		/* Bit 63: present; bits 0-54: the frame (to CAP_SYS_ADMIN). */
		if (frame[i] >> 63 && frame[i] & ((1ull << 55) - 1))
			frame[i] &= (1ull << 55) - 1;
		else
			frame[i] = ~0ull;
	}
	*m = (struct file_map){ .addr = addr, .len = r->arg };
	/* The file may have been released meanwhile: then undo. */
	pthread_mutex_lock(&files_lock);
	h = r->handle - 1;
	if (files[h].used && files[h].fd == f.fd) {
		m->next = files[h].maps;
		files[h].maps = m;
		m = NULL;
	}
	pthread_mutex_unlock(&files_lock);
	if (m) {
		munmap(addr, r->arg);
		free(m);
		return -EBADF;
	}
	*len = pages * sizeof(*frame);
	return pages;
}

/*
 * Whether @fd is a descriptor that the driver just made: open, and neither
 * one of this process's own files (the table's, the control device, the
 * wake-up eventfd, a net socket, /proc files) nor a node being opened by
 * another worker right now, which the link to the node's path gives away.
 * Called with files_lock held.
 */
static int driver_made(int fd)
{
	char path[64], link[256];
	unsigned int h, i;
	ssize_t n;

	if (fd < fd_base || fd == ctl || fd == wake_fd ||
	    (fd - fd_base < FD_INDEX && fd_in_table[fd - fd_base]) ||
	    fcntl(fd, F_GETFD) < 0)
		return 0;
	if (fd - fd_base >= FD_INDEX)
		for (h = 0; h < MAX_FILES; h++)
			if (files[h].used &&
			    (files[h].fd == fd || files[h].info == fd))
				return 0;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0)
		return 0;
	link[n] = 0;
	if (!strncmp(link, "/proc/", 6) || !strncmp(link, "socket:", 7) ||
	    !strncmp(link, "/dev/ikernel", 12))
		return 0;
	for (i = 0; i < nr_nodes; i++)
		if (!strcmp(link, nodes[i]))
			return 0;
	return 1;
}

/*
 * After a successful ioctl: if the driver handed out a new descriptor, as
 * the return value @ret or in an aligned int of the argument's @n bytes
 * written back (@arg, which held @before when the driver got it), adopts
 * it as a file of the request's export and sets *@aux to what tells the
 * host (IKERNEL_IOCTL_NEW_FILE).  No table says which ioctls do this: a
 * number there that is a descriptor the driver just made is one.  An int
 * the driver changed is taken before one that kept its value (an input
 * that happens to equal the new number, such as a GPIO line offset).  The
 * first found wins; the ioctls that return several files are not
 * forwarded (see exporting.rst).  Returns 0, or -EMFILE when the table
 * is full: the driver's file is closed then, and the ioctl fails as a
 * native one does when no descriptor is free.
 */
static int new_file(const struct ikernel_guest_req *r, int ret,
		    const char *arg, const char *before, size_t n,
		    uint64_t *aux)
{
	unsigned int at = IKERNEL_NEW_FILE_IN_RESULT;
	int v, was, pass, fd = -1, fdfl, fl, seekable, info;
	size_t off;
	int64_t h = -EMFILE;

	pthread_mutex_lock(&files_lock);
	if (driver_made(ret))
		fd = ret;
	for (pass = 0; pass < 2 && fd < 0; pass++) {
		for (off = 0; off + sizeof(v) <= n && fd < 0; off += sizeof(v)) {
			memcpy(&v, arg + off, sizeof(v));
			memcpy(&was, before + off, sizeof(was));
			if ((v != was) == !pass && driver_made(v)) {
				fd = v;
				at = off;
			}
		}
	}
	fl = fd >= 0 ? fcntl(fd, F_GETFL) : 0;
	/* In the table at once: no other worker can take it now. */
	if (fd >= 0)
		h = add_file_locked(fd, r->index, !!(fl & O_NONBLOCK), 0, -1);
	pthread_mutex_unlock(&files_lock);
	if (fd < 0)
		return 0;
	if (h < 0) {
		close(fd);
		return -EMFILE;
	}
	/*
	 * The driver's llseek decides whether it seeks: called without the
	 * lock, as any call into the driver.  The host knows nothing of the
	 * handle before the answer, so nothing uses the entry meanwhile.
	 */
	seekable = lseek(fd, 0, SEEK_CUR) >= 0;
	info = seekable ? open_fdinfo(fd) : -1;
	pthread_mutex_lock(&files_lock);
	files[h - 1].seekable = seekable;
	files[h - 1].info = info;
	index_fd(info, 1);
	pthread_mutex_unlock(&files_lock);
	fdfl = fcntl(fd, F_GETFD);
	if (verbose)
		fprintf(stderr, "ikernel-served: ioctl %#x made fd %d: handle %lld\n",
			r->cmd, fd, (long long)h);
	*aux = IKERNEL_NEW_FILE_AUX(h, at, fdfl >= 0 && (fdfl & FD_CLOEXEC),
				    fl & O_ACCMODE, fl & O_NONBLOCK, seekable);
	return 0;
}

/*
 * A remote ioctl (remote.c): its start on @fd (IKERNEL_IOCTL_ARG_REMOTE),
 * or its next part (IKERNEL_OP_IOCTL_PAGE, @fd unused).  A file the
 * driver handed out as the final result is adopted as any ioctl's.
 */
static int64_t do_remote(const struct ikernel_guest_req *r, struct worker *wk,
			 int fd, uint32_t *len, uint64_t *aux)
{
	size_t max = r->reply_max < wk->buf_size ? r->reply_max : wk->buf_size;
	int final;
	int64_t v = r->op == IKERNEL_OP_IOCTL_PAGE ?
		    remote_page(r, wk->buf, max, len, aux, &final) :
		    remote_ioctl(r, fd, wk->buf, max, len, aux, &final);

	if (final && v >= 0 && new_file(r, v, NULL, NULL, 0, aux))
		return -EMFILE;
	return v;
}

static int64_t do_ioctl(const struct ikernel_guest_req *r, struct worker *wk,
			uint32_t *len, uint64_t *aux)
{
	int fd = file_fd(r);
	/* pos: the argument's shape (IKERNEL_IOCTL_ARG_*). */
	size_t size = IKERNEL_IOCTL_ARG_SIZE(r->pos);
	size_t rd = IKERNEL_IOCTL_ARG_R(r->pos), wr = IKERNEL_IOCTL_ARG_W(r->pos);
	char *p = wk->buf;
	size_t back = 0;	/* argument bytes kept in wk->before */
	int ret, err;

	if (fd < 0)
		return -errno;
	if (r->pos & IKERNEL_IOCTL_ARG_REMOTE)
		return do_remote(r, wk, fd, len, aux);
	if (r->len > size || r->reply_max > size || size > wk->buf_size)
		return -EINVAL;
	if (r->pos & IKERNEL_IOCTL_ARG_LOST) {
		/* Any access to the argument faults, as it would have. */
		p = mirror(wk, "", PAGE, 0, 0);
		ret = p ? ioctl(fd, r->cmd, p) : (errno = EFAULT, -1);
	} else if (size) {
		/* The argument bytes: what the host sent, zeros after. */
		memset(wk->buf + r->len, 0, size - r->len);
		/* What the driver writes back is compared with it (new_file). */
		if (r->reply_max && size <= IKERNEL_IOCTL_SIZE_MAX) {
			memcpy(wk->before, wk->buf, size);
			back = r->reply_max;
		}
		if (rd < size || wr < size) {
			p = mirror(wk, wk->buf, size, rd, wr);
			if (!p)
				return -EFAULT;
		}
		ret = ioctl(fd, r->cmd, p);
		err = errno;
		if (p != wk->buf)
			memcpy(wk->buf, p, wr);
		/*
		 * A failing driver may have stored into the argument (a count
		 * of what it did): those bytes go back too when the host sent
		 * the caller's bytes, so that the rest is unchanged.
		 */
		if (ret < 0 && r->len) {
			*len = r->reply_max < wr ? r->reply_max : wr;
			return -err;
		}
	} else {
		ret = ioctl(fd, r->cmd, (unsigned long)r->arg);
	}
	if (ret < 0)
		return -errno;
	*len = r->reply_max;
	if (new_file(r, ret, wk->buf, wk->before, back, aux))
		return -EMFILE;
	return ret;
}

/* The slot of the worker running on this thread. */
static __thread int my_slot = -1;

int served_cancelled(void)
{
	int c = 0;

	pthread_mutex_lock(&inflight_lock);
	if (my_slot >= 0)
		c = inflight[my_slot].active && inflight[my_slot].cancelled;
	pthread_mutex_unlock(&inflight_lock);
	return c;
}


/*
 * Interrupts the worker serving request @id until it answered, up to 1 s.
 * A request not started yet is remembered, and answered EINTR when it is.
 */
static int64_t do_cancel(unsigned int id)
{
	struct timespec ts = { 0, 5 * 1000 * 1000 };
	int tries, found, i;

	for (tries = 0; tries < 200; tries++) {
		found = 0;
		pthread_mutex_lock(&inflight_lock);
		for (i = 0; i < WORKERS; i++) {
			if (inflight[i].active && inflight[i].id == id) {
				pthread_kill(inflight[i].thread, SIGUSR1);
				inflight[i].cancelled = 1;
				found = 1;
			}
		}
		if (!found && !tries) {
			cancelled[cancelled_next].id = id;
			cancelled[cancelled_next].when = time(NULL);
			cancelled_next = (cancelled_next + 1) % MAX_CANCELLED;
		}
		pthread_mutex_unlock(&inflight_lock);
		if (!found)
			break;
		nanosleep(&ts, NULL);
	}
	return 0;
}

/*
 * Marks request @id as served by @slot; false if it was cancelled already,
 * unless @keep: then it is served anyway, marked cancelled.
 */
static int start_request(unsigned int slot, unsigned int id, int keep)
{
	time_t now = time(NULL);
	int i, ok = 1;

	pthread_mutex_lock(&inflight_lock);
	for (i = 0; i < MAX_CANCELLED; i++) {
		if (cancelled[i].when && cancelled[i].id == id &&
		    now - cancelled[i].when <= 2) {
			cancelled[i].when = 0;
			ok = 0;
		}
	}
	if (ok || keep)
		inflight[slot] = (struct inflight){
			.active = 1, .id = id, .thread = pthread_self(),
			.cancelled = !ok,
		};
	ok |= keep;
	pthread_mutex_unlock(&inflight_lock);
	return ok;
}

/* A node description being built (IKERNEL_OP_NODE_INFO). */
struct node_info {
	char *out;
	size_t n, max;
	unsigned int lines;
};

/* Whether @c may be in a variable (@attr 0) or attribute (1) name. */
static int info_name_char(int c, int attr)
{
	if (attr)
		return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		       (c >= '0' && c <= '9') || strchr("_.:-", c);
	return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/*
 * Adds "KEY=VALUE\n", or "ATTR{KEY}=VALUE\n" if @attr, to @ni if it fits
 * and keeps to the host's rules (Documentation/ring.rst): a short name of
 * the allowed characters, a short printable ASCII value, not too many
 * lines.  Returns 0 if it was added.
 */
static int info_add(struct node_info *ni, int attr, const char *key,
		    const char *value)
{
	size_t klen = strlen(key), vlen = strlen(value), i;
	int len;

	if (!klen || klen > IKERNEL_NODE_INFO_NAME_MAX ||
	    vlen > IKERNEL_NODE_INFO_VALUE_MAX ||
	    ni->lines >= IKERNEL_NODE_INFO_LINES)
		return -1;
	for (i = 0; i < klen; i++)
		if (!key[i] || !info_name_char(key[i], attr))
			return -1;
	for (i = 0; i < vlen; i++)
		if (value[i] < ' ' || value[i] > '~')
			return -1;
	len = snprintf(ni->out + ni->n, ni->max - ni->n,
		       attr ? "ATTR{%s}=%s\n" : "%s=%s\n", key, value);
	if (len < 0 || (size_t)len >= ni->max - ni->n)
		return -1;
	ni->n += len;
	ni->lines++;
	return 0;
}

/* Adds @key=<the last part of the link @dir/@name>, if there is one. */
static int info_link(struct node_info *ni, const char *dir, const char *name,
		     const char *key)
{
	char path[PATH_MAX], buf[PATH_MAX];
	ssize_t len;
	char *base;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	len = readlink(path, buf, sizeof(buf) - 1);
	if (len <= 0)
		return -1;
	buf[len] = 0;
	base = strrchr(buf, '/');
	return info_add(ni, 0, key, base ? base + 1 : buf);
}

/*
 * Reads the regular, readable sysfs file @dir/@name into @buf (NUL
 * terminated); returns its length or -1.
 */
static ssize_t read_attr(const char *dir, const char *name, char *buf,
			 size_t size)
{
	char path[PATH_MAX];
	struct stat st;
	ssize_t len;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (lstat(path, &st) || !S_ISREG(st.st_mode) || !(st.st_mode & 0444))
		return -1;
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -1;
	len = read(fd, buf, size - 1);
	close(fd);
	if (len < 0)
		return -1;
	buf[len] = 0;
	return len;
}

/*
 * IKERNEL_OP_NODE_INFO: what this kernel's sysfs says the export's node
 * is, for the host to show beside its own node (Documentation/ring.rst):
 * SUBSYSTEM and DRIVER (the device's links), the lines of its uevent
 * file, then ATTR{name}=<first line> for each readable attribute, as far
 * as they fit.  The result is the text's length.
 */
static int64_t do_node_info(const struct ikernel_guest_req *r,
			    struct worker *wk, uint32_t *len)
{
	struct node_info ni = { .out = (char *)wk->buf, .max = wk->buf_size };
	char dir[64], buf[IKERNEL_NODE_INFO_MAX], *line, *save, *eq;
	struct dirent *d;
	struct stat st;
	DIR *dp;

	if (ni.max > r->reply_max)
		ni.max = r->reply_max;
	if (ni.max > IKERNEL_NODE_INFO_MAX)
		ni.max = IKERNEL_NODE_INFO_MAX;
	if (r->index >= nr_nodes)
		return -ENODEV;
	if (stat(nodes[r->index], &st))
		return errno == ENOENT ? -ENODEV : -errno;
	if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode))
		return -ENOTTY;
	snprintf(dir, sizeof(dir), "/sys/dev/%s/%u:%u",
		 S_ISCHR(st.st_mode) ? "char" : "block",
		 major(st.st_rdev), minor(st.st_rdev));
	if (info_link(&ni, dir, "subsystem", "SUBSYSTEM"))
		return -ENOENT;
	info_link(&ni, dir, "driver", "DRIVER");
	if (read_attr(dir, "uevent", buf, sizeof(buf)) > 0)
		for (line = strtok_r(buf, "\n", &save); line;
		     line = strtok_r(NULL, "\n", &save)) {
			eq = strchr(line, '=');
			if (!eq || !strncmp(line, "SUBSYSTEM=", 10) ||
			    !strncmp(line, "DRIVER=", 7))
				continue;
			*eq = 0;
			info_add(&ni, 0, line, eq + 1);
		}
	dp = opendir(dir);
	while (dp && (d = readdir(dp))) {
		if (d->d_name[0] == '.' || !strcmp(d->d_name, "uevent") ||
		    !strcmp(d->d_name, "dev") ||
		    read_attr(dir, d->d_name, buf, sizeof(buf)) < 0)
			continue;
		buf[strcspn(buf, "\n")] = 0;
		info_add(&ni, 1, d->d_name, buf);
	}
	if (dp)
		closedir(dp);
	*len = ni.n;
	return ni.n;
}

static void serve(struct ikernel_guest_req *r, struct worker *wk,
		  struct ikernel_guest_resp *a)
{
	uint64_t aux = 0;
	uint32_t len = 0;
	int64_t res;

	switch (r->op) {
	case IKERNEL_OP_OPEN:
		res = do_open(r, &aux);
		if (res > 0)
			r->handle = res;
		break;
	case IKERNEL_OP_RELEASE:
		res = do_release(r);
		break;
	case IKERNEL_OP_READ:
		res = do_read(r, wk, &len, &aux);
		break;
	case IKERNEL_OP_WRITE:
		res = do_write(r, wk, &aux);
		break;
	case IKERNEL_OP_LLSEEK:
		res = do_llseek(r, &aux);
		break;
	case IKERNEL_OP_IOCTL:
		res = do_ioctl(r, wk, &len, &aux);
		break;
	case IKERNEL_OP_IOCTL_PAGE:
		res = do_remote(r, wk, -1, &len, &aux);
		break;
	case IKERNEL_OP_POLL:
		res = file_fd(r) < 0 ? -EBADF : 0;
		break;
	case IKERNEL_OP_CANCEL:
		res = do_cancel((unsigned int)r->arg);
		break;
	case IKERNEL_OP_MMAP:
		res = do_mmap(r, wk, &len);
		break;
	case IKERNEL_OP_NODE_INFO:
		res = do_node_info(r, wk, &len);
		break;
	case IKERNEL_OP_NET_XMIT:
	case IKERNEL_OP_NET_RECV:
	case IKERNEL_OP_NET_INFO:
		res = net_serve(r->index < nr_nodes ? nodes[r->index] : NULL,
				r, wk->buf, wk->buf_size, &len);
		break;
	default:
		res = -EOPNOTSUPP;
	}
	*a = (struct ikernel_guest_resp){
		.id = r->id, .len = len, .result = res, .aux = aux,
		.buf = (uintptr_t)wk->buf,
	};
	if (r->op != IKERNEL_OP_RELEASE && r->op != IKERNEL_OP_CANCEL)
		a->events = answer_mask(r->handle);
}

static void set_wstate(unsigned int slot, int state,
		       const struct ikernel_guest_req *r)
{
	pthread_mutex_lock(&wstate_lock);
	wstate[slot].state = state;
	wstate[slot].since = time(NULL);
	if (r) {
		wstate[slot].id = r->id;
		wstate[slot].op = r->op;
		wstate[slot].handle = r->handle;
	}
	pthread_mutex_unlock(&wstate_lock);
}

/*
 * Logs each request stuck for STALL_S seconds once, with its stack.  The
 * entries are copied under wstate_lock and printed after it: console output
 * is slow in a driver VM, and workers must not wait for it.
 */
static void *stall_reporter(void *arg)
{
	struct {
		pid_t tid;
		int state;
		unsigned int id, op, handle;
		long secs;
	} stuck[WORKERS];
	char path[64], line[256];
	unsigned int i, n, idle;
	time_t now;
	FILE *f;

	(void)arg;
	for (;;) {
		sleep(10);
		remote_reap();
		now = time(NULL);
		idle = 0;
		n = 0;
		pthread_mutex_lock(&wstate_lock);
		for (i = 0; i < WORKERS; i++) {
			idle += wstate[i].state == W_IDLE;
			if (wstate[i].state == W_IDLE ||
			    now - wstate[i].since < STALL_S ||
			    wstate[i].reported == wstate[i].id + 1)
				continue;
			wstate[i].reported = wstate[i].id + 1;
			stuck[n].tid = wstate[i].tid;
			stuck[n].state = wstate[i].state;
			stuck[n].id = wstate[i].id;
			stuck[n].op = wstate[i].op;
			stuck[n].handle = wstate[i].handle;
			stuck[n].secs = now - wstate[i].since;
			n++;
		}
		pthread_mutex_unlock(&wstate_lock);
		for (i = 0; i < n; i++) {
			fprintf(stderr,
				"ikernel-served: request %u (op %u, handle %u) %s for %ld s; %u of %d workers idle\n",
				stuck[i].id, stuck[i].op, stuck[i].handle,
				w_state_name[stuck[i].state], stuck[i].secs,
				idle, WORKERS);
			snprintf(path, sizeof(path), "/proc/self/task/%d/stack",
				 stuck[i].tid);
			f = fopen(path, "r");
			while (f && fgets(line, sizeof(line), f))
				fprintf(stderr, "ikernel-served:   %s", line);
			if (f)
				fclose(f);
		}
	}
	return NULL;
}

static void push_changes(int defer);

static void *worker(void *arg)
{
	struct worker wk = { .slot = (uintptr_t)arg };
	struct ikernel_guest_resp a;
	struct ikernel_guest_req r;
	char *buf;

	my_slot = wk.slot;
	buf = window ? NULL : malloc(BUF_SIZE);
	wk.scratch = mmap(NULL, SCRATCH_SIZE, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	wk.before = malloc(IKERNEL_IOCTL_SIZE_MAX);
	if ((!window && !buf) || wk.scratch == MAP_FAILED || !wk.before) {
		perror("ikernel-served: buffers");
		return NULL;
	}
	pthread_mutex_lock(&wstate_lock);
	wstate[wk.slot].tid = syscall(SYS_gettid);
	pthread_mutex_unlock(&wstate_lock);
	for (;;) {
		/* In the window, guest_stub names the request's own buffer. */
		r = (struct ikernel_guest_req){
			.buf = (uintptr_t)buf, .buf_size = buf ? BUF_SIZE : 0,
			.mode = window ? IKERNEL_GUEST_IN_WINDOW : 0,
		};
		if (ioctl(ctl, IKERNEL_IOC_GUEST_GET, &r) < 0) {
			if (errno == EINTR || errno == E2BIG)
				continue;
			if (errno == ENODEV)
				exit(0);
			perror("ikernel-served: IKERNEL_IOC_GUEST_GET");
			sleep(1);
			continue;
		}
		if (verbose)
			fprintf(stderr, "ikernel-served: id %u op %u h %u\n",
				r.id, r.op, r.handle);
		wk.buf = (char *)(uintptr_t)r.buf;
		wk.buf_size = r.buf_size < BUF_SIZE ? r.buf_size : BUF_SIZE;
		set_wstate(wk.slot, W_SERVING, &r);
		/*
		 * A remote ioctl runs even if cancelled before it started:
		 * its driver, interrupted, decides what becomes of it (and
		 * of what it already did), as natively.
		 */
		if (start_request(wk.slot, r.id, r.op == IKERNEL_OP_IOCTL_PAGE ||
				  (r.op == IKERNEL_OP_IOCTL &&
				   r.pos & IKERNEL_IOCTL_ARG_REMOTE))) {
			serve(&r, &wk, &a);
			pthread_mutex_lock(&inflight_lock);
			inflight[wk.slot].active = 0;
			pthread_mutex_unlock(&inflight_lock);
		} else {
			a = (struct ikernel_guest_resp){
				.id = r.id, .result = -EINTR,
				.buf = (uintptr_t)wk.buf,
			};
		}
		/*
		 * Other files' masks may have changed (a write makes a reader
		 * readable): publish those before the answer, so that the host
		 * knows them by the time its caller returns.
		 */
		set_wstate(wk.slot, W_ANSWERING, NULL);
		if (r.op != IKERNEL_OP_POLL && r.op != IKERNEL_OP_CANCEL)
			push_changes(1);
		while (ioctl(ctl, IKERNEL_IOC_GUEST_PUT, &a) < 0) {
			if (errno != EAGAIN && errno != EINTR) {
				perror("ikernel-served: IKERNEL_IOC_GUEST_PUT");
				break;
			}
			usleep(1000);
		}
		set_wstate(wk.slot, W_IDLE, NULL);
		if (r.op != IKERNEL_OP_POLL && r.op != IKERNEL_OP_CANCEL)
			wake_watcher();
	}
	return NULL;
}

/*
 * Re-samples every open file and pushes masks that changed; @defer when an
 * answer follows at once and notifies the host for both.
 */
static void push_changes(int defer)
{
	struct ikernel_guest_event ev;
	unsigned int h, m;

	pthread_mutex_lock(&files_lock);
	for (h = 0; h < MAX_FILES; h++) {
		if (!files[h].used)
			continue;
		m = poll_now(files[h].fd);
		if (m != files[h].mask) {
			files[h].mask = m;
			files[h].dirty = 1;
		}
		if (!files[h].dirty)
			continue;
		ev = (struct ikernel_guest_event){
			.index = files[h].index, .handle = h + 1, .events = m,
			.flags = defer ? IKERNEL_EVENT_DEFER : 0,
		};
		if (!ioctl(ctl, IKERNEL_IOC_GUEST_EVENT, &ev))
			files[h].dirty = 0;
	}
	pthread_mutex_unlock(&files_lock);
}

static void *watcher(void *arg)
{
	static struct pollfd p[MAX_FILES + 1];
	unsigned int h, n, dirty;
	uint64_t v;

	(void)arg;
	for (;;) {
		push_changes(0);
		p[0] = (struct pollfd){ .fd = wake_fd, .events = POLLIN };
		n = 1;
		dirty = 0;
		pthread_mutex_lock(&files_lock);
		for (h = 0; h < MAX_FILES; h++) {
			struct file_slot *f = &files[h];
			short want = WATCH_BITS & ~f->mask;

			if (!f->used)
				continue;
			dirty |= f->dirty;
			/* Wait only for what is not set yet; errors are final. */
			if (!want || (f->mask & (POLLERR | POLLHUP | POLLNVAL)))
				continue;
			p[n++] = (struct pollfd){ .fd = f->fd, .events = want };
		}
		pthread_mutex_unlock(&files_lock);
		/* An event the host had no room for is retried soon. */
		if (poll(p, n, dirty ? 10 : 1000) > 0 && (p[0].revents & POLLIN))
			if (read(wake_fd, &v, sizeof(v)) < 0 && verbose)
				perror("ikernel-served: eventfd read");
		/* Back in user space: files closed meanwhile are released. */
		pthread_mutex_lock(&round_lock);
		watch_round++;
		pthread_cond_broadcast(&round_cond);
		pthread_mutex_unlock(&round_lock);
	}
	return NULL;
}

/* Which nodes exist, as last looked at (valid once nodes_looked). */
static struct ikernel_guest_exports nodes_seen;
static int nodes_looked;
/* 1: guest_stub must hear of nodes_seen, 0: it has, -1: it cannot. */
static int nodes_tell = 1;

static int node_exists(const char *path)
{
	struct stat st;

	if (net_node(path))
		return net_exists(path);
	return !stat(path, &st) && (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode));
}

/*
 * Looks at every node, says which appeared or went away, and tells
 * guest_stub the set of existing ones when it changed (or could not be told
 * before).  Called by main before the workers start, then only by the node
 * thread.
 */
static void check_nodes(void)
{
	struct ikernel_guest_exports now = { .count = nr_nodes };
	unsigned int i, bit, was;
	int changed;

	for (i = 0; i < nr_nodes; i++)
		if (node_exists(nodes[i]))
			now.map[i / 32] |= 1u << (i % 32);
	for (i = 0; i < nr_nodes; i++) {
		bit = !!(now.map[i / 32] & (1u << (i % 32)));
		was = !!(nodes_seen.map[i / 32] & (1u << (i % 32)));
		if (nodes_looked && bit == was)
			continue;
		if (bit && nodes_looked)
			fprintf(stderr, "ikernel-served: device node %s of export %u appeared: served\n",
				nodes[i], i);
		else if (!bit && nodes_looked)
			fprintf(stderr, "ikernel-served: device node %s of export %u went away: opens fail with ENODEV\n",
				nodes[i], i);
		else if (!bit)
			fprintf(stderr, "ikernel-served: no device node %s for export %u: opens fail with ENODEV until it appears\n",
				nodes[i], i);
	}
	changed = !nodes_looked || memcmp(&now, &nodes_seen, sizeof(now));
	nodes_seen = now;
	nodes_looked = 1;
	if (changed && nodes_tell >= 0)
		nodes_tell = 1;
	if (nodes_tell != 1)
		return;
	if (!ioctl(ctl, IKERNEL_IOC_GUEST_EXPORTS, &now)) {
		nodes_tell = 0;
	} else if (errno == ENOTTY) {
		fprintf(stderr, "ikernel-served: guest_stub takes no exports report (IKERNEL_IOC_GUEST_EXPORTS); not reporting\n");
		nodes_tell = -1;
	} else if (changed) {
		/* Tried again every second; said once. */
		perror("ikernel-served: IKERNEL_IOC_GUEST_EXPORTS");
	}
}

static void *node_watch(void *arg)
{
	(void)arg;
	for (;;) {
		sleep(1);
		check_nodes();
	}
	return NULL;
}

/*
 * -z: maps the whole window.  Its size is guest_stub's window_size, which
 * ivt-shim puts on the kernel command line (guest_stub's Rust parameters
 * have no sysfs file).
 */
static int map_window(void)
{
	static const char key[] = "ikernel_guest.window_size=";
	unsigned long long size = 0;
	char word[256];
	FILE *f;

	f = fopen("/proc/cmdline", "r");
	while (f && fscanf(f, "%255s", word) == 1)
		if (!strncmp(word, key, sizeof(key) - 1))
			size = strtoull(word + sizeof(key) - 1, NULL, 0);
	if (f)
		fclose(f);
	if (!size) {
		fprintf(stderr, "ikernel-served: no %s on the kernel command line\n", key);
		return -1;
	}
	window = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, ctl, 0);
	if (window == MAP_FAILED) {
		window = NULL;
		perror("ikernel-served: mmap of the window");
		return -1;
	}
	/* Never a remote ioctl's child's (remote.c): it unmaps what it has. */
	if (madvise(window, size, MADV_DONTFORK))
		perror("ikernel-served: madvise(MADV_DONTFORK) of the window");
	fprintf(stderr, "ikernel-served: window mapped (%llu KiB): requests served in place\n",
		size / 1024);
	return 0;
}

/*
 * Fills every free descriptor number below FD_BASE with /dev/null, so that
 * files opened from now on get numbers from FD_BASE up (fd_base; see
 * there).  Raises the descriptor limit to make room, as the driver VM's
 * root may; without the room it reserves nothing and fd_base stays 3.
 */
static void reserve_low_fds(void)
{
	/* Room for the table's files and fdinfos, and then some. */
	const rlim_t want = FD_BASE + 2 * MAX_FILES + 1024;
	struct rlimit rl;
	int null, fd;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return;
	if (rl.rlim_cur < want) {
		rl.rlim_cur = want;
		if (rl.rlim_max < rl.rlim_cur)
			rl.rlim_max = rl.rlim_cur;
		if (setrlimit(RLIMIT_NOFILE, &rl))
			return;
	}
	null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (null < 0)
		return;
	for (fd = 0; fd < FD_BASE; fd++)
		if (fd != null && fcntl(fd, F_GETFD) < 0 &&
		    dup3(null, fd, O_CLOEXEC) < 0)
			return;
	fd_base = FD_BASE;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_cancel };
	pthread_attr_t attr;
	pthread_t t;
	int i, first = 1, zero_copy = 0;

	for (; first < argc; first++) {
		if (!strcmp(argv[first], "-v"))
			verbose = 1;
		else if (!strcmp(argv[first], "-z"))
			zero_copy = 1;
		else
			break;
	}
	if (argc <= first || !strcmp(argv[first], "-h") ||
	    !strcmp(argv[first], "--help")) {
		fprintf(stderr,
			"usage: %s [-v] [-z] NODE...\n"
			"Serves the host's requests for the driver VM's device NODEs\n"
			"(export index = position) through /dev/ikernel_guest.\n"
			"A NODE net:IF is the network interface IF of a net export.\n"
			"  -v  log every request\n"
			"  -z  map the shared window and serve each request in place\n"
			"      in it, without a copy by the guest (drivers that pin\n"
			"      user pages, e.g. for DMA, need the default copying mode)\n",
			argv[0]);
		return argc <= first ? 2 : 0;
	}
	nodes = (const char **)argv + first;
	nr_nodes = argc - first;

	/* No SA_RESTART: the signal must interrupt a driver's wait. */
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGUSR1, &sa, NULL)) {
		perror("ikernel-served: sigaction");
		return 1;
	}
	ctl = open("/dev/ikernel_guest", O_RDWR | O_CLOEXEC);
	if (ctl < 0) {
		perror("ikernel-served: /dev/ikernel_guest");
		return 1;
	}
	if (zero_copy && map_window() < 0)
		return 1;
	wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (wake_fd < 0) {
		perror("ikernel-served: eventfd");
		return 1;
	}
	reserve_low_fds();
	/* Without it (no /proc) mmap requests fail with ENODEV. */
	pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (nr_nodes > IKERNEL_MAX_EXPORTS) {
		fprintf(stderr, "ikernel-served: more than %d nodes\n",
			IKERNEL_MAX_EXPORTS);
		return 2;
	}
	/* Which nodes exist, before the first request can come. */
	check_nodes();
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	for (i = 0; i < WORKERS; i++) {
		if (pthread_create(&t, &attr, worker, (void *)(uintptr_t)i)) {
			perror("ikernel-served: pthread_create");
			return 1;
		}
	}
	if (pthread_create(&t, &attr, stall_reporter, NULL) ||
	    pthread_create(&t, &attr, node_watch, NULL)) {
		perror("ikernel-served: pthread_create");
		return 1;
	}
	fprintf(stderr, "ikernel-served: serving %u node(s) with %d workers\n",
		nr_nodes, WORKERS);
	watcher(NULL);
	return 0;
}
