/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Host network devices of net exports (host_stub/netdev.c), driven from
 * Rust (host_stub/sys/netdev.rs, host_stub/net.rs).
 */
#ifndef IKERNEL_HOST_NETDEV_H
#define IKERNEL_HOST_NETDEV_H

#include <linux/types.h>

struct net_device;

struct net_device *ikernel_netdev_alloc(const char *name, unsigned int mtu,
					unsigned int max_mtu, void *rust);
int ikernel_netdev_register(struct net_device *dev);
void ikernel_netdev_destroy(struct net_device *dev);
int ikernel_netdev_ifindex(struct net_device *dev);
unsigned int ikernel_netdev_mtu(struct net_device *dev);
int ikernel_netdev_tx_head_len(struct net_device *dev);
void ikernel_netdev_tx_copy(struct net_device *dev, u8 *dst, unsigned int len);
void ikernel_netdev_tx_drop_head(struct net_device *dev);
void ikernel_netdev_tx_done(struct net_device *dev, u32 frames, u64 bytes,
			    u32 dropped);
int ikernel_netdev_rx(struct net_device *dev, const u8 *data, unsigned int len);
void ikernel_netdev_rx_flush(struct net_device *dev);
void ikernel_netdev_rx_bad(struct net_device *dev, u32 length_errors,
			   u32 dropped);
void ikernel_netdev_carrier(struct net_device *dev, bool on);
int ikernel_netdev_set_info(struct net_device *dev, const u8 *mac,
			    unsigned int mtu);

/* Implemented in Rust (host_stub/net.rs). */
int ikernel_net_open(void *rust);
void ikernel_net_stop(void *rust);
void ikernel_net_tx_kick(void *rust);
int ikernel_net_stats_count(void);
const char *ikernel_net_stat_name(int i);
u64 ikernel_net_stat(void *rust, int i);

#endif /* IKERNEL_HOST_NETDEV_H */
