// SPDX-License-Identifier: GPL-2.0
/*
 * i2c-dev's ioctls whose arguments hold pointers, against the in-tree
 * i2c-stub chip: I2C_SMBUS (a struct whose data member points at the
 * transfer's bytes), I2C_RDWR (an array of messages, each with a buffer of
 * its own) and I2C_FUNCS (a legacy command whose integer is a pointer).
 * None has an _IOC size: isolated, they run as remote ioctls
 * (Documentation/exporting.rst, "Ioctls whose argument holds pointers").
 *
 * Prints one line per call (result, errno, the bytes read, whether the
 * caller's memory around them is as it was), never an address: the same
 * binary natively and through an export must print the same
 * (isolated/i2c.sh).
 *
 *   i2c_xfer DEVICE CHIP_ADDRESS
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/i2c.h>
#include <linux/i2c-dev.h>

static int fd;

static void result(const char *what, int ret)
{
	printf("%s ret=%d errno=%s\n", what, ret,
	       ret < 0 ? strerrorname_np(errno) : "0");
}

/* An SMBus transfer as i2c-tools makes it, with a guard around its data. */
static int smbus(const char *what, char rw, __u8 cmd, int size,
		 union i2c_smbus_data *data)
{
	struct i2c_smbus_ioctl_data args = {
		.read_write = rw, .command = cmd, .size = size, .data = data,
	};
	int ret = ioctl(fd, I2C_SMBUS, &args);

	result(what, ret);
	return ret;
}

int main(int argc, char **argv)
{
	long page = sysconf(_SC_PAGESIZE);
	struct {
		unsigned char before[8];
		union i2c_smbus_data d;
		unsigned char after[8];
	} *g;
	struct i2c_rdwr_ioctl_data rdwr;
	struct i2c_msg msgs[2];
	unsigned char reg, buf[4];
	unsigned long funcs = 0;
	unsigned char *hole;
	int addr, i, ret;

	if (argc != 3) {
		fprintf(stderr, "usage: %s DEVICE CHIP_ADDRESS\n", argv[0]);
		return 2;
	}
	fd = open(argv[1], O_RDWR);
	if (fd < 0) {
		perror(argv[1]);
		return 1;
	}
	addr = strtol(argv[2], NULL, 0);
	g = mmap(NULL, page, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	/* A page, then nothing: for pointers that run into a hole. */
	hole = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (g == MAP_FAILED || hole == MAP_FAILED ||
	    munmap(hole + page, page)) {
		perror("mmap");
		return 1;
	}
	memset(g, 0x5a, sizeof(*g));

	ret = ioctl(fd, I2C_FUNCS, &funcs);
	result("funcs", ret);
	printf("funcs value=%#lx\n", funcs);
	result("funcs_unmapped", ioctl(fd, I2C_FUNCS, hole + page));
	result("slave", ioctl(fd, I2C_SLAVE, addr));

	/* Byte and word registers: written, then read back. */
	g->d.byte = 0xab;
	smbus("write_byte_data", I2C_SMBUS_WRITE, 0x10, I2C_SMBUS_BYTE_DATA, &g->d);
	g->d.word = 0xbeef;
	smbus("write_word_data", I2C_SMBUS_WRITE, 0x20, I2C_SMBUS_WORD_DATA, &g->d);
	memset(&g->d, 0, sizeof(g->d));
	smbus("read_byte_data", I2C_SMBUS_READ, 0x10, I2C_SMBUS_BYTE_DATA, &g->d);
	printf("read_byte_data value=%#x\n", g->d.byte);
	memset(&g->d, 0, sizeof(g->d));
	smbus("read_word_data", I2C_SMBUS_READ, 0x20, I2C_SMBUS_WORD_DATA, &g->d);
	printf("read_word_data value=%#x\n", g->d.word);

	/* An I2C block: 8 bytes written, read back whole. */
	memset(&g->d, 0, sizeof(g->d));
	g->d.block[0] = 8;
	for (i = 1; i <= 8; i++)
		g->d.block[i] = 0x30 + i;
	smbus("write_i2c_block", I2C_SMBUS_WRITE, 0x40,
	      I2C_SMBUS_I2C_BLOCK_DATA, &g->d);
	memset(&g->d, 0, sizeof(g->d));
	g->d.block[0] = 8;
	smbus("read_i2c_block", I2C_SMBUS_READ, 0x40,
	      I2C_SMBUS_I2C_BLOCK_DATA, &g->d);
	printf("read_i2c_block len=%d bytes=", g->d.block[0]);
	for (i = 1; i <= 8; i++)
		printf("%02x", g->d.block[i]);
	printf("\n");
	for (i = 0; i < 8; i++)
		if (g->before[i] != 0x5a || g->after[i] != 0x5a)
			break;
	printf("guard bytes around the data intact=%d\n", i == 8);

	/* The data pointer faults: at the start, or past the first byte. */
	smbus("read_byte_data_unmapped", I2C_SMBUS_READ, 0x10,
	      I2C_SMBUS_BYTE_DATA, (void *)(hole + page));
	smbus("read_word_data_into_hole", I2C_SMBUS_READ, 0x20,
	      I2C_SMBUS_WORD_DATA, (void *)(hole + page - 1));
	smbus("read_byte_data_null", I2C_SMBUS_READ, 0x10,
	      I2C_SMBUS_BYTE_DATA, NULL);
	result("smbus_arg_unmapped", ioctl(fd, I2C_SMBUS, hole + page));

	/*
	 * I2C_RDWR: the stub chip speaks SMBus only, so the transfer fails
	 * once i2c-dev has copied the messages and their buffers in: first
	 * EOPNOTSUPP, then the copies' own errors.
	 */
	reg = 0x10;
	msgs[0] = (struct i2c_msg){ .addr = addr, .len = 1, .buf = &reg };
	msgs[1] = (struct i2c_msg){ .addr = addr, .flags = I2C_M_RD,
				    .len = sizeof(buf), .buf = buf };
	rdwr = (struct i2c_rdwr_ioctl_data){ .msgs = msgs, .nmsgs = 2 };
	result("rdwr", ioctl(fd, I2C_RDWR, &rdwr));
	msgs[0].buf = hole + page;
	result("rdwr_buf_unmapped", ioctl(fd, I2C_RDWR, &rdwr));
	msgs[0].buf = &reg;
	rdwr.msgs = (void *)(hole + page - sizeof(msgs[0]));
	result("rdwr_msgs_into_hole", ioctl(fd, I2C_RDWR, &rdwr));
	rdwr = (struct i2c_rdwr_ioctl_data){ .msgs = msgs, .nmsgs = 43 };
	result("rdwr_too_many", ioctl(fd, I2C_RDWR, &rdwr));
	close(fd);
	return 0;
}
