#include "metrics.hpp"

#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>
#include <rte_ethdev.h>

#include <ctime>
#include <sstream>

namespace pooledge::dataplane {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

MetricFamily family(const char* name, const char* help, MetricType type) {
    return MetricFamily{name, help, type, {}};
}

void add(MetricFamily& f, std::vector<ClientMetric::Label> labels, double v) {
    ClientMetric m;
    m.label = std::move(labels);
    if (f.type == MetricType::Counter) {
        m.counter.value = v;
    } else {
        m.gauge.value = v;
    }
    f.metric.push_back(std::move(m));
}

template <typename F>
double sum(const std::vector<WorkerStats>& ws, F field) {
    double t = 0;
    for (const auto& w : ws) {
        t += static_cast<double>(field(w).load(std::memory_order_relaxed));
    }
    return t;
}

// NTP: requests by version and mode, what became of them, and the published clock state.
void add_ntp(std::vector<MetricFamily>& out, const MetricsSources& s) {
    const auto& ws = *s.workers;
    auto requests = family("pooledge_ntp_requests_total",
                           "NTP datagrams to port 123 of a service address, by version and mode "
                           "(non-zero series only)",
                           MetricType::Counter);
    for (size_t v = 0; v < 8; ++v) {
        for (size_t m = 0; m < 8; ++m) {
            const double n = sum(
                ws, [&](auto& w) -> auto& { return w.ntp.requests[v][m]; });
            if (n > 0) {
                add(requests, {{"version", std::to_string(v)}, {"mode", std::to_string(m)}}, n);
            }
        }
    }
    out.push_back(std::move(requests));
    auto answers =
        family("pooledge_ntp_answers_total", "NTP mode 4 answers sent", MetricType::Counter);
    add(answers, {},
        sum(
            ws, [](auto& w) -> auto& { return w.ntp.answers; }));
    out.push_back(std::move(answers));
    auto kernel = family("pooledge_ntp_to_kernel_total",
                         "NTP mode 4 datagrams passed to the kernel (replies to the host's own "
                         "client)",
                         MetricType::Counter);
    add(kernel, {},
        sum(
            ws, [](auto& w) -> auto& { return w.ntp.to_kernel; }));
    out.push_back(std::move(kernel));
    auto drops =
        family("pooledge_ntp_drops_total", "NTP requests dropped, by reason", MetricType::Counter);
    for (size_t r = 1; r < static_cast<size_t>(ntp::DropReason::Count); ++r) {
        add(drops, {{"reason", ntp::to_string(static_cast<ntp::DropReason>(r))}},
            sum(
                ws, [r](auto& w) -> auto& { return w.ntp.drops[r]; }));
    }
    out.push_back(std::move(drops));

    if (s.clock == nullptr) {
        return;
    }
    const ntp::ClockState c = s.clock->latest();
    const std::pair<const char*, std::pair<const char*, double>> gauges[] = {
        {"pooledge_ntp_clock_synchronised",
         {"1 when NTP answers say the clock is synchronised", c.synchronised ? 1.0 : 0.0}},
        {"pooledge_ntp_clock_leap",
         {"Leap indicator answered: 0 none, 1 insert, 2 delete, 3 unsynchronised",
          static_cast<double>(c.leap)}},
        {"pooledge_ntp_clock_stratum",
         {"Stratum answered (0 when unsynchronised)", static_cast<double>(c.stratum)}},
        {"pooledge_ntp_clock_root_dispersion_seconds",
         {"Root dispersion answered", static_cast<double>(c.root_dispersion) / 65536.0}},
        {"pooledge_ntp_clock_max_error_seconds",
         {"The clock's maximum error (kernel maxerror, or the override)", c.max_error}},
        {"pooledge_ntp_clock_precision_log2_seconds",
         {"Precision answered (log2 seconds)", static_cast<double>(c.precision)}},
    };
    for (const auto& [name, help_value] : gauges) {
        auto g = family(name, help_value.first, MetricType::Gauge);
        add(g, {}, help_value.second);
        out.push_back(std::move(g));
    }
}

// The rate limiters (per service: what they did, how their tables fare) and the ACLs.
void add_limits(std::vector<MetricFamily>& out, const MetricsSources& s) {
    const auto& ws = *s.workers;
    auto actions = family("pooledge_rate_limit_actions_total",
                          "Rate limiter actions by service: limited (over the rate; in log-only "
                          "mode, would have been), dropped, slipped (DNS TC=1), kod (NTP KoD "
                          "RATE), leaked (NTP answered anyway), cookie_bypass (DNS: a valid "
                          "server cookie), backstop (held by the global backstop)",
                          MetricType::Counter);
    auto fresh =
        family("pooledge_rate_limit_new_sources_total",
               "Requests from sources the limiter's table had no account for", MetricType::Counter);
    auto evicted = family("pooledge_rate_limit_evictions_total",
                          "Accounts taken from sources still active: the table is under "
                          "pressure (more sources than entries)",
                          MetricType::Counter);
    auto entries = family("pooledge_rate_limit_table_entries",
                          "Accounts the limiter's table holds (fixed at start)", MetricType::Gauge);
    using Field = Counter LimiterCounters::*;
    const std::pair<const char*, Field> fields[] = {
        {"limited", &LimiterCounters::limited},  {"dropped", &LimiterCounters::dropped},
        {"slipped", &LimiterCounters::slipped},  {"kod", &LimiterCounters::kod},
        {"leaked", &LimiterCounters::leaked},    {"cookie_bypass", &LimiterCounters::cookie_bypass},
        {"backstop", &LimiterCounters::backstop}};
    const auto service = [&](const char* name, LimiterCounters WorkerStats::*which,
                             const limit::RateTable& table) {
        for (const auto& f : fields) {
            const Field field = f.second;  // a plain variable: lambdas cannot capture bindings
            add(actions, {{"service", name}, {"action", f.first}},
                sum(
                    ws, [&](auto& w) -> auto& { return (w.*which).*field; }));
        }
        add(fresh, {{"service", name}},
            sum(
                ws, [&](auto& w) -> auto& { return (w.*which).new_sources; }));
        add(evicted, {{"service", name}},
            sum(
                ws, [&](auto& w) -> auto& { return (w.*which).evictions; }));
        add(entries, {{"service", name}}, static_cast<double>(table.entries()));
    };
    if (s.rrl != nullptr) {
        service("dns", &WorkerStats::rrl, s.rrl->table());
    }
    if (s.ntp_limit != nullptr) {
        service("ntp", &WorkerStats::ntp_limit, s.ntp_limit->table());
    }
    if (!actions.metric.empty()) {
        out.push_back(std::move(actions));
        out.push_back(std::move(fresh));
        out.push_back(std::move(evicted));
        out.push_back(std::move(entries));
    }
    if (s.acls != nullptr) {
        auto rules = family("pooledge_acl_rules",
                            "Allow and deny prefixes in force, by service (reread on SIGHUP)",
                            MetricType::Gauge);
        add(rules, {{"service", "dns"}}, static_cast<double>(s.acls->dns_rules.load()));
        add(rules, {{"service", "ntp"}}, static_cast<double>(s.acls->ntp_rules.load()));
        out.push_back(std::move(rules));
        auto reloads = family("pooledge_acl_reloads_total",
                              "SIGHUP rereads of the ACLs: applied, or refused whole (a bad "
                              "entry; the lists in force stay)",
                              MetricType::Counter);
        add(reloads, {{"result", "applied"}}, static_cast<double>(s.acls->reloads.load()));
        add(reloads, {{"result", "refused"}}, static_cast<double>(s.acls->refused.load()));
        out.push_back(std::move(reloads));
    }
}

// The XDP filter's verdicts on net_af_xdp ports (xdp_filter.hpp): junk it drops never
// reaches the port's counters, so this is where a junk flood shows.
void add_xdp_filters(std::vector<MetricFamily>& out, const std::vector<xdp::PortFilter>& filters) {
    auto f = family("pooledge_xdp_filter_frames_total",
                    "Frames pooledge's XDP filter judged on a net_af_xdp port, by verdict: "
                    "fast_path (UDP to port 53, 123: to the socket), kernel (anything else "
                    "within exception.rate: to the socket, for the exception path), "
                    "rate_limited (over the rate: dropped before the copy), neighbour (ARP "
                    "and on-link ND within a bucket of their own at the same rate)",
                    MetricType::Counter);
    for (const xdp::PortFilter& pf : filters) {
        const auto counts = pf.filter.counts();
        if (!counts) {
            continue;
        }
        const xdp::FilterCounts& c = *counts;
        const auto lab = [&](const char* verdict) -> std::vector<ClientMetric::Label> {
            return {{"port", pf.port}, {"interface", pf.interface}, {"verdict", verdict}};
        };
        add(f, lab("fast_path"), static_cast<double>(c.fast_path));
        add(f, lab("kernel"), static_cast<double>(c.kernel));
        add(f, lab("rate_limited"), static_cast<double>(c.rate_limited));
        add(f, lab("neighbour"), static_cast<double>(c.neighbour));
    }
    out.push_back(std::move(f));
}

// Below the ports (port_losses.hpp): the PMD's xstats, the kernel interface's counters,
// the PMD's sockets'.
void add_losses(std::vector<MetricFamily>& out, const std::vector<LossSample>& samples) {
    auto xs = family("pooledge_port_xstats_total",
                     "The PMD's extended statistics (rte_eth_xstats), by port and name",
                     MetricType::Counter);
    auto kernel = family("pooledge_port_interface_stat_total",
                         "Counters of the kernel interface under a software PMD: its ethtool "
                         "statistics (a veth's rx_queue_N_drops: frames the socket could not "
                         "take) and /sys statistics",
                         MetricType::Counter);
    auto sock = family("pooledge_port_socket_stat_total",
                       "The PMD's own sockets: AF_PACKET PACKET_STATISTICS (packets, drops: "
                       "ring full) and AF_XDP XDP_STATISTICS, summed over the port's queues",
                       MetricType::Counter);
    for (const LossSample& l : samples) {
        const auto v = static_cast<double>(l.value);
        if (l.source == "xstats") {
            add(xs, {{"port", l.port}, {"stat", l.stat}}, v);
        } else if (l.source == "ethtool" || l.source == "sysfs") {
            add(kernel,
                {{"port", l.port},
                 {"interface", l.interface},
                 {"source", l.source},
                 {"stat", l.stat}},
                v);
        } else {
            add(sock,
                {{"port", l.port},
                 {"interface", l.interface},
                 {"socket", l.source},
                 {"stat", l.stat}},
                v);
        }
    }
    for (auto* f : {&xs, &kernel, &sock}) {
        if (!f->metric.empty()) {
            out.push_back(std::move(*f));
        }
    }
}

}  // namespace

std::string render_metrics(const MetricsSources& s) {
    std::vector<MetricFamily> out;
    const auto& ws = *s.workers;

    const ExceptionStats& xs = *s.exception;
    auto value = [](const Counter& c) {
        return static_cast<double>(c.load(std::memory_order_relaxed));
    };
    auto rx = family("pooledge_dataplane_packets_total",
                     "Packets by direction: received on service ports, answers sent, handed "
                     "by the workers to the exception service, taken by the kernel, and the "
                     "kernel's frames passed on to the ports",
                     MetricType::Counter);
    add(rx, {{"direction", "rx"}},
        sum(
            ws, [](auto& w) -> auto& { return w.rx_packets; }));
    add(rx, {{"direction", "tx_answer"}},
        sum(
            ws, [](auto& w) -> auto& { return w.tx_packets; }));
    add(rx, {{"direction", "to_exception"}},
        sum(
            ws, [](auto& w) -> auto& { return w.to_exception; }));
    add(rx, {{"direction", "to_kernel"}}, value(xs.to_kernel));
    add(rx, {{"direction", "from_kernel"}}, value(xs.from_kernel));
    out.push_back(std::move(rx));

    auto passes = family("pooledge_exception_service_passes_total",
                         "Poll passes of the exception service's thread (alive if it grows)",
                         MetricType::Counter);
    add(passes, {}, value(xs.passes));
    out.push_back(std::move(passes));
    auto neighbour = family("pooledge_exception_neighbour_frames_total",
                            "ARP and on-link ND frames (hop limit 255) the exception service "
                            "passed to the kernel, through a bucket of their own at "
                            "exception.rate",
                            MetricType::Counter);
    add(neighbour, {}, value(xs.neighbour));
    out.push_back(std::move(neighbour));

    auto per_worker =
        family("pooledge_dataplane_worker_rx_packets_total",
               "Packets received by each worker (how RSS spreads the load)", MetricType::Counter);
    for (size_t i = 0; i < ws.size(); ++i) {
        add(per_worker, {{"worker", std::to_string(i)}},
            static_cast<double>(ws[i].rx_packets.load(std::memory_order_relaxed)));
    }
    out.push_back(std::move(per_worker));

    auto bursts = family("pooledge_dataplane_worker_tx_bursts_total",
                         "TX bursts each worker handed its service ports (a PMD kicks the "
                         "device at most once per burst)",
                         MetricType::Counter);
    for (size_t i = 0; i < ws.size(); ++i) {
        add(bursts, {{"worker", std::to_string(i)}},
            static_cast<double>(ws[i].tx_bursts.load(std::memory_order_relaxed)));
    }
    out.push_back(std::move(bursts));

    auto drops =
        family("pooledge_dataplane_drops_total", "Packets dropped, by reason", MetricType::Counter);
    for (size_t r = 1; r < static_cast<size_t>(DropReason::Count); ++r) {
        add(drops, {{"reason", to_string(static_cast<DropReason>(r))}},
            sum(
                ws, [r](auto& w) -> auto& { return w.drops[r]; }));
    }
    add(drops, {{"reason", "tx_ring_full"}},
        sum(
            ws, [](auto& w) -> auto& { return w.tx_failed; }));
    // The exception path: a worker found the service's ring full; the service's bucket
    // refused a frame (exception.rate); the kernel interface would not take one; the port
    // (or worker 0's ring) would not take one the kernel sent.
    add(drops, {{"reason", "exception_ring_full"}},
        sum(
            ws, [](auto& w) -> auto& { return w.exception_ring_full; }));
    add(drops, {{"reason", "exception_rate_limited"}}, value(xs.rate_limited));
    add(drops, {{"reason", "to_kernel_failed"}}, value(xs.to_kernel_failed));
    add(drops, {{"reason", "from_kernel_failed"}},
        value(xs.from_kernel_failed) +
            sum(
                ws, [](auto& w) -> auto& { return w.from_kernel_failed; }));
    out.push_back(std::move(drops));

    auto queries = family("pooledge_dns_queries_total", "DNS queries reaching the engine",
                          MetricType::Counter);
    add(queries, {{"transport", "udp"}},
        sum(
            ws, [](auto& w) -> auto& { return w.dns.queries; }));
    add(queries, {{"transport", "tcp"}},
        static_cast<double>(s.tcp->queries.load(std::memory_order_relaxed)));
    out.push_back(std::move(queries));

    std::vector<std::string> zone_names;
    {
        std::lock_guard lock(s.image->zone_names_mu);
        zone_names = s.image->zone_names;
    }
    auto responses =
        family("pooledge_dns_responses_total",
               "DNS responses sent over UDP, by zone, query type and rcode", MetricType::Counter);
    for (size_t z = 0; z <= kZoneSlots; ++z) {
        // Slot 0: no zone (REFUSED, CH names); slots 1..7: zone index 0..6; the last: the rest.
        std::string zone = "none";
        if (z == kZoneSlots) {
            zone = "other";
        } else if (z > 0) {
            zone = z - 1 < zone_names.size() ? zone_names[z - 1] : "zone" + std::to_string(z - 1);
        }
        for (size_t t = 0; t < kQtypeSlots; ++t) {
            for (size_t r = 0; r < kRcodeSlots; ++r) {
                const double v = sum(
                    ws, [&](auto& w) -> auto& { return w.dns.responses[z][t][r]; });
                if (v > 0) {  // the full cross product would be 9 x 9 x 8 mostly-zero series
                    add(responses,
                        {{"rcode", rcode_slot_name(r)},
                         {"qtype", qtype_slot_name(t)},
                         {"zone", zone}},
                        v);
                }
            }
        }
    }
    out.push_back(std::move(responses));
    auto trunc = family("pooledge_dns_truncated_total", "UDP responses sent with TC set",
                        MetricType::Counter);
    add(trunc, {},
        sum(
            ws, [](auto& w) -> auto& { return w.dns.truncated; }));
    out.push_back(std::move(trunc));

    auto tcp = family("pooledge_dns_tcp_connections_total", "TCP DNS connections, by outcome",
                      MetricType::Counter);
    add(tcp, {{"outcome", "accepted"}}, static_cast<double>(s.tcp->connections.load()));
    add(tcp, {{"outcome", "refused_limit"}}, static_cast<double>(s.tcp->refused.load()));
    add(tcp, {{"outcome", "refused_prefix"}}, static_cast<double>(s.tcp->refused_prefix.load()));
    add(tcp, {{"outcome", "refused_acl"}}, static_cast<double>(s.tcp->refused_acl.load()));
    add(tcp, {{"outcome", "timed_out"}}, static_cast<double>(s.tcp->timed_out.load()));
    out.push_back(std::move(tcp));
    auto tcp_open =
        family("pooledge_dns_tcp_connections_open", "Open TCP DNS connections", MetricType::Gauge);
    add(tcp_open, {}, static_cast<double>(s.tcp->open.load()));
    out.push_back(std::move(tcp_open));

    add_ntp(out, s);
    add_limits(out, s);

    // Port statistics straight from the driver.
    auto prx = family("pooledge_port_rx_packets_total", "Packets received by the port",
                      MetricType::Counter);
    auto ptx =
        family("pooledge_port_tx_packets_total", "Packets sent by the port", MetricType::Counter);
    auto prxb =
        family("pooledge_port_rx_bytes_total", "Bytes received by the port", MetricType::Counter);
    auto ptxb =
        family("pooledge_port_tx_bytes_total", "Bytes sent by the port", MetricType::Counter);
    auto pmiss = family("pooledge_port_rx_missed_total",
                        "Packets the port dropped because RX queues were full (imissed)",
                        MetricType::Counter);
    auto perr = family("pooledge_port_rx_errors_total", "Erroneous packets received (ierrors)",
                       MetricType::Counter);
    auto pnombuf =
        family("pooledge_port_rx_nombuf_total", "RX mbuf allocation failures", MetricType::Counter);
    auto plink = family("pooledge_port_link_up", "1 when the port's link is up", MetricType::Gauge);
    for (const Port& p : *s.ports) {
        for (const auto& [id, name] :
             {std::pair{p.id, p.device}, std::pair{p.exception_id, p.exception_name}}) {
            rte_eth_stats st{};
            if (rte_eth_stats_get(id, &st) != 0) {
                continue;
            }
            const std::vector<ClientMetric::Label> l = {{"port", name}};
            add(prx, l, static_cast<double>(st.ipackets));
            add(ptx, l, static_cast<double>(st.opackets));
            add(prxb, l, static_cast<double>(st.ibytes));
            add(ptxb, l, static_cast<double>(st.obytes));
            add(pmiss, l, static_cast<double>(st.imissed));
            add(perr, l, static_cast<double>(st.ierrors));
            add(pnombuf, l, static_cast<double>(st.rx_nombuf));
            rte_eth_link link{};
            rte_eth_link_get_nowait(id, &link);
            add(plink, l, link.link_status == RTE_ETH_LINK_UP ? 1 : 0);
        }
    }
    for (auto* f : {&prx, &ptx, &prxb, &ptxb, &pmiss, &perr, &pnombuf, &plink}) {
        out.push_back(std::move(*f));
    }
    if (s.losses != nullptr) {
        add_losses(out, s.losses->sample(*s.ports));
    }
    if (s.xdp_filters != nullptr && !s.xdp_filters->empty()) {
        add_xdp_filters(out, *s.xdp_filters);
    }

    ImageStats& im = *s.image;
    const double serial = static_cast<double>(im.serial.load());
    auto g = [&](const char* name, const char* help, double v) {
        auto f = family(name, help, MetricType::Gauge);
        add(f, {}, v);
        out.push_back(std::move(f));
    };
    g("pooledge_image_serial", "Serial of the serving zone image (0: none)", serial);
    g("pooledge_image_size_bytes", "Size of the serving zone image",
      static_cast<double>(im.size_bytes.load()));
    g("pooledge_image_geo_index_bytes",
      "Memory of the serving image's geo lookup tables, built at load (0: none, binary search)",
      static_cast<double>(im.geo_index_bytes.load()));
    g("pooledge_image_build_timestamp_seconds", "When the serving image was compiled",
      static_cast<double>(im.build_time.load()));
    g("pooledge_image_age_seconds", "Seconds since the serving image was compiled",
      serial > 0
          ? static_cast<double>(std::time(nullptr)) - static_cast<double>(im.build_time.load())
          : 0);
    auto swaps =
        family("pooledge_image_swaps_total", "Images swapped in with RCU", MetricType::Counter);
    add(swaps, {}, static_cast<double>(im.swaps.load()));
    out.push_back(std::move(swaps));
    auto swap_s =
        family("pooledge_image_swap_seconds_total",
               "Time spent in swaps (publish + grace period + free)", MetricType::Counter);
    add(swap_s, {}, static_cast<double>(im.swap_ns_total.load()) / 1e9);
    out.push_back(std::move(swap_s));
    g("pooledge_image_last_swap_seconds", "Duration of the last swap",
      static_cast<double>(im.last_swap_ns.load()) / 1e9);
    auto pushes =
        family("pooledge_image_pushes_total", "Pushed images by outcome", MetricType::Counter);
    for (const auto st :
         {image::push::Status::Accepted, image::push::Status::Current, image::push::Status::Refused,
          image::push::Status::Stale, image::push::Status::TooLarge,
          image::push::Status::BadRequest, image::push::Status::Failed}) {
        add(pushes, {{"outcome", image::push::to_string(st)}},
            static_cast<double>(im.pushes_by_status[static_cast<size_t>(st)].load()));
    }
    out.push_back(std::move(pushes));
    auto refused = family("pooledge_image_refused_total",
                          "Pushed images refused, by the check that failed", MetricType::Counter);
    add(refused, {{"reason", "checksum"}}, static_cast<double>(im.refused_checksum.load()));
    add(refused, {{"reason", "signature"}}, static_cast<double>(im.refused_signature.load()));
    add(refused, {{"reason", "invalid"}}, static_cast<double>(im.refused_invalid.load()));
    out.push_back(std::move(refused));

    std::ostringstream os;
    prometheus::TextSerializer().Serialize(os, out);
    return os.str();
}

}  // namespace pooledge::dataplane
