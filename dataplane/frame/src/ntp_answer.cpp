#include "pooledge/dataplane/frame/ntp_answer.hpp"

#include "bytes.hpp"
#include "pooledge/dataplane/frame/reply.hpp"

namespace pooledge::dataplane {

NtpPrepared prepare_ntp_in_place(std::span<uint8_t> buffer, const FrameLayout& layout,
                                 const ntp::ClockState& clock, ntp::Timestamp receive) noexcept {
    NtpPrepared out;
    // Judged where it lies, before begin_reply() moves anything: a frame for the kernel
    // must reach it as it came.
    const uint16_t source_port = bytes::get16(buffer.data() + layout.l4_offset);
    out.request =
        ntp::classify(buffer.subspan(layout.payload_offset, layout.payload_length), source_port);
    if (out.request.verdict != ntp::Verdict::Answer) {
        return out;
    }
    const ReplySpace space = begin_reply(buffer, layout);
    if (ntp::write_answer(space.payload, out.request, clock, receive) == 0) {
        out.request.verdict = ntp::Verdict::Drop;
        out.request.reason = ntp::DropReason::Unsynchronised;
        return out;
    }
    out.reply = space.layout;
    return out;
}

void kod_in_place(std::span<uint8_t> buffer, const FrameLayout& reply, int8_t min_poll) noexcept {
    ntp::make_kod_rate(buffer.subspan(reply.payload_offset, ntp::kHeaderSize), min_poll);
}

uint16_t finish_ntp_in_place(std::span<uint8_t> buffer, const FrameLayout& reply,
                             ntp::Timestamp transmit, bool compute_l4_checksum) noexcept {
    ntp::stamp_transmit(buffer.subspan(reply.payload_offset, ntp::kHeaderSize), transmit);
    return finish_reply(buffer, reply, static_cast<uint16_t>(ntp::kHeaderSize),
                        compute_l4_checksum);
}

}  // namespace pooledge::dataplane
