#include "pooledge/dataplane/worker/mbuf_pool.hpp"

#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mbuf_pool_ops.h>
#include <rte_mempool.h>
#include <rte_memzone.h>

namespace pooledge::dataplane {

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
    // boundaries), plus a page to align the first one.
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
    // The memzone stays for the process's life: the pool is never freed before exit.
    const int n = rte_mempool_populate_iova(mp, static_cast<char*>(mz->addr), mz->iova, mz->len,
                                            nullptr, nullptr);
    if (n < 0 || static_cast<unsigned>(n) != count || mp->nb_mem_chunks != 1) {
        *why = "mbuf pool: " + std::to_string(n) + " of " + std::to_string(count) +
               " mbufs fit in one block";
        rte_mempool_free(mp);
        return nullptr;
    }
    rte_mempool_obj_iter(mp, rte_pktmbuf_init, nullptr);
    return mp;
}

}  // namespace pooledge::dataplane
