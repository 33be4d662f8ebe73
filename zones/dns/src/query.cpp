#include "pooledge/dns/query.hpp"

#include <cstring>

#include "pooledge/dns/dname.hpp"
#include "pooledge/dns/wire.hpp"

namespace pooledge::dns {
namespace {

// Reads the question name: no compression (nothing precedes it to point at), label and name
// length limits. One pass over the length octets finds the labels; the name is then copied
// and folded into out.qname eight bytes at a time, and hashed the same way.
bool read_qname(WireReader& r, Query& out) noexcept {
    const std::span<const uint8_t> rest = r.data().subspan(r.pos(), r.remaining());
    size_t len = 0;
    size_t labels = 0;
    for (;;) {
        if (len >= rest.size()) {
            return false;
        }
        const uint8_t label = rest[len];
        if (label > kMaxLabelLen || len + 1 + label > kMaxNameLen) {  // 0x40..: pointers
            return false;
        }
        if (label == 0) {
            ++len;
            break;
        }
        out.label_offsets[labels++] = static_cast<uint8_t>(len);
        len += 1 + label;
    }
    r.skip(len);
    // The word after the name is zeroed so the hash sees the same padding as the builder.
    uint8_t* name = out.qname.data();
    std::memcpy(name, rest.data(), len);
    std::memset(name + len, 0, 8);
    for (size_t i = 0; i < len; i += 8) {
        uint64_t w;
        std::memcpy(&w, name + i, 8);
        w = fold_word(w);
        std::memcpy(name + i, &w, 8);
    }
    out.qname_len = static_cast<uint8_t>(len);
    out.label_count = static_cast<uint8_t>(labels);
    out.qname_hash = name_hash_padded(name, len);
    return true;
}

// Skips an owner name in the additional section; compression is allowed there.
bool skip_name(WireReader& r) noexcept {
    for (size_t guard = 0; guard < kMaxLabels; ++guard) {
        const uint8_t label = r.u8();
        if (!r.ok()) {
            return false;
        }
        if (label == 0) {
            return true;
        }
        if ((label & 0xC0) == 0xC0) {
            r.skip(1);
            return r.ok();
        }
        if (label > kMaxLabelLen) {
            return false;
        }
        r.skip(label);
    }
    return false;
}

bool parse_ecs(WireReader opt, EcsOption& ecs) noexcept {
    ecs.family = opt.u16();
    ecs.source_prefix = opt.u8();
    ecs.scope_prefix = opt.u8();
    if (!opt.ok()) {
        return false;
    }
    const size_t max_prefix = ecs.family == 1 ? 32 : ecs.family == 2 ? 128 : 0;
    // RFC 7871 6: unknown family, a prefix longer than the family, a non-zero scope in a
    // query, an address field that is not exactly as long as the prefix, or bits set past the
    // prefix are all FORMERR.
    if (max_prefix == 0 || ecs.source_prefix > max_prefix || ecs.scope_prefix != 0) {
        return false;
    }
    const size_t addr_len = (ecs.source_prefix + 7u) / 8u;
    if (opt.remaining() != addr_len) {
        return false;
    }
    const auto addr = opt.bytes(addr_len);
    std::memcpy(ecs.address.data(), addr.data(), addr_len);
    if (ecs.source_prefix % 8 != 0) {
        const auto mask = static_cast<uint8_t>(0xFF >> (ecs.source_prefix % 8));
        if ((ecs.address[addr_len - 1] & mask) != 0) {
            return false;
        }
    }
    ecs.present = true;
    return true;
}

bool parse_cookie(WireReader opt, CookieOption& cookie) noexcept {
    const size_t len = opt.remaining();
    // RFC 7873 5.2.2: a client cookie alone (8) or with a server cookie of 8 to 32 bytes.
    if (len != 8 && (len < 16 || len > 40)) {
        return false;
    }
    std::memcpy(cookie.client.data(), opt.bytes(8).data(), 8);
    cookie.server_len = static_cast<uint8_t>(len - 8);
    if (cookie.server_len > 0) {
        std::memcpy(cookie.server.data(), opt.bytes(cookie.server_len).data(), cookie.server_len);
    }
    cookie.present = true;
    return true;
}

// Parses the OPT RR after its owner name. Returns false for FORMERR.
bool parse_opt(WireReader& r, EdnsInfo& edns) noexcept {
    edns.present = true;
    edns.udp_size = r.u16();
    const uint32_t ttl = r.u32();
    edns.version = static_cast<uint8_t>(ttl >> 16);
    edns.dnssec_ok = (ttl & 0x8000) != 0;
    const uint16_t rdlen = r.u16();
    WireReader opts(r.bytes(rdlen));
    if (!r.ok()) {
        return false;
    }
    if (edns.version > 0) {
        return true;  // RFC 6891 6.1.3: answered BADVERS, whatever its options mean there
    }
    while (opts.remaining() > 0) {
        const uint16_t code = opts.u16();
        const uint16_t len = opts.u16();
        WireReader body(opts.bytes(len));
        if (!opts.ok()) {
            return false;
        }
        switch (code) {
            case edns::NSID:
                edns.nsid = true;  // RFC 5001: the query's payload is empty; ignore any
                break;
            case edns::ECS:
                if (edns.ecs.present || !parse_ecs(body, edns.ecs)) {
                    return false;
                }
                break;
            case edns::COOKIE:
                if (edns.cookie.present || !parse_cookie(body, edns.cookie)) {
                    return false;
                }
                break;
            default:
                break;  // unknown options are ignored (RFC 6891 6.1.2)
        }
    }
    return true;
}

// Reads a TSIG RR after its owner name (RFC 8945 4.2): class ANY, TTL 0, and rdata of
// algorithm name, time signed, fudge, MAC, original id, error and other data.
bool parse_tsig(WireReader& r, size_t owner_at, size_t owner_len, TsigInfo& tsig) noexcept {
    const uint16_t klass = r.u16();
    const uint32_t ttl = r.u32();
    const uint16_t rdlen = r.u16();
    const size_t rdata_at = r.pos();
    WireReader rd(r.bytes(rdlen));
    if (!r.ok() || klass != rrclass::ANY || ttl != 0) {
        return false;
    }
    const size_t alg_at = rd.pos();
    if (!skip_name(rd)) {
        return false;
    }
    const size_t alg_len = rd.pos() - alg_at;
    const size_t time_at = rd.pos();
    rd.skip(8);         // time signed, fudge
    rd.skip(rd.u16());  // MAC
    const uint16_t original_id = rd.u16();
    rd.skip(2);         // error
    rd.skip(rd.u16());  // other data
    if (!rd.ok() || rd.remaining() != 0) {
        return false;
    }
    tsig.present = true;
    tsig.key_offset = static_cast<uint16_t>(owner_at);
    tsig.key_len = static_cast<uint16_t>(owner_len);
    tsig.alg_offset = static_cast<uint16_t>(rdata_at + alg_at);
    tsig.alg_len = static_cast<uint16_t>(alg_len);
    tsig.time_offset = static_cast<uint16_t>(rdata_at + time_at);
    tsig.original_id = original_id;
    return true;
}

// Walks the additional section: at most one OPT, owned by the root, and at most one TSIG,
// which must be the last record (RFC 8945 5.2: FORMERR otherwise).
bool parse_additional(WireReader& r, uint16_t count, EdnsInfo& edns, TsigInfo& tsig) noexcept {
    for (uint16_t i = 0; i < count; ++i) {
        const bool root_owner = r.peek_u8() == 0;
        const size_t owner_at = r.pos();
        if (tsig.present || !skip_name(r)) {
            return false;
        }
        const size_t owner_len = r.pos() - owner_at;
        const uint16_t type = r.u16();
        if (!r.ok()) {
            return false;
        }
        if (type == rrtype::OPT) {
            if (edns.present || !root_owner || !parse_opt(r, edns)) {
                return false;
            }
            continue;
        }
        if (type == rrtype::TSIG) {
            if (i + 1 != count || !parse_tsig(r, owner_at, owner_len, tsig)) {
                return false;
            }
            continue;
        }
        r.skip(6);  // class, ttl
        r.skip(r.u16());
        if (!r.ok()) {
            return false;
        }
    }
    return true;
}

// For a query refused before its additional section was read (NOTIMP, a malformed count or
// question): whether it carries an OPT, which the answer must then carry too (RFC 6891 7).
// Best effort: when the sections cannot be walked, there is no telling.
bool has_opt(std::span<const uint8_t> packet, uint16_t qdcount, uint16_t rrs_before,
             uint16_t arcount) noexcept {
    WireReader r(packet);
    r.skip(kHeaderSize);
    for (uint16_t i = 0; i < qdcount; ++i) {
        if (!skip_name(r)) {
            return false;
        }
        r.skip(4);
    }
    for (uint32_t i = 0; i < uint32_t{rrs_before} + arcount; ++i) {
        const bool root_owner = r.ok() && r.remaining() > 0 && r.peek_u8() == 0;
        if (!skip_name(r)) {
            return false;
        }
        const uint16_t type = r.u16();
        r.skip(6);
        r.skip(r.u16());
        if (!r.ok()) {
            return false;
        }
        if (i >= rrs_before && type == rrtype::OPT && root_owner) {
            return true;
        }
    }
    return false;
}

}  // namespace

ParseResult parse_query(std::span<const uint8_t> packet, Query& out) noexcept {
    WireReader r(packet);
    out.id = r.u16();
    out.flags = r.u16();
    const uint16_t qdcount = r.u16();
    const uint16_t ancount = r.u16();
    const uint16_t nscount = r.u16();
    const uint16_t arcount = r.u16();
    out.question_end = 0;
    out.qname_len = 0;
    out.edns = EdnsInfo{};
    out.tsig = TsigInfo{};
    if (!r.ok() || (out.flags & flag::QR) != 0) {
        return ParseResult::Drop;
    }
    const auto refuse = [&](ParseResult result) {
        out.edns.present =
            has_opt(packet, qdcount, static_cast<uint16_t>(ancount + nscount), arcount);
        return result;
    };
    if (((out.flags & flag::OPCODE_MASK) >> 11) != opcode::QUERY) {
        return refuse(ParseResult::NotImp);
    }
    // RFC 7873 5.4: no question, only an OPT, to learn a server cookie.
    if (qdcount == 0 && ancount == 0 && nscount == 0) {
        if (!parse_additional(r, arcount, out.edns, out.tsig) || r.remaining() != 0) {
            return ParseResult::FormErr;
        }
        return out.edns.cookie.present && out.edns.version == 0 ? ParseResult::CookieOnly
                                                                : ParseResult::FormErr;
    }
    // A query carries exactly one question and nothing in answer or authority (RFC 9619
    // settles QDCOUNT > 1 as an error).
    if (qdcount != 1 || ancount != 0 || nscount != 0) {
        return refuse(ParseResult::FormErr);
    }
    if (!read_qname(r, out)) {
        out.qname_len = 0;
        return refuse(ParseResult::FormErr);
    }
    out.qtype = r.u16();
    out.qclass = r.u16();
    if (!r.ok()) {
        out.qname_len = 0;
        return refuse(ParseResult::FormErr);
    }
    out.question_end = static_cast<uint16_t>(r.pos());
    if (!parse_additional(r, arcount, out.edns, out.tsig) || r.remaining() != 0) {
        return ParseResult::FormErr;
    }
    return ParseResult::Ok;
}

}  // namespace pooledge::dns
