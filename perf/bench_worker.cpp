// Benchmark of the worker loop through the PMD API: the real Worker (worker_main, so
// poll_once and the RCU quiescent state) on its own lcore, serving a net_ring port, fed by a
// generator on the main lcore with the pool mix (perf/pool_mix.hpp: pool-sized image with its
// geo index, many client subnets, ECS) as Ethernet frames.
//
//   build/perf/bench_worker [--seconds 2] [--repeats 5] [--small] [--ntp] [--limits]
//                           [-- EAL arguments]
//
// --limits also measures the loop with abuse protection on (issue 14's figure): response
// rate limiting charging every answer to its client's /24 or /56 in a 1 Mi-entry table,
// at a rate no client of the mix reaches (so every answer is still sent: the cost of
// checking, not of dropping), and a DNS ACL of 200 deny prefixes none of them is in. Each
// repeat runs off then on, and the overhead per query is the median of the repeats'
// differences.
//
// --ntp runs the NTP mix instead: version 4 client requests (48 bytes, 90-byte frames in,
// 90 out; 94 on the wire with the FCS counted as the line-rate figures do) from the same
// clients, to port 123, with a synchronised clock state published as the dataplane does.
//
// The generator recycles each answer it takes off the port's TX ring: the mbuf is reset, the
// next query frame of the mix is copied in, and it goes back on the RX ring. Its own ceiling
// is measured first with no worker (the RX ring looped back to itself, the same work per
// frame), so a figure at that ceiling is the generator's, not the worker's. Prints answered
// Mqps and ns per frame of the worker lcore (busy polling: ns = 1 / rate), median and
// min-max over the repeats, and the worker lcores needed for the line rate of 4-A answers.
// Default EAL arguments: no hugepages, no PCI, lcores 0@0 (generator), 1@1 (worker).
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <initializer_list>
#include <string>
#include <vector>

#include "frame_builder.hpp"
#include "pool_mix.hpp"
#include "pooledge/dataplane/worker/worker.hpp"
#include "ring_port.hpp"

using namespace pooledge;
using namespace pooledge::dataplane;
using Clock = std::chrono::steady_clock;

namespace {

constexpr unsigned kRing = 4096;
constexpr unsigned kBurst = 32;
constexpr unsigned kInFlight = 2048;  // frames the generator keeps circulating

[[noreturn]] void die(const std::string& what) {
    std::fprintf(stderr, "bench_worker: %s\n", what.c_str());
    std::exit(1);
}

test::RingPort ring_port(const std::string& name) {
    std::string why;
    const auto p = test::make_ring_port(name, kRing, &why);
    if (!p) {
        die(why);
    }
    return *p;
}

// A frame from `client` to the service address of its family.
test_frames::FrameOptions from_client(const base::IpAddress& c, size_t i) {
    test_frames::FrameOptions o;
    o.ip = c.family;
    if (c.family == 4) {
        o.src.assign(c.bytes.begin(), c.bytes.begin() + 4);
    } else {
        o.src.assign(c.bytes.begin(), c.bytes.end());
        o.dst.assign(test_frames::kSvc6[0].begin(), test_frames::kSvc6[0].end());
    }
    o.sport = static_cast<uint16_t>(1024 + i % 60000);
    return o;
}

// NTPv4 client requests from the mix's clients, each with its own transmit timestamp.
std::vector<std::vector<uint8_t>> ntp_frames_of(const perf::PoolMix& mix) {
    std::vector<std::vector<uint8_t>> out;
    for (size_t i = 0; i < mix.clients.size(); ++i) {
        std::vector<uint8_t> req(48, 0);
        req[0] = 0x23;  // LI 0, version 4, mode 3
        req[2] = 6;
        for (size_t b = 0; b < 8; ++b) {
            req[40 + b] = static_cast<uint8_t>(i >> (8 * (b % 4)));
        }
        auto o = from_client(mix.clients[i].addr, i);
        o.dport = 123;
        out.push_back(test_frames::frame(req, o));
    }
    return out;
}

// The mix's queries as frames from their clients to the service address.
std::vector<std::vector<uint8_t>> frames_of(const perf::PoolMix& mix) {
    std::vector<std::vector<uint8_t>> out;
    for (size_t i = 0; i < mix.queries.size(); ++i) {
        out.push_back(test_frames::frame(mix.queries[i], from_client(mix.clients[i].addr, i)));
    }
    return out;
}

// Rewrites `m` with the next query frame.
inline void refill(rte_mbuf* m, const std::vector<std::vector<uint8_t>>& frames, size_t& next) {
    const auto& f = frames[next];
    next = next + 1 == frames.size() ? 0 : next + 1;
    rte_pktmbuf_reset(m);
    std::memcpy(rte_pktmbuf_mtod(m, uint8_t*), f.data(), f.size());
    m->data_len = static_cast<uint16_t>(f.size());
    m->pkt_len = static_cast<uint32_t>(f.size());
}

struct Run {
    double mpps = 0;
    uint64_t frames = 0;
    uint64_t not_answers = 0;  // frames out that are not DNS responses (NTP mode 4 answers)
};

// Circulates kInFlight frames for `seconds`: from `out` (what was sent) back to `in`. With no
// worker, `out` is `in` itself: the generator's own ceiling. The frames stay in the rings
// (drain() frees them).
Run circulate(rte_mempool* pool, rte_ring* in, rte_ring* out,
              const std::vector<std::vector<uint8_t>>& frames, double seconds, bool ntp) {
    size_t next = 0;
    std::vector<rte_mbuf*> start(kInFlight);
    if (rte_pktmbuf_alloc_bulk(pool, start.data(), kInFlight) != 0) {
        die("mbuf pool too small");
    }
    for (rte_mbuf* m : start) {
        refill(m, frames, next);
    }
    if (rte_ring_enqueue_bulk(in, reinterpret_cast<void* const*>(start.data()), kInFlight,
                              nullptr) != kInFlight) {
        die("RX ring too small");
    }
    Run r;
    rte_mbuf* burst[kBurst];
    const auto t0 = Clock::now();
    const auto until = t0 + std::chrono::duration<double>(seconds);
    uint64_t polls = 0;
    for (;;) {
        if ((++polls & 1023) == 0 && Clock::now() >= until) {
            break;
        }
        const unsigned n =
            rte_ring_dequeue_burst(out, reinterpret_cast<void**>(burst), kBurst, nullptr);
        for (unsigned i = 0; i < n; ++i) {
            // A DNS response: QR set in the flags byte after the UDP header; an NTP answer:
            // mode 4 in its first byte.
            const auto* d = rte_pktmbuf_mtod(burst[i], const uint8_t*);
            const size_t l4 = d[12] == 0x08 ? 14 + 20 : 14 + 40;
            const bool answer = ntp ? (d[l4 + 8] & 7) == 4 : (d[l4 + 8 + 2] & 0x80) != 0;
            r.not_answers += !answer && in != out;
            refill(burst[i], frames, next);
        }
        r.frames += n;
        if (n > 0 &&
            rte_ring_enqueue_burst(in, reinterpret_cast<void* const*>(burst), n, nullptr) != n) {
            die("RX ring overflow");
        }
    }
    const double took = std::chrono::duration<double>(Clock::now() - t0).count();
    r.mpps = static_cast<double>(r.frames) / took / 1e6;
    return r;
}

// Everything in the rings back to the pool. Only once the worker has stopped: the rings are
// single-consumer, and a frame taken by both sides would be freed and answered at once.
void drain(std::initializer_list<rte_ring*> rings) {
    rte_mbuf* burst[kBurst];
    for (rte_ring* ring : rings) {
        unsigned n;
        while ((n = rte_ring_dequeue_burst(ring, reinterpret_cast<void**>(burst), kBurst,
                                           nullptr)) > 0) {
            rte_pktmbuf_free_bulk(burst, n);
        }
    }
}

struct Summary {
    double median, min, max;
};

Summary summarize(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    const double median = n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    return {median, v.front(), v.back()};
}

}  // namespace

int main(int argc, char** argv) {
    double seconds = 2;
    int repeats = 5;
    bool full = true;
    bool ntp = false;
    bool limits = false;
    std::vector<std::string> eal = {
        argv[0],       "--no-huge",     "-m",
        "1024",        "--no-pci",      "--lcores",
        "0@0,1@1",     "--file-prefix", "bench-worker-" + std::to_string(::getpid()),
        "--log-level", "error"};
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--seconds" && i + 1 < argc) {
            seconds = std::stod(argv[++i]);
        } else if (a == "--repeats" && i + 1 < argc) {
            repeats = std::max(1, std::stoi(argv[++i]));
        } else if (a == "--small") {
            full = false;
        } else if (a == "--ntp") {
            ntp = true;
        } else if (a == "--limits") {
            limits = true;
        } else if (a == "--") {
            eal.assign({argv[0]});
            eal.insert(eal.end(), argv + i + 1, argv + argc);
            break;
        } else {
            die("usage: bench_worker [--seconds S] [--repeats N] [--small] [--ntp] [--limits] "
                "[-- EAL args]");
        }
    }
    std::vector<char*> eal_argv;
    for (auto& s : eal) {
        eal_argv.push_back(s.data());
    }
    if (rte_eal_init(static_cast<int>(eal_argv.size()), eal_argv.data()) < 0) {
        die(std::string("EAL: ") + rte_strerror(rte_errno));
    }
    const unsigned worker_lcore = rte_get_next_lcore(rte_get_main_lcore(), 1, 0);
    if (worker_lcore >= RTE_MAX_LCORE) {
        die("needs two lcores (--lcores 0@0,1@1)");
    }
    rte_mempool* pool =
        rte_pktmbuf_pool_create("bench", 2 * kRing + 4 * kInFlight - 1, 256, 0,
                                RTE_MBUF_DEFAULT_BUF_SIZE, static_cast<int>(rte_socket_id()));
    if (pool == nullptr) {
        die(std::string("mbuf pool: ") + rte_strerror(rte_errno));
    }

    std::printf("building the %s image and the query mix...\n", full ? "pool-size" : "small");
    std::fflush(stdout);
    perf::PoolMix mix = perf::make_pool_mix(full);
    const auto frames = ntp ? ntp_frames_of(mix) : frames_of(mix);

    // The service port and its exception port, as the dataplane sets them up.
    const test::RingPort svc = ring_port("bench_svc");
    const test::RingPort exc = ring_port("bench_exc");
    Port port;
    port.device = "bench_svc";
    port.id = svc.id;
    port.mac = test_frames::kOurMac;
    port.services = test_frames::svc();
    port.services.ntp = ntp;
    port.exception_name = "bench_exc";
    port.exception_id = exc.id;
    port.tx_udp_checksum = start_port(port.id, port.device, 1, pool, true);
    (void)start_port(port.exception_id, port.exception_name, 1, pool, false);
    create_exception_rings(port, 1);
    std::vector<Port> ports = {port};

    ImageSlot slot;
    auto loaded = std::make_unique<LoadedImage>();
    loaded->bytes = std::move(mix.bytes);
    loaded->view = *mix.image;  // with its geo index; the bytes' buffer moved, not copied
    slot.publish(std::move(loaded));
    engine::Identity identity;
    identity.nsid = "bench";
    ClockSlot clock;
    ntp::ClockState synced;
    synced.synchronised = true;
    synced.leap = ntp::Leap::None;
    synced.stratum = 2;
    clock.publish(synced);
    WorkerStats stats;
    std::atomic<bool> stop{false};

    // Abuse protection for --limits (see the top of this file).
    limit::RrlConfig rrl_config;
    rrl_config.rate = {500000, 500000, 500000};
    rrl_config.backstop = 0;  // every source of the mix is new at first: not what is measured
    limit::Rrl rrl(rrl_config, 0x5EED, 0);
    AclSlot acls;
    {
        limit::AclConfig deny;
        for (uint32_t i = 0; i < 200; ++i) {
            deny.deny.push_back({base::IpAddress::v4(0xF0000000u + (i << 12)), 20});  // 240/8
        }
        auto a = std::make_unique<limit::Acls>();
        a->dns = *limit::build_acl(deny, nullptr);
        acls.publish(std::move(a));
    }

    std::vector<double> ceiling, worker, protected_worker, overhead_ns;
    uint64_t not_answers = 0, to_kernel = 0;
    const auto run_worker = [&](int r, bool protection) {
        stop = false;
        WorkerContext ctx{0,     &ports, &slot, &identity, &stats, &stop, static_cast<uint64_t>(r),
                          &clock};
        if (protection) {
            ctx.rrl = &rrl;
            ctx.acls = &acls;
        }
        if (rte_eal_remote_launch(worker_main, &ctx, worker_lcore) != 0) {
            die("cannot launch the worker lcore");
        }
        const Run w = circulate(pool, svc.rx, svc.tx, frames, seconds, ntp);
        stop = true;
        rte_eal_wait_lcore(worker_lcore);
        not_answers += w.not_answers;
        // Frames for the kernel wait in the exception service's ring (no service runs here).
        to_kernel += rte_ring_count(ports[0].exception_rings[0].to_kernel);
        drain({svc.rx, svc.tx, exc.tx, ports[0].exception_rings[0].to_kernel});
        return w.mpps;
    };
    for (int r = 0; r < repeats; ++r) {
        ceiling.push_back(circulate(pool, svc.rx, svc.rx, frames, seconds, ntp).mpps);
        drain({svc.rx});
        worker.push_back(run_worker(r, false));
        if (limits) {
            protected_worker.push_back(run_worker(r, true));
            overhead_ns.push_back(1e3 / protected_worker.back() - 1e3 / worker.back());
        }
    }

    const Summary c = summarize(ceiling), w = summarize(worker);
    std::printf("\n%zu %s in the mix, %s image (%zu servers), %d x %.1f s\n\n", frames.size(),
                ntp ? "NTP requests" : "queries", full ? "pool-size" : "small", mix.servers,
                repeats, seconds);
    std::printf("| loop | Mqps median | min | max | ns/frame median |\n|---|---|---|---|---|\n");
    std::printf("| generator alone (ceiling) | %.2f | %.2f | %.2f | %.1f |\n", c.median, c.min,
                c.max, 1e3 / c.median);
    std::printf("| worker, 1 lcore | %.2f | %.2f | %.2f | %.1f |\n", w.median, w.min, w.max,
                1e3 / w.median);
    if (limits) {
        const Summary p = summarize(protected_worker), o = summarize(overhead_ns);
        std::printf("| worker, RRL + ACL on | %.2f | %.2f | %.2f | %.1f |\n", p.median, p.min,
                    p.max, 1e3 / p.median);
        std::printf(
            "\nRRL + ACL overhead: %.1f ns/query median (min %.1f, max %.1f) over %d "
            "paired repeats; limited %llu, table evictions %llu\n",
            o.median, o.min, o.max, repeats,
            static_cast<unsigned long long>(stats.rrl.limited.load()),
            static_cast<unsigned long long>(stats.rrl.evictions.load()));
    }
    if (w.max > 0.9 * c.min) {
        std::printf(
            "\nthe worker figure is within 10%% of the generator's ceiling: it is the "
            "generator's, the worker is faster\n");
    }
    if (ntp) {
        std::printf("\nworker lcores for line rate of NTP answers (94-byte frames):\n");
        for (const auto& [gbe, mpps] : {std::pair{10, 10.96}, {25, 27.4}, {100, 109.6}}) {
            std::printf("  %3d GbE (%.2f Mpps): %.0f\n", gbe, mpps, std::ceil(mpps / w.median));
        }
    } else {
        std::printf("\nworker lcores for line rate of 4-A answers (154-byte frames):\n");
        for (const auto& [gbe, mpps] : {std::pair{10, 7.18}, {25, 17.96}, {100, 71.8}}) {
            std::printf("  %3d GbE (%.2f Mpps): %.0f\n", gbe, mpps, std::ceil(mpps / w.median));
        }
    }
    if (not_answers > 0 || to_kernel > 0) {
        std::printf("\nFAIL: %llu frames out were not %s, %llu went to the kernel\n",
                    static_cast<unsigned long long>(not_answers),
                    ntp ? "NTP answers" : "DNS responses",
                    static_cast<unsigned long long>(to_kernel));
        return 1;
    }
    if (w.min <= 0) {
        std::printf("\nFAIL: the worker answered nothing\n");
        return 1;
    }
    stop_ports(ports);
    rte_eal_cleanup();
    return 0;
}
