/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Eventfd wake-up callbacks for ikernel's host stub (host_stub/kick.c),
 * called from Rust (common/kick.rs).
 */
#ifndef IKERNEL_HOST_KICK_H
#define IKERNEL_HOST_KICK_H

struct ikernel_kick;

struct ikernel_kick *ikernel_kick_attach(int fd, void (*fn)(void *data),
					 void *data);
void ikernel_kick_detach(struct ikernel_kick *k);

#endif /* IKERNEL_HOST_KICK_H */
