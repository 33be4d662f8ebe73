#include "pooledge/dns/message.hpp"

#include <algorithm>
#include <iterator>

#include "pooledge/base/ip.hpp"
#include "pooledge/dns/dname.hpp"
#include "pooledge/dns/protocol.hpp"
#include "pooledge/dns/wire.hpp"

namespace pooledge::dns {
namespace {

void put16(std::vector<uint8_t>& v, uint16_t x) {
    v.push_back(static_cast<uint8_t>(x >> 8));
    v.push_back(static_cast<uint8_t>(x));
}

}  // namespace

std::optional<std::vector<uint8_t>> build_query(const std::string& name, const QueryOptions& o) {
    std::vector<uint8_t> q;
    put16(q, o.id);
    put16(q, o.flags);
    put16(q, 1);
    put16(q, 0);
    put16(q, 0);
    put16(q, o.edns ? 1 : 0);
    // Keep the caller's case: name_from_text does not fold.
    const auto wire = name_from_text(name);
    if (!wire) {
        return std::nullopt;
    }
    q.insert(q.end(), wire->begin(), wire->end());
    put16(q, o.qtype);
    put16(q, o.qclass);
    if (o.edns) {
        std::vector<uint8_t> opts;
        if (o.nsid) {
            put16(opts, edns::NSID);
            put16(opts, 0);
        }
        if (o.ecs) {
            const auto prefix = base::IpPrefix::parse(*o.ecs);
            if (!prefix) {
                return std::nullopt;
            }
            const base::IpPrefix& p = *prefix;
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

std::optional<std::string> read_name(std::span<const uint8_t> msg, size_t& pos) {
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

Message decode(std::span<const uint8_t> msg) {
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
        m.qclass = static_cast<uint16_t>(msg[pos + 2] << 8 | msg[pos + 3]);
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
                base::IpAddress a;
                a.family = 4;
                std::copy(rec.rdata.begin(), rec.rdata.end(), a.bytes.begin());
                rec.text = a.to_string();
            } else if (rec.type == rrtype::AAAA && rdlen == 16) {
                base::IpAddress a;
                a.family = 6;
                std::copy(rec.rdata.begin(), rec.rdata.end(), a.bytes.begin());
                rec.text = a.to_string();
            } else if (rec.type == rrtype::NS || rec.type == rrtype::CNAME) {
                size_t p = rd_start;
                rec.text = read_name(msg, p).value_or("?");
            } else if (rec.type == rrtype::MX) {
                if (rdlen < 3) {
                    return false;  // a preference and at least the root name
                }
                size_t p = rd_start + 2;
                rec.text = std::to_string(msg[rd_start] << 8 | msg[rd_start + 1]) + " " +
                           read_name(msg, p).value_or("?");
            } else if (rec.type == rrtype::SOA) {
                size_t p = rd_start;
                const auto mname = read_name(msg, p).value_or("?");
                const auto rname = read_name(msg, p).value_or("?");
                rec.text = mname + " " + rname;
                if (p + 20 == rd_start + rdlen) {
                    WireReader nums(msg.subspan(p, 20));
                    for (int field = 0; field < 5; ++field) {
                        rec.text.append(" ").append(std::to_string(nums.u32()));
                    }
                }
            } else if (rec.type == rrtype::TXT && rdlen > 0) {
                if (1u + msg[rd_start] > rdlen) {
                    return false;  // the string claims more than the rdata holds
                }
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

namespace {

const char* type_name(uint16_t type) {
    switch (type) {
        case rrtype::A:
            return "A";
        case rrtype::NS:
            return "NS";
        case rrtype::CNAME:
            return "CNAME";
        case rrtype::SOA:
            return "SOA";
        case rrtype::HINFO:
            return "HINFO";
        case rrtype::MX:
            return "MX";
        case rrtype::TXT:
            return "TXT";
        case rrtype::AAAA:
            return "AAAA";
        case rrtype::OPT:
            return "OPT";
        case rrtype::ANY:
            return "ANY";
        default:
            return nullptr;
    }
}

std::string type_text(uint16_t type) {
    const char* name = type_name(type);
    return name != nullptr ? name : "TYPE" + std::to_string(type);
}

std::string class_text(uint16_t klass) {
    switch (klass) {
        case rrclass::IN:
            return "IN";
        case rrclass::CH:
            return "CH";
        default:
            return "CLASS" + std::to_string(klass);
    }
}

const char* rcode_text(uint16_t rcode) {
    static const char* const kNames[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
                                         "NOTIMP",  "REFUSED", "YXDOMAIN", "YXRRSET",
                                         "NXRRSET", "NOTAUTH", "NOTZONE"};
    if (rcode < std::size(kNames)) {
        return kNames[rcode];
    }
    return rcode == 16 ? "BADVERS" : "RESERVED";
}

std::string hex(std::span<const uint8_t> bytes) {
    static constexpr char kDigits[] = "0123456789ABCDEF";
    std::string out;
    for (const uint8_t b : bytes) {
        out.push_back(kDigits[b >> 4]);
        out.push_back(kDigits[b & 15]);
    }
    return out;
}

std::string rdata_text(const Record& r) {
    if (r.type == rrtype::TXT) {
        std::string out = "\"";
        for (const char c : r.text) {
            if (c == '"' || c == '\\') {
                out.push_back('\\');
            }
            out.push_back(c);
        }
        return out + "\"";
    }
    if (!r.text.empty()) {
        return r.text;
    }
    return "\\# " + std::to_string(r.rdata.size()) + " " + hex(r.rdata);
}

// ECS option body as dig shows it: address/source/scope.
std::string ecs_text(std::span<const uint8_t> o) {
    if (o.size() < 4) {
        return hex(o);
    }
    const uint16_t family = static_cast<uint16_t>(o[0] << 8 | o[1]);
    base::IpAddress a;
    a.family = family == 1 ? 4 : 6;
    const size_t n = std::min(o.size() - 4, size_t{a.family == 4 ? 4u : 16u});
    std::copy_n(o.begin() + 4, n, a.bytes.begin());
    return a.to_string() + "/" + std::to_string(o[2]) + "/" + std::to_string(o[3]);
}

void append_section(std::string& out, const char* title, const std::vector<Record>& rrs) {
    bool any = false;
    for (const Record& r : rrs) {
        if (r.type == rrtype::OPT) {
            continue;
        }
        if (!any) {
            out.append("\n;; ").append(title).append(" SECTION:\n");
            any = true;
        }
        out.append(r.owner)
            .append("\t")
            .append(std::to_string(r.ttl))
            .append("\t")
            .append(class_text(r.klass))
            .append("\t")
            .append(type_text(r.type))
            .append("\t")
            .append(rdata_text(r))
            .append("\n");
    }
}

}  // namespace

std::string to_dig_text(const Message& m) {
    std::string out;
    out.append(";; ->>HEADER<<- opcode: QUERY, status: ")
        .append(rcode_text(m.rcode))
        .append(", id: ")
        .append(std::to_string(m.id))
        .append("\n;; flags:");
    static const std::pair<uint16_t, const char*> kFlags[] = {
        {0x8000, "qr"}, {0x0400, "aa"}, {0x0200, "tc"}, {0x0100, "rd"}, {0x0080, "ra"}};
    for (const auto& [bit, name] : kFlags) {
        if ((m.flags & bit) != 0) {
            out.append(" ").append(name);
        }
    }
    size_t additional = m.additional.size();
    out.append("; QUERY: ")
        .append(m.qname.empty() ? "0" : "1")
        .append(", ANSWER: ")
        .append(std::to_string(m.answer.size()))
        .append(", AUTHORITY: ")
        .append(std::to_string(m.authority.size()))
        .append(", ADDITIONAL: ")
        .append(std::to_string(additional))
        .append("\n");
    if (m.has_opt) {
        out.append("\n;; OPT PSEUDOSECTION:\n; EDNS: version: 0, flags:; udp: ")
            .append(std::to_string(m.opt_udp))
            .append("\n");
        for (const auto& [code, body] : m.options) {
            if (code == edns::NSID) {
                out.append("; NSID: ")
                    .append(hex(body))
                    .append(" (\"")
                    .append(body.begin(), body.end())
                    .append("\")\n");
            } else if (code == edns::ECS) {
                out.append("; CLIENT-SUBNET: ").append(ecs_text(body)).append("\n");
            } else if (code == edns::COOKIE) {
                out.append("; COOKIE: ").append(hex(body)).append("\n");
            } else {
                out.append("; OPT=").append(std::to_string(code)).append(": ");
                out.append(hex(body)).append("\n");
            }
        }
    }
    if (!m.qname.empty()) {
        out.append("\n;; QUESTION SECTION:\n;")
            .append(m.qname)
            .append("\t\t")
            .append(class_text(m.qclass))
            .append("\t")
            .append(type_text(m.qtype))
            .append("\n");
    }
    append_section(out, "ANSWER", m.answer);
    append_section(out, "AUTHORITY", m.authority);
    append_section(out, "ADDITIONAL", m.additional);
    return out;
}

}  // namespace pooledge::dns
