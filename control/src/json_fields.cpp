#include "json_fields.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>

#include "pooledge/dns/dname.hpp"

namespace pooledge::control::json_fields {

json parse_document(std::string_view text, const std::string& source) {
    try {
        return json::parse(text.begin(), text.end());
    } catch (const json::parse_error& e) {
        // e.byte is 1-based and points just past the offending character.
        size_t line = 1, col = 1;
        const size_t end = std::min<size_t>(e.byte == 0 ? 0 : e.byte - 1, text.size());
        for (size_t i = 0; i < end; ++i) {
            if (text[i] == '\n') {
                ++line;
                col = 1;
            } else {
                ++col;
            }
        }
        const bool truncated = e.byte >= text.size();
        throw base::InputError(
            "json", source + ":" + std::to_string(line) + ":" + std::to_string(col) + ": " +
                        (truncated ? "truncated JSON" : "invalid JSON") + " (" + e.what() + ")");
    }
}

std::string type_name(const json& v) {
    if (v.is_number_integer() || v.is_number_unsigned()) {
        return "an integer";
    }
    if (v.is_number_float()) {
        return "a number";
    }
    if (v.is_string()) {
        return "a string";
    }
    if (v.is_boolean()) {
        return "a boolean";
    }
    if (v.is_null()) {
        return "null";
    }
    return v.is_array() ? "an array" : "an object";
}

void fail(const std::string& reason, const std::string& path, const std::string& what) {
    throw base::InputError(reason, path + ": " + what);
}

const json& require(const json& obj, const char* key, const std::string& path) {
    const auto it = obj.find(key);
    if (it == obj.end()) {
        fail("schema", path.empty() ? key : path + "." + key, "missing");
    }
    return *it;
}

const json* optional(const json& obj, const char* key) {
    const auto it = obj.find(key);
    return it == obj.end() || it->is_null() ? nullptr : &*it;
}

const json& expect_object(const json& v, const std::string& path) {
    if (!v.is_object()) {
        fail("schema", path, "expected an object, found " + type_name(v));
    }
    return v;
}

const json& expect_array(const json& v, const std::string& path) {
    if (!v.is_array()) {
        fail("schema", path, "expected an array, found " + type_name(v));
    }
    return v;
}

std::string expect_string(const json& v, const std::string& path) {
    if (!v.is_string()) {
        fail("schema", path, "expected a string, found " + type_name(v));
    }
    return v.get<std::string>();
}

bool expect_bool(const json& v, const std::string& path) {
    if (!v.is_boolean()) {
        fail("schema", path, "expected true or false, found " + type_name(v));
    }
    return v.get<bool>();
}

double expect_number(const json& v, const std::string& path) {
    if (!v.is_number()) {
        fail("schema", path, "expected a number, found " + type_name(v));
    }
    const double d = v.get<double>();
    if (!std::isfinite(d)) {
        fail("value", path, "not a finite number");
    }
    return d;
}

int64_t expect_int(const json& v, const std::string& path, int64_t lo, int64_t hi) {
    int64_t value = 0;
    if (v.is_number_unsigned()) {
        const uint64_t u = v.get<uint64_t>();
        value = u > static_cast<uint64_t>(INT64_MAX) ? INT64_MAX : static_cast<int64_t>(u);
    } else if (v.is_number_integer()) {
        value = v.get<int64_t>();
    } else if (v.is_number_float() && std::trunc(v.get<double>()) == v.get<double>() &&
               std::fabs(v.get<double>()) < 9e15) {
        value = static_cast<int64_t>(v.get<double>());
    } else {
        fail("schema", path, "expected an integer, found " + type_name(v));
    }
    if (value < lo || value > hi) {
        fail("value", path,
             std::to_string(value) + " is outside " + std::to_string(lo) + ".." +
                 std::to_string(hi));
    }
    return value;
}

int64_t lenient_int(const json& v, const std::string& path, int64_t lo, int64_t hi) {
    if (!v.is_string()) {
        return expect_int(v, path, lo, hi);
    }
    const std::string s = v.get<std::string>();
    int64_t value = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (s.empty() || ec != std::errc{} || end != s.data() + s.size()) {
        fail("value", path, "'" + s + "' is not an integer");
    }
    if (value < lo || value > hi) {
        fail("value", path,
             std::to_string(value) + " is outside " + std::to_string(lo) + ".." +
                 std::to_string(hi));
    }
    return value;
}

std::string expect_dns_name(const json& v, const std::string& path) {
    std::string text = expect_string(v, path);
    while (!text.empty() && text.back() == '.') {
        text.pop_back();
    }
    if (text.empty() || !dns::name_from_text(text)) {
        fail("value", path, "'" + v.get<std::string>() + "' is not a valid domain name");
    }
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return text;
}

// "hostmaster@pool.ntp.org" -> "hostmaster.pool.ntp.org"; a name form passes through.
std::string contact_to_rname(const json& v, const std::string& path) {
    const std::string text = expect_string(v, path);
    const auto atsign = text.find('@');
    if (atsign == std::string::npos) {
        return expect_dns_name(v, path);
    }
    const std::string local = text.substr(0, atsign);
    if (local.empty() || local.find('.') != std::string::npos) {
        fail("value", path,
             "'" + text +
                 "': the mailbox part must be non-empty and contain no '.' (an SOA "
                 "RNAME cannot express it without escapes)");
    }
    return expect_dns_name(json(local + "." + text.substr(atsign + 1)), path);
}

}  // namespace pooledge::control::json_fields
