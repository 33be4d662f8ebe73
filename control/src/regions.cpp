#include "pooledge/control/regions.hpp"

#include <cctype>
#include <string>

#include "pooledge/image/countries.hpp"

namespace pooledge::control {

std::vector<image::RegionModel> pool_regions() {
    std::vector<image::RegionModel> out;
    for (const auto c : image::continents()) {
        out.push_back({std::string(c), "", image::RegionKind::Continent});
    }
    for (const auto& c : image::countries()) {
        out.push_back(
            {std::string(c.code), std::string(c.client_continent), image::RegionKind::Country});
    }
    return out;
}

std::vector<std::string> pool_zones() {
    std::vector<std::string> out = {"@"};
    for (const auto c : image::continents()) {
        out.emplace_back(c);
    }
    for (const auto& c : image::countries()) {
        out.push_back(country_zone(c.code));
    }
    return out;
}

std::string country_region(std::string_view iso_code) {
    const image::CountryInfo* c = image::find_country(iso_code);
    return c != nullptr ? std::string(c->code) : std::string();
}

std::string country_zone(std::string_view iso_code) {
    const std::string code = country_region(iso_code);
    return code == "gb" ? "uk" : code;
}

std::string continent_zone(std::string_view code) {
    static constexpr std::pair<std::string_view, std::string_view> kCodes[] = {
        {"AF", "africa"},        {"AN", "antarctica"}, {"AS", "asia"},         {"EU", "europe"},
        {"NA", "north-america"}, {"OC", "oceania"},    {"SA", "south-america"}};
    for (const auto& [c, name] : kCodes) {
        if (code.size() == 2 && std::toupper(static_cast<unsigned char>(code[0])) == c[0] &&
            std::toupper(static_cast<unsigned char>(code[1])) == c[1]) {
            return std::string(name);
        }
    }
    return {};
}

}  // namespace pooledge::control
