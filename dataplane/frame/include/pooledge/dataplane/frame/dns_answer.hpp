// The DNS answer step of the fast path: the engine's response written in place between the
// reply path's two halves.
#pragma once

#include <cstdint>
#include <span>

#include "pooledge/dataplane/frame/frame.hpp"
#include "pooledge/dataplane/frame/reply.hpp"
#include "pooledge/engine/answer.hpp"

namespace pooledge::dataplane {

struct DnsAnswered {
    uint16_t length = 0;  // of the reply frame; 0 = drop (reason says why)
    DropReason reason = DropReason::None;
    engine::Response response;
    FrameLayout layout;  // of the reply (IPv4 options stripped): for TX offload lengths
};

// Rewrites `buffer` (holding a FastPath DNS frame, `layout` from classify) into the reply;
// see reply.hpp for the buffer's room and `compute_l4_checksum`.
[[nodiscard]] DnsAnswered answer_dns_in_place(std::span<uint8_t> buffer, const FrameLayout& layout,
                                              const engine::AnswerContext& ctx,
                                              bool compute_l4_checksum = true) noexcept;

// answer_dns_in_place in the engine's three stages (engine/answer.hpp), for a burst (the
// worker): prepare every frame (the reply path's first half, the parse, the first
// prefetches), resolve every one (node, region, rrset; the draw's prefetches), then finish
// each, so the memory each stage reads is on its way while the other frames are worked on.
struct DnsPrepared {
    ReplySpace space;  // its layout's source is the client
    engine::Parsed parsed;
};
void prepare_dns_in_place(std::span<uint8_t> buffer, const FrameLayout& layout,
                          const engine::AnswerContext& ctx, DnsPrepared& out) noexcept;
void resolve_dns(DnsPrepared& p, const engine::AnswerContext& ctx) noexcept;
[[nodiscard]] DnsAnswered finish_dns_in_place(std::span<uint8_t> buffer, const DnsPrepared& p,
                                              const engine::AnswerContext& ctx,
                                              bool compute_l4_checksum = true) noexcept;

}  // namespace pooledge::dataplane
