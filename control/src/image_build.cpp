#include "pooledge/control/image_build.hpp"

#include <stdexcept>

#include "pooledge/base/input_error.hpp"
#include "pooledge/control/regions.hpp"

namespace pooledge::control {

std::vector<uint8_t> build_signed_image(const ImageInputs& in, const image::SigningKey& key) {
    const bool subdivisions = in.geo != nullptr && in.geo->stats.mapped_subdivision > 0;
    for (const image::ZoneModel& z : in.zones) {
        if ((z.targeting & (image::target::kRegion | image::target::kRegionGroup)) != 0 &&
            !subdivisions) {
            throw base::InputError(
                "value", "zone " + z.origin +
                             ": targeting region or regiongroup needs a GeoIP database with "
                             "subdivisions (a MaxMind City database); geoip.path locates no "
                             "network to one");
        }
    }
    image::ImageModel model;
    model.zones = in.zones;
    model.regions = pool_regions();
    if (in.geo != nullptr) {
        model.regions.insert(model.regions.end(), in.geo->regions.begin(), in.geo->regions.end());
        model.prefixes.reserve(in.geo->prefixes.size() + in.overrides.size());
        model.prefixes = in.geo->prefixes;
    }
    model.prefixes.insert(model.prefixes.end(), in.overrides.begin(), in.overrides.end());
    std::vector<uint8_t> image;
    try {
        image = image::compile_image(model, in.serial, in.build_time);
    } catch (const std::invalid_argument& e) {
        throw base::InputError("compile", std::string("compile: ") + e.what());
    }
    std::string why;
    if (!image::sign_image(image, key, &why)) {
        throw base::InputError("compile", "signing: " + why);
    }
    return image;
}

}  // namespace pooledge::control
