/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Remote ioctls of ikernel-served (remote.c): an ioctl whose argument
 * holds pointers runs in a child process laid out like the host caller's
 * memory, whose pages come from the host when the driver touches them.
 */
#ifndef IKERNEL_SERVED_REMOTE_H
#define IKERNEL_SERVED_REMOTE_H

#include <stddef.h>
#include <stdint.h>

#include <linux/ikernel.h>

/*
 * Starts remote ioctl @r (IKERNEL_IOCTL_ARG_REMOTE) on @fd; @buf holds the
 * caller's map (r->len bytes) and takes the reply (at most @reply_max
 * bytes).  Returns the answer's result and sets *@len and *@aux; *@final
 * says it is the ioctl's own result (else a step's token).
 */
int64_t remote_ioctl(const struct ikernel_guest_req *r, int fd, char *buf,
		     size_t reply_max, uint32_t *len, uint64_t *aux,
		     int *final);

/* The next part of a remote ioctl (IKERNEL_OP_IOCTL_PAGE); as above. */
int64_t remote_page(const struct ikernel_guest_req *r, char *buf,
		    size_t reply_max, uint32_t *len, uint64_t *aux,
		    int *final);

/*
 * Whether the host cancelled the request this worker thread serves
 * (ikernel-served.c): the driver of a remote ioctl is then interrupted.
 */
int served_cancelled(void);

/* Ends the sessions of file @handle of export @index (its release). */
void remote_drop_file(unsigned int index, unsigned int handle);

/* Ends sessions the host left waiting for a long time. */
void remote_reap(void);

/* The child's last code and its signal handler (remote_code.S). */
extern const char remote_code[], remote_code_end[];
extern const char remote_on_signal[], remote_restorer[];

#endif /* IKERNEL_SERVED_REMOTE_H */
