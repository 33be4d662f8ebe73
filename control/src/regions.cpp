#include "pooledge/control/regions.hpp"

#include <cctype>

#include "pooledge/image/countries.hpp"

namespace pooledge::control {

std::vector<image::RegionModel> pool_regions() {
    std::vector<image::RegionModel> out;
    for (const auto c : image::continents()) {
        out.push_back({std::string(c), ""});
    }
    for (const auto& c : image::countries()) {
        out.push_back({country_zone(c.code), std::string(c.continent)});
    }
    return out;
}

std::string country_zone(std::string_view iso_code) {
    if (iso_code.size() != 2) {
        return {};
    }
    std::string code;
    for (const char c : iso_code) {
        code.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    }
    if (image::continent_of(code).empty()) {
        return {};
    }
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
