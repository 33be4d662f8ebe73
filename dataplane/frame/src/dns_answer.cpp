#include "pooledge/dataplane/frame/dns_answer.hpp"

#include "pooledge/dataplane/frame/reply.hpp"

namespace pooledge::dataplane {

namespace {

engine::Client client_of(const ReplySpace& space) noexcept {
    return engine::Client{space.layout.source, engine::Transport::Udp};
}

}  // namespace

void prepare_dns_in_place(std::span<uint8_t> buffer, const FrameLayout& layout,
                          const engine::AnswerContext& ctx, DnsPrepared& out) noexcept {
    out.space = begin_reply(buffer, layout);
    engine::parse_query({out.space.payload.data(), out.space.layout.payload_length}, out.parsed);
    engine::prefetch(ctx, client_of(out.space), out.parsed);
}

void resolve_dns(DnsPrepared& p, const engine::AnswerContext& ctx) noexcept {
    engine::resolve(ctx, client_of(p.space), p.parsed);
}

DnsAnswered finish_dns_in_place(std::span<uint8_t> buffer, const DnsPrepared& p,
                                const engine::AnswerContext& ctx,
                                bool compute_l4_checksum) noexcept {
    DnsAnswered out;
    const std::span<const uint8_t> query(p.space.payload.data(), p.space.layout.payload_length);
    out.response = engine::answer_parsed(ctx, client_of(p.space), p.parsed, query, p.space.payload);
    if (out.response.size == 0) {
        out.reason = DropReason::DnsNoAnswer;
        return out;
    }
    out.length = finish_reply(buffer, p.space.layout, out.response.size, compute_l4_checksum);
    out.layout = p.space.layout;
    return out;
}

DnsAnswered answer_dns_in_place(std::span<uint8_t> buffer, const FrameLayout& layout,
                                const engine::AnswerContext& ctx,
                                bool compute_l4_checksum) noexcept {
    DnsPrepared p;
    prepare_dns_in_place(buffer, layout, ctx, p);
    resolve_dns(p, ctx);
    return finish_dns_in_place(buffer, p, ctx, compute_l4_checksum);
}

}  // namespace pooledge::dataplane
