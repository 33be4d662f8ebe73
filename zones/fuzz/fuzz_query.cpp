// libFuzzer target: the query parser and the whole answer engine behind it, over a real
// image, writing both into a separate buffer and in place (as the dataplane does).
#include <cstring>
#include <vector>

#include "fuzz_common.hpp"
#include "pooledge/dns/query.hpp"
#include "pooledge/image/geo_index.hpp"
#include "pooledge/image/reader.hpp"

using namespace pooledge::base;
using namespace pooledge::dns;
using namespace pooledge::image;
using namespace pooledge::engine;
namespace fuzz = pooledge::fuzz;

namespace {

struct Fixture {
    std::vector<uint8_t> bytes = fuzz::small_pool_image();
    ImageView image = [this] {
        ImageView v = *ImageView::load(bytes);
        (void)attach_geo_index(v);  // the fast path's lookups, as a dataplane has
        return v;
    }();
    Identity identity = fuzz::fuzz_identity();
    Rng rng{42};
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static Fixture f;
    Query q;
    (void)parse_query({data, size}, q);

    AnswerContext ctx{&f.image, &f.identity, &f.rng, 1763740800};
    // The loopback client may see _status.<zone> too.
    const Client clients[] = {{*IpAddress::parse("81.2.3.4"), Transport::Udp},
                              {*IpAddress::parse("2a01::1"), Transport::Tcp},
                              {*IpAddress::parse("127.0.0.1"), Transport::Udp}};
    std::vector<uint8_t> out(size % 2 ? 512 : 65535);
    for (const Client& c : clients) {
        const Response r = answer(ctx, c, {data, size}, out);
        if (r.size > out.size()) {
            __builtin_trap();
        }
    }
    // In place: the buffer holds the query and receives the answer.
    std::vector<uint8_t> inplace(std::max<size_t>(size, 1232));
    std::memcpy(inplace.data(), data, size);
    const Response r = answer(ctx, clients[0], {inplace.data(), size}, inplace);
    if (r.size > inplace.size()) {
        __builtin_trap();
    }
    return 0;
}
