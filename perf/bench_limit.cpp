// Microbenchmark of abuse protection per query (issue 14: <= 10 ns for RRL and ACL
// together): the RRL account lookup and charge (Rrl::key + decide), an ACL lookup, and both,
// over a stream of clients from many /24s and /56s against a full-size (1 Mi-entry, 8 MiB)
// table; the NTP limiter likewise. Rates are set so nothing is limited: this is the cost
// every answered query pays. The stream is pre-built, so each iteration is one query.
//
//   build/perf/bench_limit --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
//
// Arg: the number of distinct client prefixes. 4096 keeps the touched accounts in cache
// (a busy node's steady state: the same resolvers again and again); 262144 spreads them over
// the whole table (each lookup a cache miss, as under a spoofed churn). The DNS figures run
// bursts of 32 the way the worker does, prefetching every account's line before charging
// any, so its misses overlap.
#include <benchmark/benchmark.h>

#include <vector>

#include "pooledge/base/rng.hpp"
#include "pooledge/limit/acl.hpp"
#include "pooledge/limit/ntp_limit.hpp"
#include "pooledge/limit/rrl.hpp"

namespace {

using namespace pooledge;

constexpr uint64_t kStep = 200;  // ns between queries of the stream: 5 Mqps

std::vector<base::IpAddress> clients(size_t prefixes) {
    base::Rng rng(7);
    std::vector<base::IpAddress> out;
    for (size_t i = 0; i < 65536; ++i) {
        const uint64_t p = rng.below(prefixes);
        if (i % 4 == 3) {
            base::IpAddress a;
            a.family = 6;
            a.bytes = {0x2a,
                       0x01,
                       static_cast<uint8_t>(p >> 16),
                       static_cast<uint8_t>(p >> 8),
                       static_cast<uint8_t>(p),
                       0,
                       0,
                       0,
                       0,
                       0,
                       0,
                       0,
                       0,
                       0,
                       0,
                       1};
            out.push_back(a);
        } else {
            out.push_back(base::IpAddress::v4(0x51000000u + static_cast<uint32_t>(p << 8) +
                                              static_cast<uint32_t>(rng.below(256))));
        }
    }
    return out;
}

limit::RrlConfig unlimited() {
    limit::RrlConfig c;
    c.rate = {500000, 500000, 500000};
    c.backstop = 0;
    return c;
}

limit::Acls acls(size_t rules) {
    limit::AclConfig deny;
    for (uint32_t i = 0; i < rules; ++i) {
        deny.deny.push_back({base::IpAddress::v4(0xF0000000u + (i << 8)), 24});  // 240/8
    }
    limit::Acls a;
    a.dns = *limit::build_acl(deny, nullptr);
    return a;
}

// Per query, reported as per_query (the time of an iteration over its 32 queries). Each
// iteration is a burst as the worker runs it: every query's accounts found and their lines
// prefetched (stage 1), then every response charged (stage 3).
constexpr size_t kBurst = 32;

void per_query(benchmark::State& state) {
    state.counters["per_query"] = benchmark::Counter(
        kBurst, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

template <bool kAcl>
void rrl_bursts(benchmark::State& state) {
    const auto cs = clients(static_cast<size_t>(state.range(0)));
    limit::Rrl rrl(unlimited(), 1, 0);
    limit::RrlWorker w(0, 1);
    const limit::Acls a = acls(200);
    uint64_t now = 1000000000, passed = 0, asked = 0, fresh = 0;
    size_t i = 0;
    limit::RrlKey keys[kBurst];
    for (auto _ : state) {
        size_t n = 0;
        for (size_t j = 0; j < kBurst; ++j) {
            const base::IpAddress& c = cs[i++ & 65535];
            if (kAcl && a.dns.lookup(c) == limit::kAclDeny) {
                continue;
            }
            keys[n] = rrl.key(c);
            rrl.prefetch(keys[n++]);
        }
        now += kStep * kBurst;
        for (size_t j = 0; j < n; ++j) {
            const limit::Decision d = rrl.decide(keys[j], limit::ResponseKind::Answer, 0, now, w);
            passed += d.action == limit::Action::Pass;
            fresh += d.fresh;
        }
        asked += n;
    }
    benchmark::DoNotOptimize(passed);
    if (passed != asked) {
        state.SkipWithError("a response was limited");
    }
    per_query(state);
    state.counters["new"] =
        benchmark::Counter(static_cast<double>(fresh) / static_cast<double>(asked));
}

void BM_Rrl(benchmark::State& state) {
    rrl_bursts<false>(state);
}
BENCHMARK(BM_Rrl)->Arg(4096)->Arg(262144);

void BM_Acl(benchmark::State& state) {
    const auto cs = clients(4096);
    const limit::Acls a = acls(static_cast<size_t>(state.range(0)));
    size_t i = 0, denied = 0;
    for (auto _ : state) {
        denied += a.dns.lookup(cs[i++ & 65535]) == limit::kAclDeny;
    }
    benchmark::DoNotOptimize(denied);
}
BENCHMARK(BM_Acl)->Arg(200)->Arg(10000);

// What the worker does per DNS query with both on: the ACL check, then the limiter.
void BM_RrlAndAcl(benchmark::State& state) {
    rrl_bursts<true>(state);
}
BENCHMARK(BM_RrlAndAcl)->Arg(4096)->Arg(262144);

// The NTP limiter is asked as the worker asks it: once per request, in stage 1, without a
// prefetch ahead (an NTP answer has no other memory to wait on).
void BM_NtpLimiter(benchmark::State& state) {
    const auto cs = clients(static_cast<size_t>(state.range(0)));
    limit::NtpLimitConfig c;
    c.interval = -4;
    c.burst = 1024;
    c.backstop = 0;
    limit::NtpLimiter l(c, 1, 0);
    base::Rng rng(3);
    base::TokenBucket backstop = limit::backstop_share(0, 1);
    uint64_t now = 1000000000, answered = 0;
    size_t i = 0;
    for (auto _ : state) {
        now += kStep * 1000;  // 5 kqps: NTP clients at chrony's 16 a second at most
        answered +=
            l.decide(cs[i++ & 65535], now, rng, backstop).action == limit::NtpAction::Answer;
    }
    benchmark::DoNotOptimize(answered);
}
BENCHMARK(BM_NtpLimiter)->Arg(4096)->Arg(262144);

}  // namespace

BENCHMARK_MAIN();
