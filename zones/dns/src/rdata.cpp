#include "pooledge/dns/rdata.hpp"

#include "pooledge/dns/protocol.hpp"

namespace pooledge::dns {

size_t wire_name_length(std::span<const uint8_t> data, size_t pos) noexcept {
    const size_t start = pos;
    while (pos < data.size()) {
        const uint8_t len = data[pos];
        if (len == 0) {
            const size_t total = pos + 1 - start;
            return total <= kMaxNameLen ? total : 0;
        }
        if (len > kMaxLabelLen) {
            return 0;
        }
        pos += 1 + len;
    }
    return 0;
}

RdataShape rdata_shape(uint16_t type) noexcept {
    switch (type) {
        case rrtype::SOA:
            return {0, 2, 20};
        case rrtype::MX:
            return {2, 1, 0};
        case rrtype::NS:
        case rrtype::CNAME:
            return {0, 1, 0};
        default:
            return {0, 0, 0};
    }
}

bool rdata_is_valid(uint16_t type, std::span<const uint8_t> rdata) noexcept {
    if (type == rrtype::A || type == rrtype::AAAA || type == rrtype::OPT) {
        return false;  // addresses live in the weighted sets, never as rdata
    }
    if (type == rrtype::TXT) {
        size_t pos = 0;
        while (pos < rdata.size()) {
            pos += 1 + rdata[pos];
        }
        return !rdata.empty() && pos == rdata.size();
    }
    const RdataShape shape = rdata_shape(type);
    if (shape.names == 0) {
        return true;
    }
    size_t pos = shape.prefix;
    for (unsigned i = 0; i < shape.names; ++i) {
        const size_t len = wire_name_length(rdata, pos);
        if (len == 0) {
            return false;
        }
        pos += len;
    }
    return pos + shape.suffix == rdata.size();
}

}  // namespace pooledge::dns
