// The reply path every fast-path service shares: the reply is written over the request in the
// same buffer. begin_reply() makes the frame ready for a payload (IPv4 options are dropped,
// moving the UDP datagram up) and says where the payload goes and how much room it has; the
// service's answer step writes its payload there; finish_reply() turns the frame around
// (swapped MACs, addresses and ports, fresh lengths, TTL, checksums).
#pragma once

#include <cstdint>
#include <span>

#include "pooledge/dataplane/frame/frame.hpp"

namespace pooledge::dataplane {

struct ReplySpace {
    FrameLayout layout;          // of the reply (IPv4 options stripped): for TX offload lengths
    std::span<uint8_t> payload;  // starts with the request's payload; as long as the room
};

// `buffer` holds a FastPath frame (`layout` from classify) and may extend past it: that is
// the room the reply may grow into. The payload room is capped so the IP datagram fits 65535.
[[nodiscard]] ReplySpace begin_reply(std::span<uint8_t> buffer, const FrameLayout& layout) noexcept;

// Finishes a reply of `payload_length` bytes; returns the reply frame's length.
// `compute_l4_checksum` false leaves the UDP checksum to the NIC (TX offload: the
// pseudo-header sum is stored, as DPDK's offload contract asks).
[[nodiscard]] uint16_t finish_reply(std::span<uint8_t> buffer, const FrameLayout& reply_layout,
                                    uint16_t payload_length, bool compute_l4_checksum) noexcept;

}  // namespace pooledge::dataplane
