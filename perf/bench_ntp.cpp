// Microbenchmark of the NTP answer: the packet code alone (classify, write the answer, stamp
// the transmit time) and the whole fast-path step on a frame (classify the frame, the NTP
// step's two halves, the UDP checksum in software), over IPv4 and IPv6 frames from many
// clients. Each iteration answers one request, restored from its pristine copy first (a
// 90-byte memcpy, counted in the figure as a received frame's cache misses would be).
//
//   build/perf/bench_ntp --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <cstring>
#include <vector>

#include "frame_builder.hpp"
#include "pooledge/dataplane/frame/classify.hpp"
#include "pooledge/dataplane/frame/ntp_answer.hpp"
#include "pooledge/ntp/packet.hpp"

namespace {

using namespace pooledge;

ntp::ClockState synced() {
    ntp::ClockState c;
    c.synchronised = true;
    c.leap = ntp::Leap::None;
    c.stratum = 2;
    c.precision = -24;
    return c;
}

std::vector<uint8_t> request(size_t i) {
    std::vector<uint8_t> p(48, 0);
    p[0] = 0x23;
    p[2] = 6;
    std::memcpy(p.data() + 40, &i, sizeof i);
    return p;
}

// 1024 clients, a quarter of them IPv6.
std::vector<std::vector<uint8_t>> frames() {
    std::vector<std::vector<uint8_t>> out;
    for (size_t i = 0; i < 1024; ++i) {
        dataplane::test_frames::FrameOptions o;
        o.dport = 123;
        o.sport = static_cast<uint16_t>(1024 + i);
        if (i % 4 == 3) {
            o.ip = 6;
            o.src =
                dataplane::test_frames::v6({0x20, 0x01, 0x0d, 0xb8, uint8_t(i >> 8)}, uint8_t(i));
            o.dst.assign(dataplane::test_frames::kSvc6[0].begin(),
                         dataplane::test_frames::kSvc6[0].end());
        } else {
            o.src = {198, 51, static_cast<uint8_t>(i >> 8), static_cast<uint8_t>(i)};
        }
        out.push_back(dataplane::test_frames::frame(request(i), o));
    }
    return out;
}

void BM_NtpPacket(benchmark::State& state) {
    const auto pristine = request(7);
    std::vector<uint8_t> p = pristine;
    const ntp::ClockState clock = synced();
    ntp::Timestamp t = 0xEA00000000000000;
    for (auto _ : state) {
        std::memcpy(p.data(), pristine.data(), pristine.size());
        const ntp::Request r = ntp::classify(p, 40000);
        const size_t n = ntp::write_answer(p, r, clock, t);
        ntp::stamp_transmit({p.data(), n}, t + 1);
        benchmark::DoNotOptimize(p.data());
        ++t;
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_NtpPacket);

void BM_NtpFrame(benchmark::State& state) {
    const auto pristine = frames();
    std::vector<std::vector<uint8_t>> bufs;
    for (const auto& f : pristine) {
        bufs.emplace_back(f.size() + 64);
    }
    dataplane::ServiceAddresses svc = dataplane::test_frames::svc();
    svc.ntp = true;
    const ntp::ClockState clock = synced();
    size_t i = 0;
    ntp::Timestamp t = 0xEA00000000000000;
    for (auto _ : state) {
        const auto& f = pristine[i];
        auto& b = bufs[i];
        i = (i + 1) & 1023;
        std::memcpy(b.data(), f.data(), f.size());
        const auto c = dataplane::classify({b.data(), f.size()}, svc);
        const auto prepared = dataplane::prepare_ntp_in_place(b, c.layout, clock, t);
        const uint16_t len = dataplane::finish_ntp_in_place(b, prepared.reply, t + 1);
        benchmark::DoNotOptimize(len);
        ++t;
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_NtpFrame);

}  // namespace

BENCHMARK_MAIN();
