#include "pooledge/dataplane/worker/worker.hpp"

#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <urcu-qsbr.h>

#include <algorithm>
#include <ctime>

#include "pooledge/base/signals.hpp"
#include "pooledge/dataplane/frame/classify.hpp"
#include "pooledge/dataplane/frame/dns_answer.hpp"

namespace pooledge::dataplane {
namespace {

RxChecks rx_checks(const rte_mbuf* m) noexcept {
    return RxChecks{(m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) == RTE_MBUF_F_RX_IP_CKSUM_GOOD,
                    (m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) == RTE_MBUF_F_RX_L4_CKSUM_GOOD};
}

// Sets the TX offload request for a reply whose UDP checksum the NIC completes.
void request_udp_checksum(rte_mbuf* m, const FrameLayout& reply, bool offload) noexcept {
    if (!offload) {
        m->ol_flags = 0;
        return;
    }
    m->l2_len = reply.l3_offset;
    m->l3_len = static_cast<uint16_t>(reply.l4_offset - reply.l3_offset);
    m->ol_flags =
        (reply.ip_version == 4 ? RTE_MBUF_F_TX_IPV4 : RTE_MBUF_F_TX_IPV6) | RTE_MBUF_F_TX_UDP_CKSUM;
}

// CLOCK_REALTIME through the vDSO (no system call), as an NTP timestamp.
ntp::Timestamp ntp_now() noexcept {
    timespec t{};
    clock_gettime(CLOCK_REALTIME, &t);
    return ntp::to_ntp(t);
}

// Before any clock state is published, a request cannot be answered honestly.
NtpPrepared unsynchronised_request() noexcept {
    NtpPrepared p;
    p.request.reason = ntp::DropReason::Unsynchronised;
    return p;
}

void count(LimiterCounters& c, bool limited, bool fresh, bool evicted, bool backstop) noexcept {
    if (limited) {
        bump(c.limited);
    }
    if (fresh) {
        bump(c.new_sources);
    }
    if (evicted) {
        bump(c.evictions);
    }
    if (backstop) {
        bump(c.backstop);
    }
}

}  // namespace

Worker::Worker(const WorkerContext& context) noexcept
    : ctx_(context),
      rng_(context.seed),
      rrl_state_(context.rrl != nullptr ? context.rrl->config().backstop : 0, context.workers),
      ntp_backstop_(limit::backstop_share(
          context.ntp_limit != nullptr ? context.ntp_limit->config().backstop : 0,
          context.workers)) {}

bool Worker::admit_ntp(const FrameLayout& layout, std::span<uint8_t> buffer,
                       const FrameLayout& reply, uint64_t now_ns) noexcept {
    LimiterCounters& c = ctx_.stats->ntp_limit;
    const limit::NtpDecision d = ctx_.ntp_limit->decide(layout.source, now_ns, rng_, ntp_backstop_);
    count(c, d.limited, d.fresh, d.evicted, d.backstop);
    switch (d.action) {
        case limit::NtpAction::Answer:
            if (d.leaked) {
                bump(c.leaked);
            }
            return true;
        case limit::NtpAction::Kod:
            bump(c.kod);
            kod_in_place(buffer, reply, ctx_.ntp_limit->kod_poll());
            return true;
        case limit::NtpAction::Drop:
            break;
    }
    bump(c.dropped);
    return false;
}

unsigned Worker::service_port(const Port& port, Pass& pass) noexcept {
    WorkerStats& st = *ctx_.stats;
    const engine::AnswerContext& actx = pass.actx;
    const ntp::ClockState* clock = pass.clock;
    const DnsLimits* limits = pass.limits.rrl != nullptr ? &pass.limits : nullptr;
    const uint16_t q = static_cast<uint16_t>(ctx_.queue);
    rte_mbuf* rx[kBurst];
    // The burst's answers, then the kernel's frames this worker carries: one TX burst, one
    // kick, for both.
    rte_mbuf* answers[2 * kBurst];
    rte_mbuf* to_kernel[kBurst];
    rte_mbuf* dropped[kBurst];
    auto& queries = burst_;
    const uint16_t n = rte_eth_rx_burst(port.id, q, rx, kBurst);
    uint16_t na = 0, nk = 0, nd = 0, nq = 0, nn = 0;
    ntp::Timestamp received = 0;  // the burst's arrival, for NTP answers
    if (n > 0) {
        bump(st.rx_packets, n);
        if (port.services.ntp) {
            received = ntp_now();
        }
    }
    // Stage 1, the whole burst: classify, parse, and start fetching what each answer reads
    // first (its name-index slot, the geo table line of its client), so that stage 2 finds
    // them in cache instead of waiting on each in turn.
    for (uint16_t i = 0; i < n; ++i) {
        if (i + 1 < n) {
            rte_prefetch0(rte_pktmbuf_mtod(rx[i + 1], void*));
        }
        rte_mbuf* m = rx[i];
        if (m->nb_segs != 1) {
            to_kernel[nk++] = m;  // jumbo or scattered: never a request of ours
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
        if (pass.acls != nullptr) {
            const bool ntp = c.service == Service::Ntp;
            const limit::PrefixTable& acl = ntp ? pass.acls->ntp : pass.acls->dns;
            if (!acl.empty() && acl.lookup(c.layout.source) == limit::kAclDeny) {
                bump(st.drops[static_cast<size_t>(ntp ? DropReason::NtpAclDenied
                                                      : DropReason::DnsAclDenied)]);
                dropped[nd++] = m;
                continue;
            }
        }
        const size_t room = static_cast<size_t>(len) + rte_pktmbuf_tailroom(m);
        if (c.service == Service::Ntp) {
            // All of the answer but its transmit timestamp, now; that comes before TX.
            const NtpPrepared p =
                clock != nullptr ? prepare_ntp_in_place({data, room}, c.layout, *clock, received)
                                 : unsynchronised_request();
            st.ntp.count(p.request);
            if (p.request.verdict == ntp::Verdict::Answer) {
                if (ctx_.ntp_limit != nullptr &&
                    !admit_ntp(c.layout, {data, room}, p.reply, pass.limits.now_ns)) {
                    bump(st.drops[static_cast<size_t>(DropReason::NtpRateLimited)]);
                    dropped[nd++] = m;
                    continue;
                }
                ntp_[nn++] = NtpSlot{m, p.reply};
            } else if (p.request.verdict == ntp::Verdict::Kernel) {
                to_kernel[nk++] = m;
            } else {
                bump(st.drops[static_cast<size_t>(DropReason::NtpNoAnswer)]);
                dropped[nd++] = m;
            }
            continue;
        }
        BurstSlot& query = queries[nq++];
        query.m = m;
        prepare_dns_in_place({data, room}, c.layout, actx, query.p, limits);
    }
    // Stage 2: each query's node, region and rrset (their lines were prefetched in stage 1),
    // and a prefetch of the address records its draw reads.
    for (uint16_t i = 0; i < nq; ++i) {
        resolve_dns(queries[i].p, actx);
    }
    // Stage 3: answer, in order.
    for (uint16_t i = 0; i < nq; ++i) {
        rte_mbuf* m = queries[i].m;
        auto* data = rte_pktmbuf_mtod(m, uint8_t*);
        const size_t room = static_cast<size_t>(rte_pktmbuf_data_len(m)) + rte_pktmbuf_tailroom(m);
        bump(st.dns.queries);
        const DnsAnswered a =
            finish_dns_in_place({data, room}, queries[i].p, actx, !port.tx_udp_checksum, limits);
        if (limits != nullptr) {
            count_rrl(a);
        }
        if (a.length == 0) {
            bump(st.drops[static_cast<size_t>(a.reason)]);
            dropped[nd++] = m;
            continue;
        }
        st.dns.count_response(a.response);
        m->data_len = a.length;
        m->pkt_len = a.length;
        request_udp_checksum(m, a.layout, port.tx_udp_checksum);
        answers[na++] = m;
    }
    // NTP answers: one transmit timestamp for the burst, as late as it can be taken.
    if (nn > 0) {
        const ntp::Timestamp transmit = ntp_now();
        for (uint16_t i = 0; i < nn; ++i) {
            rte_mbuf* m = ntp_[i].m;
            auto* data = rte_pktmbuf_mtod(m, uint8_t*);
            const size_t room =
                static_cast<size_t>(rte_pktmbuf_data_len(m)) + rte_pktmbuf_tailroom(m);
            const uint16_t len =
                finish_ntp_in_place({data, room}, ntp_[i].reply, transmit, !port.tx_udp_checksum);
            m->data_len = len;
            m->pkt_len = len;
            request_udp_checksum(m, ntp_[i].reply, port.tx_udp_checksum);
            answers[na++] = m;
        }
        bump(st.ntp.answers, nn);  // KoD RATE answers included (ntp_limit.kod counts them)
    }
    const ExceptionRings& exception = port.exception_rings[q];
    // The kernel's side (ARP and ND replies, ICMP, TCP, BGP...), where this worker carries
    // it: out of the port as the exception service passed it on, behind the answers.
    unsigned k = 0;
    if (exception.from_kernel != nullptr) {
        k = rte_ring_sc_dequeue_burst(exception.from_kernel, reinterpret_cast<void**>(answers + na),
                                      kBurst, nullptr);
    }
    if (na + k > 0) {
        const auto total = static_cast<uint16_t>(na + k);
        const uint16_t done = rte_eth_tx_burst(port.id, q, answers, total);
        bump(st.tx_bursts);
        // The PMD sends in order: the answers went first.
        const uint16_t answers_sent = std::min(done, na);
        bump(st.tx_packets, answers_sent);
        bump(st.tx_failed, na - answers_sent);
        bump(st.from_kernel, done - answers_sent);
        bump(st.from_kernel_failed, k - (done - answers_sent));
        if (done < total) {
            rte_pktmbuf_free_bulk(answers + done, total - done);
        }
    }
    if (nk > 0) {
        // To the exception service (exception.hpp): a ring, not the kernel interface, so no
        // system call here whatever the kernel's share of the traffic.
        const unsigned handed = rte_ring_sp_enqueue_burst(
            exception.to_kernel, reinterpret_cast<void**>(to_kernel), nk, nullptr);
        bump(st.to_exception, handed);
        if (handed < nk) {
            bump(st.exception_ring_full, nk - handed);
            rte_pktmbuf_free_bulk(to_kernel + handed, nk - handed);
        }
    }
    if (nd > 0) {
        rte_pktmbuf_free_bulk(dropped, nd);
    }
    return n + k;
}

void Worker::count_rrl(const DnsAnswered& a) noexcept {
    LimiterCounters& c = ctx_.stats->rrl;
    count(c, a.rrl.limited, a.rrl.fresh, a.rrl.evicted, a.rrl.backstop);
    if (a.cookie_bypass) {
        bump(c.cookie_bypass);
    } else if (a.rrl.action == limit::Action::Slip && a.length != 0) {
        bump(c.slipped);
    } else if (a.rrl.action != limit::Action::Pass) {
        bump(c.dropped);
    }
}

unsigned Worker::poll_once() noexcept {
    const LoadedImage* img = ctx_.image->get();
    timespec now{};
    clock_gettime(CLOCK_REALTIME_COARSE, &now);  // vDSO: no system call
    Pass pass{{img != nullptr ? &*img->view : nullptr, ctx_.identity, &rng_,
               static_cast<uint32_t>(now.tv_sec)},
              ctx_.clock != nullptr && ctx_.clock->refresh(clock_, clock_seen_) ? &clock_ : nullptr,
              ctx_.acls != nullptr ? ctx_.acls->get() : nullptr,
              {ctx_.rrl, &rrl_state_, 0}};
    if (ctx_.rrl != nullptr || ctx_.ntp_limit != nullptr) {
        pass.limits.now_ns = limiter_clock_ns();
    }
    unsigned frames = 0;
    for (const Port& p : *ctx_.ports) {
        frames += service_port(p, pass);
    }
    bump(ctx_.stats->loops);
    return frames;
}

uint64_t limiter_clock_ns() noexcept {
    timespec t{};
    clock_gettime(CLOCK_MONOTONIC_COARSE, &t);  // vDSO: no system call
    return static_cast<uint64_t>(t.tv_sec) * 1000000000u + static_cast<uint64_t>(t.tv_nsec);
}

int worker_main(void* arg) {
    const auto& context = *static_cast<const WorkerContext*>(arg);
    // No asynchronous signal is handled on a worker: a handler run here is a system call
    // (rt_sigreturn) and a stall on the DNS core. net_tap's SIGIO (it signals the process
    // when the kernel writes to a TAP queue) then lands on a thread that does not block it,
    // the exception service's among them. Faults stay deliverable.
    base::block_async_signals();
    Worker worker(context);
    rcu_register_thread();
    while (!context.stop->load(std::memory_order_relaxed)) {
        worker.poll_once();
        // The image pointer read inside poll_once is not used past this point.
        rcu_quiescent_state();
    }
    rcu_unregister_thread();
    return 0;
}

}  // namespace pooledge::dataplane
