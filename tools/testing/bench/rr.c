// SPDX-License-Identifier: GPL-2.0
/*
 * rr: TCP request/response rate, netperf TCP_RR style. One connection, one
 * byte each way per transaction, for a fixed time.
 *
 *   rr server ADDR PORT          serve until killed (answers every byte)
 *   rr client ADDR PORT SECONDS  print "transactions_per_second N"
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int addr(const char *host, const char *port, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((unsigned short)atoi(port));
		*len = sizeof(*s4);
		return AF_INET;
	}
	if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((unsigned short)atoi(port));
		*len = sizeof(*s6);
		return AF_INET6;
	}
	fprintf(stderr, "rr: bad address '%s'\n", host);
	exit(2);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fam, s, one = 1;
	char b = 'x';

	if (argc < 4 || (strcmp(argv[1], "server") && strcmp(argv[1], "client")) ||
	    (!strcmp(argv[1], "client") && argc < 5)) {
		fprintf(stderr, "usage: rr server ADDR PORT | rr client ADDR PORT SECONDS\n");
		return 2;
	}
	fam = addr(argv[2], argv[3], &ss, &len);
	s = socket(fam, SOCK_STREAM, 0);
	if (s < 0) {
		perror("rr: socket");
		return 1;
	}
	setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (!strcmp(argv[1], "server")) {
		setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(s, (struct sockaddr *)&ss, len) || listen(s, 16)) {
			perror("rr: bind/listen");
			return 1;
		}
		printf("ready\n");
		fflush(stdout);
		for (;;) {
			int c = accept(s, NULL, NULL);

			if (c < 0)
				continue;
			setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
			while (read(c, &b, 1) == 1 && write(c, &b, 1) == 1)
				;
			close(c);
		}
	} else {
		double secs = atof(argv[4]), t0, t;
		unsigned long n = 0;

		if (connect(s, (struct sockaddr *)&ss, len)) {
			perror("rr: connect");
			return 1;
		}
		t0 = now();
		do {
			if (write(s, &b, 1) != 1 || read(s, &b, 1) != 1) {
				perror("rr: transaction");
				return 1;
			}
			n++;
			t = (n & 63) ? 0 : now();
		} while (!t || t - t0 < secs);
		printf("transactions_per_second %.1f\n", (double)n / (t - t0));
	}
	return 0;
}
