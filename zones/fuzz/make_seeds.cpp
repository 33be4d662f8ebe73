// Writes the seed corpora of the fuzz targets: real queries of every kind the engine handles,
// and a real image.
#include <filesystem>
#include <fstream>
#include <iostream>

#include "fuzz_common.hpp"
#include "test_util.hpp"

using namespace pooledge::base;
using namespace pooledge::dns;
using namespace pooledge::image;
using namespace pooledge::engine;
namespace fuzz = pooledge::fuzz;
namespace fs = std::filesystem;

namespace {

void write(const fs::path& file, const std::vector<uint8_t>& bytes) {
    std::ofstream out(file, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()),
              static_cast<std::streamsize>(bytes.size()));
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::cerr << "usage: fuzz_seeds DIR\n";
        return 2;
    }
    const fs::path dir = argv[1];
    fs::create_directories(dir / "query");
    fs::create_directories(dir / "image");
    fs::create_directories(dir / "ntp");
    using pooledge::testkit::make_query;
    const std::vector<std::vector<uint8_t>> queries = {
        make_query("0.pool.ntp.org"),
        make_query("2.pool.ntp.org", {.qtype = rrtype::AAAA}),
        make_query("pool.ntp.org", {.qtype = rrtype::SOA, .edns = true}),
        make_query("pool.ntp.org", {.qtype = rrtype::ANY}),
        make_query("nx.pool.ntp.org", {.edns = true, .nsid = true}),
        make_query("0.vendor0.pool.ntp.org", {.edns = true, .ecs = "81.0.0.0/16"}),
        make_query("de.pool.ntp.org", {.edns = true, .ecs = "2a01::/32"}),
        make_query("id.server", {.qtype = rrtype::TXT, .qclass = rrclass::CH}),
        make_query("pool.ntp.org", {.edns = true, .cookie = std::vector<uint8_t>(24, 3)}),
        make_query("pool.ntp.org", {.edns = true, .version = 1}),
        make_query("example.com"),
        // geodns's debug names (engine/src/debug_names.hpp).
        make_query("_country.pool.ntp.org",
                   {.qtype = rrtype::TXT, .edns = true, .ecs = "81.0.0.0/16"}),
        make_query("_STATUS.pool.ntp.org", {.qtype = rrtype::TXT}),
    };
    for (size_t i = 0; i < queries.size(); ++i) {
        write(dir / "query" / ("seed-" + std::to_string(i)), queries[i]);
    }
    write(dir / "image" / "seed-pool", fuzz::small_pool_image());
    // NTP requests (first byte: LI/VN/mode), the fuzz input being the two-byte source port
    // and the UDP payload: v4, v3 and v1 clients, mode 6 READVAR, mode 7 MON_GETLIST, an
    // extension field, a MAC.
    const auto ntp = [](uint8_t lvm, size_t trailer) {
        std::vector<uint8_t> p(2 + 48 + trailer, 0);
        p[0] = 0x9C;  // source port 40000
        p[1] = 0x40;
        p[2] = lvm;
        if (trailer >= 16) {
            p[2 + 48 + 3] = static_cast<uint8_t>(trailer == 20 ? 0 : trailer);
        }
        return p;
    };
    const std::vector<std::vector<uint8_t>> ntps = {ntp(0x23, 0), ntp(0x1B, 0), ntp(0x08, 0),
                                                    ntp(0x16, 0), ntp(0x17, 0), ntp(0x23, 28),
                                                    ntp(0x23, 20)};
    for (size_t i = 0; i < ntps.size(); ++i) {
        write(dir / "ntp" / ("seed-" + std::to_string(i)), ntps[i]);
    }
    std::cout << "wrote " << queries.size() << " query seeds, 1 image seed and " << ntps.size()
              << " NTP seeds to " << dir << "\n";
    return 0;
}
