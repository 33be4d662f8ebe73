// Typed, path-naming access to JSON documents (nlohmann::json), shared by the registry
// parsers. Every failure throws base::InputError naming the JSON path of the offending value.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "pooledge/base/input_error.hpp"

namespace pooledge::control::json_fields {

using nlohmann::json;

// Parses a whole document; a syntax error or truncation names the line and column.
[[nodiscard]] json parse_document(std::string_view text, const std::string& source);

[[nodiscard]] std::string type_name(const json& v);

[[noreturn]] void fail(const std::string& reason, const std::string& path, const std::string& what);

[[nodiscard]] const json& require(const json& obj, const char* key, const std::string& path);
[[nodiscard]] const json* optional(const json& obj, const char* key);

// Both return their argument, for chaining; the check is what matters.
const json& expect_object(const json& v, const std::string& path);
const json& expect_array(const json& v, const std::string& path);
[[nodiscard]] std::string expect_string(const json& v, const std::string& path);
[[nodiscard]] bool expect_bool(const json& v, const std::string& path);
[[nodiscard]] double expect_number(const json& v, const std::string& path);
// An integer in [lo, hi] (a JSON number with no fraction).
[[nodiscard]] int64_t expect_int(const json& v, const std::string& path, int64_t lo, int64_t hi);
// As geodns reads them: a number, or a string holding a decimal integer.
[[nodiscard]] int64_t lenient_int(const json& v, const std::string& path, int64_t lo, int64_t hi);

// A domain name in text (a trailing dot is optional), returned lower-case without it.
[[nodiscard]] std::string expect_dns_name(const json& v, const std::string& path);
// An SOA contact: "hostmaster@pool.ntp.org" or the name form "hostmaster.pool.ntp.org".
[[nodiscard]] std::string contact_to_rname(const json& v, const std::string& path);

}  // namespace pooledge::control::json_fields
