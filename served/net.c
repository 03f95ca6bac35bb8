// SPDX-License-Identifier: GPL-2.0
/*
 * Net exports of ikernel-served: the guest end of a host network interface.
 *
 * A NODE argument "net:IF" names the driver VM's network interface IF
 * (run by the unmodified NIC driver).  The host sends its frames with
 * IKERNEL_OP_NET_XMIT, fetches the frames IF received with
 * IKERNEL_OP_NET_RECV and asks for IF's MAC address and MTU with
 * IKERNEL_OP_NET_INFO.  Here each becomes an ordinary system call on an
 * AF_PACKET socket bound to IF, which this process opens on first use (and
 * again if IF went away and came back).  IF is brought up, with IPv6 off
 * (the host interface has IF's MAC address, and IF's own IPv6 link-local
 * address would collide with the host's in duplicate address detection)
 * and GRO, LRO and VLAN stripping off (see offloads_off).
 *
 * Batches are as in Documentation/ring.rst: each frame is a little-endian
 * 16-bit length followed by its bytes.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/ethtool.h>
#include <linux/if_arp.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/sockios.h>

#include "net.h"

#define REC_HDR		2
#define FRAME_MAX	0xffff
#define RECV_WAIT_MAX	1000	/* ms, as NET_RECV_WAIT_MAX_MS */
#define INFO_SIZE	12
#define RCVBUF		(4 << 20)

struct net_sock {
	int fd;		/* AF_PACKET socket bound to ifindex, or -1 */
	int ifindex;
};

static pthread_mutex_t net_lock = PTHREAD_MUTEX_INITIALIZER;
static struct net_sock socks[IKERNEL_MAX_EXPORTS] = {
	[0 ... IKERNEL_MAX_EXPORTS - 1] = { .fd = -1 },
};

static const char *ifname_of(const char *node)
{
	return node + strlen(NET_NODE_PREFIX);
}

int net_node(const char *node)
{
	return !strncmp(node, NET_NODE_PREFIX, strlen(NET_NODE_PREFIX));
}

int net_exists(const char *node)
{
	return if_nametoindex(ifname_of(node)) != 0;
}

static void ipv6_off(const char *ifname)
{
	char path[96];
	int fd;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6",
		 ifname);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return;		/* no IPv6 in this kernel */
	if (write(fd, "1", 1) != 1)
		perror("ikernel-served: disable_ipv6");
	close(fd);
}

/* One legacy ethtool call on @ifname; 0 or -errno. */
static int ethtool_value(int fd, const char *ifname, __u32 cmd, __u32 *data)
{
	struct ethtool_value v = { .cmd = cmd, .data = *data };
	struct ifreq ifr = { 0 };

	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", ifname);
	ifr.ifr_data = (void *)&v;
	if (ioctl(fd, SIOCETHTOOL, &ifr))
		return -errno;
	*data = v.data;
	return 0;
}

/*
 * The packet socket must see frames as they were on the wire: the guest
 * stack's GRO (and a NIC's LRO) would merge TCP segments into frames
 * larger than the MTU, which the host rightly drops, and VLAN stripping
 * would move a tag out of the frame.  Best effort: a NIC without these
 * offloads says EOPNOTSUPP.
 */
static void offloads_off(int fd, const char *ifname)
{
	__u32 v = 0;

	if (ethtool_value(fd, ifname, ETHTOOL_SGRO, &v) && errno != EOPNOTSUPP)
		perror("ikernel-served: GRO off");
	if (ethtool_value(fd, ifname, ETHTOOL_GFLAGS, &v))
		return;
	if (!(v & (ETH_FLAG_LRO | ETH_FLAG_RXVLAN)))
		return;
	v &= ~(ETH_FLAG_LRO | ETH_FLAG_RXVLAN);
	if (ethtool_value(fd, ifname, ETHTOOL_SFLAGS, &v))
		perror("ikernel-served: LRO and VLAN stripping off");
}

static int if_up(int fd, const char *ifname)
{
	struct ifreq ifr = { 0 };

	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", ifname);
	if (ioctl(fd, SIOCGIFFLAGS, &ifr))
		return -errno;
	if (ifr.ifr_flags & IFF_UP)
		return 0;
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr))
		return -errno;
	fprintf(stderr, "ikernel-served: brought %s up for its net export\n",
		ifname);
	return 0;
}

static int open_sock(const char *ifname, int ifindex)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_ALL),
		.sll_ifindex = ifindex,
	};
	int one = 1, rcvbuf = RCVBUF, fd, err;

	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
	if (fd < 0)
		return -errno;
	ipv6_off(ifname);
	offloads_off(fd, ifname);
	err = if_up(fd, ifname);
	if (!err && setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one,
			       sizeof(one)))
		err = -errno;
	/* Best effort: a bigger queue only absorbs longer bursts. */
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (!err && bind(fd, (struct sockaddr *)&sll, sizeof(sll)))
		err = -errno;
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

/*
 * The socket of export @index, opened when first needed or when the
 * interface was replaced (a new ifindex); -errno if it cannot be.
 */
static int net_fd(unsigned int index, const char *ifname)
{
	struct net_sock *s = &socks[index];
	int ifindex = if_nametoindex(ifname);
	int fd;

	if (!ifindex)
		return -ENODEV;
	pthread_mutex_lock(&net_lock);
	if (s->fd >= 0 && s->ifindex != ifindex) {
		close(s->fd);
		s->fd = -1;
	}
	if (s->fd < 0) {
		fd = open_sock(ifname, ifindex);
		if (fd >= 0) {
			s->fd = fd;
			s->ifindex = ifindex;
			fprintf(stderr, "ikernel-served: net export %u served on %s (ifindex %d)\n",
				index, ifname, ifindex);
		}
	}
	fd = s->fd >= 0 ? s->fd : -ENODEV;
	pthread_mutex_unlock(&net_lock);
	return fd;
}

static int64_t net_info(int fd, const char *ifname,
			const struct ikernel_guest_req *r, char *buf,
			size_t buf_size, uint32_t *len)
{
	struct ifreq ifr = { 0 };
	uint32_t mtu;

	if (r->reply_max < INFO_SIZE || buf_size < INFO_SIZE)
		return -EINVAL;
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", ifname);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr))
		return -errno;
	if (ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER)
		return -EPFNOSUPPORT;	/* not an Ethernet interface */
	memset(buf, 0, INFO_SIZE);
	memcpy(buf, ifr.ifr_hwaddr.sa_data, 6);
	if (ioctl(fd, SIOCGIFMTU, &ifr))
		return -errno;
	mtu = ifr.ifr_mtu;
	buf[8] = mtu;
	buf[9] = mtu >> 8;
	buf[10] = mtu >> 16;
	buf[11] = mtu >> 24;
	*len = INFO_SIZE;
	return 0;
}

/* Sends each frame of the batch; the result is how many went. */
static int64_t net_xmit(int fd, const struct ikernel_guest_req *r,
			const char *buf)
{
	const unsigned char *p = (const unsigned char *)buf;
	size_t off = 0, flen;
	int64_t sent = 0;

	while (off < r->len) {
		if (r->len - off < REC_HDR)
			return sent ? sent : -EINVAL;
		flen = p[off] | p[off + 1] << 8;
		off += REC_HDR;
		if (flen > r->len - off)
			return sent ? sent : -EINVAL;
		if (send(fd, p + off, flen, 0) < 0)
			return sent ? sent : -errno;
		off += flen;
		sent++;
	}
	return sent;
}

/*
 * Waits up to arg ms for a frame, then returns every frame that fits the
 * reply.  A frame that could never fit any reply is dropped.
 */
static int64_t net_recv(int fd, const struct ikernel_guest_req *r, char *buf,
			size_t buf_size, uint32_t *len)
{
	size_t cap = r->reply_max < buf_size ? r->reply_max : buf_size;
	int wait = r->arg < RECV_WAIT_MAX ? (int)r->arg : RECV_WAIT_MAX;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int64_t frames = 0;
	size_t off = 0;
	int err = 0;
	ssize_t n;

	/* A cancel (SIGUSR1) ends the wait: the reply may be empty. */
	if (poll(&pfd, 1, wait) < 0 && errno != EINTR)
		return -errno;
	for (;;) {
		n = recv(fd, NULL, 0, MSG_PEEK | MSG_TRUNC | MSG_DONTWAIT);
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				err = -errno;
			break;
		}
		if ((size_t)n > FRAME_MAX || (size_t)n + REC_HDR > cap) {
			/* Never fits: drop it, and say so. */
			recv(fd, NULL, 0, MSG_DONTWAIT);
			fprintf(stderr, "ikernel-served: dropped a %zd-byte frame larger than a reply\n",
				n);
			continue;
		}
		if ((size_t)n + REC_HDR > cap - off)
			break;	/* the next reply takes it */
		n = recv(fd, buf + off + REC_HDR, n, MSG_DONTWAIT);
		if (n < 0) {
			err = -errno;
			break;
		}
		buf[off] = n & 0xff;
		buf[off + 1] = n >> 8;
		off += REC_HDR + n;
		frames++;
	}
	if (!frames && err)
		return err;
	*len = off;
	return frames;
}

int64_t net_serve(const char *node, const struct ikernel_guest_req *r,
		  char *buf, size_t buf_size, uint32_t *len)
{
	const char *ifname;
	int fd;

	if (!node || !net_node(node))
		return -EOPNOTSUPP;
	ifname = ifname_of(node);
	fd = net_fd(r->index, ifname);
	if (fd < 0)
		return fd;
	switch (r->op) {
	case IKERNEL_OP_NET_INFO:
		return net_info(fd, ifname, r, buf, buf_size, len);
	case IKERNEL_OP_NET_XMIT:
		return net_xmit(fd, r, buf);
	case IKERNEL_OP_NET_RECV:
		return net_recv(fd, r, buf, buf_size, len);
	}
	return -EOPNOTSUPP;
}
