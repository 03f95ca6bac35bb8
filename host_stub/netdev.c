// SPDX-License-Identifier: GPL-2.0
/*
 * Host network devices of ikernel's net exports.
 *
 * Rust-for-Linux has no net_device abstraction yet, so the plumbing lives
 * here: allocation and registration, the net_device_ops, NAPI and the
 * statistics.  What to do with frames is decided in Rust (host_stub/net.rs),
 * which forwards them over the channel's ring to the driver VM:
 *
 * - ndo_start_xmit only queues the skb (it never sleeps) and asks Rust to
 *   schedule its transmit work, once per burst (netdev_xmit_more());
 * - Rust hands received frames to ikernel_netdev_rx(), which queues skbs
 *   for NAPI, and ikernel_netdev_rx_flush() schedules the NAPI poll, which
 *   passes them to GRO.
 */
#include <linux/etherdevice.h>
#include <linux/ethtool.h>
#include <linux/if_vlan.h>
#include <linux/netdevice.h>
#include <linux/rtnetlink.h>
#include <linux/skbuff.h>

#include "netdev.h"

/* Frames queued for transmit before the queue stops. */
#define IKERNEL_TXQ_LIMIT	256

struct ikernel_netdev_priv {
	void *rust;
	unsigned int slot_max_mtu;	/* the largest MTU a slot carries */
	struct napi_struct napi;
	struct sk_buff_head txq;
	struct sk_buff_head rxq;
};

static struct ikernel_netdev_priv *ikn_priv(struct net_device *dev)
{
	return netdev_priv(dev);
}

static int ikn_open(struct net_device *dev)
{
	struct ikernel_netdev_priv *p = ikn_priv(dev);
	int err;

	napi_enable(&p->napi);
	err = ikernel_net_open(p->rust);
	if (err) {
		napi_disable(&p->napi);
		return err;
	}
	netif_start_queue(dev);
	return 0;
}

static int ikn_stop(struct net_device *dev)
{
	struct ikernel_netdev_priv *p = ikn_priv(dev);

	netif_stop_queue(dev);
	/* Waits for the transmit and receive work: none runs after this. */
	ikernel_net_stop(p->rust);
	napi_disable(&p->napi);
	DEV_STATS_ADD(dev, tx_dropped, skb_queue_len(&p->txq));
	skb_queue_purge(&p->txq);
	skb_queue_purge(&p->rxq);
	return 0;
}

static netdev_tx_t ikn_start_xmit(struct sk_buff *skb, struct net_device *dev)
{
	struct ikernel_netdev_priv *p = ikn_priv(dev);

	skb_queue_tail(&p->txq, skb);
	if (skb_queue_len(&p->txq) >= IKERNEL_TXQ_LIMIT)
		netif_stop_queue(dev);
	if (!netdev_xmit_more() || netif_queue_stopped(dev))
		ikernel_net_tx_kick(p->rust);
	return NETDEV_TX_OK;
}

static int ikn_poll(struct napi_struct *napi, int budget)
{
	struct ikernel_netdev_priv *p =
		container_of(napi, struct ikernel_netdev_priv, napi);
	struct sk_buff *skb;
	int done = 0;

	while (done < budget && (skb = skb_dequeue(&p->rxq))) {
		napi_gro_receive(napi, skb);
		done++;
	}
	if (done < budget)
		napi_complete_done(napi, done);
	return done;
}

static void ikn_get_drvinfo(struct net_device *dev,
			    struct ethtool_drvinfo *info)
{
	strscpy(info->driver, KBUILD_MODNAME, sizeof(info->driver));
	strscpy(info->bus_info, "ikernel", sizeof(info->bus_info));
}

static int ikn_get_sset_count(struct net_device *dev, int sset)
{
	return sset == ETH_SS_STATS ? ikernel_net_stats_count() : -EOPNOTSUPP;
}

static void ikn_get_strings(struct net_device *dev, u32 sset, u8 *data)
{
	int i, n = ikernel_net_stats_count();

	if (sset != ETH_SS_STATS)
		return;
	for (i = 0; i < n; i++)
		ethtool_puts(&data, ikernel_net_stat_name(i));
}

static void ikn_get_ethtool_stats(struct net_device *dev,
				  struct ethtool_stats *stats, u64 *data)
{
	int i, n = ikernel_net_stats_count();

	for (i = 0; i < n; i++)
		data[i] = ikernel_net_stat(ikn_priv(dev)->rust, i);
}

/* host_stub's own counters (ethtool -S), beside the interface's. */
static const struct ethtool_ops ikn_ethtool_ops = {
	.get_drvinfo		= ikn_get_drvinfo,
	.get_link		= ethtool_op_get_link,
	.get_sset_count		= ikn_get_sset_count,
	.get_strings		= ikn_get_strings,
	.get_ethtool_stats	= ikn_get_ethtool_stats,
};

static const struct net_device_ops ikn_ops = {
	.ndo_open		= ikn_open,
	.ndo_stop		= ikn_stop,
	.ndo_start_xmit		= ikn_start_xmit,
	.ndo_validate_addr	= eth_validate_addr,
};

/* A new, unregistered device (ikernel_netdev_register makes it visible). */
struct net_device *ikernel_netdev_alloc(const char *name, unsigned int mtu,
					unsigned int max_mtu, void *rust)
{
	struct ikernel_netdev_priv *p;
	struct net_device *dev;

	dev = alloc_netdev(sizeof(*p), name, NET_NAME_USER, ether_setup);
	if (!dev)
		return ERR_PTR(-ENOMEM);
	p = netdev_priv(dev);
	p->rust = rust;
	p->slot_max_mtu = max_mtu;
	skb_queue_head_init(&p->txq);
	skb_queue_head_init(&p->rxq);
	netif_napi_add(dev, &p->napi, ikn_poll);
	dev->netdev_ops = &ikn_ops;
	dev->ethtool_ops = &ikn_ethtool_ops;
	dev->min_mtu = ETH_MIN_MTU;
	dev->max_mtu = max_mtu;
	dev->mtu = mtu;
	/* The guest interface's address replaces this once it is known. */
	eth_hw_addr_random(dev);
	netif_carrier_off(dev);
	return dev;
}

/* Registers a device of ikernel_netdev_alloc; frees it on failure. */
int ikernel_netdev_register(struct net_device *dev)
{
	int err = register_netdev(dev);

	if (err) {
		netif_napi_del(&ikn_priv(dev)->napi);
		free_netdev(dev);
	}
	return err;
}

void ikernel_netdev_destroy(struct net_device *dev)
{
	struct ikernel_netdev_priv *p = ikn_priv(dev);

	/* Closes the interface first if it is up (ikn_stop). */
	unregister_netdev(dev);
	netif_napi_del(&p->napi);
	skb_queue_purge(&p->txq);
	skb_queue_purge(&p->rxq);
	free_netdev(dev);
}

int ikernel_netdev_ifindex(struct net_device *dev)
{
	return dev->ifindex;
}

unsigned int ikernel_netdev_mtu(struct net_device *dev)
{
	return READ_ONCE(dev->mtu);
}

/* Length of the frame at the head of the transmit queue, or -1. */
int ikernel_netdev_tx_head_len(struct net_device *dev)
{
	struct ikernel_netdev_priv *p = ikn_priv(dev);
	unsigned long flags;
	struct sk_buff *skb;
	int len;

	spin_lock_irqsave(&p->txq.lock, flags);
	skb = skb_peek(&p->txq);
	len = skb ? (int)skb->len : -1;
	spin_unlock_irqrestore(&p->txq.lock, flags);
	return len;
}

/*
 * Takes the head frame, whose length ikernel_netdev_tx_head_len() gave
 * (only the transmit work takes frames), into @dst.
 */
void ikernel_netdev_tx_copy(struct net_device *dev, u8 *dst, unsigned int len)
{
	struct sk_buff *skb = skb_dequeue(&ikn_priv(dev)->txq);

	if (!skb)
		return;
	if (WARN_ON_ONCE(skb->len != len) || skb_copy_bits(skb, 0, dst, len))
		DEV_STATS_INC(dev, tx_errors);
	dev_consume_skb_any(skb);
}

/* Drops the head frame (it can never be sent: too long or too short). */
void ikernel_netdev_tx_drop_head(struct net_device *dev)
{
	struct sk_buff *skb = skb_dequeue(&ikn_priv(dev)->txq);

	if (skb) {
		DEV_STATS_INC(dev, tx_dropped);
		dev_kfree_skb_any(skb);
	}
}

/* Accounts one batch and restarts a stopped queue once it has room. */
void ikernel_netdev_tx_done(struct net_device *dev, u32 frames, u64 bytes,
			    u32 dropped)
{
	struct ikernel_netdev_priv *p = ikn_priv(dev);

	DEV_STATS_ADD(dev, tx_packets, frames);
	DEV_STATS_ADD(dev, tx_bytes, bytes);
	if (dropped) {
		DEV_STATS_ADD(dev, tx_dropped, dropped);
		DEV_STATS_ADD(dev, tx_errors, dropped);
	}
	if (netif_queue_stopped(dev) &&
	    skb_queue_len(&p->txq) < IKERNEL_TXQ_LIMIT / 2 &&
	    netif_carrier_ok(dev))
		netif_wake_queue(dev);
}

/* Queues one received frame for NAPI; its length was checked by Rust. */
int ikernel_netdev_rx(struct net_device *dev, const u8 *data, unsigned int len)
{
	struct sk_buff *skb = netdev_alloc_skb_ip_align(dev, len);

	if (!skb) {
		DEV_STATS_INC(dev, rx_dropped);
		return -ENOMEM;
	}
	skb_put_data(skb, data, len);
	skb->protocol = eth_type_trans(skb, dev);
	DEV_STATS_INC(dev, rx_packets);
	DEV_STATS_ADD(dev, rx_bytes, len);
	skb_queue_tail(&ikn_priv(dev)->rxq, skb);
	return 0;
}

void ikernel_netdev_rx_flush(struct net_device *dev)
{
	struct ikernel_netdev_priv *p = ikn_priv(dev);

	if (skb_queue_empty_lockless(&p->rxq))
		return;
	local_bh_disable();
	napi_schedule(&p->napi);
	local_bh_enable();
}

void ikernel_netdev_rx_bad(struct net_device *dev, u32 length_errors,
			   u32 dropped)
{
	DEV_STATS_ADD(dev, rx_length_errors, length_errors);
	DEV_STATS_ADD(dev, rx_errors, length_errors);
	DEV_STATS_ADD(dev, rx_dropped, dropped);
}

void ikernel_netdev_carrier(struct net_device *dev, bool on)
{
	if (on == netif_carrier_ok(dev))
		return;
	if (on) {
		netif_carrier_on(dev);
		if (netif_running(dev))
			netif_wake_queue(dev);
	} else {
		netif_carrier_off(dev);
	}
}

/*
 * Gives the interface the guest interface's address, and caps its MTU at
 * the guest interface's (a longer frame could never be sent there).
 * Never waits for the RTNL (the caller may be what ndo_stop waits for):
 * -EBUSY to try later.
 */
int ikernel_netdev_set_info(struct net_device *dev, const u8 *mac,
			    unsigned int mtu)
{
	unsigned int max = min(mtu, ikn_priv(dev)->slot_max_mtu);
	int err = 0;

	if (!is_valid_ether_addr(mac))
		return -EADDRNOTAVAIL;
	if (mtu < ETH_MIN_MTU)
		return -EINVAL;
	if (!rtnl_trylock())
		return -EBUSY;
	if (!ether_addr_equal(dev->dev_addr, mac)) {
		eth_hw_addr_set(dev, mac);
		call_netdevice_notifiers(NETDEV_CHANGEADDR, dev);
	}
	dev->max_mtu = max;
	if (dev->mtu > max)
		err = dev_set_mtu(dev, max);
	rtnl_unlock();
	return err;
}
