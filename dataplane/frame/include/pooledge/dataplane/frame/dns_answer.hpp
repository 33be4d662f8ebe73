// The DNS answer step of the fast path: the engine's response written in place between the
// reply path's two halves.
#pragma once

#include <cstdint>
#include <span>

#include "pooledge/dataplane/frame/frame.hpp"
#include "pooledge/dataplane/frame/reply.hpp"
#include "pooledge/engine/answer.hpp"
#include "pooledge/limit/rrl.hpp"

namespace pooledge::dataplane {

// Response rate limiting for a burst of UDP answers (limit/rrl.hpp); a null `rrl` limits
// nothing. The worker owns `state` and reads `now_ns` (CLOCK_MONOTONIC) once per pass.
struct DnsLimits {
    limit::Rrl* rrl = nullptr;
    limit::RrlWorker* state = nullptr;
    uint64_t now_ns = 0;
};

struct DnsAnswered {
    uint16_t length = 0;  // of the reply frame; 0 = drop (reason says why)
    DropReason reason = DropReason::None;
    engine::Response response;
    FrameLayout layout;          // of the reply (IPv4 options stripped): for TX offload lengths
    limit::Decision rrl;         // what the limiter said (Slip: the reply is TC=1, no records)
    bool cookie_bypass = false;  // limited, but the client proved its address with a cookie
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
// With `limits`, prepare also finds (and prefetches) the client's rate-limit accounts, and
// finish asks the limiter about the response once the engine has written it: a response
// held back is dropped (DnsRateLimited) or slipped, unless the query carries a server
// cookie valid for its source address (checked only then: the common path pays nothing).
struct DnsPrepared {
    ReplySpace space;  // its layout's source is the client
    engine::Parsed parsed;
    limit::RrlKey rrl;
};
void prepare_dns_in_place(std::span<uint8_t> buffer, const FrameLayout& layout,
                          const engine::AnswerContext& ctx, DnsPrepared& out,
                          const DnsLimits* limits = nullptr) noexcept;
void resolve_dns(DnsPrepared& p, const engine::AnswerContext& ctx) noexcept;
[[nodiscard]] DnsAnswered finish_dns_in_place(std::span<uint8_t> buffer, const DnsPrepared& p,
                                              const engine::AnswerContext& ctx,
                                              bool compute_l4_checksum = true,
                                              const DnsLimits* limits = nullptr) noexcept;

}  // namespace pooledge::dataplane
