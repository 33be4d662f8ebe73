#include "pooledge/control/signing_keys.hpp"

#include <algorithm>
#include <filesystem>
#include <sstream>

#include "pooledge/base/fd.hpp"
#include "pooledge/base/file_io.hpp"

namespace pooledge::control {
namespace {

std::optional<std::array<uint8_t, 32>> from_hex(const std::string& text) {
    if (text.size() != 64) {
        return std::nullopt;
    }
    std::array<uint8_t, 32> raw{};
    for (size_t i = 0; i < raw.size(); ++i) {
        int v = 0;
        for (const char c : {text[2 * i], text[2 * i + 1]}) {
            const int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
            if (d < 0) {
                return std::nullopt;
            }
            v = v * 16 + d;
        }
        raw[i] = static_cast<uint8_t>(v);
    }
    return raw;
}

std::optional<std::vector<std::array<uint8_t, 32>>> read_record(const std::string& path,
                                                                std::string* why) {
    std::vector<std::array<uint8_t, 32>> keys;
    std::string err;
    const auto bytes = base::read_file(path, 64 << 10, &err);
    if (!bytes) {
        std::error_code ec;
        if (!std::filesystem::exists(path, ec) && !ec) {
            return keys;  // nothing recorded yet
        }
        base::set_why(why, path + ": " + err);
        return std::nullopt;
    }
    std::istringstream in(std::string(bytes->begin(), bytes->end()));
    std::string line;
    for (size_t n = 1; std::getline(in, line); ++n) {
        const auto raw = from_hex(line);
        if (!raw) {
            base::set_why(why, path + ":" + std::to_string(n) + ": not a hex Ed25519 public key");
            return std::nullopt;
        }
        keys.push_back(*raw);
    }
    return keys;
}

}  // namespace

std::vector<image::TrustedKey> recorded_keys(const std::string& path, std::string* why) {
    std::vector<image::TrustedKey> out;
    if (const auto keys = read_record(path, why)) {
        for (const auto& raw : *keys) {
            out.push_back({raw, image::key_id_of(raw), path});
        }
    }
    return out;
}

bool record_key(const std::string& path, const std::array<uint8_t, 32>& key, std::string* why) {
    // A damaged record (restore warned about it) starts over with the current key.
    auto keys = read_record(path, nullptr).value_or(std::vector<std::array<uint8_t, 32>>{});
    if (!keys.empty() && keys.back() == key) {
        return true;
    }
    std::erase(keys, key);
    keys.push_back(key);
    if (keys.size() > kMaxRecordedKeys) {
        keys.erase(keys.begin(), keys.end() - kMaxRecordedKeys);
    }
    std::string text;
    for (const auto& k : keys) {
        text += image::to_hex(k) + "\n";
    }
    return base::write_file_atomic(
        path, {reinterpret_cast<const uint8_t*>(text.data()), text.size()}, why);
}

}  // namespace pooledge::control
