#include "pooledge/dataplane/frame/dns_answer.hpp"

#include <algorithm>
#include <array>

#include "pooledge/dataplane/frame/reply.hpp"
#include "pooledge/dns/cookie.hpp"

namespace pooledge::dataplane {

namespace {

engine::Client client_of(const ReplySpace& space) noexcept {
    return engine::Client{space.layout.source, engine::Transport::Udp};
}

limit::ResponseKind kind_of(dns::Rcode rcode) noexcept {
    switch (rcode) {
        case dns::Rcode::NoError:
            return limit::ResponseKind::Answer;
        case dns::Rcode::NxDomain:
            return limit::ResponseKind::Nxdomain;
        default:
            return limit::ResponseKind::Error;
    }
}

// A node without a cookie secret (all zero: cookies off, engine/answer.hpp) has no valid
// cookies: anyone could compute one for a spoofed address.
bool has_valid_cookie(const engine::AnswerContext& ctx, const DnsPrepared& p) noexcept {
    const dns::CookieOption& c = p.parsed.q.edns.cookie;
    const auto& secret =
        ctx.identity != nullptr ? ctx.identity->cookie_secret : std::array<uint8_t, 16>{};
    const bool cookies_on =
        std::any_of(secret.begin(), secret.end(), [](uint8_t b) { return b != 0; });
    return c.present && c.server_len != 0 && cookies_on &&
           dns::verify_server_cookie(ctx.identity->cookie_secret, c.client,
                                     std::span<const uint8_t>(c.server.data(), c.server_len),
                                     p.space.layout.source, ctx.now);
}

}  // namespace

void prepare_dns_in_place(std::span<uint8_t> buffer, const FrameLayout& layout,
                          const engine::AnswerContext& ctx, DnsPrepared& out,
                          const DnsLimits* limits) noexcept {
    out.space = begin_reply(buffer, layout);
    engine::parse_query({out.space.payload.data(), out.space.layout.payload_length}, out.parsed);
    engine::prefetch(ctx, client_of(out.space), out.parsed);
    if (limits != nullptr && limits->rrl != nullptr) {
        out.rrl = limits->rrl->key(out.space.layout.source);
        limits->rrl->prefetch(out.rrl);
    } else {
        out.rrl.levels = 0;
    }
}

void resolve_dns(DnsPrepared& p, const engine::AnswerContext& ctx) noexcept {
    engine::resolve(ctx, client_of(p.space), p.parsed);
}

DnsAnswered finish_dns_in_place(std::span<uint8_t> buffer, const DnsPrepared& p,
                                const engine::AnswerContext& ctx, bool compute_l4_checksum,
                                const DnsLimits* limits) noexcept {
    DnsAnswered out;
    const std::span<const uint8_t> query(p.space.payload.data(), p.space.layout.payload_length);
    out.response = engine::answer_parsed(ctx, client_of(p.space), p.parsed, query, p.space.payload);
    if (out.response.size == 0) {
        out.reason = DropReason::DnsNoAnswer;
        return out;
    }
    uint16_t size = out.response.size;
    if (limits != nullptr && p.rrl.levels != 0) {
        out.rrl = limits->rrl->decide(p.rrl, kind_of(out.response.rcode), out.response.zone,
                                      limits->now_ns, *limits->state);
        if (out.rrl.action != limit::Action::Pass && has_valid_cookie(ctx, p)) {
            out.rrl.action = limit::Action::Pass;
            out.cookie_bypass = true;
        }
        if (out.rrl.action == limit::Action::Slip) {
            size = engine::truncate_to_question(p.space.payload, p.parsed);
            out.response.size = size;
            out.response.truncated = true;  // counted as the TC=1 answer it now is
        }
        if (out.rrl.action == limit::Action::Drop || size == 0) {
            out.reason = DropReason::DnsRateLimited;
            return out;
        }
    }
    out.length = finish_reply(buffer, p.space.layout, size, compute_l4_checksum);
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
