// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* xdp_reflector: the ceiling of the veth path in perf/peers.sh.
 *
 * Answers every DNS query by reflecting it with XDP_TX, doing only what a DNS
 * server must do on the wire: swap the MACs, IP addresses and UDP ports, set
 * QR (rcode 0, the rest of the header and the question left as they are),
 * TTL/hop limit 64, and fix the checksums.  No answer section: this measures
 * the path, not a server.  Everything that is not Ethernet (+ one 802.1Q tag)
 * + IPv4 without options or IPv6 without extension headers + UDP to port 53
 * + a 12-byte DNS header with QR clear is passed to the stack.
 *
 * perf/peers.sh attaches it natively on the server end of its veth pair:
 *
 *   ip link set dev IF xdpdrv obj xdp_reflector.o sec xdp
 *
 * Native XDP_TX on a veth only reaches the peer if the peer end runs an XDP
 * program too.  kxdpgun attaches its own; for a socket client (dnsperf, kdig)
 * attach the trivial program below on the client end:
 *
 *   ip link set dev PEER xdpdrv obj xdp_reflector.o sec xdp_pass
 *
 * The client end needs `ethtool -K PEER tx off`: with checksum offload its
 * frames carry only the pseudo-header sum, and an incremental update of that
 * is not a valid checksum.
 *
 * Build: clang -O2 -g -Wall -Werror -target bpf \
 *          -I/usr/include/x86_64-linux-gnu -c xdp_reflector.c -o xdp_reflector.o
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define DNS_PORT	53
#define DNS_HDR_LEN	12
#define DNS_QR		0x8000
#define DNS_RCODE	0x000f
#define REPLY_TTL	64
/* From the kernel's net/ip.h, which UAPI does not export. */
#define IP_MF		0x2000
#define IP_OFFSET	0x1fff

/* Not in UAPI (linux/if_vlan.h is kernel-internal). */
struct vlan_hdr {
	__be16 h_vlan_TCI;
	__be16 h_vlan_encapsulated_proto;
};

/* RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m').  One's complement sums do not
 * depend on byte order, so network-order words go in as they are.
 */
static __always_inline __u16 csum_replace2(__u16 check, __u16 old, __u16 new)
{
	__u32 sum = (__u16)~check + (__u16)~old + new;

	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

static __always_inline void swap_macs(struct ethhdr *eth)
{
	unsigned char tmp[ETH_ALEN];

	__builtin_memcpy(tmp, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, tmp, ETH_ALEN);
}

/* Turns the query behind udph into its reply and fixes the UDP checksum,
 * or returns -1 if it is not a query to port 53.  The address and port
 * swaps leave the UDP checksum alone (the sum is commutative), so only the
 * DNS flags word enters it.
 */
static __always_inline int reflect_udp(struct udphdr *udph, void *data_end,
				       int zero_csum_ok)
{
	__be16 *dns = (void *)(udph + 1);
	__be16 old_flags, new_flags, port;
	__u16 check;

	if ((void *)dns + DNS_HDR_LEN > data_end)
		return -1;
	if (udph->dest != bpf_htons(DNS_PORT) ||
	    bpf_ntohs(udph->len) < sizeof(*udph) + DNS_HDR_LEN)
		return -1;
	old_flags = dns[1];
	if (old_flags & bpf_htons(DNS_QR))
		return -1;	/* a response: never reflect it back */
	if (!udph->check && !zero_csum_ok)
		return -1;	/* IPv6 requires a checksum; let the stack drop it */

	new_flags = (old_flags | bpf_htons(DNS_QR)) & ~bpf_htons(DNS_RCODE);
	dns[1] = new_flags;

	port = udph->source;
	udph->source = udph->dest;
	udph->dest = port;

	/* Zero means "no checksum" over IPv4 and must stay so; a computed
	 * zero goes on the wire as 0xffff (RFC 768).
	 */
	if (udph->check) {
		check = csum_replace2(udph->check, old_flags, new_flags);
		udph->check = check ? check : 0xffff;
	}
	return 0;
}

static __always_inline int reflect_ipv4(struct iphdr *iph, void *data_end)
{
	struct udphdr *udph = (void *)(iph + 1);
	__be32 addr;
	__u16 old_word;

	if ((void *)(udph + 1) > data_end)
		return -1;
	/* ihl > 5 carries options, ihl < 5 is malformed: pass both. */
	if (iph->version != 4 || iph->ihl != 5)
		return -1;
	if (iph->frag_off & bpf_htons(IP_MF | IP_OFFSET))
		return -1;	/* only the first fragment has the UDP header */
	if (iph->protocol != IPPROTO_UDP)
		return -1;
	if (reflect_udp(udph, data_end, 1))
		return -1;

	/* The header checksum does not change under the address swap (the sum
	 * is commutative), and the addresses' pseudo-header part of the UDP
	 * checksum does not either.
	 */
	addr = iph->saddr;
	iph->saddr = iph->daddr;
	iph->daddr = addr;

	/* TTL shares its 16-bit word with the protocol. */
	old_word = *(__u16 *)&iph->ttl;
	iph->ttl = REPLY_TTL;
	iph->check = csum_replace2(iph->check, old_word, *(__u16 *)&iph->ttl);
	return 0;
}

static __always_inline int reflect_ipv6(struct ipv6hdr *ip6h, void *data_end)
{
	struct udphdr *udph = (void *)(ip6h + 1);
	struct in6_addr addr;

	if ((void *)(udph + 1) > data_end)
		return -1;
	if (ip6h->version != 6 || ip6h->nexthdr != IPPROTO_UDP)
		return -1;	/* extension headers go to the stack */
	if (reflect_udp(udph, data_end, 0))
		return -1;

	/* No header checksum; the hop limit is not in the pseudo-header. */
	addr = ip6h->saddr;
	ip6h->saddr = ip6h->daddr;
	ip6h->daddr = addr;
	ip6h->hop_limit = REPLY_TTL;
	return 0;
}

SEC("xdp")
int xdp_reflector(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct ethhdr *eth = data;
	void *l3 = eth + 1;
	__be16 proto;

	if (l3 > data_end)
		return XDP_PASS;
	/* A reply from a group address would be bogus. */
	if (eth->h_dest[0] & 1)
		return XDP_PASS;
	proto = eth->h_proto;
	if (proto == bpf_htons(ETH_P_8021Q)) {
		struct vlan_hdr *vh = l3;

		if ((void *)(vh + 1) > data_end)
			return XDP_PASS;
		proto = vh->h_vlan_encapsulated_proto;
		l3 = vh + 1;	/* the tag stays: the reply goes out on it */
	}

	if (proto == bpf_htons(ETH_P_IP)) {
		if ((void *)((struct iphdr *)l3 + 1) > data_end ||
		    reflect_ipv4(l3, data_end))
			return XDP_PASS;
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		if ((void *)((struct ipv6hdr *)l3 + 1) > data_end ||
		    reflect_ipv6(l3, data_end))
			return XDP_PASS;
	} else {
		return XDP_PASS;
	}

	swap_macs(eth);
	return XDP_TX;
}

/* For the peer end of the veth, so that XDP_TX frames are received there. */
SEC("xdp_pass")
int xdp_pass_peer(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char _license[] SEC("license") = "Dual BSD/GPL";
