// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: the hooks' segment parser, fed with synthetic skbs, and the
 * classifier behind it: what the module sees of IPv4, IPv6 (with extension
 * headers and fragments), GSO super-packets and malformed headers.
 */
#include <kunit/test.h>
#include <linux/skbuff.h>

#include "../module/hooks.c"

struct seg_desc {
	bool v6;
	u16 sport, dport;
	u32 seq, ack;
	u8 flags;
	u16 win;
	u32 len;
	u8 ext;		/* IPv6: 0 none, 1 hop-by-hop, 2 fragment at offset 0, 3 later fragment */
	u16 frag_off;	/* IPv4 fragment offset field (host order, IP_OFFSET bits) */
	u8 proto;	/* 0: TCP */
	u8 doff;	/* 0: 5 */
	u16 gso_segs;
	bool dodgy;	/* GSO from an untrusted source: gso_segs left 0 */
	bool paged;	/* the TCP header and payload in a page fragment ... */
	u8 lin;		/* ... but for their first lin bytes, in the linear part */
};

static struct sk_buff *mkskb(struct kunit *test, const struct seg_desc *s)
{
	struct sk_buff *skb = alloc_skb(256 + s->len, GFP_KERNEL);
	struct tcphdr *th;
	u8 proto = s->proto ? s->proto : IPPROTO_TCP;

	KUNIT_ASSERT_NOT_NULL(test, skb);
	skb_reserve(skb, 64);
	skb_reset_network_header(skb);
	if (!s->v6) {
		struct iphdr *iph = skb_put_zero(skb, sizeof(*iph));

		iph->version = 4;
		iph->ihl = 5;
		iph->protocol = proto;
		iph->frag_off = htons(s->frag_off);
		iph->saddr = htonl(0xc0000201);	/* 192.0.2.1 */
		iph->daddr = htonl(0xc0000202);
		skb->protocol = htons(ETH_P_IP);
	} else {
		struct ipv6hdr *ip6h = skb_put_zero(skb, sizeof(*ip6h));

		ip6h->version = 6;
		ip6h->nexthdr = s->ext == 1 ? NEXTHDR_HOP : s->ext >= 2 ? NEXTHDR_FRAGMENT : proto;
		ip6h->saddr.s6_addr[0] = 0x20;
		ip6h->saddr.s6_addr[1] = 0x01;
		ip6h->saddr.s6_addr[15] = 1;
		ip6h->daddr = ip6h->saddr;
		ip6h->daddr.s6_addr[15] = 2;
		if (s->ext == 1) {
			u8 *hop = skb_put_zero(skb, 8);

			hop[0] = proto;		/* next header; length 0 = 8 bytes */
			hop[2] = 1;		/* PadN, 4 bytes of padding */
			hop[3] = 4;
		} else if (s->ext >= 2) {
			struct frag_hdr *fh = skb_put_zero(skb, sizeof(*fh));

			fh->nexthdr = proto;
			fh->frag_off = htons(s->ext == 3 ? 8 << 3 : 0) | htons(IP6_MF);
		}
		skb->protocol = htons(ETH_P_IPV6);
	}
	th = skb_put_zero(skb, sizeof(*th));
	th->source = htons(s->sport);
	th->dest = htons(s->dport);
	th->seq = htonl(s->seq);
	th->ack_seq = htonl(s->ack);
	th->doff = s->doff ? s->doff : 5;
	th->window = htons(s->win);
	((u8 *)th)[13] = s->flags;
	skb_put_zero(skb, s->len);
	if (s->paged) {
		/* Move all but lin bytes of the header and payload to a page. */
		unsigned int n = sizeof(*th) + s->len - s->lin;
		struct page *pg = alloc_page(GFP_KERNEL | __GFP_ZERO);

		KUNIT_ASSERT_NOT_NULL(test, pg);
		KUNIT_ASSERT_LE(test, n, PAGE_SIZE);
		memcpy(page_address(pg), (u8 *)th + s->lin, n);
		skb_trim(skb, skb->len - n);
		skb_fill_page_desc(skb, 0, pg, 0, n);
		skb->len += n;
		skb->data_len += n;
		skb->truesize += PAGE_SIZE;
	}
	if (s->gso_segs || s->dodgy) {
		skb_shinfo(skb)->gso_size = 1448;
		skb_shinfo(skb)->gso_segs = s->gso_segs;
		skb_shinfo(skb)->gso_type = s->v6 ? SKB_GSO_TCPV6 : SKB_GSO_TCPV4;
		if (s->dodgy)
			skb_shinfo(skb)->gso_type |= SKB_GSO_DODGY;
	}
	return skb;
}

/* Build the skb, parse it as the hook would, free it. */
static int parse(struct kunit *test, const struct seg_desc *s, struct tcpfault_pkt *pkt)
{
	struct sk_buff *skb = mkskb(test, s);
	int ret;

	memset(pkt, 0, sizeof(*pkt));
	ret = s->v6 ? parse_v6(skb, pkt) : parse_v4(skb, pkt);
	kfree_skb(skb);
	return ret;
}

static void parse_ipv4(struct kunit *test)
{
	struct seg_desc s = { .sport = 40000, .dport = 80, .seq = 7, .ack = 9,
			      .flags = TCPFAULT_TH_ACK | 0x08, .win = 512, .len = 100 };
	struct tcpfault_pkt p;

	KUNIT_ASSERT_EQ(test, parse(test, &s, &p), 0);
	KUNIT_EXPECT_EQ(test, p.t.family, TCPFAULT_FAM_INET);
	KUNIT_EXPECT_EQ(test, p.t.saddr[3], 1);
	KUNIT_EXPECT_EQ(test, p.t.daddr[3], 2);
	KUNIT_EXPECT_EQ(test, p.t.saddr[4], 0);		/* IPv4 uses 4 bytes, rest zero */
	KUNIT_EXPECT_EQ(test, p.t.sport, 40000);
	KUNIT_EXPECT_EQ(test, p.t.dport, 80);
	KUNIT_EXPECT_EQ(test, p.seq, 7U);
	KUNIT_EXPECT_EQ(test, p.ack_seq, 9U);
	KUNIT_EXPECT_EQ(test, p.flags, TCPFAULT_TH_ACK | 0x08);
	KUNIT_EXPECT_EQ(test, p.win, 512);
	KUNIT_EXPECT_EQ(test, p.len, 100U);
	KUNIT_EXPECT_EQ(test, p.segs, 1);
	/* Options are not payload. */
	s.doff = 8;
	KUNIT_ASSERT_EQ(test, parse(test, &s, &p), 0);
	KUNIT_EXPECT_EQ(test, p.len, 88U);
	/* A GSO super-packet counts as the segments it will become. */
	s.doff = 0;
	s.len = 3 * 1448;
	s.gso_segs = 3;
	KUNIT_ASSERT_EQ(test, parse(test, &s, &p), 0);
	KUNIT_EXPECT_EQ(test, p.segs, 3);
	KUNIT_EXPECT_EQ(test, p.len, 3U * 1448);
}

/*
 * A TCP header outside the skb's linear part (a driver that puts all but
 * the IP header in pages), whole or split across the two, parses as the
 * same header in the linear part does.
 */
static void parse_paged(struct kunit *test)
{
	static const u8 lins[] = { 0, 10 };
	unsigned int v6, doff, i;

	for (v6 = 0; v6 < 2; v6++) {
		for (doff = 5; doff <= 8; doff += 3) {
			struct seg_desc s = { .v6 = v6, .sport = 40000, .dport = 80, .seq = 7,
					      .ack = 9, .flags = TCPFAULT_TH_ACK | 0x08,
					      .win = 512, .len = 100, .doff = doff };
			struct tcpfault_pkt want, got;

			KUNIT_ASSERT_EQ(test, parse(test, &s, &want), 0);
			for (i = 0; i < ARRAY_SIZE(lins); i++) {
				s.paged = true;
				s.lin = lins[i];
				KUNIT_ASSERT_EQ(test, parse(test, &s, &got), 0);
				KUNIT_EXPECT_EQ(test, memcmp(&got, &want, sizeof(got)), 0);
				KUNIT_EXPECT_EQ(test, got.len, 100U - (doff - 5) * 4);
				KUNIT_EXPECT_EQ(test, got.seq, 7U);
				KUNIT_EXPECT_EQ(test, got.t.sport, 40000);
			}
		}
	}
}

/*
 * virtio-net with guest TSO, tun/tap with a vnet header and AF_PACKET hand
 * the stack super-packets marked SKB_GSO_DODGY with gso_segs still 0: they
 * count as the segments they will become, not as one.
 */
static void parse_gso_dodgy(struct kunit *test)
{
	struct seg_desc s = { .sport = 40000, .dport = 80, .flags = TCPFAULT_TH_ACK,
			      .len = 3 * 1448 + 100, .dodgy = true };
	struct tcpfault_pkt p;

	KUNIT_ASSERT_EQ(test, parse(test, &s, &p), 0);
	KUNIT_EXPECT_EQ(test, p.segs, 4);
	s.v6 = true;
	s.len = 2 * 1448;
	KUNIT_ASSERT_EQ(test, parse(test, &s, &p), 0);
	KUNIT_EXPECT_EQ(test, p.segs, 2);
	/* A trusted gso_segs is taken as it is. */
	s.dodgy = false;
	s.gso_segs = 5;
	KUNIT_ASSERT_EQ(test, parse(test, &s, &p), 0);
	KUNIT_EXPECT_EQ(test, p.segs, 5);
}

static void parse_rejects(struct kunit *test)
{
	struct tcpfault_pkt p;
	struct seg_desc udp = { .proto = IPPROTO_UDP, .len = 10 };
	struct seg_desc later_frag = { .frag_off = 185 };
	struct seg_desc short_doff = { .doff = 4 };
	struct seg_desc long_doff = { .doff = 15, .len = 8 };
	struct seg_desc v6_later_frag = { .v6 = true, .ext = 3 };
	struct seg_desc v6_udp = { .v6 = true, .proto = IPPROTO_UDP };

	KUNIT_EXPECT_NE(test, parse(test, &udp, &p), 0);
	KUNIT_EXPECT_NE(test, parse(test, &later_frag, &p), 0);
	KUNIT_EXPECT_NE(test, parse(test, &short_doff, &p), 0);
	KUNIT_EXPECT_NE(test, parse(test, &long_doff, &p), 0);
	KUNIT_EXPECT_NE(test, parse(test, &v6_later_frag, &p), 0);
	KUNIT_EXPECT_NE(test, parse(test, &v6_udp, &p), 0);
}

static void parse_ipv6(struct kunit *test)
{
	struct seg_desc s = { .v6 = true, .sport = 1, .dport = 2, .seq = 3, .flags = TCPFAULT_TH_SYN };
	struct tcpfault_pkt p;
	int ext;

	for (ext = 0; ext <= 2; ext++) {
		s.ext = ext;
		KUNIT_ASSERT_EQ_MSG(test, parse(test, &s, &p), 0, "ext %d", ext);
		KUNIT_EXPECT_EQ(test, p.t.family, TCPFAULT_FAM_INET6);
		KUNIT_EXPECT_EQ(test, p.t.saddr[0], 0x20);
		KUNIT_EXPECT_EQ(test, p.t.saddr[15], 1);
		KUNIT_EXPECT_EQ(test, p.t.daddr[15], 2);
		KUNIT_EXPECT_EQ(test, p.t.dport, 2);
		KUNIT_EXPECT_EQ(test, p.flags, TCPFAULT_TH_SYN);
		KUNIT_EXPECT_EQ(test, p.len, 0U);
	}
}

/* Synthetic skbs through parse and classify, as the hook does. */
static void skbs_through_classifier(struct kunit *test)
{
	static const struct {
		bool from_server;
		u32 seq, ack;
		u8 flags;
		u16 win;
		u32 len;
		int want;
	} trace[] = {
		{ false, 100, 0, TCPFAULT_TH_SYN, 64000, 0, TCPFAULT_EV_SYN },
		{ false, 100, 0, TCPFAULT_TH_SYN, 64000, 0, TCPFAULT_EV_SYN_RETRY },
		{ true, 900, 101, TCPFAULT_TH_SYN | TCPFAULT_TH_ACK, 64000, 0, TCPFAULT_EV_SYN },
		{ false, 101, 901, TCPFAULT_TH_ACK, 500, 0, TCPFAULT_EV_DATA },
		{ false, 101, 901, TCPFAULT_TH_ACK, 500, 1000, TCPFAULT_EV_DATA },
		{ false, 101, 901, TCPFAULT_TH_ACK, 500, 1000, TCPFAULT_EV_RETRANS },
		{ false, 601, 901, TCPFAULT_TH_ACK, 500, 1000, TCPFAULT_EV_RETRANS },
		{ true, 901, 1601, TCPFAULT_TH_ACK, 500, 0, TCPFAULT_EV_DATA },
		{ false, 1600, 901, TCPFAULT_TH_ACK, 500, 0, TCPFAULT_EV_KEEPALIVE },
		{ true, 901, 1601, TCPFAULT_TH_ACK, 500, 0, TCPFAULT_EV_KEEPALIVE_ACK },
		{ true, 901, 1601, TCPFAULT_TH_ACK, 0, 0, TCPFAULT_EV_DATA },
		{ false, 1600, 901, TCPFAULT_TH_ACK, 500, 0, TCPFAULT_EV_ZWP },
		{ false, 1601, 901, TCPFAULT_TH_ACK | TCPFAULT_TH_FIN, 500, 0, TCPFAULT_EV_FIN },
		{ true, 901, 1602, TCPFAULT_TH_RST, 0, 0, TCPFAULT_EV_RST },
	};
	struct tcpfault_dir *d = kunit_kcalloc(test, 2, sizeof(*d), GFP_KERNEL);
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, d);
	for (i = 0; i < ARRAY_SIZE(trace); i++) {
		struct seg_desc s = {
			.sport = trace[i].from_server ? 80 : 40000,
			.dport = trace[i].from_server ? 40000 : 80,
			.seq = trace[i].seq, .ack = trace[i].ack, .flags = trace[i].flags,
			.win = trace[i].win, .len = trace[i].len,
		};
		struct tcpfault_pkt p;
		int side = trace[i].from_server;

		KUNIT_ASSERT_EQ(test, parse(test, &s, &p), 0);
		p.event = tcpfault_conn_classify(&d[side], &d[!side], &p);
		KUNIT_EXPECT_EQ_MSG(test, p.event, trace[i].want, "segment %u", i);
		tcpfault_conn_deliver(&d[side], &d[!side], &p);
	}
}

/*
 * What the hook hands on is defined in every field, tracked or not: an
 * untracked segment's dir, event and previous sequence read "unknown",
 * whatever the stack held before.
 */
static void parse_defines_every_field(struct kunit *test)
{
	struct nf_hook_state st = { .hook = NF_INET_PRE_ROUTING, .net = &init_net };
	struct seg_desc s = { .sport = 40000, .dport = 80, .seq = 7, .ack = 9,
			      .flags = TCPFAULT_TH_ACK, .len = 10 };
	struct tcpfault_pkt p;
	struct sk_buff *skb;
	int v6;

	for (v6 = 0; v6 < 2; v6++) {
		s.v6 = v6;
		st.pf = v6 ? NFPROTO_IPV6 : NFPROTO_IPV4;
		skb = mkskb(test, &s);
		memset(&p, 0xa5, sizeof(p));
		KUNIT_ASSERT_EQ(test, pkt_parse(&st, skb, &p), 0);
		kfree_skb(skb);
		KUNIT_EXPECT_EQ(test, p.seq, 7U);
		KUNIT_EXPECT_EQ(test, p.hook, NF_INET_PRE_ROUTING);
		KUNIT_EXPECT_NULL(test, p.sk);
		KUNIT_EXPECT_EQ(test, p.dir, 0);
		KUNIT_EXPECT_EQ(test, p.event, -1);
		KUNIT_EXPECT_FALSE(test, p.prev_valid);
		KUNIT_EXPECT_EQ(test, p.prev_nxt, 0U);
		KUNIT_EXPECT_EQ(test, p.back_oif, 0);	/* no input device known */
		KUNIT_EXPECT_EQ(test, p.fwd_oif, 0);
		KUNIT_EXPECT_EQ(test, p.back_mark, 0U);
		KUNIT_EXPECT_EQ(test, p.fwd_mark, 0U);
		KUNIT_EXPECT_EQ(test, p.t.saddr[v6 ? 2 : 4], 0);
	}
}

static struct kunit_case hooks_test_cases[] = {
	KUNIT_CASE(parse_ipv4),
	KUNIT_CASE(parse_ipv6),
	KUNIT_CASE(parse_paged),
	KUNIT_CASE(parse_gso_dodgy),
	KUNIT_CASE(parse_rejects),
	KUNIT_CASE(skbs_through_classifier),
	KUNIT_CASE(parse_defines_every_field),
	{}
};

static struct kunit_suite hooks_suite = {
	.name = "tcpfault_hooks",
	.test_cases = hooks_test_cases,
};

kunit_test_suites(&hooks_suite);
