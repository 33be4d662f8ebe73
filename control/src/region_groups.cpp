#include "region_groups.hpp"

#include <string>

namespace pooledge::control {
namespace {

// Region groups as geodns's targeting knows them (countries/regiongroups.go): three parts of
// the United States, and Russia's federal districts. Each entry is a group and the ISO 3166-2
// subdivision codes (without the country prefix) it holds.
struct Group {
    std::string_view name;
    std::string_view members;  // space-separated subdivision codes
};

constexpr Group kGroups[] = {
    {"us-west", "ak az ca co hi id mt nm nv or ut wa wy"},
    {"us-central", "ar ia il in ks la mn mo nd ne ok sd tx wi"},
    {"us-east", "al ct dc de fl ga ky ma md me mi ms nc nh nj ny oh pa ri sc tn va vt wv"},
    {"ru-dfd", "amu bu chu kam kha mag pri sa sak yev zab"},          // Far Eastern
    {"ru-kfd", "ce da in kb kc se sta"},                              // North Caucasian
    {"ru-pfd", "ba cu kir me mo niz ore pnz per sam sar ta ud uly"},  // Volga
    {"ru-sfd", "alt al irk kem kk kya nvs oms tom ty"},               // Siberian
    {"ru-tfd", "bel bry iva klu kos krs lip mow mos orl rya smo tam tul tve vla vor yar"},
    {"ru-ufd", "che khm kgn sve tyu yan"},                    // Ural
    {"ru-vfd", "ark kgd kr ko len mur nen ngr psk spe vlg"},  // Northwestern
    {"ru-yfd", "ad ast kl kda ros vgg"},                      // Southern
};

bool holds(std::string_view members, std::string_view code) {
    size_t start = 0;
    while (start < members.size()) {
        const size_t end = std::min(members.find(' ', start), members.size());
        if (members.substr(start, end - start) == code) {
            return true;
        }
        start = end + 1;
    }
    return false;
}

}  // namespace

std::string_view region_group_of(std::string_view region) {
    // "us-ca": the country is the part before the dash, the subdivision the part after it.
    const size_t dash = region.find('-');
    if (dash == std::string_view::npos) {
        return {};
    }
    const std::string_view country = region.substr(0, dash);
    const std::string_view code = region.substr(dash + 1);
    for (const Group& g : kGroups) {
        if (g.name.substr(0, dash) == country && g.name[dash] == '-' && holds(g.members, code)) {
            return g.name;
        }
    }
    return {};
}

}  // namespace pooledge::control
