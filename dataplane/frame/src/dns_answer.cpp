#include "pooledge/dataplane/frame/dns_answer.hpp"

#include "pooledge/dataplane/frame/reply.hpp"

namespace pooledge::dataplane {

DnsAnswered answer_dns_in_place(std::span<uint8_t> buffer, const FrameLayout& layout,
                                const engine::AnswerContext& ctx,
                                bool compute_l4_checksum) noexcept {
    DnsAnswered out;
    const ReplySpace space = begin_reply(buffer, layout);
    const std::span<const uint8_t> query(space.payload.data(), space.layout.payload_length);
    out.response = engine::answer(ctx, engine::Client{layout.source, engine::Transport::Udp}, query,
                                  space.payload);
    if (out.response.size == 0) {
        out.reason = DropReason::DnsNoAnswer;
        return out;
    }
    out.length = finish_reply(buffer, space.layout, out.response.size, compute_l4_checksum);
    out.layout = space.layout;
    return out;
}

}  // namespace pooledge::dataplane
