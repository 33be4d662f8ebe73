// pooledge-dataplane's YAML configuration (configs/dataplane.yaml documents every key).
// load_config() validates everything before EAL starts, so a bad config never touches a
// port: errors name the file, line and key.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "pooledge/base/ip.hpp"
#include "pooledge/image/push.hpp"
#include "pooledge/image/signature.hpp"
#include "pooledge/limit/acl.hpp"
#include "pooledge/limit/ntp_limit.hpp"
#include "pooledge/limit/rrl.hpp"
#include "pooledge/ntp/clock_state.hpp"

namespace pooledge::dataplane {

struct PortConfig {
    std::string device;     // DPDK device name: "net_af_packet0", "0000:01:00.0"
    std::string exception;  // kernel interface for everything not fast path ("pe0")
};

// The exception path (configs/dataplane.yaml, "exception"): what the kernel is given.
struct ExceptionConfig {
    enum class Backend : uint8_t { Auto, Tap, VirtioUser };
    // Auto: virtio-user (vhost-net) where /dev/vhost-net exists, else TAP.
    Backend backend = Backend::Auto;
    // Frames per second handed to the kernel per port, and the burst the bucket holds: a
    // flood of junk (SYNs, ICMP, UDP to other ports) costs the kernel at most this much.
    // 0: no limit.
    uint32_t rate = 20000;
    uint32_t burst = 2000;
    // On net_af_xdp ports, pooledge's XDP program applies the rate and burst above before
    // the copy into the socket (dataplane/README.md, "XDP filter"), so junk over the rate
    // costs neither the socket's ring nor a worker.
    bool xdp_filter = true;
};

// The NTP responder (configs/dataplane.yaml, "ntp").
struct NtpConfig {
    bool enabled = true;
    ntp::ClockPolicy policy;  // stratum, reference id, error bound, silence
    // Whether an unsynchronised clock makes /health fail (503). Off: DNS on the same anycast
    // addresses must not be withdrawn because of the clock.
    bool health_requires_sync = false;
    // Replaces the kernel's clock state (adjtimex) when set: for tests and the demo on
    // machines whose clock is not synchronised. Never changes the host's clock.
    std::optional<ntp::KernelClock> clock_override;
    limit::NtpLimitConfig rate_limit;  // "ntp.rate_limit"
};

// Who may use each service (configs/dataplane.yaml, "acl"); reread on SIGHUP.
struct AclConfigs {
    limit::AclConfig dns;
    limit::AclConfig ntp;
};

struct DataplaneConfig {
    std::string file;
    std::vector<PortConfig> ports;
    std::vector<std::array<uint8_t, 4>> service_v4;
    std::vector<std::array<uint8_t, 16>> service_v6;
    // Prefix length each address gets on the exception interface ("192.0.2.53/24": the
    // kernel then reaches that subnet on-link); 32 or 128 by default.
    std::vector<uint8_t> service_v4_len;
    std::vector<uint8_t> service_v6_len;
    std::string nsid;
    std::string server_id;
    std::string version = "pooledge";
    uint16_t edns_udp_size = 1232;
    // Who may ask for _status.<zone> besides loopback; none by default.
    std::vector<base::IpPrefix> status_clients;
    std::string image_dir;
    std::vector<std::string> trusted_key_files;
    std::vector<image::TrustedKey> trusted_keys;
    uint64_t max_image_size = uint64_t{1} << 30;
    std::vector<image::push::Endpoint> management;
    std::vector<base::IpPrefix> management_allow;  // TCP push peers allowed; empty: any
    std::string metrics_listen;                    // "127.0.0.1:9121": /metrics and /health
    unsigned workers = 1;
    std::chrono::seconds tcp_idle_timeout{10};
    // From the first byte of a query to its last: a client dripping bytes is cut off.
    std::chrono::seconds tcp_message_timeout{3};
    unsigned tcp_max_connections = 256;
    // Open connections per client /24 (IPv4) or /56 (IPv6), so one network cannot take
    // every slot.
    unsigned tcp_max_per_prefix = 32;
    NtpConfig ntp;
    ExceptionConfig exception;
    limit::RrlConfig rrl;
    AclConfigs acl;
};

// The lists of `acl`, built (load_config() has checked they build).
[[nodiscard]] limit::Acls build_acls(const AclConfigs& config);

// Throws base::InputError (reason "config").
[[nodiscard]] DataplaneConfig load_config(const std::string& path);

}  // namespace pooledge::dataplane
