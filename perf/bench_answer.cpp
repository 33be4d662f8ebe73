// Benchmark of the answer engine on a pool-sized image and a realistic query mix.
//
//   build/perf/bench_answer --benchmark_repetitions=10 --benchmark_report_aggregates_only
//
// reports ns per query as median, mean and standard deviation over the repetitions, and
// queries per second per core. The parts (parse, geo lookup, draw) are measured alone too, to
// show what dominates.
#include <benchmark/benchmark.h>

#include <memory>
#include <vector>

#include "pool_mix.hpp"
#include "pooledge/dns/query.hpp"
#include "pooledge/engine/answer.hpp"
#include "pooledge/image/geo_index.hpp"
#include "pooledge/image/reader.hpp"
#include "pooledge/image/weighted.hpp"

using namespace pooledge::base;
using namespace pooledge::dns;
using namespace pooledge::image;
using namespace pooledge::engine;
namespace testkit = pooledge::testkit;

namespace {

using Workload = pooledge::perf::PoolMix;
using pooledge::perf::make_pool_mix;

const Workload& workload(bool full) {
    static const Workload small = make_pool_mix(false);
    static const Workload big = make_pool_mix(true);
    return full ? big : small;
}

void BM_Answer(benchmark::State& state) {
    const Workload& w = workload(state.range(0) != 0);
    const Identity id{.nsid = "bench", .server_id = "bench", .version = "bench"};
    Rng rng(1);
    AnswerContext ctx{w.image.get(), &id, &rng, 0};
    std::vector<uint8_t> out(1232);
    size_t i = 0;
    size_t bytes = 0;
    for (auto _ : state) {
        const Response r = answer(ctx, w.clients[i], w.queries[i], out);
        bytes += r.size;
        i = (i + 1) & (w.queries.size() - 1);
    }
    benchmark::DoNotOptimize(bytes);
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
    state.counters["servers"] = static_cast<double>(w.servers);
    state.counters["geo4_ranges"] = static_cast<double>(w.image->geo4_ranges());
    state.counters["image_MiB"] = static_cast<double>(w.bytes.size()) / (1 << 20);
}
BENCHMARK(BM_Answer)->ArgName("full")->Arg(1)->Name("BM_Answer/full");
BENCHMARK(BM_Answer)->ArgName("full")->Arg(0)->Name("BM_Answer/small");

void BM_Parse(benchmark::State& state) {
    const Workload& w = workload(true);
    Query q;
    size_t i = 0;
    for (auto _ : state) {
        benchmark::DoNotOptimize(parse_query(w.queries[i], q));
        i = (i + 1) & (w.queries.size() - 1);
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_Parse);

void BM_GeoLookup(benchmark::State& state) {
    const Workload& w = workload(true);
    size_t i = 0;
    for (auto _ : state) {
        const IpAddress& a = w.clients[i].addr;
        benchmark::DoNotOptimize(a.family == 4 ? w.image->geo_lookup4(a.v4_host())
                                               : w.image->geo_lookup6(a.v6_hi(), a.v6_lo()));
        i = (i + 1) & (w.clients.size() - 1);
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_GeoLookup);

// Four hosts by weight from the global set (the largest, ~5,000 servers).
void BM_DrawGlobal(benchmark::State& state) {
    const Workload& w = workload(true);
    Query q;
    const auto pkt = testkit::make_query("pool.ntp.org");
    (void)parse_query(pkt, q);
    const auto* node = w.image->find_node(q);
    const auto& e = w.image->entries(*node)[0];
    const uint32_t id = e.kind == format::EntryKind::Static ? e.ref : w.image->dispatch(e.ref, 0);
    const auto& rs = w.image->rrset(id);
    const auto cum = w.image->cum4().subspan(rs.first, rs.count);
    const auto set = w.image->draw4().subspan(rs.first, rs.count);
    Rng rng(3);
    uint32_t out[4];
    uint32_t source[4];
    for (auto _ : state) {
        benchmark::DoNotOptimize(draw_weighted(cum, set, 4, rng, out, source));
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
    state.counters["set_size"] = rs.count;
}
BENCHMARK(BM_DrawGlobal);

}  // namespace

BENCHMARK_MAIN();
