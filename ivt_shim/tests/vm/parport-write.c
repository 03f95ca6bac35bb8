// SPDX-License-Identifier: GPL-2.0
/*
 * parport-write: writes a string to a parallel port through ppdev, one
 * strobed byte at a time (data register, then STROBE high and low), so that
 * an emulated printer port (QEMU -parallel file:...) records it.
 *
 * Built static for the driver-VM image by ivt_shim/tests/vm/run-in-vm.sh.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/parport.h>
#include <linux/ppdev.h>

int main(int argc, char **argv)
{
	unsigned char c, ctl;
	size_t i;
	int fd;

	if (argc != 3) {
		fprintf(stderr, "usage: %s /dev/parportN STRING\n", argv[0]);
		return 2;
	}
	fd = open(argv[1], O_RDWR);
	if (fd < 0 || ioctl(fd, PPCLAIM) < 0) {
		perror(argv[1]);
		return 1;
	}
	for (i = 0; i < strlen(argv[2]); i++) {
		c = (unsigned char)argv[2][i];
		ctl = PARPORT_CONTROL_INIT | PARPORT_CONTROL_SELECT;
		if (ioctl(fd, PPWDATA, &c) < 0 || ioctl(fd, PPWCONTROL, &ctl) < 0)
			goto fail;
		ctl |= PARPORT_CONTROL_STROBE;
		if (ioctl(fd, PPWCONTROL, &ctl) < 0)
			goto fail;
		ctl &= ~PARPORT_CONTROL_STROBE;
		if (ioctl(fd, PPWCONTROL, &ctl) < 0)
			goto fail;
	}
	ioctl(fd, PPRELEASE);
	printf("parport-write: wrote %zu bytes to %s\n", strlen(argv[2]), argv[1]);
	return 0;
fail:
	perror("ppdev ioctl");
	return 1;
}
