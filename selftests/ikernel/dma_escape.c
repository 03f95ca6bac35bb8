// SPDX-License-Identifier: GPL-2.0
/*
 * dma_escape: plays a compromised NIC driver inside a driver VM.  It maps
 * BAR0 of an e1000 (82540EM) through its sysfs resource file and points
 * the receive descriptor ring at ADDR, an address outside the VM's RAM.
 * The next frame the NIC receives makes it fetch a descriptor there.  With
 * the function's DMA confined by the host's IOMMU to the driver VM's RAM,
 * that fetch must fault in the host (a DMAR fault in its kernel log) and
 * reach nothing.  Static, for the driver VM's busybox initramfs.
 *
 * Usage: dma_escape RESOURCE0 ADDR
 *   e.g. dma_escape /sys/bus/pci/devices/0000:00:01.0/resource0 0xd0000000
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* 82540EM registers (Intel PCI/PCI-X Family of GbE Controllers SDM). */
#define E1000_RDBAL	0x2800
#define E1000_RDBAH	0x2804
#define E1000_RDH	0x2810
#define E1000_RDT	0x2818
#define E1000_BAR0_LEN	0x20000

/* Device registers: single, untorn 32-bit accesses the compiler keeps. */
static uint32_t rd32(uint8_t *bar, unsigned long off)
{
	return __atomic_load_n((uint32_t *)(bar + off), __ATOMIC_RELAXED);
}

static void wr32(uint8_t *bar, unsigned long off, uint32_t v)
{
	__atomic_store_n((uint32_t *)(bar + off), v, __ATOMIC_RELAXED);
}

static void show(uint8_t *bar, const char *when)
{
	printf("dma_escape: %s: RDBA %#x:%08x RDH %u RDT %u\n", when,
	       rd32(bar, E1000_RDBAH), rd32(bar, E1000_RDBAL),
	       rd32(bar, E1000_RDH), rd32(bar, E1000_RDT));
}

int main(int argc, char **argv)
{
	uint8_t *bar;
	unsigned long long addr;
	char *end;
	int fd;

	if (argc != 3) {
		fprintf(stderr, "usage: %s RESOURCE0 ADDR\n", argv[0]);
		return 2;
	}
	errno = 0;
	addr = strtoull(argv[2], &end, 0);
	if (errno || *end || addr & 0xf) {
		fprintf(stderr, "dma_escape: bad address %s (16-byte aligned)\n",
			argv[2]);
		return 2;
	}
	fd = open(argv[1], O_RDWR | O_SYNC);
	if (fd < 0) {
		fprintf(stderr, "dma_escape: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	bar = mmap(NULL, E1000_BAR0_LEN, PROT_READ | PROT_WRITE, MAP_SHARED,
		   fd, 0);
	if (bar == MAP_FAILED) {
		fprintf(stderr, "dma_escape: mmap %s: %s\n", argv[1],
			strerror(errno));
		return 1;
	}
	show(bar, "before");
	wr32(bar, E1000_RDBAH, addr >> 32);
	wr32(bar, E1000_RDBAL, addr & 0xffffffff);
	show(bar, "after");
	munmap(bar, E1000_BAR0_LEN);
	close(fd);
	return 0;
}
