// Helpers for the zones tests: building queries, decoding responses, a small known zone.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "pooledge/zones/answer.hpp"
#include "pooledge/zones/dname.hpp"
#include "pooledge/zones/dns.hpp"
#include "pooledge/zones/image.hpp"
#include "pooledge/zones/model.hpp"
#include "pooledge/zones/wire.hpp"

namespace pooledge::zones::test {

struct QueryOptions {
    uint16_t id = 0x1234;
    uint16_t qtype = rrtype::A;
    uint16_t qclass = rrclass::IN;
    uint16_t flags = flag::RD;
    bool edns = false;
    uint16_t udp_size = 1232;
    uint8_t version = 0;
    bool nsid = false;
    bool dnssec_ok = false;
    std::optional<std::string> ecs{};  // "81.0.0.0/16"
    std::optional<std::vector<uint8_t>> cookie{};
};

inline void put16(std::vector<uint8_t>& v, uint16_t x) {
    v.push_back(static_cast<uint8_t>(x >> 8));
    v.push_back(static_cast<uint8_t>(x));
}

inline std::vector<uint8_t> make_query(const std::string& name, const QueryOptions& o = {}) {
    std::vector<uint8_t> q;
    put16(q, o.id);
    put16(q, o.flags);
    put16(q, 1);
    put16(q, 0);
    put16(q, 0);
    put16(q, o.edns ? 1 : 0);
    // Keep the caller's case: name_from_text does not fold.
    const auto wire = *name_from_text(name);
    q.insert(q.end(), wire.begin(), wire.end());
    put16(q, o.qtype);
    put16(q, o.qclass);
    if (o.edns) {
        std::vector<uint8_t> opts;
        if (o.nsid) {
            put16(opts, edns::NSID);
            put16(opts, 0);
        }
        if (o.ecs) {
            const auto p = *IpPrefix::parse(*o.ecs);
            const size_t n = (p.len + 7u) / 8u;
            put16(opts, edns::ECS);
            put16(opts, static_cast<uint16_t>(4 + n));
            put16(opts, p.addr.family == 4 ? 1 : 2);
            opts.push_back(p.len);
            opts.push_back(0);
            opts.insert(opts.end(), p.addr.bytes.begin(),
                        p.addr.bytes.begin() + static_cast<ptrdiff_t>(n));
        }
        if (o.cookie) {
            put16(opts, edns::COOKIE);
            put16(opts, static_cast<uint16_t>(o.cookie->size()));
            opts.insert(opts.end(), o.cookie->begin(), o.cookie->end());
        }
        q.push_back(0);
        put16(q, rrtype::OPT);
        put16(q, o.udp_size);
        q.push_back(0);
        q.push_back(o.version);
        put16(q, o.dnssec_ok ? 0x8000 : 0);
        put16(q, static_cast<uint16_t>(opts.size()));
        q.insert(q.end(), opts.begin(), opts.end());
    }
    return q;
}

struct Record {
    std::string owner;  // as written, case kept
    uint16_t type = 0;
    uint16_t klass = 0;
    uint32_t ttl = 0;
    std::vector<uint8_t> rdata;  // names inside rdata are decompressed
    std::string text;            // A/AAAA address, names for NS/CNAME/MX/SOA, TXT string
};

struct Message {
    uint16_t id = 0;
    uint16_t flags = 0;
    uint16_t rcode = 0;  // with the OPT's extended bits
    std::string qname;
    uint16_t qtype = 0;
    std::vector<Record> answer, authority, additional;
    bool has_opt = false;
    uint16_t opt_udp = 0;
    std::vector<std::pair<uint16_t, std::vector<uint8_t>>> options;
    bool ok = false;
};

// Reads a possibly compressed name at `pos` (pointer loops and forward pointers fail).
inline std::optional<std::string> read_name(std::span<const uint8_t> msg, size_t& pos) {
    std::string out;
    size_t p = pos;
    bool jumped = false;
    for (int guard = 0; guard < 128; ++guard) {
        if (p >= msg.size()) {
            return std::nullopt;
        }
        const uint8_t len = msg[p];
        if ((len & 0xC0) == 0xC0) {
            if (p + 1 >= msg.size()) {
                return std::nullopt;
            }
            const size_t target = (len & 0x3F) << 8 | msg[p + 1];
            if (target >= p) {
                return std::nullopt;
            }
            if (!jumped) {
                pos = p + 2;
            }
            jumped = true;
            p = target;
            continue;
        }
        if (len == 0) {
            if (!jumped) {
                pos = p + 1;
            }
            return out.empty() ? "." : out;
        }
        if (p + 1 + len > msg.size()) {
            return std::nullopt;
        }
        out.append(reinterpret_cast<const char*>(msg.data() + p + 1), len);
        out.push_back('.');
        p += 1 + len;
    }
    return std::nullopt;
}

inline Message decode(std::span<const uint8_t> msg) {
    Message m;
    WireReader r(msg);
    m.id = r.u16();
    m.flags = r.u16();
    m.rcode = m.flags & 0xF;
    const uint16_t qd = r.u16(), an = r.u16(), ns = r.u16(), ar = r.u16();
    if (!r.ok()) {
        return m;
    }
    size_t pos = 12;
    if (qd == 1) {
        auto n = read_name(msg, pos);
        if (!n || pos + 4 > msg.size()) {
            return m;
        }
        m.qname = *n;
        m.qtype = static_cast<uint16_t>(msg[pos] << 8 | msg[pos + 1]);
        pos += 4;
    }
    auto read_rrs = [&](uint16_t count, std::vector<Record>& into) -> bool {
        for (uint16_t i = 0; i < count; ++i) {
            Record rec;
            auto owner = read_name(msg, pos);
            if (!owner || pos + 10 > msg.size()) {
                return false;
            }
            rec.owner = *owner;
            WireReader h(msg.subspan(pos, 10));
            rec.type = h.u16();
            rec.klass = h.u16();
            rec.ttl = h.u32();
            const uint16_t rdlen = h.u16();
            pos += 10;
            if (pos + rdlen > msg.size()) {
                return false;
            }
            const size_t rd_start = pos;
            rec.rdata.assign(msg.begin() + static_cast<ptrdiff_t>(pos),
                             msg.begin() + static_cast<ptrdiff_t>(pos + rdlen));
            if (rec.type == rrtype::A && rdlen == 4) {
                IpAddress a;
                a.family = 4;
                std::copy(rec.rdata.begin(), rec.rdata.end(), a.bytes.begin());
                rec.text = a.to_string();
            } else if (rec.type == rrtype::AAAA && rdlen == 16) {
                IpAddress a;
                a.family = 6;
                std::copy(rec.rdata.begin(), rec.rdata.end(), a.bytes.begin());
                rec.text = a.to_string();
            } else if (rec.type == rrtype::NS || rec.type == rrtype::CNAME) {
                size_t p = rd_start;
                rec.text = read_name(msg, p).value_or("?");
            } else if (rec.type == rrtype::MX) {
                size_t p = rd_start + 2;
                rec.text = std::to_string(msg[rd_start] << 8 | msg[rd_start + 1]) + " " +
                           read_name(msg, p).value_or("?");
            } else if (rec.type == rrtype::SOA) {
                size_t p = rd_start;
                const auto mname = read_name(msg, p).value_or("?");
                const auto rname = read_name(msg, p).value_or("?");
                rec.text = mname + " " + rname;
            } else if (rec.type == rrtype::TXT && rdlen > 0) {
                rec.text.assign(reinterpret_cast<const char*>(msg.data() + rd_start + 1),
                                msg[rd_start]);
            }
            if (rec.type == rrtype::OPT) {
                m.has_opt = true;
                m.opt_udp = rec.klass;
                m.rcode = static_cast<uint16_t>(m.rcode | (rec.ttl >> 24) << 4);
                WireReader o(std::span<const uint8_t>(rec.rdata));
                while (o.remaining() > 0) {
                    const uint16_t code = o.u16();
                    const uint16_t len = o.u16();
                    const auto body = o.bytes(len);
                    if (!o.ok()) {
                        return false;
                    }
                    m.options.emplace_back(code, std::vector<uint8_t>(body.begin(), body.end()));
                }
            }
            pos += rdlen;
            into.push_back(std::move(rec));
        }
        return true;
    };
    m.ok = read_rrs(an, m.answer) && read_rrs(ns, m.authority) && read_rrs(ar, m.additional) &&
           pos == msg.size();
    return m;
}

// A small zone with known geography:
//   regions: europe > de, fr (fr has no servers); north-america > us
//   81.0.0.0/16 and 2a01::/16 are in Germany, 82.0.0.0/16 in France, 24.0.0.0/16 in the US,
//   10.1.0.0/16 is overridden to Germany (private space: only the packet source can use it).
inline ImageModel small_model() {
    ImageModel m;
    m.regions = {{"europe", ""},
                 {"de", "europe"},
                 {"fr", "europe"},
                 {"north-america", ""},
                 {"us", "north-america"}};
    m.prefixes = {{*IpPrefix::parse("81.0.0.0/16"), "de", false},
                  {*IpPrefix::parse("82.0.0.0/16"), "fr", false},
                  {*IpPrefix::parse("24.0.0.0/16"), "us", false},
                  {*IpPrefix::parse("2a01::/16"), "de", false},
                  {*IpPrefix::parse("10.1.0.0/16"), "de", true}};
    ZoneModel z;
    z.origin = "pool.ntp.org";
    z.soa =
        SoaRecord{"ns1.pool.ntp.org", "hostmaster.pool.ntp.org", 7, 5400, 5400, 1209600, 300, 1500};
    auto addrs = [](std::initializer_list<const char*> list) {
        std::vector<WeightedAddress> v;
        uint64_t w = 1000;
        for (const char* a : list) {
            v.push_back({*IpAddress::parse(a), w});
            w += 1000;
        }
        return v;
    };
    z.labels[""].a = addrs({"192.0.2.1", "192.0.2.2"});
    z.labels[""].ns = {"ns1.pool.ntp.org", "ns2.pool.ntp.org"};
    z.labels[""].mx = {MxRecord{0, "."}};
    z.labels["0"].a = addrs({"192.0.2.10", "192.0.2.11", "192.0.2.12", "192.0.2.13", "192.0.2.14"});
    z.labels["2"].aaaa = addrs({"2001:db8::10", "2001:db8::11"});
    z.labels["de"].a = addrs({"198.51.100.1", "198.51.100.2", "198.51.100.3"});
    z.labels["0.de"].a = addrs({"198.51.100.1", "198.51.100.2"});
    z.labels["2.de"].aaaa = addrs({"2001:db8:de::1"});
    z.labels["europe"].a = addrs({"198.51.100.1", "203.0.113.50"});
    z.labels["0.europe"].a = addrs({"203.0.113.50", "203.0.113.51"});
    z.labels["us"].a = addrs({"203.0.113.1"});
    z.labels["0.us"].a = addrs({"203.0.113.1"});
    z.labels["0.debian"].alias = "0";
    z.labels["www"].cname = "www.ntppool.org";
    z.labels["info"].txt = {"pooledge test zone"};
    std::vector<WeightedAddress> many;
    for (int i = 0; i < 32; ++i) {
        many.push_back({IpAddress::v4(0xC6120000u + static_cast<uint32_t>(i)), 1});
    }
    z.labels["many"].a = many;
    z.labels["many"].max_hosts = 32;
    m.zones.push_back(z);
    return m;
}

struct ImageHolder {
    std::vector<uint8_t> bytes;
    ImageView view;
};

inline ImageHolder load_small() {
    auto bytes = compile_image(small_model(), 2026112101, 1763740800);
    std::string why;
    auto view = ImageView::load(bytes, &why);
    if (!view) {
        throw std::runtime_error(why);
    }
    return ImageHolder{std::move(bytes), *view};
}

}  // namespace pooledge::zones::test
