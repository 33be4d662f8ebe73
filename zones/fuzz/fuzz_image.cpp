// libFuzzer target: the image reader. The checksum is recomputed over the mutated input first,
// or nearly every input would stop there and the structural checks would go unfuzzed. Whatever
// the reader accepts is then queried: the fast path reads an accepted image without checks,
// so any image the validator lets through must be safe to answer from.
#include <cstring>
#include <vector>

#include "fuzz_common.hpp"
#include "pooledge/dns/dname.hpp"
#include "pooledge/image/reader.hpp"

using namespace pooledge::base;
using namespace pooledge::dns;
using namespace pooledge::image;
using namespace pooledge::engine;
namespace fuzz = pooledge::fuzz;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    // 8-byte aligned copy, as a mapped file would be.
    std::vector<uint64_t> storage((size + 7) / 8);
    auto* bytes = reinterpret_cast<uint8_t*>(storage.data());
    if (size > 0) {
        std::memcpy(bytes, data, size);
    }
    std::span<uint8_t> img(bytes, size);
    (void)seal_image_checksum(img);  // too short for a header: the reader says so
    std::string why;
    const auto view = ImageView::load(img, &why);
    if (!view) {
        if (why.empty()) {
            __builtin_trap();  // every refusal names its reason
        }
        return 0;
    }
    static const Identity identity = fuzz::fuzz_identity();
    Rng rng(7);
    AnswerContext ctx{&*view, &identity, &rng, 0};
    static const char* names[] = {"pool.ntp.org",    "0.pool.ntp.org",         "2.pool.ntp.org",
                                  "de.pool.ntp.org", "0.vendor0.pool.ntp.org", "x.pool.ntp.org"};
    uint8_t query[300];
    std::vector<uint8_t> out(1232);
    for (const char* n : names) {
        for (uint16_t qtype : {uint16_t{1}, uint16_t{28}, uint16_t{6}, uint16_t{2}, uint16_t{15}}) {
            const auto wire = *name_from_text(n);
            size_t len = 0;
            const uint8_t hdr[12] = {0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0};
            std::memcpy(query, hdr, 12);
            len = 12;
            std::memcpy(query + len, wire.data(), wire.size());
            len += wire.size();
            query[len++] = 0;
            query[len++] = static_cast<uint8_t>(qtype);
            query[len++] = 0;
            query[len++] = 1;
            for (const char* from : {"81.2.3.4", "2a01::1", "127.0.0.1"}) {
                (void)answer(ctx, Client{*IpAddress::parse(from)}, {query, len}, out);
            }
        }
    }
    return 0;
}
