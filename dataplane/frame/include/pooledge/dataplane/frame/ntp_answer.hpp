// The NTP answer step of the fast path: the mode 4 answer (zones/ntp) written in place
// between the reply path's two halves, in two calls so the transmit timestamp is taken as
// late as possible: prepare_ntp_in_place() judges the request and writes every field but
// the transmit timestamp; finish_ntp_in_place() stamps it and turns the frame around. The
// worker stamps a whole burst's answers with one clock reading just before its TX burst.
#pragma once

#include <cstdint>
#include <span>

#include "pooledge/dataplane/frame/frame.hpp"
#include "pooledge/ntp/clock_state.hpp"
#include "pooledge/ntp/packet.hpp"

namespace pooledge::dataplane {

struct NtpPrepared {
    ntp::Request request;  // its verdict: Answer (finish it), Kernel (pass the frame on as it
                           // came, untouched) or Drop (request.reason says why)
    FrameLayout reply;     // of the reply (IPv4 options stripped), for Answer
};

// `buffer` holds a FastPath NTP frame (`layout` from classify) and may extend past it.
[[nodiscard]] NtpPrepared prepare_ntp_in_place(std::span<uint8_t> buffer, const FrameLayout& layout,
                                               const ntp::ClockState& clock,
                                               ntp::Timestamp receive) noexcept;

// Turns a prepared answer into a KoD RATE (ntp::make_kod_rate), for a client over its rate
// limit; finish it as any answer.
void kod_in_place(std::span<uint8_t> buffer, const FrameLayout& reply, int8_t min_poll) noexcept;

// Stamps `transmit` into a prepared answer and finishes the frame; returns its length.
// See reply.hpp for `compute_l4_checksum`.
[[nodiscard]] uint16_t finish_ntp_in_place(std::span<uint8_t> buffer, const FrameLayout& reply,
                                           ntp::Timestamp transmit,
                                           bool compute_l4_checksum = true) noexcept;

}  // namespace pooledge::dataplane
