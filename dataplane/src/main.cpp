// pooledge-dataplane: answer DNS (and NTP) at line rate from RCU-swapped zone images; hand
// everything else to the kernel.
//
//   pooledge-dataplane [EAL args] -- --config configs/dataplane.yaml
#include <pthread.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <signal.h>
#include <sys/random.h>
#include <urcu-qsbr.h>

#include <net/if.h>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "clock.hpp"
#include "http.hpp"
#include "management.hpp"
#include "metrics.hpp"
#include "pooledge/base/input_error.hpp"
#include "pooledge/base/log.hpp"
#include "pooledge/base/signals.hpp"
#include "pooledge/base/stopper.hpp"
#include "pooledge/dataplane/worker/config.hpp"
#include "pooledge/dataplane/worker/exception.hpp"
#include "pooledge/dataplane/worker/image_slot.hpp"
#include "pooledge/dataplane/worker/mbuf_pool.hpp"
#include "pooledge/dataplane/worker/ports.hpp"
#include "pooledge/dataplane/worker/worker.hpp"
#include "pooledge/dataplane/xdp/xdp_filter.hpp"
#include "protection.hpp"
#include "tcp_dns.hpp"

namespace pd = pooledge::dataplane;
namespace base = pooledge::base;
namespace log = pooledge::base::log;

namespace {

constexpr const char* kUsage =
    "usage: pooledge-dataplane [EAL args] -- --config FILE\n"
    "  e.g. pooledge-dataplane -l 0-1 --no-huge -m 512 --no-pci \\\n"
    "         --vdev net_af_packet0,iface=veth0 -- --config configs/dataplane.yaml\n";

// Ready for anycast announcement: an image serves and the ports are up. The NTP clock has a
// line of its own and fails the check only when configured to (ntp.health_requires_sync).
pd::HttpResponse health(const pd::ImageStats& image_stats, const std::vector<pd::Port>& ports,
                        const pd::ClockPublisher* clock, bool clock_required) {
    const bool image = image_stats.serial.load() != 0;
    const bool links = pd::links_up(ports);
    std::string ntp_line = "ntp: off";
    bool clock_ok = true;
    if (clock != nullptr) {
        const auto s = clock->latest();
        char err[64];
        std::snprintf(err, sizeof err, "%.6f", s.max_error);
        ntp_line = std::string("ntp: ") + (s.synchronised ? "synchronised" : "not synchronised") +
                   " (maximum error " + err + " s)";
        clock_ok = s.synchronised || !clock_required;
    }
    const bool ready = image && links && clock_ok;
    return {
        ready ? 200 : 503, "text/plain; charset=utf-8",
        std::string(ready ? "ready" : "not ready") + "\nimage: " +
            (image ? "serial " + std::to_string(image_stats.serial.load()) : std::string("none")) +
            "\nlinks: " + (links ? "up" : "down") + "\n" + ntp_line + "\n"};
}

// The EAL arguments, with pooledge's XDP filter added to the net_af_xdp devices unless the
// configuration turns it off (xdp_filter.hpp). `filtered` gets those devices' names.
std::vector<std::string> eal_arguments(int argc, char** argv, const pd::DataplaneConfig& config,
                                       std::vector<std::string>& filtered) {
    std::vector<std::string> args(argv, argv + argc);
    if (!config.exception.xdp_filter) {
        return args;
    }
    return pd::xdp::with_filter(
        args, [] { return pd::xdp::filter_object_path(); }, &filtered);
}

// The kernel interface index under a DPDK device EAL probed, or 0.
unsigned if_index_of(const std::string& device) {
    uint16_t id = 0;
    rte_eth_dev_info info{};
    if (rte_eth_dev_get_port_by_name(device.c_str(), &id) != 0 ||
        rte_eth_dev_info_get(id, &info) != 0) {
        return 0;
    }
    return info.if_index;
}

// Before the ports start: a filter a dataplane left attached over netlink (it died before it
// took the filter into its BPF link) would make the PMD's attach fail, since the PMD never
// replaces a program; so it goes. One a running dataplane holds means this one must not
// start on the interface.
void detach_stale_filters(const std::vector<std::string>& filtered) {
    for (const std::string& dev : filtered) {
        const unsigned ifx = if_index_of(dev);
        std::string why;
        switch (ifx == 0 ? pd::xdp::Stale::None : pd::xdp::detach_stale(ifx, &why)) {
            case pd::xdp::Stale::Detached:
                log::info(dev + ": detached the XDP filter a previous dataplane left attached");
                break;
            case pd::xdp::Stale::Held:
                throw std::runtime_error(dev + ": " + why +
                                         "; not starting a second dataplane on its interface");
            case pd::xdp::Stale::Error:
                log::warn(dev + ": " + why);
                break;
            case pd::xdp::Stale::None:
                break;
        }
    }
}

// After the ports started, the PMD has loaded the filter: take it over into a BPF link of
// ours and give it the exception path's rate. A port whose filter cannot be found or set
// keeps running unfiltered, said in the log.
std::vector<pd::xdp::PortFilter> configure_filters(const std::vector<std::string>& filtered,
                                                   const pd::DataplaneConfig& config) {
    std::vector<pd::xdp::PortFilter> out;
    const pd::xdp::FilterConfig fc{config.exception.rate, config.exception.burst,
                                   config.ntp.enabled};
    for (const std::string& dev : filtered) {
        const unsigned ifx = if_index_of(dev);
        char name[IF_NAMESIZE] = {};
        const std::string ifname = ifx != 0 && if_indextoname(ifx, name) != nullptr ? name : "";
        std::string why;
        auto filter = pd::xdp::Filter::on_interface(ifx, &why);
        try {
            if (!filter) {
                throw std::runtime_error(why);
            }
            filter->configure(fc);
        } catch (const std::exception& e) {
            log::warn(dev + " (" + ifname +
                      "): XDP filter not in force, junk costs a copy: " + e.what());
            continue;
        }
        log::info(dev + " (" + ifname + "): XDP filter in force: UDP to port 53" +
                  (config.ntp.enabled ? " and 123" : "") + " to the socket, everything else at " +
                  (fc.rate == 0
                       ? std::string("no limit")
                       : std::to_string(fc.rate) + "/s, bursts of " + std::to_string(fc.burst)));
        out.push_back({dev, ifname, std::move(*filter)});
    }
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    // Our arguments come after "--"; the configuration is read and checked before EAL
    // touches any device.
    int sep = 1;
    while (sep < argc && std::strcmp(argv[sep], "--") != 0) {
        ++sep;
    }
    std::string config_path;
    for (int i = sep + 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
            config_path = argv[++i];
        } else if (std::strcmp(argv[i], "-h") == 0 || std::strcmp(argv[i], "--help") == 0) {
            std::fputs(kUsage, stdout);
            return 0;
        } else {
            std::fprintf(stderr, "pooledge-dataplane: unexpected argument '%s'\n%s", argv[i],
                         kUsage);
            return 2;
        }
    }
    if (config_path.empty()) {
        std::fprintf(stderr, "pooledge-dataplane: --config is required\n%s", kUsage);
        return 2;
    }
    pd::DataplaneConfig config;
    try {
        config = pd::load_config(config_path);
    } catch (const base::InputError& e) {
        std::fprintf(stderr, "pooledge-dataplane: %s\n", e.what());
        return 1;
    }

    // Signals are taken by one thread (sigwait); every thread EAL and we create inherits the
    // blocked mask, so do this before rte_eal_init.
    const sigset_t set = base::block_control_signals();

    std::vector<std::string> filtered;
    std::vector<std::string> eal_args;
    try {
        eal_args = eal_arguments(sep, argv, config, filtered);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "pooledge-dataplane: %s (exception.xdp_filter: false runs without)\n",
                     e.what());
        return 1;
    }
    std::vector<char*> eal_argv;
    for (std::string& a : eal_args) {
        eal_argv.push_back(a.data());
    }
    eal_argv.push_back(nullptr);
    if (rte_eal_init(static_cast<int>(eal_args.size()), eal_argv.data()) < 0) {
        std::fprintf(stderr, "pooledge-dataplane: EAL: %s\n", rte_strerror(rte_errno));
        return 1;
    }
    int rc = 0;
    try {
        if (rte_lcore_count() < config.workers + 1) {
            throw std::runtime_error("EAL gave " + std::to_string(rte_lcore_count()) + " lcores; " +
                                     std::to_string(config.workers) + " workers need " +
                                     std::to_string(config.workers + 1) + " (-l 0-" +
                                     std::to_string(config.workers) + ")");
        }
        // Enough mbufs for every ring, plus caches. Per port: a queue pair (1024 RX + 1024 TX
        // descriptors) for each worker and one on the exception port (or the service's TX
        // queue), and an exception ring (1024) for each worker and one for the kernel's frames.
        const unsigned per_port = (config.workers + 1) * (2048 + 1024);
        const unsigned nb_mbufs =
            static_cast<unsigned>(config.ports.size()) * per_port + config.workers * 512 + 4096;
        // One pool for every port, laid out for them all (mbuf_pool.hpp): net_af_xdp needs it
        // packed, a DMA port needs the default layout.
        const pd::PortKinds kinds = pd::port_kinds(config.ports);
        if (kinds.af_xdp && kinds.dma) {
            throw std::runtime_error(
                "net_af_xdp ports and PCI ports cannot share one mbuf pool (net_af_xdp needs "
                "it packed, DMA needs each mbuf IOVA-contiguous): run them in two dataplanes");
        }
        std::string pool_why;
        rte_mempool* pool = pd::create_mbuf_pool(
            "pooledge_mbufs", nb_mbufs, 256,
            pd::mbuf_pool_must_be_packed(rte_eal_has_hugepages() != 0, kinds.af_xdp), &pool_why);
        if (pool == nullptr) {
            throw std::runtime_error(pool_why);
        }
        detach_stale_filters(filtered);
        std::vector<pd::Port> ports = pd::start_ports(config, config.workers, pool);
        // Whatever happens from here, the ports close (and their rings are freed) last.
        struct StopPorts {
            std::vector<pd::Port>& ports;
            ~StopPorts() { pd::stop_ports(ports); }
        } ports_guard{ports};

        // The exception service: the only thread that touches the kernel interfaces.
        pd::ExceptionStats exception_stats;
        pd::ExceptionService exception(ports, config.exception, exception_stats);
        std::atomic<bool> stop_exception{false};
        struct StopException {
            std::atomic<bool>& stop;
            std::thread thread;
            ~StopException() {
                stop = true;
                if (thread.joinable()) {
                    thread.join();
                }
            }
        } exception_guard{stop_exception, std::thread([&exception, &stop_exception] {
                              pthread_setname_np(pthread_self(), "pe-exception");
                              exception.run(stop_exception);
                          })};
        base::log::info("exception service: the kernel gets at most " +
                        (config.exception.rate == 0
                             ? std::string("every frame (exception.rate 0: no limit)")
                             : std::to_string(config.exception.rate) +
                                   " frames/s per port, bursts of " +
                                   std::to_string(config.exception.burst)));

        pd::ImageSlot slot;
        pd::ImageStats image_stats;
        pd::Management management(config, slot, image_stats);
        management.load_from_disk();
        management.start();

        pooledge::engine::Identity identity;
        identity.nsid = config.nsid;
        identity.server_id = config.server_id;
        identity.version = config.version;
        identity.edns_udp_size = config.edns_udp_size;
        identity.status_clients = config.status_clients;
        // A fresh cookie secret per start (RFC 9018): clients re-learn cookies after a
        // restart, as they do after an anycast shift anyway.
        if (::getrandom(identity.cookie_secret.data(), identity.cookie_secret.size(), 0) !=
            static_cast<ssize_t>(identity.cookie_secret.size())) {
            throw std::runtime_error("getrandom failed");
        }

        // NTP answers need a clock state before the first worker runs.
        pd::ClockSlot clock_slot;
        pd::ClockPublisher clock(config.ntp, clock_slot);
        if (config.ntp.enabled) {
            clock.start();
        }

        // Abuse protection: the limiters' tables and the ACLs, before any worker runs.
        pd::Protection protection(config);

        pd::TcpStats tcp_stats;
        pd::TcpDns tcp(config, slot, identity, tcp_stats, &protection.acls());
        tcp.start();

        std::atomic<bool> stop_workers{false};
        std::vector<pd::WorkerStats> worker_stats(config.workers);
        pd::PortLosses losses;
        const std::vector<pd::xdp::PortFilter> xdp_filters = configure_filters(filtered, config);

        const pd::MetricsSources sources{&worker_stats,
                                         &ports,
                                         &image_stats,
                                         &tcp_stats,
                                         &exception_stats,
                                         config.ntp.enabled ? &clock : nullptr,
                                         protection.rrl(),
                                         protection.ntp_limit(),
                                         &protection.acl_stats(),
                                         &losses,
                                         &xdp_filters};
        std::unique_ptr<pd::HttpServer> http;
        if (!config.metrics_listen.empty()) {
            http = std::make_unique<pd::HttpServer>(
                config.metrics_listen, [&](const std::string& path) -> pd::HttpResponse {
                    if (path == "/metrics") {
                        return {200, "text/plain; version=0.0.4; charset=utf-8",
                                pd::render_metrics(sources)};
                    }
                    if (path == "/health") {
                        return health(image_stats, ports, config.ntp.enabled ? &clock : nullptr,
                                      config.ntp.health_requires_sync);
                    }
                    return {404, "text/plain", "not found: try /metrics or /health\n"};
                });
            base::log::info("metrics and health on http://" + config.metrics_listen);
        }
        // However this block is left (a signal, or an exception after some workers started),
        // the workers stop and are waited for before what they use is destroyed.
        struct StopWorkers {
            std::atomic<bool>& stop;
            ~StopWorkers() {
                stop = true;
                rte_eal_mp_wait_lcore();
            }
        } stop_guard{stop_workers};
        std::vector<pd::WorkerContext> contexts(config.workers);
        unsigned w = 0;
        unsigned lcore = 0;
        RTE_LCORE_FOREACH_WORKER(lcore) {
            if (w == config.workers) {
                break;
            }
            pd::WorkerContext& c = contexts[w];
            c.queue = w;
            c.ports = &ports;
            c.image = &slot;
            c.identity = &identity;
            c.stats = &worker_stats[w];
            c.stop = &stop_workers;
            c.clock = config.ntp.enabled ? &clock_slot : nullptr;
            c.acls = &protection.acls();
            c.rrl = protection.rrl();
            c.ntp_limit = protection.ntp_limit();
            c.workers = config.workers;
            c.seed =
                (static_cast<uint64_t>(lcore) << 32) ^ static_cast<uint64_t>(std::time(nullptr));
            if (const int err = rte_eal_remote_launch(pd::worker_main, &c, lcore); err != 0) {
                throw std::runtime_error("cannot launch worker on lcore " + std::to_string(lcore));
            }
            base::log::info("worker " + std::to_string(w) + " on lcore " + std::to_string(lcore) +
                            ", queue " + std::to_string(w));
            ++w;
        }

        base::log::info("pooledge-dataplane running: " + std::to_string(ports.size()) + " ports, " +
                        std::to_string(config.workers) + " workers, image serial " +
                        std::to_string(image_stats.serial.load()));

        // The main thread waits for signals.
        for (;;) {
            int sig = 0;
            if (sigwait(&set, &sig) != 0) {
                continue;
            }
            if (sig == SIGHUP) {
                management.reload_keys();
                protection.reload_acls(config_path);
                continue;
            }
            base::log::info(std::string("received ") + (sig == SIGINT ? "SIGINT" : "SIGTERM") +
                            ", stopping");
            break;
        }
        stop_workers = true;
        rte_eal_mp_wait_lcore();
        http.reset();
        clock.stop();
        base::log::info("stopped");
    } catch (const std::exception& e) {
        base::log::error(e.what());
        rc = 1;
    }
    rte_eal_cleanup();
    return rc;
}
