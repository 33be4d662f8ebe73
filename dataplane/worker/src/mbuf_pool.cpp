#include "pooledge/dataplane/worker/mbuf_pool.hpp"

#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mbuf_pool_ops.h>
#include <rte_mempool.h>
#include <rte_memzone.h>

namespace pooledge::dataplane {
namespace {

// The pool owns its memzone from population on: rte_mempool_free calls this.
void free_memzone(rte_mempool_memhdr* /*hdr*/, void* mz) {
    rte_memzone_free(static_cast<const rte_memzone*>(mz));
}

}  // namespace

bool mbuf_pool_must_be_packed(bool has_hugepages, bool has_af_xdp_port) noexcept {
    return !has_hugepages || has_af_xdp_port;
}

rte_mempool* create_mbuf_pool(const char* name, unsigned count, unsigned cache, bool packed,
                              std::string* why) {
    const int socket = static_cast<int>(rte_socket_id());
    const uint16_t data_room = RTE_MBUF_DEFAULT_BUF_SIZE;
    const auto elt_size = static_cast<unsigned>(sizeof(rte_mbuf) + data_room);
    rte_mempool* mp =
        rte_mempool_create_empty(name, count, elt_size, cache, sizeof(rte_pktmbuf_pool_private),
                                 socket, packed ? RTE_MEMPOOL_F_NO_IOVA_CONTIG : 0);
    if (mp == nullptr) {
        *why = std::string("mbuf pool: ") + rte_strerror(rte_errno);
        return nullptr;
    }
    if (rte_mempool_set_ops_byname(mp, rte_mbuf_best_mempool_ops(), nullptr) != 0) {
        *why = "mbuf pool: no mempool ops";
        rte_mempool_free(mp);
        return nullptr;
    }
    rte_pktmbuf_pool_private priv{};
    priv.mbuf_data_room_size = data_room;
    rte_pktmbuf_pool_init(mp, &priv);
    if (!packed) {
        if (rte_mempool_populate_default(mp) != static_cast<int>(count)) {
            *why = std::string("mbuf pool: ") + rte_strerror(rte_errno) +
                   " (give EAL more memory with -m)";
            rte_mempool_free(mp);
            return nullptr;
        }
        rte_mempool_obj_iter(mp, rte_pktmbuf_init, nullptr);
        return mp;
    }

    // Packed: every object with its header and trailer back to back (objects may cross page
    // boundaries), plus a page, since the kernel pins an AF_XDP UMEM in whole pages.
    const size_t obj_size = rte_mempool_calc_obj_size(elt_size, mp->flags, nullptr);
    const size_t len = static_cast<size_t>(count) * obj_size + 4096;
    const std::string zone = std::string(name) + "_mem";
    const rte_memzone* mz = rte_memzone_reserve_aligned(zone.c_str(), len, socket, 0, 4096);
    if (mz == nullptr) {
        *why = "mbuf pool: no single block of " + std::to_string(len >> 20) +
               " MiB: " + rte_strerror(rte_errno) + " (give EAL more memory with -m)";
        rte_mempool_free(mp);
        return nullptr;
    }
    // No IOVA: the objects are not IOVA-contiguous, so no device may DMA into them (what
    // rte_mempool_populate_virt does for such a pool); AF_XDP, TAP and the other
    // software ports copy by virtual address.
    const int n = rte_mempool_populate_iova(mp, static_cast<char*>(mz->addr), RTE_BAD_IOVA, mz->len,
                                            free_memzone, const_cast<rte_memzone*>(mz));
    if (n <= 0) {
        rte_memzone_free(mz);  // not added to the pool: still ours
    }
    if (n < 0 || static_cast<unsigned>(n) != count || mp->nb_mem_chunks != 1) {
        *why = n < 0 ? std::string("mbuf pool: ") + rte_strerror(-n)
                     : "mbuf pool: " + std::to_string(n) + " of " + std::to_string(count) +
                           " mbufs fit in one block";
        rte_mempool_free(mp);
        return nullptr;
    }
    rte_mempool_obj_iter(mp, rte_pktmbuf_init, nullptr);
    return mp;
}

}  // namespace pooledge::dataplane
