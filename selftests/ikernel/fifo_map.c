// SPDX-License-Identifier: GPL-2.0
/*
 * A mapping of ikfifo's shared area across a driver-VM restart
 * (isolated/buggy.sh, whose driver VM exports ikfifo beside ikbuggy).
 *
 *   fifo_map NODE GO_FILE
 *
 * Maps NODE's shared area, writes to it and checks that the driver sees
 * the bytes; prints "ready" and waits (up to 10 minutes) for GO_FILE to
 * exist, which the test creates once the driver VM has died and come back.
 * Then it touches a page it wrote and one it never touched, each of which
 * must fault with SIGBUS (the generation that backed them is gone), tries
 * a read on the old file, and maps a new open of NODE: the area of the new
 * driver is zero and shared again.  One line per step on stdout; exit
 * status 0 when every step went as described, 1 otherwise.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ikfifo.h"

static sigjmp_buf fault_jmp;
static int fault_sig;

static void on_fault(int sig)
{
	__atomic_store_n(&fault_sig, sig, __ATOMIC_RELAXED);
	siglongjmp(fault_jmp, 1);
}

/* Reads the byte at @p; returns the signal it raised, or 0. */
static int touch(unsigned char *p, unsigned char *val)
{
	__atomic_store_n(&fault_sig, 0, __ATOMIC_RELAXED);
	if (!sigsetjmp(fault_jmp, 1))
		*val = __atomic_load_n(p, __ATOMIC_RELAXED);
	return __atomic_load_n(&fault_sig, __ATOMIC_RELAXED);
}

/* Maps the area of a new open of @node, writes @tag and has the driver read it. */
static unsigned char *map_and_check(const char *node, const char *tag,
				    int *fdp, size_t size)
{
	struct ikfifo_shm_io io = { .offset = 4096 + 8, .len = strlen(tag) };
	unsigned char *m;
	int fd;

	fd = open(node, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		printf("open: %s\n", strerror(errno));
		return NULL;
	}
	m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED) {
		printf("mmap: %s\n", strerror(errno));
		close(fd);
		return NULL;
	}
	memcpy(m + io.offset, tag, io.len);
	if (ioctl(fd, IKFIFO_SHM_READ, &io) || memcmp(io.data, tag, io.len)) {
		printf("the driver does not see the process's bytes\n");
		return NULL;
	}
	*fdp = fd;
	return m;
}

int main(int argc, char **argv)
{
	size_t size = IKFIFO_SHM_PAGES * 4096;
	struct sigaction sa = { .sa_handler = on_fault };
	int fd, fd2, i, sig, ok = 1, zero;
	unsigned char *m, *m2, v;
	struct stat st;
	char c;

	if (argc != 3) {
		fprintf(stderr, "usage: %s NODE GO_FILE\n", argv[0]);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGSEGV, &sa, NULL);
	m = map_and_check(argv[1], "generation before", &fd, size);
	if (!m)
		return 1;
	printf("mapped: the driver sees the process's bytes\n");
	printf("ready\n");
	for (i = 0; i < 6000 && stat(argv[2], &st); i++)
		usleep(100000);
	sig = touch(m + 4096 + 8, &v);
	printf("touch written page: %s\n", sig ? strsignal(sig) : "readable");
	ok &= sig == SIGBUS;
	sig = touch(m + 3 * 4096, &v);
	printf("touch untouched page: %s\n", sig ? strsignal(sig) : "readable");
	ok &= sig == SIGBUS;
	errno = 0;
	printf("read old file: %s\n", read(fd, &c, 1) < 0 ? strerror(errno) : "data");
	m2 = map_and_check(argv[1], "generation after", &fd2, size);
	if (!m2)
		return 1;
	zero = 1;
	for (i = 0; i < (int)size; i++)
		if (i < 4096 + 8 || i >= 4096 + 8 + 16)
			zero &= !m2[i];
	printf("new mapping: the driver sees the process's bytes, the rest is %s\n",
	       zero ? "zero" : "not zero");
	ok &= zero;
	munmap(m, size);
	munmap(m2, size);
	close(fd);
	close(fd2);
	return ok ? 0 : 1;
}
