#include "worker.hpp"

#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <urcu-qsbr.h>

#include <ctime>

namespace pooledge::dataplane {
namespace {

constexpr uint16_t kBurst = 32;

RxChecks rx_checks(const rte_mbuf* m) noexcept {
    return RxChecks{(m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) == RTE_MBUF_F_RX_IP_CKSUM_GOOD,
                    (m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) == RTE_MBUF_F_RX_L4_CKSUM_GOOD};
}

// Sends what it can and frees (and counts) the rest: a full ring must not leak mbufs.
void send(uint16_t port, uint16_t queue, rte_mbuf** pkts, uint16_t n, Counter& sent,
          Counter& failed) noexcept {
    if (n == 0) {
        return;
    }
    const uint16_t done = rte_eth_tx_burst(port, queue, pkts, n);
    bump(sent, done);
    if (done < n) {
        bump(failed, n - done);
        rte_pktmbuf_free_bulk(pkts + done, n - done);
    }
}

void service_port(const WorkerContext& w, const Port& port, const engine::AnswerContext& actx,
                  WorkerStats& st) noexcept {
    const uint16_t q = static_cast<uint16_t>(w.queue);
    rte_mbuf* rx[kBurst];
    rte_mbuf* answers[kBurst];
    rte_mbuf* to_kernel[kBurst];
    rte_mbuf* dropped[kBurst];
    const uint16_t n = rte_eth_rx_burst(port.id, q, rx, kBurst);
    uint16_t na = 0, nk = 0, nd = 0;
    if (n > 0) {
        bump(st.rx_packets, n);
    }
    for (uint16_t i = 0; i < n; ++i) {
        if (i + 1 < n) {
            rte_prefetch0(rte_pktmbuf_mtod(rx[i + 1], void*));
        }
        rte_mbuf* m = rx[i];
        if (m->nb_segs != 1) {
            to_kernel[nk++] = m;  // jumbo or scattered: never a query of ours
            continue;
        }
        auto* data = rte_pktmbuf_mtod(m, uint8_t*);
        const uint16_t len = rte_pktmbuf_data_len(m);
        const Classified c = classify({data, len}, port.services, rx_checks(m));
        if (c.verdict == Verdict::Exception) {
            to_kernel[nk++] = m;
            continue;
        }
        if (c.verdict == Verdict::Drop) {
            bump(st.drops[static_cast<size_t>(c.reason)]);
            dropped[nd++] = m;
            continue;
        }
        bump(st.dns_queries);
        const size_t room = static_cast<size_t>(len) + rte_pktmbuf_tailroom(m);
        const Answered a = answer_in_place({data, room}, c.layout, actx, !port.tx_udp_checksum);
        if (a.length == 0) {
            bump(st.drops[static_cast<size_t>(a.reason)]);
            dropped[nd++] = m;
            continue;
        }
        st.count_response(a.response);
        m->data_len = a.length;
        m->pkt_len = a.length;
        if (port.tx_udp_checksum) {
            m->l2_len = a.layout.l3_offset;
            m->l3_len = static_cast<uint16_t>(a.layout.l4_offset - a.layout.l3_offset);
            m->ol_flags = (a.layout.ip_version == 4 ? RTE_MBUF_F_TX_IPV4 : RTE_MBUF_F_TX_IPV6) |
                          RTE_MBUF_F_TX_UDP_CKSUM;
        } else {
            m->ol_flags = 0;
        }
        answers[na++] = m;
    }
    send(port.id, q, answers, na, st.tx_packets, st.tx_failed);
    send(port.exception_id, q, to_kernel, nk, st.to_kernel, st.kernel_tx_failed);
    if (nd > 0) {
        rte_pktmbuf_free_bulk(dropped, nd);
    }
    // The kernel's side: ARP and ND replies, ICMP, TCP, BGP... out of the port as they are.
    const uint16_t k = rte_eth_rx_burst(port.exception_id, q, rx, kBurst);
    if (k > 0) {
        bump(st.from_kernel, k);
        for (uint16_t i = 0; i < k; ++i) {
            rx[i]->ol_flags = 0;
        }
        Counter sent_unused{0};
        send(port.id, q, rx, k, sent_unused, st.kernel_tx_failed);
    }
}

}  // namespace

int worker_main(void* arg) {
    const auto& w = *static_cast<const WorkerContext*>(arg);
    WorkerStats& st = *w.stats;
    base::Rng rng(w.seed);
    rcu_register_thread();
    while (!w.stop->load(std::memory_order_relaxed)) {
        const LoadedImage* img = w.image->get();
        timespec now{};
        clock_gettime(CLOCK_REALTIME_COARSE, &now);  // vDSO: no system call
        const engine::AnswerContext actx{img != nullptr ? &*img->view : nullptr, w.identity, &rng,
                                         static_cast<uint32_t>(now.tv_sec)};
        for (const Port& p : *w.ports) {
            service_port(w, p, actx, st);
        }
        bump(st.loops);
        // The image pointer read above is not used past this point.
        rcu_quiescent_state();
    }
    rcu_unregister_thread();
    return 0;
}

}  // namespace pooledge::dataplane
