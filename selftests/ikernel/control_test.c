// SPDX-License-Identifier: GPL-2.0
/*
 * Control devices of ikernel's stubs: /dev/ikernel (host_stub) and
 * /dev/ikernel_guest (guest_stub).  Both must be root-only character
 * devices that report their version and reject unknown ioctls.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <linux/ikernel.h>

#include "kselftest_harness.h"

FIXTURE(control) {
	int fd;
};

FIXTURE_VARIANT(control) {
	const char *path;
	__u32 side;
};

FIXTURE_VARIANT_ADD(control, host) {
	.path = "/dev/ikernel",
	.side = IKERNEL_SIDE_HOST,
};

FIXTURE_VARIANT_ADD(control, guest) {
	.path = "/dev/ikernel_guest",
	.side = IKERNEL_SIDE_GUEST,
};

FIXTURE_SETUP(control)
{
	self->fd = open(variant->path, O_RDWR | O_CLOEXEC);
	if (self->fd < 0 && errno == ENOENT)
		SKIP(return, "%s not present (module not loaded)", variant->path);
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", variant->path,
				      strerror(errno));
}

FIXTURE_TEARDOWN(control)
{
	if (self->fd >= 0)
		close(self->fd);
}

/* A misc character device, 0600, owned by root: only root may open it. */
TEST_F(control, node_is_root_only)
{
	struct stat st;

	ASSERT_EQ(0, stat(variant->path, &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(10, major(st.st_rdev)); /* MISC_MAJOR */
	EXPECT_EQ(0600, st.st_mode & 07777);
	EXPECT_EQ(0, st.st_uid);
	EXPECT_EQ(0, st.st_gid);
}

/* An unprivileged process is refused by the node's permissions. */
TEST_F(control, unprivileged_open_refused)
{
	pid_t pid = fork();
	int status;

	ASSERT_LE(0, pid);
	if (pid == 0) {
		int fd;

		if (setgid(65534) || setuid(65534))
			_exit(2);
		fd = open(variant->path, O_RDWR);
		if (fd >= 0)
			_exit(3);
		_exit(errno == EACCES ? 0 : 4);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

TEST_F(control, version)
{
	struct ikernel_version v;

	memset(&v, 0xff, sizeof(v));
	ASSERT_EQ(0, ioctl(self->fd, IKERNEL_IOC_VERSION, &v));
	EXPECT_EQ(variant->side, v.side);
	EXPECT_EQ(0, v.major);
	EXPECT_LE(1, v.minor);
	EXPECT_NE(0, v.ring_abi);
	EXPECT_EQ(0, v.reserved);
}

TEST_F(control, version_bad_pointer)
{
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->fd, IKERNEL_IOC_VERSION, (void *)8));
	EXPECT_EQ(EFAULT, errno);
}

TEST_F(control, unknown_ioctl)
{
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->fd, _IO(IKERNEL_IOC_MAGIC, 0x7f), 0));
	EXPECT_EQ(ENOTTY, errno);
}

/* Each open file is its own channel: many may be open at once. */
TEST_F(control, independent_opens)
{
	int fds[8], i;

	for (i = 0; i < 8; i++) {
		fds[i] = open(variant->path, O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, fds[i]);
	}
	for (i = 0; i < 8; i++)
		EXPECT_EQ(0, close(fds[i]));
}

TEST_HARNESS_MAIN
