#include "pooledge/dataplane/worker/stats.hpp"

#include "pooledge/dns/protocol.hpp"

namespace pooledge::dataplane {

namespace {
constexpr uint16_t kQtypes[] = {dns::rrtype::A,   dns::rrtype::AAAA, dns::rrtype::NS,
                                dns::rrtype::SOA, dns::rrtype::MX,   dns::rrtype::TXT,
                                dns::rrtype::ANY, dns::rrtype::CNAME};
constexpr const char* kQtypeNames[] = {"A",   "AAAA", "NS",    "SOA",  "MX",
                                       "TXT", "ANY",  "CNAME", "other"};
constexpr const char* kRcodeNames[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP",
                                       "REFUSED", "BADVERS", "NOTAUTH",  "other"};
}  // namespace

size_t qtype_slot(uint16_t qtype) noexcept {
    for (size_t i = 0; i < std::size(kQtypes); ++i) {
        if (kQtypes[i] == qtype) {
            return i;
        }
    }
    return kQtypeSlots - 1;
}

const char* qtype_slot_name(size_t slot) noexcept {
    return kQtypeNames[slot];
}

size_t rcode_slot(dns::Rcode rcode) noexcept {
    const auto r = static_cast<uint16_t>(rcode);
    if (r <= 5) {
        return r;
    }
    return rcode == dns::Rcode::BadVers ? 6 : rcode == dns::Rcode::NotAuth ? 7 : 8;
}

const char* rcode_slot_name(size_t slot) noexcept {
    return kRcodeNames[slot];
}

}  // namespace pooledge::dataplane
