#include "pooledge/engine/answer.hpp"

#include <algorithm>
#include <array>
#include <cstring>

#include "debug_names.hpp"
#include "pooledge/dns/cookie.hpp"
#include "pooledge/dns/dname.hpp"
#include "pooledge/dns/query.hpp"
#include "pooledge/dns/rdata.hpp"
#include "pooledge/dns/wire.hpp"
#include "pooledge/image/geo_index.hpp"
#include "pooledge/image/reader.hpp"
#include "pooledge/image/weighted.hpp"

namespace pooledge::engine {
namespace {

using image::format::EntryKind;
using image::format::Node;
using image::format::RRset;

constexpr uint8_t kIdServer[] = {2, 'i', 'd', 6, 's', 'e', 'r', 'v', 'e', 'r', 0};
constexpr uint8_t kHostnameBind[] = {8,   'h', 'o', 's', 't', 'n', 'a', 'm',
                                     'e', 4,   'b', 'i', 'n', 'd', 0};
constexpr uint8_t kVersionBind[] = {7, 'v', 'e', 'r', 's', 'i', 'o', 'n', 4, 'b', 'i', 'n', 'd', 0};
constexpr uint8_t kVersionServer[] = {7, 'v', 'e', 'r', 's', 'i', 'o', 'n',
                                      6, 's', 'e', 'r', 'v', 'e', 'r', 0};
// RFC 8482 4.2: one synthesized HINFO answers ANY.
constexpr uint8_t kRfc8482Hinfo[] = {7, 'R', 'F', 'C', '8', '4', '8', '2', 0};
constexpr uint16_t kQnameOffset = dns::kHeaderSize;  // the question name always starts at byte 12

bool qname_is(const dns::Query& q, std::span<const uint8_t> name) noexcept {
    return q.qname_len == name.size() && std::memcmp(q.qname.data(), name.data(), name.size()) == 0;
}

bool equal_folded(std::span<const uint8_t> a, std::span<const uint8_t> b) noexcept {
    if (a.size() != b.size()) {
        return false;
    }
    for (size_t i = 0; i < a.size(); ++i) {
        if (dns::fold_byte(a[i]) != dns::fold_byte(b[i])) {
            return false;
        }
    }
    return true;
}

// A resource record's fixed head: a compression pointer to its owner, type, class, TTL and
// RDLENGTH.
constexpr size_t kRrHead = 12;
void write_rr_head(uint8_t* p, uint16_t owner_offset, uint16_t type, uint16_t klass, uint32_t ttl,
                   uint16_t rdlen) noexcept {
    dns::store16(p, static_cast<uint16_t>(0xC000 | owner_offset));
    dns::store16(p + 2, type);
    dns::store16(p + 4, klass);
    dns::store32(p + 6, ttl);
    dns::store16(p + 10, rdlen);
}

// Builds one response. Records go through `w`, whose capacity leaves room for the OPT record
// so that truncation never loses EDNS.
class Reply {
  public:
    Reply(const dns::Query& q, std::span<uint8_t> out, size_t records_limit) noexcept
        : q_(q), out_(out), w_(out.first(records_limit)) {}

    dns::WireWriter& writer() noexcept { return w_; }

    // Header (counts patched at the end) and the question echoed as received.
    void begin(std::span<const uint8_t> query, uint16_t flags) noexcept {
        if (uint8_t* h = w_.claim(dns::kHeaderSize); h != nullptr) {
            dns::store16(h, q_.id);
            dns::store16(h + 2, flags);
            dns::store16(h + 4, q_.question_end != 0 ? 1 : 0);
            std::memset(h + 6, 0, 6);
        }
        if (q_.question_end != 0) {
            w_.bytes(query.subspan(dns::kHeaderSize, q_.question_end - dns::kHeaderSize));
        }
        question_end_ = w_.pos();
    }

    // A record's head (owner pointer, type, class, TTL, RDLENGTH 0 until rr_end), claimed
    // whole; returns where RDLENGTH sits. On a failed writer rr_end patches nothing.
    size_t rr_begin(uint16_t owner_offset, uint16_t type, uint16_t klass, uint32_t ttl) noexcept {
        uint8_t* p = w_.claim(kRrHead);
        if (p != nullptr) {
            write_rr_head(p, owner_offset, type, klass, ttl, 0);
        }
        return w_.pos() - 2;
    }

    void rr_end(size_t rdlen_at) noexcept {
        w_.patch_u16(rdlen_at, static_cast<uint16_t>(w_.pos() - rdlen_at - 2));
    }

    // Writes a name from the image, pointing at the longest suffix already in the message.
    void name(std::span<const uint8_t> name) noexcept {
        size_t p = 0;
        while (name[p] != 0) {
            const auto suffix = name.subspan(p);
            const int target = find_suffix(suffix);
            if (target >= 0) {
                remember(name, p);
                w_.bytes(name.first(p));
                w_.u16(static_cast<uint16_t>(0xC000 | target));
                return;
            }
            p += 1 + name[p];
        }
        remember(name, p);
        w_.bytes(name);
    }

    // Rdata of a static record, its embedded names compressed.
    void rdata(uint16_t type, std::span<const uint8_t> rd) noexcept {
        const dns::RdataShape shape = dns::rdata_shape(type);
        if (shape.names == 0) {
            w_.bytes(rd);
            return;
        }
        w_.bytes(rd.first(shape.prefix));
        size_t pos = shape.prefix;
        for (unsigned i = 0; i < shape.names; ++i) {
            const size_t len = dns::wire_name_length(rd, pos);  // valid: the image was checked
            name(rd.subspan(pos, len));
            pos += len;
        }
        w_.bytes(rd.subspan(pos));
    }

    // Drops every record: the answer did not fit, the client retries over TCP.
    void truncate() noexcept {
        w_.rewind(question_end_);
        an_ = ns_ = 0;
        n_names_ = 0;
        truncated_ = true;
    }

    [[nodiscard]] bool truncated() const noexcept { return truncated_; }
    uint16_t an_ = 0;
    uint16_t ns_ = 0;
    uint16_t ar_ = 0;

    // Closes the message: OPT after the records (in the space kept for it), counts, flags.
    size_t finish(uint16_t rcode_flags, std::span<const uint8_t> opt) noexcept {
        dns::WireWriter full(out_, w_.pos());
        full.bytes(opt);
        if (!full.ok()) {
            return 0;
        }
        const size_t size = full.pos();
        if (size < dns::kHeaderSize) {
            return 0;
        }
        uint8_t* h = out_.data();
        dns::store16(h, q_.id);
        dns::store16(h + 2, static_cast<uint16_t>(rcode_flags | (truncated_ ? dns::flag::TC : 0)));
        dns::store16(h + 4, q_.question_end != 0 ? 1 : 0);
        dns::store16(h + 6, an_);
        dns::store16(h + 8, ns_);
        dns::store16(h + 10, static_cast<uint16_t>(ar_ + (opt.empty() ? 0 : 1)));
        return size;
    }

  private:
    int find_suffix(std::span<const uint8_t> suffix) const noexcept {
        for (size_t l = 0; l < q_.label_count; ++l) {
            const size_t off = q_.label_offsets[l];
            if (q_.qname_len - off == suffix.size() &&
                equal_folded(std::span<const uint8_t>(q_.qname.data() + off, suffix.size()),
                             suffix)) {
                return static_cast<int>(kQnameOffset + off);
            }
        }
        for (size_t i = 0; i < n_names_; ++i) {
            if (equal_folded({names_[i].name, names_[i].len}, suffix)) {
                return names_[i].offset;
            }
        }
        return -1;
    }

    // Records where the labels before `upto` are about to be written, as pointer targets.
    void remember(std::span<const uint8_t> name, size_t upto) noexcept {
        for (size_t p = 0; p < upto && n_names_ < kMaxNames; p += 1 + name[p]) {
            const size_t at = w_.pos() + p;
            if (at <= 0x3FFF) {
                names_[n_names_++] = Known{name.data() + p, static_cast<uint16_t>(name.size() - p),
                                           static_cast<uint16_t>(at)};
            }
        }
    }

    // Trivially constructible on purpose: a Reply is made per packet, and 32 spans would be
    // zeroed each time.
    struct Known {
        const uint8_t* name;  // a suffix of a name in the image
        uint16_t len;
        uint16_t offset;  // where it was written in the message
    };
    static constexpr size_t kMaxNames = 32;

    const dns::Query& q_;
    std::span<uint8_t> out_;
    dns::WireWriter w_;
    size_t question_end_ = 0;
    Known names_[kMaxNames];
    size_t n_names_ = 0;
    bool truncated_ = false;
};

// The largest OPT we write: fixed part, NSID of up to 64 bytes, ECS for an IPv6 /128, a client
// and a 16-byte server cookie.
constexpr size_t kMaxNsid = 64;
constexpr size_t kOptBufSize = 11 + (4 + kMaxNsid) + (4 + 4 + 16) + (4 + 8 + dns::kServerCookieLen);
// An OPT with no options, for FORMERR answers to queries that had one (RFC 6891 6.1.1 wants
// an OPT whenever the query had one; its options may be what was malformed).
constexpr uint8_t kBareOpt[] = {0, 0, 41, 0x04, 0xD0, 0, 0, 0, 0, 0, 0};
static_assert(dns::kDefaultEdnsSize == 0x04D0);

// Which options an answer carries: what the query asked for and this node offers.
bool sends_nsid(const AnswerContext& ctx, const dns::Query& q) noexcept {
    return q.edns.nsid && !ctx.identity->nsid.empty() && ctx.identity->nsid.size() <= kMaxNsid;
}
bool sends_cookie(const AnswerContext& ctx, const dns::Query& q) noexcept {
    const auto& secret = ctx.identity->cookie_secret;
    return q.edns.cookie.present &&
           std::any_of(secret.begin(), secret.end(), [](uint8_t b) { return b != 0; });
}
size_t ecs_addr_len(const dns::Query& q) noexcept {
    return (q.edns.ecs.source_prefix + 7u) / 8u;
}

// The size build_opt() will write, known before any record: space is set aside for it so
// that truncation never loses EDNS (the ECS scope, decided later, does not change it).
size_t opt_size(const AnswerContext& ctx, const dns::Query& q) noexcept {
    size_t n = 11;
    n += sends_nsid(ctx, q) ? 4 + ctx.identity->nsid.size() : 0;
    n += q.edns.ecs.present ? 4 + 4 + ecs_addr_len(q) : 0;
    n += sends_cookie(ctx, q) ? 4 + 8 + dns::kServerCookieLen : 0;
    return n;
}

// The OPT record of a response: our UDP size, extended rcode, the DO bit copied (RFC 3225 3),
// and the options the query asked for.
size_t build_opt(const AnswerContext& ctx, const dns::Query& q, const base::IpAddress& source,
                 uint8_t ext_rcode, uint8_t ecs_scope,
                 std::span<uint8_t, kOptBufSize> buf) noexcept {
    dns::WireWriter w(buf);
    w.u8(0);
    w.u16(dns::rrtype::OPT);
    w.u16(ctx.identity->edns_udp_size);
    w.u32(uint32_t{ext_rcode} << 24 | (q.edns.dnssec_ok ? 0x8000u : 0u));  // version 0
    const size_t rdlen_at = w.pos();
    w.u16(0);
    if (sends_nsid(ctx, q)) {
        w.u16(dns::edns::NSID);
        w.u16(static_cast<uint16_t>(ctx.identity->nsid.size()));
        w.bytes({reinterpret_cast<const uint8_t*>(ctx.identity->nsid.data()),
                 ctx.identity->nsid.size()});
    }
    if (q.edns.ecs.present) {
        const auto& ecs = q.edns.ecs;
        const size_t addr_len = ecs_addr_len(q);
        w.u16(dns::edns::ECS);
        w.u16(static_cast<uint16_t>(4 + addr_len));
        w.u16(ecs.family);
        w.u8(ecs.source_prefix);
        w.u8(ecs_scope);
        w.bytes({ecs.address.data(), addr_len});
    }
    if (sends_cookie(ctx, q)) {
        const auto server = dns::make_server_cookie(
            ctx.identity->cookie_secret, std::span<const uint8_t, 8>(q.edns.cookie.client), source,
            ctx.now);
        w.u16(dns::edns::COOKIE);
        w.u16(static_cast<uint16_t>(8 + server.size()));
        w.bytes(q.edns.cookie.client);
        w.bytes(server);
    }
    w.patch_u16(rdlen_at, static_cast<uint16_t>(w.pos() - rdlen_at - 2));
    return w.ok() ? w.pos() : 0;
}

size_t max_response_size(const Client& client, const dns::Query& q, const Identity& id,
                         size_t out_size) noexcept {
    size_t limit = 0xFFFF;
    if (client.transport == Transport::Udp) {
        limit = dns::kClassicUdpSize;
        if (q.edns.present) {
            limit = std::clamp<size_t>(q.edns.udp_size, dns::kClassicUdpSize,
                                       std::max<size_t>(id.edns_udp_size, dns::kClassicUdpSize));
        }
    }
    return std::min(limit, out_size);
}

// The weighted addresses are used up and slots remain: geodns fills them with the set's
// weight-0 addresses, which the builder puts after the weighted ones. geodns takes the first
// of them every time; a random starting point spreads that load instead. Only sets with such
// a tail get here (no pool-data set has one), so the binary search is off the common path.
size_t fill_from_unweighted(std::span<const uint64_t> cum, size_t max_hosts, size_t n,
                            base::Rng& rng, uint32_t* picked) noexcept {
    const auto weighted = static_cast<uint32_t>(
        std::lower_bound(cum.begin(), cum.end(), cum.back()) - cum.begin() + 1);
    const auto zeros = static_cast<uint32_t>(cum.size()) - weighted;
    if (zeros == 0) {
        return n;
    }
    const auto start = static_cast<uint32_t>(rng.below(zeros));
    for (uint32_t i = 0; i < zeros && n < max_hosts; ++i) {
        picked[n++] = weighted + (start + i) % zeros;
    }
    return n;
}

// Writes up to max_hosts addresses of a weighted set, drawn by weight without replacement.
// Each address comes from the record the draw read (its own or its column's alias address),
// so a drawn host costs one record; the weight-0 fill reads its hosts' own records.
template <typename Draw>
void write_addresses(Reply& r, std::span<const Draw> set, std::span<const uint64_t> cum,
                     const RRset& rs, base::Rng& rng) noexcept {
    uint32_t picked[image::format::kMaxHostsLimit];
    uint32_t source[image::format::kMaxHostsLimit];
    const size_t drawn = image::draw_weighted(cum, set, rs.max_hosts, rng, picked, source);
    size_t n = drawn;
    if (n < rs.max_hosts && n < rs.count) {
        n = fill_from_unweighted(cum, rs.max_hosts, n, rng, picked);
    }
    // Every record of the set has the same 12-byte head (a pointer to the question name,
    // type, class, TTL, RDLENGTH) and an address of fixed size, so each is written whole
    // after one bounds check: field by field, the checks alone were a tenth of the
    // engine's instructions. If one does not fit, the writer has failed and the caller
    // truncates.
    constexpr size_t kAddr = std::tuple_size_v<decltype(Draw::addr)>;
    uint8_t head[kRrHead];
    write_rr_head(head, kQnameOffset, rs.type, dns::rrclass::IN, rs.ttl, kAddr);
    dns::WireWriter& w = r.writer();
    for (size_t i = 0; i < n; ++i) {
        uint8_t* p = w.claim(kRrHead + kAddr);
        if (p == nullptr) {
            return;
        }
        const auto& addr = i < drawn ? ((source[i] & 1) != 0 ? set[source[i] >> 1].alias_addr
                                                             : set[source[i] >> 1].addr)
                                     : set[picked[i]].addr;
        std::memcpy(p, head, kRrHead);
        std::memcpy(p + kRrHead, addr.data(), kAddr);
        ++r.an_;
    }
}

void write_addresses(Reply& r, const image::ImageView& img, const RRset& rs,
                     base::Rng& rng) noexcept {
    if (rs.type == dns::rrtype::A) {
        write_addresses(r, img.draw4().subspan(rs.first, rs.count),
                        img.cum4().subspan(rs.first, rs.count), rs, rng);
    } else {
        write_addresses(r, img.draw6().subspan(rs.first, rs.count),
                        img.cum6().subspan(rs.first, rs.count), rs, rng);
    }
}

void write_rrset(Reply& r, const image::ImageView& img, const RRset& rs, uint16_t owner_offset,
                 uint32_t ttl) noexcept {
    for (uint32_t i = 0; i < rs.count; ++i) {
        const size_t at = r.rr_begin(owner_offset, rs.type, dns::rrclass::IN, ttl);
        r.rdata(rs.type, img.rdata(rs.first + i));
        r.rr_end(at);
    }
}

// The zone's SOA in the authority section of a negative answer, with the negative-caching
// TTL of RFC 2308 3: the smaller of the SOA's TTL and its MINIMUM field.
void write_negative_soa(Reply& r, const image::ImageView& img, const dns::Query& q,
                        int zone) noexcept {
    const auto& z = img.zones()[static_cast<size_t>(zone)];
    const RRset& soa = img.rrset(z.soa_rrset);
    const auto apex = img.node_name(img.nodes()[z.apex_node]);
    const auto rd = img.rdata(soa.first);
    const uint32_t minimum = uint32_t{rd[rd.size() - 4]} << 24 | uint32_t{rd[rd.size() - 3]} << 16 |
                             uint32_t{rd[rd.size() - 2]} << 8 | rd[rd.size() - 1];
    // The apex is a suffix of the question name, so the owner is a pointer into it.
    const auto owner = static_cast<uint16_t>(kQnameOffset + q.qname_len - apex.size());
    write_rrset(r, img, soa, owner, std::min(soa.ttl, minimum));
    r.ns_ = 1;
}

struct Located {
    uint16_t region = 0;
    uint8_t scope = 0;
    bool from_ecs = false;
    base::IpAddress by;  // the address the client was located by
};

// 6to4 (2002::/16, the IPv4 address in bits 16-47) and Teredo (2001::/32, the Teredo server's
// IPv4 address in bits 32-63). MaxMind databases alias both into their IPv4 tree, which the
// control plane does not walk twice (geoip.cpp), so geodns finds such clients by that IPv4
// address: do the same when the IPv6 table itself places them nowhere. The scope is the IPv4
// match's, moved to where the IPv4 bits sit.
image::GeoMatch tunnelled_lookup(const image::ImageView& img, uint64_t hi) noexcept {
    image::GeoMatch m;
    if ((hi >> 48) == 0x2002) {
        m = img.geo_lookup4(static_cast<uint32_t>(hi >> 16));
        m.prefix_len = static_cast<uint8_t>(16 + m.prefix_len);
    } else if ((hi >> 32) == 0x20010000) {
        m = img.geo_lookup4(static_cast<uint32_t>(hi));
        m.prefix_len = static_cast<uint8_t>(32 + m.prefix_len);
    }
    return m;
}

image::GeoMatch geo_lookup(const image::ImageView& img, const base::IpAddress& a) noexcept {
    if (a.family == 4) {
        return img.geo_lookup4(a.v4_host());
    }
    const image::GeoMatch m = img.geo_lookup6(a.v6_hi(), a.v6_lo());
    if (m.region != 0) {
        return m;
    }
    const image::GeoMatch t = tunnelled_lookup(img, a.v6_hi());
    return t.region != 0 ? t : m;
}

// The address a client is located by: the ECS address when it is public unicast (RFC 7871
// says to ignore the rest), otherwise the packet's source. Region and scope left unset.
Located locating_address(const Client& client, const dns::Query& q) noexcept {
    Located loc;
    loc.by = client.addr;
    const auto& ecs = q.edns.ecs;
    if (ecs.present && ecs.source_prefix > 0) {
        base::IpAddress e;
        e.family = ecs.family == 1 ? 4 : 6;
        e.bytes = ecs.address;
        if (base::is_public_unicast(e)) {
            loc.by = e;
            loc.from_ecs = true;
        }
    }
    return loc;
}

// The client's region, from that address. An ECS address the geo table does not know falls
// back to the source (the resolver's own location), as geodns does; the scope stays the ECS
// block's, since every client address in it is answered alike.
Located locate(const image::ImageView& img, const Client& client, const dns::Query& q) noexcept {
    Located loc = locating_address(client, q);
    const image::GeoMatch m = geo_lookup(img, loc.by);
    loc.region = m.region;
    loc.scope = m.prefix_len;
    if (loc.from_ecs && loc.region == 0) {
        loc.region = geo_lookup(img, client.addr).region;
    }
    return loc;
}

// _country and _status: TXT for TXT and ANY, NODATA for other types.
void answer_debug_name(Reply& r, const AnswerContext& ctx, const Client& client,
                       const dns::Query& q, int zone, debug::Name which,
                       uint8_t& ecs_scope) noexcept {
    const image::ImageView& img = *ctx.image;
    if (q.qtype != dns::rrtype::TXT && q.qtype != dns::rrtype::ANY) {
        write_negative_soa(r, img, q, zone);
        return;
    }
    const size_t at = r.rr_begin(kQnameOffset, dns::rrtype::TXT, dns::rrclass::IN, 1);
    if (which == debug::Name::Country) {
        const Located loc = locate(img, client, q);
        if (loc.from_ecs) {
            ecs_scope = loc.scope;
        }
        debug::write_country(r.writer(), img, {client.addr, loc.by, loc.region, loc.scope},
                             *ctx.identity);
    } else {
        debug::write_status(r.writer(), img, ctx.now, *ctx.identity);
    }
    r.rr_end(at);
    r.an_ = 1;
}

// Resolves what `node` holds for `qtype` from where the client is: an rrset id, or 0 when
// nothing. A CNAME answers every type the node has no entry for (geodns checks it first, and
// the compiler already folded that order into the per-type entries).
uint32_t resolve_entry(const image::ImageView& img, const Node& node, uint16_t qtype,
                       const Client& client, const dns::Query& q, uint8_t& ecs_scope) noexcept {
    const image::format::Entry* match = nullptr;
    const image::format::Entry* cname = nullptr;
    for (const auto& e : img.entries(node)) {
        if (e.qtype == qtype) {
            match = &e;
            break;
        }
        if (e.qtype == dns::rrtype::CNAME) {
            cname = &e;
        }
    }
    const image::format::Entry* e = match != nullptr ? match : cname;
    if (e == nullptr) {
        return 0;
    }
    if (e->kind == EntryKind::Static) {
        return e->ref;
    }
    const Located loc = locate(img, client, q);
    if (loc.from_ecs) {
        ecs_scope = loc.scope;
    }
    return img.dispatch(e->ref, loc.region);
}

// Whether the answer comes from the image's names (answer_parsed's main branch), the only
// answers resolve() has anything to do for.
bool answers_from_image(const AnswerContext& ctx, const Parsed& p) noexcept {
    const dns::Query& q = p.q;
    return p.result == dns::ParseResult::Ok && !q.tsig.present &&
           !(q.edns.present && q.edns.version > 0) && q.qclass == dns::rrclass::IN &&
           ctx.image != nullptr;
}

// The node, zone and rrset of a query answers_from_image() holds for. No rrset for ANY (one
// synthesized record), zone transfers (refused) or names that are not nodes.
Resolution resolve_now(const image::ImageView& img, const Client& client,
                       const dns::Query& q) noexcept {
    Resolution res;
    res.done = true;
    res.node = img.find_node(q);
    res.zone = res.node != nullptr ? res.node->zone : img.find_zone(q);
    if (res.node != nullptr && res.zone >= 0 && q.qtype != dns::rrtype::ANY &&
        q.qtype != dns::rrtype::AXFR && q.qtype != dns::rrtype::IXFR) {
        res.rrset = resolve_entry(img, *res.node, q.qtype, client, q, res.ecs_scope);
    }
    return res;
}

Response respond_error(const dns::Query& q, dns::Rcode rcode, std::span<const uint8_t> query,
                       std::span<uint8_t> out) noexcept {
    Response res;
    res.rcode = rcode;
    res.qtype = q.question_end != 0 ? q.qtype : 0;
    const std::span<const uint8_t> opt =
        q.edns.present ? std::span<const uint8_t>(kBareOpt) : std::span<const uint8_t>();
    const size_t limit = std::min<size_t>(out.size(), 0xFFFF);
    if (limit < std::max<size_t>(dns::kHeaderSize, q.question_end) + opt.size()) {
        return res;  // no room to answer: drop
    }
    Reply r(q, out, limit - opt.size());
    const auto flags =
        static_cast<uint16_t>(dns::flag::QR | (q.flags & (dns::flag::OPCODE_MASK | dns::flag::RD)));
    r.begin(query, flags);
    res.size = static_cast<uint16_t>(
        r.finish(static_cast<uint16_t>(flags | static_cast<uint16_t>(rcode)), opt));
    return res;
}

// RFC 8945 5.2.2: this node holds no TSIG keys, so a signed query gets NOTAUTH with an
// unsigned TSIG RR naming the client's key and algorithm, MAC size 0, error BADKEY.
constexpr uint16_t kTsigBadKey = 17;

Response respond_badkey(const AnswerContext& ctx, const Client& client, const dns::Query& q,
                        std::span<const uint8_t> query, std::span<uint8_t> out) noexcept {
    // Built aside first: the answer may be written over the query the TSIG parts are in.
    uint8_t extra[kOptBufSize + 2 * dns::kMaxNameLen + 32];
    size_t n = 0;
    if (q.edns.present) {
        n = build_opt(ctx, q, client.addr, 0, 0,
                      std::span<uint8_t, kOptBufSize>(extra, kOptBufSize));
    }
    dns::WireWriter w(std::span<uint8_t>(extra).subspan(n));
    w.bytes(query.subspan(q.tsig.key_offset, q.tsig.key_len));
    w.u16(dns::rrtype::TSIG);
    w.u16(dns::rrclass::ANY);
    w.u32(0);
    const size_t rdlen_at = w.pos();
    w.u16(0);
    w.bytes(query.subspan(q.tsig.alg_offset, q.tsig.alg_len));
    w.bytes(query.subspan(q.tsig.time_offset, 8));  // time signed and fudge, echoed
    w.u16(0);                                       // MAC size: unsigned
    w.u16(q.tsig.original_id);
    w.u16(kTsigBadKey);
    w.u16(0);  // other data
    w.patch_u16(rdlen_at, static_cast<uint16_t>(w.pos() - rdlen_at - 2));
    const size_t extra_len = n + w.pos();
    const size_t limit = max_response_size(client, q, *ctx.identity, out.size());
    if (!w.ok() || limit < q.question_end + extra_len) {
        return respond_error(q, dns::Rcode::NotAuth, query, out);
    }
    Response res;
    res.rcode = dns::Rcode::NotAuth;
    res.qtype = q.qtype;
    Reply r(q, out, limit - extra_len);
    const auto flags = static_cast<uint16_t>(dns::flag::QR | (q.flags & dns::flag::RD));
    r.begin(query, flags);
    r.ar_ = q.edns.present ? 1 : 0;  // finish() counts one more for `extra`: OPT, then TSIG
    res.size = static_cast<uint16_t>(
        r.finish(static_cast<uint16_t>(flags | static_cast<uint16_t>(dns::Rcode::NotAuth)),
                 std::span<const uint8_t>(extra, extra_len)));
    return res;
}

// RFC 7873 5.4: a query with no question and a COOKIE option learns the server cookie, in a
// NOERROR reply with no question. A node without a cookie secret does not do cookies: FORMERR.
Response respond_cookie(const AnswerContext& ctx, const Client& client, const dns::Query& q,
                        std::span<const uint8_t> query, std::span<uint8_t> out) noexcept {
    if (!sends_cookie(ctx, q)) {
        return respond_error(q, dns::Rcode::FormErr, query, out);
    }
    uint8_t opt_buf[kOptBufSize];
    const size_t n = build_opt(ctx, q, client.addr, 0, 0, opt_buf);
    Response res;
    if (out.size() < dns::kHeaderSize + n) {
        return res;
    }
    Reply r(q, out, out.size() - n);
    const auto flags = static_cast<uint16_t>(dns::flag::QR | (q.flags & dns::flag::RD));
    r.begin(query, flags);
    res.size = static_cast<uint16_t>(r.finish(flags, std::span<const uint8_t>(opt_buf, n)));
    return res;
}

}  // namespace

void parse_query(std::span<const uint8_t> query, Parsed& out) noexcept {
    out.result = dns::parse_query(query, out.q);
    out.res.done = false;
}

void prefetch(const AnswerContext& ctx, const Client& client, const Parsed& p) noexcept {
    if (ctx.image == nullptr || p.result != dns::ParseResult::Ok) {
        return;
    }
    const image::ImageView& img = *ctx.image;
    img.prefetch_node(p.q.qname_hash);
    // The line of the address locate() starts from (IPv6 has no single line to fetch).
    const image::GeoIndex* geo = img.geo_index();
    const base::IpAddress by = locating_address(client, p.q).by;
    if (geo != nullptr && by.family == 4) {
        geo->prefetch4(by.v4_host());
    }
}

void resolve(const AnswerContext& ctx, const Client& client, Parsed& p) noexcept {
    if (!answers_from_image(ctx, p)) {
        p.res = Resolution{};
        p.res.done = true;
        return;
    }
    const image::ImageView& img = *ctx.image;
    p.res = resolve_now(img, client, p.q);
    if (p.res.rrset == 0) {
        return;
    }
    const RRset& rs = img.rrset(p.res.rrset);
    if (rs.type == dns::rrtype::A || rs.type == dns::rrtype::AAAA) {
        p.res.rng = base::Rng(ctx.rng->next());
        if (rs.type == dns::rrtype::A) {
            image::prefetch_draws(img.draw4().subspan(rs.first, rs.count), rs.max_hosts, p.res.rng);
        } else {
            image::prefetch_draws(img.draw6().subspan(rs.first, rs.count), rs.max_hosts, p.res.rng);
        }
    }
}

Response answer(const AnswerContext& ctx, const Client& client, std::span<const uint8_t> query,
                std::span<uint8_t> out) noexcept {
    Parsed p;
    parse_query(query, p);
    return answer_parsed(ctx, client, p, query, out);
}

Response answer_parsed(const AnswerContext& ctx, const Client& client, const Parsed& p,
                       std::span<const uint8_t> query, std::span<uint8_t> out) noexcept {
    const dns::Query& q = p.q;
    switch (p.result) {
        case dns::ParseResult::Ok:
            break;
        case dns::ParseResult::Drop:
            return Response{};
        case dns::ParseResult::FormErr:
            return respond_error(q, dns::Rcode::FormErr, query, out);
        case dns::ParseResult::NotImp: {
            dns::Query header_only = q;  // rare: the question is not echoed
            header_only.question_end = 0;
            return respond_error(header_only, dns::Rcode::NotImp, query, out);
        }
        case dns::ParseResult::CookieOnly:
            return respond_cookie(ctx, client, q, query, out);
    }
    if (q.tsig.present) {
        return respond_badkey(ctx, client, q, query, out);
    }

    Response res;
    res.qtype = q.qtype;
    const Identity& id = *ctx.identity;
    const size_t limit = max_response_size(client, q, id, out.size());
    const size_t opt_len = q.edns.present ? opt_size(ctx, q) : 0;
    if (limit < q.question_end + opt_len) {
        return Response{};  // cannot even echo the question: the buffer is not a real one
    }
    Reply r(q, out, limit - opt_len);
    uint16_t flags =
        static_cast<uint16_t>(dns::flag::QR | (q.flags & (dns::flag::RD | dns::flag::CD)));
    r.begin(query, flags);  // the final flags and counts are patched in by finish()
    dns::Rcode rcode = dns::Rcode::NoError;
    uint8_t ecs_scope = 0;

    if (q.edns.present && q.edns.version > 0) {
        rcode = dns::Rcode::BadVers;  // RFC 6891 6.1.3: we speak version 0 only
    } else if (q.qclass == dns::rrclass::CH) {
        std::string_view text;
        if (qname_is(q, kIdServer) || qname_is(q, kHostnameBind)) {
            text = id.server_id;
        } else if (qname_is(q, kVersionBind) || qname_is(q, kVersionServer)) {
            text = id.version;
        }
        if (text.empty() || (q.qtype != dns::rrtype::TXT && q.qtype != dns::rrtype::ANY)) {
            rcode = dns::Rcode::Refused;
        } else {
            flags |= dns::flag::AA;
            const size_t len = std::min<size_t>(text.size(), 255);
            const size_t at = r.rr_begin(kQnameOffset, dns::rrtype::TXT, dns::rrclass::CH, 0);
            r.writer().u8(static_cast<uint8_t>(len));
            r.writer().bytes({reinterpret_cast<const uint8_t*>(text.data()), len});
            r.rr_end(at);
            r.an_ = 1;
        }
    } else if (q.qclass != dns::rrclass::IN) {
        rcode = dns::Rcode::Refused;
    } else if (ctx.image == nullptr) {
        rcode = dns::Rcode::ServFail;  // no image yet: say so rather than deny names exist
    } else {
        const image::ImageView& img = *ctx.image;
        const Resolution found = p.res.done ? p.res : resolve_now(img, client, q);
        const Node* node = found.node;
        const int zone = found.zone;
        res.zone = static_cast<int16_t>(zone);
        if (zone < 0) {
            rcode = dns::Rcode::Refused;
        } else if (q.qtype == dns::rrtype::AXFR || q.qtype == dns::rrtype::IXFR) {
            rcode = dns::Rcode::Refused;  // no zone transfers from the edge
        } else {
            flags |= dns::flag::AA;
            const debug::Name which = node == nullptr ? debug::name_of(q) : debug::Name::None;
            if (which == debug::Name::Country ||
                (which == debug::Name::Status && debug::status_allowed(id, client.addr))) {
                answer_debug_name(r, ctx, client, q, zone, which, ecs_scope);
            } else if (node == nullptr) {
                rcode = dns::Rcode::NxDomain;
                write_negative_soa(r, img, q, zone);
            } else if (q.qtype == dns::rrtype::ANY) {
                const uint32_t ttl =
                    img.rrset(img.zones()[static_cast<size_t>(zone)].soa_rrset).ttl;
                const size_t at =
                    r.rr_begin(kQnameOffset, dns::rrtype::HINFO, dns::rrclass::IN, ttl);
                r.writer().bytes(kRfc8482Hinfo);
                r.rr_end(at);
                r.an_ = 1;
            } else if (found.rrset == 0) {
                ecs_scope = found.ecs_scope;
                write_negative_soa(r, img, q, zone);  // NODATA
            } else {
                ecs_scope = found.ecs_scope;
                const RRset& rs = img.rrset(found.rrset);
                if (rs.type == dns::rrtype::A || rs.type == dns::rrtype::AAAA) {
                    // resolve()'s generator, whose first words it prefetched for; the
                    // context's when the query was resolved here.
                    base::Rng staged = found.rng;
                    write_addresses(r, img, rs, p.res.done ? staged : *ctx.rng);
                } else {
                    write_rrset(r, img, rs, kQnameOffset, rs.ttl);
                    r.an_ = static_cast<uint16_t>(rs.count);
                }
            }
        }
    }

    if (!r.writer().ok()) {
        r.truncate();
    }
    res.rcode = rcode;
    res.truncated = r.truncated();
    const auto rcode_bits = static_cast<uint16_t>(static_cast<uint16_t>(rcode) & 0xF);
    if (q.edns.present) {
        const auto ext = static_cast<uint8_t>(static_cast<uint16_t>(rcode) >> 4);
        uint8_t opt_buf[kOptBufSize];
        const size_t n = build_opt(ctx, q, client.addr, ext, ecs_scope, opt_buf);
        res.size = static_cast<uint16_t>(r.finish(static_cast<uint16_t>(flags | rcode_bits),
                                                  std::span<const uint8_t>(opt_buf, n)));
    } else {
        res.size = static_cast<uint16_t>(r.finish(static_cast<uint16_t>(flags | rcode_bits), {}));
    }
    return res;
}

uint16_t truncate_to_question(std::span<uint8_t> response, const Parsed& p) noexcept {
    const uint16_t end = p.q.question_end;
    if (end <= dns::kHeaderSize || response.size() < end) {
        return 0;
    }
    response[2] |= 0x02;                     // TC
    std::memset(response.data() + 6, 0, 6);  // ANCOUNT, NSCOUNT, ARCOUNT
    return end;
}

}  // namespace pooledge::engine
