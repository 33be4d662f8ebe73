#include "stats.hpp"

#include "pooledge/zones/dns.hpp"

namespace pooledge::dataplane {

namespace {
constexpr uint16_t kQtypes[] = {zones::rrtype::A,   zones::rrtype::AAAA, zones::rrtype::NS,
                                zones::rrtype::SOA, zones::rrtype::MX,   zones::rrtype::TXT,
                                zones::rrtype::ANY, zones::rrtype::CNAME};
constexpr const char* kQtypeNames[] = {"A",   "AAAA", "NS",    "SOA",  "MX",
                                       "TXT", "ANY",  "CNAME", "other"};
constexpr const char* kRcodeNames[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
                                       "NOTIMP",  "REFUSED", "BADVERS",  "other"};
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

size_t rcode_slot(zones::Rcode rcode) noexcept {
    const auto r = static_cast<uint16_t>(rcode);
    if (r <= 5) {
        return r;
    }
    return rcode == zones::Rcode::BadVers ? 6 : 7;
}

const char* rcode_slot_name(size_t slot) noexcept {
    return kRcodeNames[slot];
}

}  // namespace pooledge::dataplane
