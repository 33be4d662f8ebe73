#include "json_fields.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <vector>

#include "pooledge/dns/dname.hpp"

namespace pooledge::control::json_fields {

namespace {

// Where the parser is, kept by a parser callback: "servers[3].score".
class PathTracker {
  public:
    bool on(json::parse_event_t event, const json& parsed) {
        switch (event) {
            case json::parse_event_t::object_start:
                frames_.push_back({false, 0, {}});
                break;
            case json::parse_event_t::array_start:
                frames_.push_back({true, 0, {}});
                break;
            case json::parse_event_t::key:
                frames_.back().key = parsed.get<std::string>();
                break;
            case json::parse_event_t::object_end:
            case json::parse_event_t::array_end:
                frames_.pop_back();
                next_element();
                break;
            case json::parse_event_t::value:
                next_element();
                break;
        }
        return true;
    }

    [[nodiscard]] std::string path() const {
        std::string out;
        for (const Frame& f : frames_) {
            if (f.array) {
                out += "[" + std::to_string(f.index) + "]";
            } else {
                out += (out.empty() ? "" : ".") + f.key;
            }
        }
        return out.empty() ? "(top level)" : out;
    }

  private:
    struct Frame {
        bool array;
        size_t index;
        std::string key;
    };

    void next_element() {
        if (!frames_.empty() && frames_.back().array) {
            ++frames_.back().index;
        }
    }

    std::vector<Frame> frames_;
};

// The JSON path of the value the parser refused with an out_of_range error (a number beyond
// a double's range): found by parsing again with a path-tracking callback, which only the
// error case pays for.
std::string path_of_failure(std::string_view text) {
    PathTracker tracker;
    try {
        const json unused =
            json::parse(text.begin(), text.end(),
                        [&tracker](int /*depth*/, json::parse_event_t event, json& parsed) {
                            return tracker.on(event, parsed);
                        });
    } catch (const json::exception&) {
        return tracker.path();
    }
    return "(top level)";
}

}  // namespace

json parse_document(std::string_view text, const std::string& source) {
    try {
        return json::parse(text.begin(), text.end());
    } catch (const json::out_of_range& e) {
        // "number overflow parsing '1e400'": valid JSON syntax, a value no double holds.
        throw base::InputError("value", source + ": " + path_of_failure(text) + ": " + e.what());
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
    } catch (const json::exception& e) {
        // Any other refusal of the parser is still bad input, never an escaped exception.
        throw base::InputError("json", source + ": " + e.what());
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
    const auto outside = [&] {
        fail("value", path,
             v.dump() + " is outside " + std::to_string(lo) + ".." + std::to_string(hi));
    };
    int64_t value = 0;
    if (v.is_number_unsigned()) {
        const uint64_t u = v.get<uint64_t>();
        if (u > static_cast<uint64_t>(INT64_MAX)) {
            outside();
        }
        value = static_cast<int64_t>(u);
    } else if (v.is_number_integer()) {
        value = v.get<int64_t>();
    } else if (v.is_number_float() && std::trunc(v.get<double>()) == v.get<double>()) {
        // 1e3, or an integer too large for 64 bits (the parser reads 2^64+1 as a double):
        // a whole number, so a range question, not a type one. Doubles beyond 2^53 are not
        // exact, but no field of ours allows them.
        const double d = v.get<double>();
        if (!(std::fabs(d) < 9e15)) {
            outside();
        }
        value = static_cast<int64_t>(d);
    } else {
        fail("schema", path, "expected an integer, found " + type_name(v));
    }
    if (value < lo || value > hi) {
        outside();
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
