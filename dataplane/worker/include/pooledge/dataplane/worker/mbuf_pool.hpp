// The packet buffer pool every port shares, in one virtually contiguous block.
//
// net_af_xdp (DPDK 22.11) registers the pool as the AF_XDP socket's UMEM: from the first
// memory chunk's address, objects x object size bytes long. That holds only when the
// objects lie back to back. rte_pktmbuf_pool_create keeps each object inside one page when
// the pool must be IOVA-contiguous per object; with 4 KiB pages (--no-huge) that is one
// 2.4 KiB mbuf per page, the pool spans 1.7 times what the UMEM covers, and the upper mbufs
// lie outside it. A worker recycles the mbufs of its own lcore cache, so DNS alone never met
// them; frames freed by another thread (the exception service) go back to the shared ring,
// the PMD posted such an mbuf to the fill ring, the kernel refused its address, and the mbuf
// was gone: about 5,000 frames for the kernel emptied the fill ring and the port received
// nothing more (perf/peers.sh's junk phase found it). A packed pool (objects back to back
// in one memzone, no IOVA at all) is what the PMD assumes; a port that DMAs (a PCI NIC)
// needs the default layout instead, so the two cannot share a dataplane (main.cpp refuses
// the mix). On a NIC in AF_XDP zero-copy mode the kernel may also refuse descriptors that
// cross pages it cannot DMA across; on veth (copy mode) that does not arise.
#pragma once

#include <string>

struct rte_mempool;

namespace pooledge::dataplane {

// A pktmbuf pool of `count` mbufs (default data room) with per-lcore caches of `cache`:
// packed in one memzone, or (not packed) as rte_pktmbuf_pool_create lays it out. Null, with
// the reason, when the EAL cannot give the memory.
[[nodiscard]] rte_mempool* create_mbuf_pool(const char* name, unsigned count, unsigned cache,
                                            bool packed, std::string* why);

// Whether the ports need a packed pool: with any net_af_xdp port, and without huge pages
// (no DMA-capable port works on them anyway).
[[nodiscard]] bool mbuf_pool_must_be_packed(bool has_hugepages, bool has_af_xdp_port) noexcept;

}  // namespace pooledge::dataplane
