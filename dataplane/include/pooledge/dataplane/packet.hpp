// Frames in, frames out: the dataplane's per-packet work, with no DPDK in it.
//
// classify() decides what a received Ethernet frame is: a DNS query over UDP to port 53 of
// one of our service addresses (the fast path), something the kernel must see (ARP, ND,
// ICMP, TCP, fragments, other UDP ports, frames for other hosts' multicast), or garbage to
// drop and count. answer_in_place() turns a fast-path frame into its reply in the same
// buffer: swapped MACs, addresses and ports, the DNS response written over the query,
// lengths and checksums fixed. Both are plain functions over bytes, so they are unit-tested
// and fuzzed without a NIC; the workers call them on mbuf data.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "pooledge/engine/answer.hpp"

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
    DnsNoAnswer,  // the engine chose not to answer (malformed query, a response, ...)
    Count
};
[[nodiscard]] const char* to_string(DropReason r) noexcept;

enum class Verdict : uint8_t { FastPath, Exception, Drop };

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
    FrameLayout layout;
};

[[nodiscard]] Classified classify(std::span<const uint8_t> frame, const ServiceAddresses& svc,
                                  RxChecks checks = {}) noexcept;

struct Answered {
    uint16_t length = 0;  // of the reply frame; 0 = drop (reason says why)
    DropReason reason = DropReason::None;
    engine::Response response;
    FrameLayout layout;  // of the reply (IPv4 options stripped): for TX offload lengths
};

// Rewrites `buffer` (holding a FastPath frame, `layout` from classify) into the reply.
// `buffer` may extend past the frame: that is the room the reply may grow into.
// `compute_l4_checksum` false leaves the UDP checksum to the NIC (TX offload: the pseudo-header sum
// is stored, as DPDK's offload contract asks).
[[nodiscard]] Answered answer_in_place(std::span<uint8_t> buffer, const FrameLayout& layout,
                                       const engine::AnswerContext& ctx,
                                       bool compute_l4_checksum = true) noexcept;

// RFC 1071 checksums, exposed for tests.
[[nodiscard]] uint16_t ipv4_header_checksum(const uint8_t* header, size_t length) noexcept;
[[nodiscard]] uint16_t udp_checksum(const FrameLayout& layout, const uint8_t* frame,
                                    uint16_t udp_length) noexcept;

}  // namespace pooledge::dataplane
