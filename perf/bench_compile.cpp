// Control-plane compile cost: pool data -> signed image, for pools of 6k, 60k and 600k
// servers (scripts/gen-pool-data.py at scale 1, 10, 100) with the full GeoIP database.
//
// Each stage is its own benchmark, so a regression points at its stage:
//   BM_ParsePoolData   JSON text -> validated PoolData
//   BM_CompilePool     PoolData -> image::ZoneModel (eligibility, splits, vendors)
//   BM_ReadGeoIp       walk of the whole .mmdb into the prefix table
//   BM_BuildImage      image::ZoneModel + prefix table -> compiled, self-validated, signed image
//   BM_FullCompile     all of the above, as `pooledge-control compile` runs them
// Counters: servers, image bytes, geo prefixes.
//
// Needs POOLEDGE_BENCH_DATA (a directory with pool-1.json, pool-10.json, pool-100.json) and
// POOLEDGE_BENCH_GEOIP (the .mmdb); perf/run-compile-bench.sh makes the data and runs this.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "pooledge/control/geoip.hpp"
#include "pooledge/control/image_build.hpp"
#include "pooledge/control/pool_compiler.hpp"
#include "pooledge/control/pool_data.hpp"

namespace pc = pooledge::control;

namespace {

std::string env(const char* name) {
    const char* v = std::getenv(name);
    return v != nullptr ? v : "";
}

const std::string& pool_text(int scale) {
    static std::map<int, std::string> cache;
    auto& text = cache[scale];
    if (text.empty()) {
        std::ifstream in(env("POOLEDGE_BENCH_DATA") + "/pool-" + std::to_string(scale) + ".json");
        std::stringstream ss;
        ss << in.rdbuf();
        text = ss.str();
    }
    return text;
}

const pc::GeoTable& geo() {
    static const pc::GeoTable table = pc::read_geoip({.path = env("POOLEDGE_BENCH_GEOIP")});
    return table;
}

const pooledge::image::SigningKey& key() {
    static const auto k = pooledge::image::SigningKey::generate();
    return *k;
}

pc::PoolCompileOptions options(const pc::PoolData& d) {
    pc::PoolCompileOptions o;
    o.now = d.generated;
    o.seed = 1;
    return o;
}

bool have_data(benchmark::State& state, int scale) {
    if (pool_text(scale).empty()) {
        state.SkipWithError("no data: set POOLEDGE_BENCH_DATA (see perf/run-compile-bench.sh)");
        return false;
    }
    return true;
}

void BM_ParsePoolData(benchmark::State& state) {
    const int scale = static_cast<int>(state.range(0));
    if (!have_data(state, scale)) {
        return;
    }
    size_t servers = 0;
    for (auto _ : state) {
        const auto d = pc::parse_pool_data(pool_text(scale), "bench");
        servers = d.servers.size();
        benchmark::DoNotOptimize(servers);
    }
    state.counters["servers"] = static_cast<double>(servers);
}

void BM_CompilePool(benchmark::State& state) {
    const int scale = static_cast<int>(state.range(0));
    if (!have_data(state, scale)) {
        return;
    }
    const auto d = pc::parse_pool_data(pool_text(scale), "bench");
    for (auto _ : state) {
        auto r = pc::compile_pool(d, options(d));
        benchmark::DoNotOptimize(r.eligible);
    }
    state.counters["servers"] = static_cast<double>(d.servers.size());
}

void BM_ReadGeoIp(benchmark::State& state) {
    size_t prefixes = 0;
    for (auto _ : state) {
        const auto t = pc::read_geoip({.path = env("POOLEDGE_BENCH_GEOIP")});
        prefixes = t.prefixes.size();
    }
    state.counters["prefixes"] = static_cast<double>(prefixes);
}

void BM_BuildImage(benchmark::State& state) {
    const int scale = static_cast<int>(state.range(0));
    if (!have_data(state, scale)) {
        return;
    }
    const auto d = pc::parse_pool_data(pool_text(scale), "bench");
    pc::ImageInputs in;
    in.zones.push_back(pc::compile_pool(d, options(d)).zone);
    in.geo = &geo();
    in.serial = 1;
    in.build_time = 1;
    size_t bytes = 0;
    for (auto _ : state) {
        bytes = pc::build_signed_image(in, key()).size();
    }
    state.counters["image_bytes"] = static_cast<double>(bytes);
    state.counters["servers"] = static_cast<double>(d.servers.size());
}

void BM_FullCompile(benchmark::State& state) {
    const int scale = static_cast<int>(state.range(0));
    if (!have_data(state, scale)) {
        return;
    }
    size_t bytes = 0;
    for (auto _ : state) {
        const auto d = pc::parse_pool_data(pool_text(scale), "bench");
        pc::ImageInputs in;
        in.zones.push_back(pc::compile_pool(d, options(d)).zone);
        const auto table = pc::read_geoip({.path = env("POOLEDGE_BENCH_GEOIP")});
        in.geo = &table;
        in.serial = 1;
        in.build_time = 1;
        bytes = pc::build_signed_image(in, key()).size();
    }
    state.counters["image_bytes"] = static_cast<double>(bytes);
}

BENCHMARK(BM_ParsePoolData)->Arg(1)->Arg(10)->Arg(100)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CompilePool)->Arg(1)->Arg(10)->Arg(100)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ReadGeoIp)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_BuildImage)->Arg(1)->Arg(10)->Arg(100)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_FullCompile)->Arg(1)->Arg(10)->Arg(100)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
