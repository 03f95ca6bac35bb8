// SPDX-License-Identifier: GPL-2.0
/*
 * net_xfer: a measured TCP or UDP transfer between two hosts, for the net
 * export tests and benchmark (this machine has no iperf3).
 *
 *   net_xfer recv PORT [SECONDS]            TCP: accept one connection, read
 *                                           to EOF
 *   net_xfer send HOST PORT BYTES           TCP: connect and send BYTES
 *   net_xfer urecv PORT SECONDS             UDP: count datagrams until
 *                                           SECONDS pass without one
 *   net_xfer usend HOST PORT COUNT SIZE     UDP: send COUNT datagrams of
 *                                           SIZE bytes
 *
 * The bytes are a fixed pseudo-random stream, so the receiver checks every
 * byte it gets; each side prints one line of key=value figures (bytes,
 * seconds, Mbit/s, errors), and exits 1 on any error or corrupt byte.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CHUNK	65536

/* Byte @off of the stream. */
static unsigned char stream_byte(uint64_t off)
{
	uint64_t x = (off / 8 + 1) * 0x9e3779b97f4a7c15ull;

	x ^= x >> 29;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 32;
	return x >> (8 * (off % 8));
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static void report(const char *what, uint64_t bytes, double secs,
		   uint64_t bad, const char *extra)
{
	printf("net_xfer %s bytes=%llu seconds=%.3f mbit_s=%.2f bad=%llu%s\n",
	       what, (unsigned long long)bytes, secs,
	       secs > 0 ? bytes * 8 / secs / 1e6 : 0.0,
	       (unsigned long long)bad, extra);
	fflush(stdout);
}

static int addr_of(const char *host, const char *port, struct sockaddr_in *a)
{
	memset(a, 0, sizeof(*a));
	a->sin_family = AF_INET;
	a->sin_port = htons(atoi(port));
	if (!host) {
		a->sin_addr.s_addr = htonl(INADDR_ANY);
		return 0;
	}
	if (inet_pton(AF_INET, host, &a->sin_addr) != 1) {
		fprintf(stderr, "net_xfer: bad address %s\n", host);
		return -1;
	}
	return 0;
}

static int do_recv(const char *port, int secs)
{
	static unsigned char buf[CHUNK];
	struct sockaddr_in a;
	int one = 1, ls, s, i;
	uint64_t got = 0, bad = 0;
	struct pollfd p;
	double t0 = 0;
	ssize_t n;

	ls = socket(AF_INET, SOCK_STREAM, 0);
	if (ls < 0 || addr_of(NULL, port, &a) ||
	    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(ls, (struct sockaddr *)&a, sizeof(a)) || listen(ls, 1)) {
		perror("net_xfer: listen");
		return 1;
	}
	printf("net_xfer listening port=%s\n", port);
	fflush(stdout);
	p = (struct pollfd){ .fd = ls, .events = POLLIN };
	if (poll(&p, 1, secs * 1000) != 1) {
		fprintf(stderr, "net_xfer: no connection in %d s\n", secs);
		return 1;
	}
	s = accept(ls, NULL, NULL);
	if (s < 0) {
		perror("net_xfer: accept");
		return 1;
	}
	t0 = now();
	for (;;) {
		n = read(s, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		for (i = 0; i < n; i++)
			bad += buf[i] != stream_byte(got + i);
		got += n;
	}
	if (n < 0)
		perror("net_xfer: read");
	report("recv", got, now() - t0, bad, "");
	return n < 0 || bad;
}

static int do_send(const char *host, const char *port, uint64_t bytes)
{
	static unsigned char buf[CHUNK];
	struct sockaddr_in a;
	uint64_t sent = 0;
	size_t want, i;
	double t0;
	ssize_t n;
	int s;

	s = socket(AF_INET, SOCK_STREAM, 0);
	if (s < 0 || addr_of(host, port, &a) ||
	    connect(s, (struct sockaddr *)&a, sizeof(a))) {
		perror("net_xfer: connect");
		return 1;
	}
	t0 = now();
	while (sent < bytes) {
		want = bytes - sent < CHUNK ? bytes - sent : CHUNK;
		for (i = 0; i < want; i++)
			buf[i] = stream_byte(sent + i);
		n = write(s, buf, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			perror("net_xfer: write");
			return 1;
		}
		sent += n;
	}
	/* Done when the receiver has read everything and closed. */
	shutdown(s, SHUT_WR);
	while ((n = read(s, buf, sizeof(buf))) > 0)
		;
	report("send", sent, now() - t0, 0, "");
	return n < 0;
}

/* Datagram @seq: its sequence number, then stream bytes. */
static void fill_dgram(unsigned char *b, size_t size, uint32_t seq)
{
	size_t i;

	memcpy(b, &seq, sizeof(seq));
	for (i = sizeof(seq); i < size; i++)
		b[i] = stream_byte((uint64_t)seq * size + i);
}

static int do_urecv(const char *port, int secs)
{
	static unsigned char buf[CHUNK], want[CHUNK];
	uint64_t got = 0, bytes = 0, bad = 0;
	struct sockaddr_in a;
	double t0 = 0, t1 = 0;
	struct pollfd p;
	char extra[64];
	uint32_t seq;
	ssize_t n;
	int s;

	s = socket(AF_INET, SOCK_DGRAM, 0);
	if (s < 0 || addr_of(NULL, port, &a) ||
	    bind(s, (struct sockaddr *)&a, sizeof(a))) {
		perror("net_xfer: bind");
		return 1;
	}
	printf("net_xfer listening port=%s\n", port);
	fflush(stdout);
	p = (struct pollfd){ .fd = s, .events = POLLIN };
	while (poll(&p, 1, secs * 1000) == 1) {
		n = recv(s, buf, sizeof(buf), 0);
		if (n < (ssize_t)sizeof(seq))
			continue;
		if (!got)
			t0 = now();
		t1 = now();
		memcpy(&seq, buf, sizeof(seq));
		fill_dgram(want, n, seq);
		bad += !!memcmp(buf, want, n);
		got++;
		bytes += n;
	}
	snprintf(extra, sizeof(extra), " datagrams=%llu",
		 (unsigned long long)got);
	report("urecv", bytes, t1 - t0, bad, extra);
	return bad != 0 || !got;
}

static int do_usend(const char *host, const char *port, uint32_t count,
		    size_t size)
{
	static unsigned char buf[CHUNK];
	struct sockaddr_in a;
	char extra[64];
	uint32_t seq;
	double t0;
	int s;

	if (size < sizeof(seq) || size > CHUNK) {
		fprintf(stderr, "net_xfer: SIZE must be 4..%d\n", CHUNK);
		return 2;
	}
	s = socket(AF_INET, SOCK_DGRAM, 0);
	if (s < 0 || addr_of(host, port, &a) ||
	    connect(s, (struct sockaddr *)&a, sizeof(a))) {
		perror("net_xfer: connect");
		return 1;
	}
	t0 = now();
	for (seq = 0; seq < count; seq++) {
		fill_dgram(buf, size, seq);
		if (send(s, buf, size, 0) < 0) {
			if (errno == ENOBUFS || errno == ECONNREFUSED) {
				seq--;
				usleep(1000);
				continue;
			}
			perror("net_xfer: send");
			return 1;
		}
	}
	snprintf(extra, sizeof(extra), " datagrams=%u", count);
	report("usend", (uint64_t)count * size, now() - t0, 0, extra);
	return 0;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";

	if (!strcmp(cmd, "recv") && (argc == 3 || argc == 4))
		return do_recv(argv[2], argc == 4 ? atoi(argv[3]) : 60);
	if (!strcmp(cmd, "send") && argc == 5)
		return do_send(argv[2], argv[3], strtoull(argv[4], NULL, 0));
	if (!strcmp(cmd, "urecv") && argc == 4)
		return do_urecv(argv[2], atoi(argv[3]));
	if (!strcmp(cmd, "usend") && argc == 6)
		return do_usend(argv[2], argv[3], strtoul(argv[4], NULL, 0),
				strtoul(argv[5], NULL, 0));
	fprintf(stderr,
		"usage: net_xfer recv PORT [SECONDS]\n"
		"       net_xfer send HOST PORT BYTES\n"
		"       net_xfer urecv PORT SECONDS\n"
		"       net_xfer usend HOST PORT COUNT SIZE\n"
		"A measured TCP or UDP transfer of a checked byte stream.\n");
	return 2;
}
