// libFuzzer target: the registry parsers and what runs on their output. The first byte picks
// the input kind, the rest is the document: pool data (then the pool compiler, and the image
// compiler behind it), a score feed (merged into a fixed pool), or geodns zone JSON (then the
// image compiler). Bad input may only ever end in base::InputError.
#include <cstdint>
#include <string_view>

#include "pooledge/base/input_error.hpp"
#include "pooledge/control/geodns_json.hpp"
#include "pooledge/control/image_build.hpp"
#include "pooledge/control/pool_compiler.hpp"
#include "pooledge/control/pool_data.hpp"

using namespace pooledge::control;
namespace base = pooledge::base;

namespace {

const pooledge::image::SigningKey& key() {
    static const auto k = pooledge::image::SigningKey::generate();
    return *k;
}

void build(pooledge::image::ZoneModel zone) {
    ImageInputs in;
    in.zones.push_back(std::move(zone));
    in.serial = 1;
    in.build_time = 1;
    (void)build_signed_image(in, key());
}

constexpr std::string_view kPool = R"({"schema":1,"generated":1000,"settings":{"ns":["a.example"],
"contact":"h@example.org"},"servers":[{"id":1,"ip":"11.0.0.1","netspeed":1000,"score":20,
"zones":["de"],"in_pool":true},{"id":2,"ip":"2a00::1","netspeed":1000,"score":20,"zones":["de"],
"in_pool":true}]})";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1) {
        return 0;
    }
    const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
    try {
        switch (data[0] % 3) {
            case 0: {
                const PoolData d = parse_pool_data(text, "fuzz");
                PoolCompileOptions o;
                o.now = 1000;
                build(compile_pool(d, o).zone);
                break;
            }
            case 1: {
                PoolData d = parse_pool_data(kPool, "fixed");
                (void)apply_scores(d, parse_score_feed(text, "fuzz"));
                break;
            }
            default:
                build(parse_geodns_zone(text, "pool.ntp.org", "fuzz").zone);
                break;
        }
    } catch (const base::InputError&) {
    }
    return 0;
}
