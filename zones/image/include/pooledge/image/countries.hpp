// Country codes (ISO 3166-1 and the few more geodns knows) and their continents, with the
// continent names the pool's zones use ("europe", "north-america", ...). A country has two:
// the zone its servers join, and the one its clients fall back to (see countries.cpp).
#pragma once

#include <span>
#include <string_view>

namespace pooledge::image {

struct CountryInfo {
    std::string_view code;              // lower case ISO 3166-1 alpha-2
    std::string_view continent;         // the continent zone its servers are members of
    std::string_view client_continent;  // where its clients fall back to, as geodns does
};

[[nodiscard]] std::span<const CountryInfo> countries() noexcept;
[[nodiscard]] std::span<const std::string_view> continents() noexcept;
// The entry of a country code (any case), or null when unknown.
[[nodiscard]] const CountryInfo* find_country(std::string_view code) noexcept;
// The continent zone a server in `country` (any case) joins, or empty when unknown.
[[nodiscard]] std::string_view continent_of(std::string_view country) noexcept;
// The continent a client located in `country` falls back to, or empty when unknown.
[[nodiscard]] std::string_view client_continent_of(std::string_view country) noexcept;

}  // namespace pooledge::image
