// What the dataplane knows about a received Ethernet frame, whatever service it is for.
//
// classify() (classify.hpp) decides what a frame is: a request over UDP to one of our
// services (DNS, NTP) on one of our service addresses (the fast path), something
// the kernel must see (ARP, ND, ICMP, TCP, fragments, other UDP ports, other hosts'
// multicast), or garbage to drop and count. The fast path then runs the service's answer
// step (dns_answer.hpp, ntp_answer.hpp) between the shared reply path's two halves (reply.hpp). All
// of it is plain functions over bytes, without DPDK, so it is unit-tested and fuzzed without a NIC.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "pooledge/base/ip.hpp"

namespace pooledge::dataplane {

// Why a frame was dropped; every value is a metric label (drops_total{reason=...}).
enum class DropReason : uint8_t {
    None = 0,
    Runt,         // shorter than its headers say
    NotForUs,     // unicast to another MAC
    OwnFrame,     // sent by us (af_packet ports see their own transmissions)
    BadIpHeader,  // version, header length, total length
    BadIpChecksum,
    BadUdpHeader,  // UDP length
    BadUdpChecksum,
    BadSource,  // source address that cannot be a client (ours, multicast, zero, ...)
    SourcePortZero,
    DnsNoAnswer,     // the DNS engine chose not to answer (malformed query, a response, ...)
    NtpNoAnswer,     // the NTP step dropped it (mode 6 or 7, bad version, ...: ntp_drops_total)
    DnsAclDenied,    // the source is denied DNS (acl.dns)
    NtpAclDenied,    // the source is denied NTP (acl.ntp)
    DnsRateLimited,  // response rate limiting held the answer back (rrl)
    NtpRateLimited,  // over the NTP rate limit, and neither leaked nor sent a KoD
    Count
};
[[nodiscard]] const char* to_string(DropReason r) noexcept;

enum class Verdict : uint8_t { FastPath, Exception, Drop };

// The fast-path service a frame is for, by its UDP destination port: 53, and 123 where the
// port serves NTP (ServiceAddresses::ntp; otherwise UDP to 123 is the kernel's).
enum class Service : uint8_t { Dns, Ntp, Count };
[[nodiscard]] const char* to_string(Service s) noexcept;

// Where the parts of a fast-path frame are; filled by classify().
struct FrameLayout {
    uint16_t l3_offset = 0;  // after Ethernet (and the 802.1Q tag)
    uint16_t l4_offset = 0;
    uint16_t payload_offset = 0;
    uint16_t payload_length = 0;
    uint8_t ip_version = 0;
    base::IpAddress source;
};

// The addresses this node answers on, and its MAC.
struct ServiceAddresses {
    std::array<uint8_t, 6> mac{};
    std::span<const std::array<uint8_t, 4>> v4;
    std::span<const std::array<uint8_t, 16>> v6;
    bool ntp = false;  // UDP to port 123 is answered in the fast path
};

// What the NIC already checked on receive (DPDK RX checksum offload flags), so software
// does not do it again.
struct RxChecks {
    bool ip_checksum_good = false;
    bool l4_checksum_good = false;
};

struct Classified {
    Verdict verdict = Verdict::Drop;
    DropReason reason = DropReason::None;
    Service service = Service::Dns;  // meaningful for Verdict::FastPath
    FrameLayout layout;
};

}  // namespace pooledge::dataplane
