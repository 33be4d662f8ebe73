#include "pooledge/dns/dname.hpp"

#include <array>

#include "pooledge/dns/protocol.hpp"

namespace pooledge::dns {

uint64_t name_hash(std::span<const uint8_t> name) noexcept {
    std::array<uint8_t, kMaxNameLen + 8> padded{};
    const size_t len = name.size() < kMaxNameLen ? name.size() : kMaxNameLen;
    std::memcpy(padded.data(), name.data(), len);
    return name_hash_padded(padded.data(), len);
}

void fold_name(std::span<uint8_t> name) noexcept {
    for (auto& c : name) {
        c = fold_byte(c);
    }
}

bool is_valid_wire_name(std::span<const uint8_t> name) noexcept {
    if (name.empty() || name.size() > kMaxNameLen) {
        return false;
    }
    size_t pos = 0;
    while (pos < name.size()) {
        const uint8_t len = name[pos];
        if (len == 0) {
            return pos + 1 == name.size();
        }
        if (len > kMaxLabelLen || pos + 1 + len >= name.size()) {
            return false;
        }
        pos += 1 + len;
    }
    return false;
}

std::optional<std::vector<uint8_t>> name_from_text(std::string_view text) {
    if (text == ".") {
        return std::vector<uint8_t>{0};
    }
    if (!text.empty() && text.back() == '.') {
        text.remove_suffix(1);
    }
    if (text.empty()) {
        return std::nullopt;
    }
    std::vector<uint8_t> out;
    size_t start = 0;
    while (start <= text.size()) {
        size_t dot = text.find('.', start);
        if (dot == std::string_view::npos) {
            dot = text.size();
        }
        const size_t len = dot - start;
        if (len == 0 || len > kMaxLabelLen) {
            return std::nullopt;
        }
        out.push_back(static_cast<uint8_t>(len));
        out.insert(out.end(), text.begin() + static_cast<ptrdiff_t>(start),
                   text.begin() + static_cast<ptrdiff_t>(dot));
        start = dot + 1;
    }
    out.push_back(0);
    if (out.size() > kMaxNameLen) {
        return std::nullopt;
    }
    return out;
}

std::string name_to_text(std::span<const uint8_t> wire) {
    std::string out;
    size_t pos = 0;
    while (pos < wire.size() && wire[pos] != 0) {
        const uint8_t len = wire[pos];
        if (pos + 1 + len > wire.size()) {
            break;
        }
        for (size_t i = 0; i < len; ++i) {
            const auto c = static_cast<char>(wire[pos + 1 + i]);
            if (c == '.' || c == '\\') {
                out.push_back('\\');
            }
            out.push_back(c);
        }
        out.push_back('.');
        pos += 1 + len;
    }
    return out.empty() ? "." : out;
}

bool name_is_subdomain(std::span<const uint8_t> name, std::span<const uint8_t> suffix) noexcept {
    if (suffix.size() > name.size()) {
        return false;
    }
    // Walk name's labels until the remainder is as long as the suffix: only then is the
    // comparison at a label boundary.
    size_t pos = 0;
    while (pos < name.size() && name.size() - pos > suffix.size()) {
        pos += 1 + name[pos];
    }
    return pos <= name.size() && name.size() - pos == suffix.size() &&
           std::memcmp(name.data() + pos, suffix.data(), suffix.size()) == 0;
}

}  // namespace pooledge::dns
