// libFuzzer target: parsers that read files an operator supplies: a GeoIP database (our
// walk of the MMDB search tree over libmaxminddb) and the YAML configuration. The first byte
// picks which; the rest is written to a file and read back through the real entry point.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include "pooledge/base/input_error.hpp"
#include "pooledge/control/config.hpp"
#include "pooledge/control/geoip.hpp"

using namespace pooledge::control;
namespace base = pooledge::base;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1) {
        return 0;
    }
    static const std::string path = "/tmp/pooledge-fuzz-files-" + std::to_string(::getpid());
    FILE* f = std::fopen(path.c_str(), "wb");
    if (f == nullptr) {
        return 0;
    }
    std::fwrite(data + 1, 1, size - 1, f);
    std::fclose(f);
    try {
        if (data[0] % 2 == 0) {
            (void)read_geoip({.path = path});
        } else {
            (void)load_config(path);
        }
    } catch (const base::InputError&) {
    }
    return 0;
}
