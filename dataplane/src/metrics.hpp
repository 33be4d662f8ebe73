// The dataplane's Prometheus text: per-lcore counters summed at scrape time, port statistics
// read from DPDK, image state. Built as prometheus-cpp metric families and written by its
// TextSerializer, served by the small HTTP server with /health.
#pragma once

#include <atomic>
#include <string>
#include <vector>

#include "clock.hpp"
#include "management.hpp"
#include "pooledge/dataplane/worker/exception.hpp"
#include "pooledge/dataplane/worker/ports.hpp"
#include "pooledge/dataplane/worker/stats.hpp"
#include "pooledge/dataplane/worker/worker.hpp"
#include "pooledge/dataplane/xdp/xdp_filter.hpp"
#include "port_losses.hpp"

namespace pooledge::dataplane {

struct TcpStats {
    std::atomic<uint64_t> connections{0};
    std::atomic<uint64_t> refused{0};         // over tcp.max_connections
    std::atomic<uint64_t> refused_prefix{0};  // over tcp.max_per_prefix
    std::atomic<uint64_t> refused_acl{0};     // from a prefix acl.dns denies
    std::atomic<uint64_t> timed_out{0};       // idle, or a query not complete in time
    std::atomic<uint64_t> queries{0};
    std::atomic<uint64_t> open{0};
};

// The ACLs in force (the main thread sets these when it publishes a new set on SIGHUP).
struct AclStats {
    std::atomic<uint64_t> dns_rules{0};
    std::atomic<uint64_t> ntp_rules{0};
    std::atomic<uint64_t> reloads{0};
    std::atomic<uint64_t> refused{0};  // SIGHUP rereads refused (a bad entry): old lists kept
};

struct MetricsSources {
    const std::vector<WorkerStats>* workers = nullptr;
    const std::vector<Port>* ports = nullptr;
    ImageStats* image = nullptr;
    const TcpStats* tcp = nullptr;
    const ExceptionStats* exception = nullptr;
    const ClockPublisher* clock = nullptr;  // null when NTP is off
    const limit::Rrl* rrl = nullptr;        // null when off
    const limit::NtpLimiter* ntp_limit = nullptr;
    const AclStats* acls = nullptr;
    PortLosses* losses = nullptr;  // the counters below the ports; null: not read
    const std::vector<xdp::PortFilter>* xdp_filters = nullptr;  // net_af_xdp ports' filters
};

[[nodiscard]] std::string render_metrics(const MetricsSources& s);

}  // namespace pooledge::dataplane
