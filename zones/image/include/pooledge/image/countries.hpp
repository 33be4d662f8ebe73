// ISO 3166-1 country codes and their continents, as GeoIP databases assign them, with the
// continent names the pool's zones use ("europe", "north-america", ...).
#pragma once

#include <span>
#include <string_view>

namespace pooledge::image {

struct CountryInfo {
    std::string_view code;       // lower case ISO 3166-1 alpha-2
    std::string_view continent;  // pool zone name of its continent
};

[[nodiscard]] std::span<const CountryInfo> countries() noexcept;
[[nodiscard]] std::span<const std::string_view> continents() noexcept;
// The continent zone of a country code (any case), or empty when unknown.
[[nodiscard]] std::string_view continent_of(std::string_view country) noexcept;

}  // namespace pooledge::image
