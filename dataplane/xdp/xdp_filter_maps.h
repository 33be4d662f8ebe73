/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The maps of pooledge's XDP filter (xdp_filter.bpf.c) as the dataplane sees them
 * (dataplane/src/xdp_filter.cpp): one header, so the layouts cannot drift apart.
 */
#ifndef POOLEDGE_XDP_FILTER_MAPS_H
#define POOLEDGE_XDP_FILTER_MAPS_H

#include <linux/types.h>

/* The program's name (bpf_prog_info.name, at most 15 characters): how the dataplane tells
 * its own filter from somebody else's program on an interface.
 */
#define PE_XDP_FILTER_PROG_NAME "pe_xdp_filter"
#define PE_XDP_FILTER_CFG_MAP "pe_xdp_cfg"
#define PE_XDP_FILTER_STATE_MAP "pe_xdp_state"
#define PE_XDP_FILTER_STATS_MAP "pe_xdp_stats"
/* The PMD inserts its AF_XDP sockets into the map of this name, keyed by queue. */
#define PE_XDP_FILTER_XSKS_MAP "xsks_map"
#define PE_XDP_FILTER_MAX_QUEUES 256 /* queue indexes the PMD may bind */

/* pe_xdp_cfg[0], written by the dataplane once the port has started. Until then (flags 0)
 * every frame goes to the AF_XDP socket, as without a filter.
 */
#define PE_XDP_CFG_ACTIVE 1u /* the rest of the entry holds */
#define PE_XDP_CFG_NTP 2u    /* UDP port 123 is fast path too (ntp.enabled) */

struct pe_xdp_cfg {
    /* The kernel-bound share's token bucket as a GCRA: one frame per interval_ns, up to
     * ahead_ns ((burst - 1) x interval) ahead of time. interval_ns 0: no limit.
     */
    __u64 interval_ns;
    __u64 ahead_ns;
    __u32 flags;
    __u32 reserved;
};

/* pe_xdp_state[bucket]: the theoretical arrival time of the bucket's next frame. Both
 * buckets run at the configured rate and burst.
 */
#define PE_XDP_BUCKET_OTHER 0     /* everything but neighbour discovery */
#define PE_XDP_BUCKET_NEIGHBOUR 1 /* ARP and on-link ND */
#define PE_XDP_BUCKETS 2
struct pe_xdp_state {
    __u64 tat_ns;
};

/* pe_xdp_stats: per-CPU frame counts, indexed by verdict. */
enum pe_xdp_verdict {
    PE_XDP_FAST_PATH = 0,    /* UDP to port 53 (123): straight to the socket */
    PE_XDP_KERNEL = 1,       /* anything else, within the rate: to the socket, for the
                                dataplane's exception path */
    PE_XDP_RATE_LIMITED = 2, /* anything else (or neighbour discovery) over the rate:
                                dropped here */
    PE_XDP_NEIGHBOUR = 3,    /* ARP and on-link ND within their own bucket: to the socket */
    PE_XDP_VERDICTS = 4,
};

#endif
