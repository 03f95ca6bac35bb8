// SPDX-License-Identifier: GPL-2.0
/*
 * Channel set-up on /dev/ikernel, as ivt-shim performs it: window creation,
 * mapping, doorbells and driver-VM state reports, with every bad argument a
 * hostile or buggy VMM could pass.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/ikernel.h>

#include "kselftest_harness.h"

#define WINDOW_SIZE	(256 * 1024)

FIXTURE(channel) {
	int fd;
};

FIXTURE_SETUP(channel)
{
	self->fd = open("/dev/ikernel", O_RDWR | O_CLOEXEC);
	if (self->fd < 0 && errno == ENOENT)
		SKIP(return, "/dev/ikernel not present (module not loaded)");
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(channel)
{
	if (self->fd >= 0)
		close(self->fd);
}

static int create(int fd, __u64 size, __u32 entries)
{
	struct ikernel_window w = { .size = size, .ring_entries = entries };

	return ioctl(fd, IKERNEL_IOC_CREATE_WINDOW, &w);
}

TEST_F(channel, nothing_before_window)
{
	struct ikernel_state st = { 0 };
	void *p;

	EXPECT_EQ(-1, ioctl(self->fd, IKERNEL_IOC_GET_STATE, &st));
	EXPECT_EQ(ENXIO, errno);
	st.state = IKERNEL_VM_BOOTING;
	EXPECT_EQ(-1, ioctl(self->fd, IKERNEL_IOC_SET_STATE, &st));
	EXPECT_EQ(ENXIO, errno);
	p = mmap(NULL, WINDOW_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		 self->fd, 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(ENXIO, errno);
}

TEST_F(channel, bad_window_sizes)
{
	struct ikernel_window w = { .size = WINDOW_SIZE, .reserved = 1 };

	EXPECT_EQ(-1, create(self->fd, 0, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, create(self->fd, 4096, 0));	/* below the minimum */
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, create(self->fd, WINDOW_SIZE + 100, 0)); /* not pages */
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, create(self->fd, 1ULL << 40, 0));	/* huge */
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, create(self->fd, WINDOW_SIZE, 3)); /* not a power of 2 */
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, create(self->fd, WINDOW_SIZE, 1024)); /* too many */
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(self->fd, IKERNEL_IOC_CREATE_WINDOW, &w));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(self->fd, IKERNEL_IOC_CREATE_WINDOW, (void *)8));
	EXPECT_EQ(EFAULT, errno);
}

TEST_F(channel, window_once_and_mapped)
{
	unsigned char *p;

	ASSERT_EQ(0, create(self->fd, WINDOW_SIZE, 0));
	EXPECT_EQ(-1, create(self->fd, WINDOW_SIZE, 0));
	EXPECT_EQ(EBUSY, errno);

	/* Only the whole window, from offset 0. */
	p = mmap(NULL, WINDOW_SIZE / 2, PROT_READ, MAP_SHARED, self->fd, 0);
	EXPECT_EQ(MAP_FAILED, p);
	p = mmap(NULL, WINDOW_SIZE, PROT_READ, MAP_SHARED, self->fd, 4096);
	EXPECT_EQ(MAP_FAILED, p);

	p = mmap(NULL, WINDOW_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		 self->fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	/* host_stub initialised the header: it starts with the magic. */
	EXPECT_EQ(0, memcmp(p, "IKRN", 4));
	/* The last byte is mapped and writable. */
	p[WINDOW_SIZE - 1] = 0x5a;
	EXPECT_EQ(0x5a, p[WINDOW_SIZE - 1]);
	/* The mapping outlives the channel without harm. */
	close(self->fd);
	self->fd = -1;
	EXPECT_EQ(0, memcmp(p, "IKRN", 4));
	EXPECT_EQ(0, munmap(p, WINDOW_SIZE));
}

TEST_F(channel, doorbells)
{
	struct ikernel_doorbells db;
	int kick = eventfd(0, EFD_CLOEXEC), call = eventfd(0, EFD_CLOEXEC);
	int pipefd[2];

	ASSERT_LE(0, kick);
	ASSERT_LE(0, call);
	ASSERT_EQ(0, pipe(pipefd));

	db = (struct ikernel_doorbells){ .kick_fd = 1000, .call_fd = call };
	EXPECT_EQ(-1, ioctl(self->fd, IKERNEL_IOC_BIND_DOORBELLS, &db));
	EXPECT_EQ(EBADF, errno);
	db = (struct ikernel_doorbells){ .kick_fd = kick, .call_fd = pipefd[0] };
	EXPECT_EQ(-1, ioctl(self->fd, IKERNEL_IOC_BIND_DOORBELLS, &db));
	EXPECT_EQ(EINVAL, errno);
	db = (struct ikernel_doorbells){ .kick_fd = kick, .call_fd = call };
	EXPECT_EQ(0, ioctl(self->fd, IKERNEL_IOC_BIND_DOORBELLS, &db));
	/* Rebinding replaces the old pair. */
	EXPECT_EQ(0, ioctl(self->fd, IKERNEL_IOC_BIND_DOORBELLS, &db));
	/* The channel holds its own references. */
	close(kick);
	close(call);
	close(pipefd[0]);
	close(pipefd[1]);
}

TEST_F(channel, state_reports)
{
	struct ikernel_state st;

	ASSERT_EQ(0, create(self->fd, WINDOW_SIZE, 16));
	memset(&st, 0xff, sizeof(st));
	ASSERT_EQ(0, ioctl(self->fd, IKERNEL_IOC_GET_STATE, &st));
	EXPECT_EQ(0, st.state);
	EXPECT_EQ(0, st.generation);
	EXPECT_EQ(0, st.guest_state);	/* no guest attached */
	EXPECT_EQ(0, st.heartbeat);

	memset(&st, 0, sizeof(st));
	st.state = 42;
	EXPECT_EQ(-1, ioctl(self->fd, IKERNEL_IOC_SET_STATE, &st));
	EXPECT_EQ(EINVAL, errno);
	st.state = IKERNEL_VM_BOOTING;
	st.reserved = 1;
	EXPECT_EQ(-1, ioctl(self->fd, IKERNEL_IOC_SET_STATE, &st));
	EXPECT_EQ(EINVAL, errno);
	st.reserved = 0;
	st.kicks = 1;	/* read-only field */
	EXPECT_EQ(-1, ioctl(self->fd, IKERNEL_IOC_SET_STATE, &st));
	EXPECT_EQ(EINVAL, errno);

	/* A new incarnation. */
	memset(&st, 0, sizeof(st));
	st.state = IKERNEL_VM_BOOTING;
	st.generation = 7;
	ASSERT_EQ(0, ioctl(self->fd, IKERNEL_IOC_SET_STATE, &st));
	ASSERT_EQ(0, ioctl(self->fd, IKERNEL_IOC_GET_STATE, &st));
	EXPECT_EQ(IKERNEL_VM_BOOTING, st.state);
	EXPECT_EQ(7, st.generation);

	memset(&st, 0, sizeof(st));
	st.state = IKERNEL_VM_DOWN;
	st.generation = 7;
	ASSERT_EQ(0, ioctl(self->fd, IKERNEL_IOC_SET_STATE, &st));
	ASSERT_EQ(0, ioctl(self->fd, IKERNEL_IOC_GET_STATE, &st));
	EXPECT_EQ(IKERNEL_VM_DOWN, st.state);
	EXPECT_EQ(0, st.guest_state);
}

/*
 * Every signal on the kick eventfd (what KVM does when the guest writes its
 * doorbell port) reaches host_stub, including one that came before binding.
 */
TEST_F(channel, kicks_reach_host_stub)
{
	struct ikernel_doorbells db;
	struct ikernel_state st;
	int kick = eventfd(0, EFD_CLOEXEC), call = eventfd(0, EFD_CLOEXEC);
	int i;

	ASSERT_LE(0, kick);
	ASSERT_LE(0, call);
	ASSERT_EQ(0, create(self->fd, WINDOW_SIZE, 0));
	ASSERT_EQ(0, eventfd_write(kick, 1));
	db = (struct ikernel_doorbells){ .kick_fd = kick, .call_fd = call };
	ASSERT_EQ(0, ioctl(self->fd, IKERNEL_IOC_BIND_DOORBELLS, &db));
	ASSERT_EQ(0, ioctl(self->fd, IKERNEL_IOC_GET_STATE, &st));
	EXPECT_EQ(1, st.kicks);
	for (i = 0; i < 100; i++)
		ASSERT_EQ(0, eventfd_write(kick, 1));
	ASSERT_EQ(0, ioctl(self->fd, IKERNEL_IOC_GET_STATE, &st));
	EXPECT_EQ(101, st.kicks);
	/* After the channel is gone, signals go nowhere, harmlessly. */
	close(self->fd);
	self->fd = -1;
	ASSERT_EQ(0, eventfd_write(kick, 1));
	close(kick);
	close(call);
}

TEST_HARNESS_MAIN
