/* SPDX-License-Identifier: GPL-2.0 */
/* Net exports of ikernel-served (served/net.c). */
#ifndef IKERNEL_SERVED_NET_H
#define IKERNEL_SERVED_NET_H

#include <stddef.h>
#include <stdint.h>

#include <linux/ikernel.h>

/* The prefix of a NODE argument that names a network interface. */
#define NET_NODE_PREFIX	"net:"

int net_node(const char *node);
int net_exists(const char *node);
int64_t net_serve(const char *node, const struct ikernel_guest_req *r,
		  char *buf, size_t buf_size, uint32_t *len);

#endif /* IKERNEL_SERVED_NET_H */
