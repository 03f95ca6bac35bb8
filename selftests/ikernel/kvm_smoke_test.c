// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/kvm must be usable inside the test VM, because driver VMs run there
 * with nested KVM.  Run a real guest: a few real-mode instructions that
 * write to an I/O port and to memory, then halt.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/kvm.h>

#include "kselftest_harness.h"

#define GUEST_MEM	0x10000
#define CODE_ADDR	0x1000
#define PROBE_PORT	0x10

static const unsigned char guest_code[] = {
	0xb0, 0x2a,			/* mov al, 0x2a */
	0xe6, PROBE_PORT,		/* out PROBE_PORT, al */
	0x04, 0x01,			/* add al, 1 */
	0xe6, PROBE_PORT,		/* out PROBE_PORT, al */
	0xc6, 0x06, 0x00, 0x05, 0x99,	/* mov byte [0x500], 0x99 */
	0xf4,				/* hlt */
};

FIXTURE(kvm) {
	int kvm, vm, vcpu;
	unsigned char *mem;
	struct kvm_run *run;
	size_t run_size;
};

FIXTURE_SETUP(kvm)
{
	struct kvm_userspace_memory_region region;
	struct kvm_sregs sregs;
	struct kvm_regs regs;

	self->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->kvm) TH_LOG("open /dev/kvm: %s", strerror(errno));
	ASSERT_EQ(KVM_API_VERSION, ioctl(self->kvm, KVM_GET_API_VERSION, 0));
	self->vm = ioctl(self->kvm, KVM_CREATE_VM, 0);
	ASSERT_LE(0, self->vm) TH_LOG("KVM_CREATE_VM: %s", strerror(errno));

	self->mem = mmap(NULL, GUEST_MEM, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->mem);
	memcpy(self->mem + CODE_ADDR, guest_code, sizeof(guest_code));
	region = (struct kvm_userspace_memory_region) {
		.slot = 0,
		.guest_phys_addr = 0,
		.memory_size = GUEST_MEM,
		.userspace_addr = (unsigned long)self->mem,
	};
	ASSERT_EQ(0, ioctl(self->vm, KVM_SET_USER_MEMORY_REGION, &region));

	self->vcpu = ioctl(self->vm, KVM_CREATE_VCPU, 0);
	ASSERT_LE(0, self->vcpu) TH_LOG("KVM_CREATE_VCPU: %s", strerror(errno));
	self->run_size = ioctl(self->kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	ASSERT_LT(0, (long)self->run_size);
	self->run = mmap(NULL, self->run_size, PROT_READ | PROT_WRITE,
			 MAP_SHARED, self->vcpu, 0);
	ASSERT_NE(MAP_FAILED, self->run);

	ASSERT_EQ(0, ioctl(self->vcpu, KVM_GET_SREGS, &sregs));
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	sregs.ds.base = 0;
	sregs.ds.selector = 0;
	ASSERT_EQ(0, ioctl(self->vcpu, KVM_SET_SREGS, &sregs));
	memset(&regs, 0, sizeof(regs));
	regs.rip = CODE_ADDR;
	regs.rflags = 0x2;
	ASSERT_EQ(0, ioctl(self->vcpu, KVM_SET_REGS, &regs));
}

FIXTURE_TEARDOWN(kvm)
{
	if (self->run && self->run != MAP_FAILED)
		munmap(self->run, self->run_size);
	if (self->mem && self->mem != MAP_FAILED)
		munmap(self->mem, GUEST_MEM);
	close(self->vcpu);
	close(self->vm);
	close(self->kvm);
}

/* Two port writes reach user space with the right values, then hlt. */
TEST_F(kvm, real_mode_guest_runs)
{
	unsigned char expect[] = { 0x2a, 0x2b };
	unsigned int i;

	for (i = 0; i < sizeof(expect); i++) {
		unsigned char *data;

		ASSERT_EQ(0, ioctl(self->vcpu, KVM_RUN, 0))
			TH_LOG("KVM_RUN: %s", strerror(errno));
		ASSERT_EQ(KVM_EXIT_IO, self->run->exit_reason)
			TH_LOG("exit reason %u", self->run->exit_reason);
		EXPECT_EQ(KVM_EXIT_IO_OUT, self->run->io.direction);
		EXPECT_EQ(PROBE_PORT, self->run->io.port);
		EXPECT_EQ(1, self->run->io.size);
		EXPECT_EQ(1, self->run->io.count);
		data = (unsigned char *)self->run + self->run->io.data_offset;
		EXPECT_EQ(expect[i], *data);
	}
	ASSERT_EQ(0, ioctl(self->vcpu, KVM_RUN, 0));
	EXPECT_EQ(KVM_EXIT_HLT, self->run->exit_reason);
	/* The guest's store landed in the memory we gave it. */
	EXPECT_EQ(0x99, self->mem[0x500]);
}

/* The host kernel of the test VM advertises nested virtualization. */
TEST(nested_enabled)
{
	static const char * const params[] = {
		"/sys/module/kvm_amd/parameters/nested",
		"/sys/module/kvm_intel/parameters/nested",
	};
	char buf[8] = "";
	unsigned int i;
	int found = 0;

	for (i = 0; i < 2; i++) {
		FILE *f = fopen(params[i], "r");

		if (!f)
			continue;
		found = 1;
		ASSERT_NE(NULL, fgets(buf, sizeof(buf), f));
		fclose(f);
		EXPECT_TRUE(buf[0] == '1' || buf[0] == 'Y') TH_LOG("%s = %s",
								   params[i], buf);
	}
	ASSERT_TRUE(found) TH_LOG("neither kvm_amd nor kvm_intel is loaded");
}

TEST_HARNESS_MAIN
