#include "pooledge/image/countries.hpp"

#include <algorithm>
#include <array>

namespace pooledge::image {
namespace {

constexpr std::string_view kContinents[] = {"africa",        "antarctica", "asia",         "europe",
                                            "north-america", "oceania",    "south-america"};

// Sorted by code for binary search. Continents as MaxMind and ip-location-db assign them
// (Turkey, Cyprus and the Caucasus in Asia; Russia in Europe).
constexpr CountryInfo kCountries[] = {
    {"ad", "europe"},        {"ae", "asia"},          {"af", "asia"},
    {"ag", "north-america"}, {"ai", "north-america"}, {"al", "europe"},
    {"am", "asia"},          {"ao", "africa"},        {"aq", "antarctica"},
    {"ar", "south-america"}, {"as", "oceania"},       {"at", "europe"},
    {"au", "oceania"},       {"aw", "north-america"}, {"ax", "europe"},
    {"az", "asia"},          {"ba", "europe"},        {"bb", "north-america"},
    {"bd", "asia"},          {"be", "europe"},        {"bf", "africa"},
    {"bg", "europe"},        {"bh", "asia"},          {"bi", "africa"},
    {"bj", "africa"},        {"bl", "north-america"}, {"bm", "north-america"},
    {"bn", "asia"},          {"bo", "south-america"}, {"bq", "north-america"},
    {"br", "south-america"}, {"bs", "north-america"}, {"bt", "asia"},
    {"bv", "antarctica"},    {"bw", "africa"},        {"by", "europe"},
    {"bz", "north-america"}, {"ca", "north-america"}, {"cd", "africa"},
    {"cf", "africa"},        {"cg", "africa"},        {"ch", "europe"},
    {"ci", "africa"},        {"ck", "oceania"},       {"cl", "south-america"},
    {"cm", "africa"},        {"cn", "asia"},          {"co", "south-america"},
    {"cr", "north-america"}, {"cu", "north-america"}, {"cv", "africa"},
    {"cw", "north-america"}, {"cy", "asia"},          {"cz", "europe"},
    {"de", "europe"},        {"dj", "africa"},        {"dk", "europe"},
    {"dm", "north-america"}, {"do", "north-america"}, {"dz", "africa"},
    {"ec", "south-america"}, {"ee", "europe"},        {"eg", "africa"},
    {"eh", "africa"},        {"er", "africa"},        {"es", "europe"},
    {"et", "africa"},        {"fi", "europe"},        {"fj", "oceania"},
    {"fk", "south-america"}, {"fm", "oceania"},       {"fo", "europe"},
    {"fr", "europe"},        {"ga", "africa"},        {"gb", "europe"},
    {"gd", "north-america"}, {"ge", "asia"},          {"gf", "south-america"},
    {"gg", "europe"},        {"gh", "africa"},        {"gi", "europe"},
    {"gl", "north-america"}, {"gm", "africa"},        {"gn", "africa"},
    {"gp", "north-america"}, {"gq", "africa"},        {"gr", "europe"},
    {"gs", "antarctica"},    {"gt", "north-america"}, {"gu", "oceania"},
    {"gw", "africa"},        {"gy", "south-america"}, {"hk", "asia"},
    {"hm", "antarctica"},    {"hn", "north-america"}, {"hr", "europe"},
    {"ht", "north-america"}, {"hu", "europe"},        {"id", "asia"},
    {"ie", "europe"},        {"il", "asia"},          {"im", "europe"},
    {"in", "asia"},          {"io", "asia"},          {"iq", "asia"},
    {"ir", "asia"},          {"is", "europe"},        {"it", "europe"},
    {"je", "europe"},        {"jm", "north-america"}, {"jo", "asia"},
    {"jp", "asia"},          {"ke", "africa"},        {"kg", "asia"},
    {"kh", "asia"},          {"ki", "oceania"},       {"km", "africa"},
    {"kn", "north-america"}, {"kp", "asia"},          {"kr", "asia"},
    {"kw", "asia"},          {"ky", "north-america"}, {"kz", "asia"},
    {"la", "asia"},          {"lb", "asia"},          {"lc", "north-america"},
    {"li", "europe"},        {"lk", "asia"},          {"lr", "africa"},
    {"ls", "africa"},        {"lt", "europe"},        {"lu", "europe"},
    {"lv", "europe"},        {"ly", "africa"},        {"ma", "africa"},
    {"mc", "europe"},        {"md", "europe"},        {"me", "europe"},
    {"mf", "north-america"}, {"mg", "africa"},        {"mh", "oceania"},
    {"mk", "europe"},        {"ml", "africa"},        {"mm", "asia"},
    {"mn", "asia"},          {"mo", "asia"},          {"mp", "oceania"},
    {"mq", "north-america"}, {"mr", "africa"},        {"ms", "north-america"},
    {"mt", "europe"},        {"mu", "africa"},        {"mv", "asia"},
    {"mw", "africa"},        {"mx", "north-america"}, {"my", "asia"},
    {"mz", "africa"},        {"na", "africa"},        {"nc", "oceania"},
    {"ne", "africa"},        {"nf", "oceania"},       {"ng", "africa"},
    {"ni", "north-america"}, {"nl", "europe"},        {"no", "europe"},
    {"np", "asia"},          {"nr", "oceania"},       {"nu", "oceania"},
    {"nz", "oceania"},       {"om", "asia"},          {"pa", "north-america"},
    {"pe", "south-america"}, {"pf", "oceania"},       {"pg", "oceania"},
    {"ph", "asia"},          {"pk", "asia"},          {"pl", "europe"},
    {"pm", "north-america"}, {"pn", "oceania"},       {"pr", "north-america"},
    {"ps", "asia"},          {"pt", "europe"},        {"pw", "oceania"},
    {"py", "south-america"}, {"qa", "asia"},          {"re", "africa"},
    {"ro", "europe"},        {"rs", "europe"},        {"ru", "europe"},
    {"rw", "africa"},        {"sa", "asia"},          {"sb", "oceania"},
    {"sc", "africa"},        {"sd", "africa"},        {"se", "europe"},
    {"sg", "asia"},          {"sh", "africa"},        {"si", "europe"},
    {"sj", "europe"},        {"sk", "europe"},        {"sl", "africa"},
    {"sm", "europe"},        {"sn", "africa"},        {"so", "africa"},
    {"sr", "south-america"}, {"ss", "africa"},        {"st", "africa"},
    {"sv", "north-america"}, {"sx", "north-america"}, {"sy", "asia"},
    {"sz", "africa"},        {"tc", "north-america"}, {"td", "africa"},
    {"tf", "antarctica"},    {"tg", "africa"},        {"th", "asia"},
    {"tj", "asia"},          {"tk", "oceania"},       {"tl", "asia"},
    {"tm", "asia"},          {"tn", "africa"},        {"to", "oceania"},
    {"tr", "asia"},          {"tt", "north-america"}, {"tv", "oceania"},
    {"tw", "asia"},          {"tz", "africa"},        {"ua", "europe"},
    {"ug", "africa"},        {"um", "north-america"}, {"us", "north-america"},
    {"uy", "south-america"}, {"uz", "asia"},          {"va", "europe"},
    {"vc", "north-america"}, {"ve", "south-america"}, {"vg", "north-america"},
    {"vi", "north-america"}, {"vn", "asia"},          {"vu", "oceania"},
    {"wf", "oceania"},       {"ws", "oceania"},       {"xk", "europe"},
    {"ye", "asia"},          {"yt", "africa"},        {"za", "africa"},
    {"zm", "africa"},        {"zw", "africa"},
};

}  // namespace

std::span<const CountryInfo> countries() noexcept {
    return kCountries;
}

std::span<const std::string_view> continents() noexcept {
    return kContinents;
}

std::string_view continent_of(std::string_view country) noexcept {
    if (country.size() != 2) {
        return {};
    }
    const std::array<char, 2> lower = {static_cast<char>(country[0] | 0x20),
                                       static_cast<char>(country[1] | 0x20)};
    const std::string_view key(lower.data(), 2);
    const auto it =
        std::lower_bound(std::begin(kCountries), std::end(kCountries), key,
                         [](const CountryInfo& c, std::string_view k) { return c.code < k; });
    return it != std::end(kCountries) && it->code == key ? it->continent : std::string_view{};
}

}  // namespace pooledge::image
