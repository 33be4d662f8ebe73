// pooledge's XDP filter on net_af_xdp ports (dataplane/README.md, "XDP filter"): the program
// (xdp_filter.bpf.c, compiled at build time and embedded here), the EAL arguments that make
// the PMD load it, and the handle the dataplane configures it and reads its counts through.
// No DPDK here: the caller names interfaces by index. All of it runs off the fast path.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "pooledge/base/fd.hpp"

namespace pooledge::dataplane::xdp {

// What the filter applies to the frames it does not send straight to the socket: the
// exception path's rate (frames per second; 0: no limit) and burst, and whether UDP port 123
// is fast path (ntp.enabled) like port 53.
struct FilterConfig {
    uint32_t rate = 0;
    uint32_t burst = 1;
    bool ntp = false;
};

// The filter's verdicts since it was loaded, summed over CPUs.
struct FilterCounts {
    uint64_t fast_path = 0;     // UDP to port 53 (123): to the socket, unlimited
    uint64_t kernel = 0;        // everything else within the rate: to the socket
    uint64_t rate_limited = 0;  // everything else over the rate: dropped in XDP
    uint64_t neighbour = 0;     // ARP and on-link ND within a bucket of their own: to the socket
};

// The compiled BPF object.
[[nodiscard]] std::span<const uint8_t> filter_object() noexcept;

// A file name the PMD can open holding filter_object(): a sealed memfd, /proc/self/fd/N,
// created on the first call and open for the rest of the process. Throws std::runtime_error.
[[nodiscard]] const std::string& filter_object_path();

// `eal_args` with ",xdp_prog=PATH" added to each net_af_xdp --vdev that names no program of
// its own (an operator's xdp_prog= stands); `path` is asked only if there is one (so a node
// without net_af_xdp never makes the memfd). `filtered` gets the names of the devices changed.
[[nodiscard]] std::vector<std::string> with_filter(const std::vector<std::string>& eal_args,
                                                   const std::function<std::string()>& path,
                                                   std::vector<std::string>* filtered);

// Our filter, left attached to `if_index` over netlink by a dataplane that died before it
// took the filter over (Filter::on_interface), is detached so the PMD can attach a new one.
// Somebody else's program is left alone (the PMD's attach will fail on it), and so is a
// filter a running dataplane holds through its BPF link (Held).
enum class Stale : uint8_t { None, Detached, Held, Error };
Stale detach_stale(unsigned if_index, std::string* why);

// A handle on one loaded filter: its configuration and counter maps.
class Filter {
  public:
    // The filter the PMD attached to `if_index`, taken over into a BPF link this process
    // holds: it goes with the process, and nobody else can detach or replace it meanwhile.
    // nullopt with the reason in *why if there is no XDP program, one that is not
    // pooledge's filter, or the take-over failed (the PMD's attachment then stays).
    [[nodiscard]] static std::optional<Filter> on_interface(unsigned if_index, std::string* why);
    // The filter behind a loaded program's descriptor (not taken over).
    [[nodiscard]] static std::optional<Filter> from_program(int prog_fd, std::string* why);

    // Applies `c`; the bucket starts full. Throws std::runtime_error.
    void configure(const FilterConfig& c) const;
    // nullopt on a read error: the scrape leaves the port out rather than report a reset.
    [[nodiscard]] std::optional<FilterCounts> counts() const;

  private:
    Filter(base::Fd cfg, base::Fd state, base::Fd stats)
        : cfg_(std::move(cfg)), state_(std::move(state)), stats_(std::move(stats)) {}

    base::Fd cfg_;
    base::Fd state_;
    base::Fd stats_;
    base::Fd link_;  // the BPF link holding the program on its interface, if on_interface
};

// A service port's filter, as the metrics report it.
struct PortFilter {
    std::string port;       // the DPDK device name
    std::string interface;  // the kernel interface under it
    Filter filter;
};

}  // namespace pooledge::dataplane::xdp
