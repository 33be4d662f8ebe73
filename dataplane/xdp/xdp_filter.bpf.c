// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* pooledge's XDP filter: junk is dropped before it costs a copy (dataplane/README.md,
 * "XDP filter").
 *
 * On a net_af_xdp port every frame the kernel hands to the AF_XDP socket is copied into
 * the UMEM and costs the worker a descriptor, whether it is a DNS query or a SYN flood,
 * and the socket's ring drops both alike when it is full. This program runs before that
 * copy. It sends UDP to port 53 (and 123 when NTP is on) straight to the socket, as the
 * PMD's default program would, and puts everything else (ARP, ND, ICMP, TCP, other
 * ports: what the dataplane passes to the kernel) through one token bucket per port at
 * the exception path's own rate. ARP and on-link ND (ICMPv6 133-137 with hop limit 255,
 * which no router forwards) have a second bucket at the same rate, as in the exception
 * service: a flood must not starve the router's neighbour discovery and cut the node off
 * its link, and a storm of them on the link is bounded too. Within the rate such frames go
 * to the socket too, where
 * the dataplane classifies them as always; over it they are dropped here and counted.
 * The dataplane still checks everything it gets: this is a cost filter, not a firewall.
 *
 * The PMD loads it (its xdp_prog= argument; the dataplane adds that) and fills xsks_map;
 * the dataplane then writes pe_xdp_cfg and reads pe_xdp_stats (xdp_filter_maps.h).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "xdp_filter_maps.h"

#define DNS_PORT 53
#define ETH_P_ARP_ 0x0806
#define ICMPV6_ND_FIRST 133 /* router solicitation */
#define ICMPV6_ND_LAST 137  /* redirect */
#define ON_LINK_HOP_LIMIT 255
#define NTP_PORT 123
/* From the kernel's net/ip.h, which UAPI does not export. */
#define IP_MF 0x2000
#define IP_OFFSET 0x1fff
/* Compare-and-swap attempts on the shared bucket before a frame counts as over the rate:
 * only as many CPUs as run this port's receive queues at once ever compete.
 */
#define BUCKET_TRIES 4

/* Not in UAPI (linux/if_vlan.h is kernel-internal). */
struct vlan_hdr {
	__be16 h_vlan_TCI;
	__be16 h_vlan_encapsulated_proto;
};

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, PE_XDP_FILTER_MAX_QUEUES);
	__type(key, __u32);
	__type(value, __u32);
} xsks_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pe_xdp_cfg);
} pe_xdp_cfg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PE_XDP_BUCKETS);
	__type(key, __u32);
	__type(value, struct pe_xdp_state);
} pe_xdp_state SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PE_XDP_VERDICTS);
	__type(key, __u32);
	__type(value, __u64);
} pe_xdp_stats SEC(".maps");

enum frame_class { OTHER, FAST_PATH, NEIGHBOUR };

/* FAST_PATH for unicast UDP to a fast-path port (the only frames the workers answer), NEIGHBOUR
 * for ARP and on-link ND, else OTHER; anything malformed is OTHER, and meets the bucket
 * (the dataplane drops it if it gets it).
 */
static __always_inline enum frame_class classify(void *data, void *data_end, __u32 flags)
{
	struct ethhdr *eth = data;
	void *l3 = eth + 1;
	struct udphdr *udph;
	__be16 proto;
	__u16 port;

	if (l3 > data_end)
		return OTHER;
	proto = eth->h_proto;
	if (proto == bpf_htons(ETH_P_8021Q)) {
		struct vlan_hdr *vh = l3;

		if ((void *)(vh + 1) > data_end)
			return OTHER;
		proto = vh->h_vlan_encapsulated_proto;
		l3 = vh + 1;
	}
	if (proto == bpf_htons(ETH_P_ARP_))
		return NEIGHBOUR;
	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *iph = l3;

		if ((void *)(iph + 1) > data_end || iph->ihl < 5)
			return OTHER;
		if (iph->protocol != IPPROTO_UDP ||
		    (iph->frag_off & bpf_htons(IP_MF | IP_OFFSET)))
			return OTHER; /* later fragments have no UDP header */
		udph = (void *)iph + iph->ihl * 4;
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6h = l3;
		__u8 *icmp_type = (void *)(ip6h + 1);

		if ((void *)(ip6h + 1) > data_end)
			return OTHER;
		if (ip6h->nexthdr == IPPROTO_ICMPV6) {
			if ((void *)(icmp_type + 1) > data_end ||
			    ip6h->hop_limit != ON_LINK_HOP_LIMIT)
				return OTHER;
			return *icmp_type >= ICMPV6_ND_FIRST && *icmp_type <= ICMPV6_ND_LAST
				       ? NEIGHBOUR
				       : OTHER;
		}
		if (ip6h->nexthdr != IPPROTO_UDP)
			return OTHER; /* extension headers are the kernel's */
		udph = (void *)(ip6h + 1);
	} else {
		return OTHER;
	}
	if ((void *)(udph + 1) > data_end)
		return OTHER;
	/* Group-addressed frames are never answered: the dataplane hands them to the kernel. */
	if (eth->h_dest[0] & 1)
		return OTHER;
	port = bpf_ntohs(udph->dest);
	return port == DNS_PORT || (port == NTP_PORT && (flags & PE_XDP_CFG_NTP)) ? FAST_PATH
										 : OTHER;
}

/* GCRA (the virtual-scheduling form of a token bucket): admit a frame if the next slot
 * lies at most ahead_ns after now, then move the slot on by one interval. One word of
 * state, updated with compare-and-swap so the port's receive queues share one rate.
 */
static __always_inline int within_rate(const struct pe_xdp_cfg *cfg, __u32 bucket)
{
	struct pe_xdp_state *st;
	__u64 now;
	int i;

	if (cfg->interval_ns == 0)
		return 1;
	st = bpf_map_lookup_elem(&pe_xdp_state, &bucket);
	if (!st)
		return 1;
	now = bpf_ktime_get_ns();
#pragma unroll
	for (i = 0; i < BUCKET_TRIES; i++) {
		__u64 tat = *(volatile __u64 *)&st->tat_ns;
		__u64 slot = tat > now ? tat : now;

		if (slot - now > cfg->ahead_ns)
			return 0;
		if (__sync_val_compare_and_swap(&st->tat_ns, tat, slot + cfg->interval_ns) == tat)
			return 1;
	}
	return 0;
}

static __always_inline void count(__u32 verdict)
{
	__u64 *n = bpf_map_lookup_elem(&pe_xdp_stats, &verdict);

	if (n)
		*n += 1;
}

SEC("xdp")
int pe_xdp_filter(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	const struct pe_xdp_cfg *cfg;
	__u32 key = 0;

	cfg = bpf_map_lookup_elem(&pe_xdp_cfg, &key);
	if (cfg && (cfg->flags & PE_XDP_CFG_ACTIVE)) {
		const enum frame_class c = classify(data, data_end, cfg->flags);

		if (c == FAST_PATH) {
			count(PE_XDP_FAST_PATH);
		} else if (c == NEIGHBOUR && within_rate(cfg, PE_XDP_BUCKET_NEIGHBOUR)) {
			count(PE_XDP_NEIGHBOUR);
		} else if (c == OTHER && within_rate(cfg, PE_XDP_BUCKET_OTHER)) {
			count(PE_XDP_KERNEL);
		} else {
			count(PE_XDP_RATE_LIMITED);
			return XDP_DROP;
		}
	}
	/* No socket on this queue (the PMD has not bound it yet): the stack has it. */
	return bpf_redirect_map(&xsks_map, ctx->rx_queue_index, XDP_PASS);
}

char _license[] SEC("license") = "Dual BSD/GPL";
