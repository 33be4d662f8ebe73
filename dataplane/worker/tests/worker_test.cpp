// The real worker loop (Worker::poll_once) through DPDK: EAL without hugepages, the service
// port and its exception port as net_ring ports whose rings the test fills and drains. What
// comes out of the rings is what a NIC and the kernel interface would have been given.
#include "pooledge/dataplane/worker/worker.hpp"

#include <gtest/gtest.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <unistd.h>
#include <urcu-qsbr.h>

#include <cstring>
#include <string>
#include <vector>

#include "frame_builder.hpp"
#include "pooledge/dataplane/worker/exception.hpp"
#include "pooledge/dataplane/worker/image_memory.hpp"
#include "pooledge/dataplane/worker/mbuf_pool.hpp"
#include "pooledge/dns/message.hpp"
#include "pooledge/image/geo_index.hpp"
#include "ring_port.hpp"
#include "test_util.hpp"

// Allocation counting for the "no allocation per packet" test: this binary's malloc family
// forwards to glibc's and counts while `g_count_allocations` is set. Sanitizer builds keep
// their own allocator (which must not be replaced) and skip that test.
#if defined(__SANITIZE_ADDRESS__)
#define POOLEDGE_COUNT_ALLOCATIONS 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer)
#define POOLEDGE_COUNT_ALLOCATIONS 0
#endif
#endif
#ifndef POOLEDGE_COUNT_ALLOCATIONS
#define POOLEDGE_COUNT_ALLOCATIONS 1
#endif

namespace {
std::atomic<bool> g_count_allocations{false};
std::atomic<uint64_t> g_allocations{0};
}  // namespace

#if POOLEDGE_COUNT_ALLOCATIONS
namespace {
inline void note_allocation() noexcept {
    if (g_count_allocations.load(std::memory_order_relaxed)) {
        g_allocations.fetch_add(1, std::memory_order_relaxed);
    }
}
}  // namespace

// glibc's own entry points, which its malloc family wraps.
// NOLINTBEGIN(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp)
extern "C" {
void* __libc_malloc(size_t);
void* __libc_calloc(size_t, size_t);
void* __libc_realloc(void*, size_t);
void* __libc_memalign(size_t, size_t);

void* malloc(size_t n) {
    note_allocation();
    return __libc_malloc(n);
}
void* calloc(size_t k, size_t n) {
    note_allocation();
    return __libc_calloc(k, n);
}
void* realloc(void* p, size_t n) {
    note_allocation();
    return __libc_realloc(p, n);
}
void* memalign(size_t a, size_t n) {
    note_allocation();
    return __libc_memalign(a, n);
}
int posix_memalign(void** out, size_t a, size_t n) {
    note_allocation();
    *out = __libc_memalign(a, n);
    return *out != nullptr ? 0 : ENOMEM;
}
void* aligned_alloc(size_t a, size_t n) {
    note_allocation();
    return __libc_memalign(a, n);
}
}
// NOLINTEND(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp)
#endif

namespace pooledge::dataplane {
namespace {

using namespace test_frames;

rte_mempool* g_pool = nullptr;

using test::RingPort;

RingPort make_ring_port(const std::string& name) {
    std::string why;
    const auto p = test::make_ring_port(name, 256, &why);
    EXPECT_TRUE(p) << why;
    return p.value_or(RingPort{});
}

rte_mbuf* mbuf_of(const std::vector<uint8_t>& frame) {
    rte_mbuf* m = rte_pktmbuf_alloc(g_pool);
    EXPECT_NE(m, nullptr);
    auto* data =
        reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m, static_cast<uint16_t>(frame.size())));
    std::memcpy(data, frame.data(), frame.size());
    return m;
}

std::vector<std::vector<uint8_t>> drain(rte_ring* ring) {
    std::vector<std::vector<uint8_t>> out;
    void* obj = nullptr;
    while (rte_ring_dequeue(ring, &obj) == 0) {
        auto* m = static_cast<rte_mbuf*>(obj);
        const auto* d = rte_pktmbuf_mtod(m, const uint8_t*);
        out.emplace_back(d, d + rte_pktmbuf_data_len(m));
        rte_pktmbuf_free(m);
    }
    return out;
}

class WorkerTest : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        static int n = 0;
        const std::string tag = std::to_string(n++);
        svc_ = make_ring_port("svc" + tag);
        kernel_ = make_ring_port("exc" + tag);
        Port p;
        p.device = "svc" + tag;
        p.id = svc_.id;
        p.mac = kOurMac;
        p.services = ServiceAddresses{kOurMac, kSvc4, kSvc6};
        p.exception_name = "exc" + tag;
        p.exception_id = kernel_.id;
        p.tx_udp_checksum = start_port(p.id, p.device, 1, g_pool, true);
        (void)start_port(p.exception_id, p.exception_name, 1, g_pool, false);
        create_exception_rings(p, 1);
        ports_ = new std::vector<Port>{p};
    }
    static void TearDownTestSuite() {
        stop_ports(*ports_);
        delete ports_;
    }

    void SetUp() override {
        auto holder = testkit::load_small();
        auto loaded = std::make_unique<LoadedImage>();
        loaded->bytes = std::move(holder.bytes);
        loaded->view = image::ImageView::load(loaded->bytes);
        ASSERT_TRUE(loaded->view);
        ASSERT_TRUE(image::attach_geo_index(*loaded->view));  // as the dataplane installs it
        slot_.publish(std::move(loaded));
        identity_.nsid = "worker-test";
        ctx_ = WorkerContext{0, ports_, &slot_, &identity_, &stats_, &stop_, 1};
        rcu_register_thread();
        free_before_ = rte_mempool_avail_count(g_pool);
    }
    void TearDown() override {
        rcu_unregister_thread();
        // Every mbuf that went in came back out or was freed: nothing leaked.
        EXPECT_EQ(rte_mempool_avail_count(g_pool), free_before_);
    }

    unsigned poll(Worker& w) {
        const unsigned n = w.poll_once();
        rcu_quiescent_state();
        return n;
    }

    static RingPort svc_, kernel_;
    static std::vector<Port>* ports_;
    ImageSlot slot_;
    engine::Identity identity_;
    WorkerStats stats_;
    std::atomic<bool> stop_{false};
    WorkerContext ctx_;
    unsigned free_before_ = 0;
};
RingPort WorkerTest::svc_;
RingPort WorkerTest::kernel_;
std::vector<Port>* WorkerTest::ports_ = nullptr;

TEST_F(WorkerTest, AnswersADnsQueryOutOfTheSamePort) {
    Worker w(ctx_);
    const auto q = *dns::build_query("0.pool.ntp.org");
    ASSERT_EQ(rte_ring_enqueue(svc_.rx, mbuf_of(frame(q))), 0);
    EXPECT_EQ(poll(w), 1u);
    const auto sent = drain(svc_.tx);
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_TRUE(drain(kernel_.tx).empty());
    const auto& r = sent[0];
    EXPECT_TRUE(std::equal(kPeerMac.begin(), kPeerMac.end(), r.begin()));  // back to the sender
    const auto m = dns::decode(std::span<const uint8_t>(r).subspan(42));
    ASSERT_TRUE(m.ok);
    EXPECT_EQ(m.rcode, 0);
    EXPECT_FALSE(m.answer.empty());
    EXPECT_EQ(stats_.rx_packets.load(), 1u);
    EXPECT_EQ(stats_.tx_packets.load(), 1u);
    EXPECT_EQ(stats_.dns.queries.load(), 1u);
    EXPECT_EQ(stats_.loops.load(), 1u);
}

// The worker's promise: no allocation per packet. A full burst of the query kinds the fast
// path answers (A, AAAA, NXDOMAIN, EDNS with ECS and a cookie, NSID, CH TXT), IPv4 and IPv6,
// goes through poll_once while every malloc of the process is counted.
TEST_F(WorkerTest, AnswersABurstWithoutAllocating) {
#if !POOLEDGE_COUNT_ALLOCATIONS
    GTEST_SKIP() << "sanitizer build: its allocator is not counted";
#endif
    Worker w(ctx_);
    std::vector<std::vector<uint8_t>> frames;
    dns::QueryOptions ecs;
    ecs.edns = true;
    ecs.ecs = "81.0.3.0/24";
    ecs.nsid = true;
    ecs.cookie = std::vector<uint8_t>(8, 7);
    dns::QueryOptions aaaa;
    aaaa.qtype = dns::rrtype::AAAA;
    dns::QueryOptions ch;
    ch.qtype = dns::rrtype::TXT;
    ch.qclass = dns::rrclass::CH;
    FrameOptions v6;
    v6.ip = 6;
    v6.src = test_frames::v6({0x2a, 0x01}, 7);
    v6.dst.assign(kSvc6[0].begin(), kSvc6[0].end());
    for (int i = 0; i < 4; ++i) {
        frames.push_back(frame(*dns::build_query("0.pool.ntp.org")));
        frames.push_back(frame(*dns::build_query("de.pool.ntp.org", ecs)));
        frames.push_back(frame(*dns::build_query("2.pool.ntp.org", aaaa), v6));
        frames.push_back(frame(*dns::build_query("nope.pool.ntp.org")));
        frames.push_back(frame(*dns::build_query("id.server", ch)));
        frames.push_back(frame(*dns::build_query("0.debian.pool.ntp.org"), v6));
        frames.push_back(frame(*dns::build_query("many.pool.ntp.org")));
        frames.push_back(frame(*dns::build_query("pool.ntp.org", ecs)));
    }
    ASSERT_EQ(frames.size(), 32u);
    (void)poll(w);  // a first, empty poll: nothing lazily set up is counted below
    for (const auto& f : frames) {
        ASSERT_EQ(rte_ring_enqueue(svc_.rx, mbuf_of(f)), 0);
    }
    // The counter counts (an allocation it would miss would make this test a no-op).
    g_count_allocations = true;
    void* volatile probe = std::malloc(64);
    g_count_allocations = false;
    std::free(probe);
    ASSERT_EQ(g_allocations.exchange(0), 1u);
    g_count_allocations = true;
    const unsigned n = w.poll_once();
    g_count_allocations = false;
    rcu_quiescent_state();
    EXPECT_EQ(n, 32u);
    EXPECT_EQ(g_allocations.load(), 0u) << "allocations while a burst was answered";
    const auto sent = drain(svc_.tx);
    EXPECT_EQ(sent.size(), 32u);
    EXPECT_EQ(stats_.dns.queries.load(), 32u);
}

TEST_F(WorkerTest, TakesABurstAtATime) {
    Worker w(ctx_);
    const auto q = *dns::build_query("pool.ntp.org");
    for (int i = 0; i < 40; ++i) {
        ASSERT_EQ(rte_ring_enqueue(svc_.rx, mbuf_of(frame(q))), 0);
    }
    EXPECT_EQ(poll(w), 32u);
    EXPECT_EQ(poll(w), 8u);
    EXPECT_EQ(poll(w), 0u);
    EXPECT_EQ(drain(svc_.tx).size(), 40u);
    EXPECT_EQ(stats_.tx_packets.load(), 40u);
}

// A frame the kernel sends (an ARP reply, say).
std::vector<uint8_t> arp_reply() {
    std::vector<uint8_t> arp(60, 0);
    std::copy(kPeerMac.begin(), kPeerMac.end(), arp.begin());
    std::copy(kOurMac.begin(), kOurMac.end(), arp.begin() + 6);
    arp[12] = 0x08;
    arp[13] = 0x06;
    return arp;
}

// An ARP request from the link (broadcast).
std::vector<uint8_t> arp_request() {
    std::vector<uint8_t> arp(60, 0);
    std::fill(arp.begin(), arp.begin() + 6, 0xFF);
    std::copy(kPeerMac.begin(), kPeerMac.end(), arp.begin() + 6);
    arp[12] = 0x08;
    arp[13] = 0x06;
    return arp;
}

TEST_F(WorkerTest, HandsOtherTrafficToTheKernelAndBack) {
    Worker w(ctx_);
    ExceptionStats xs;
    ExceptionService service(*ports_, ExceptionConfig{}, xs);
    FrameOptions tcp;
    tcp.proto = 6;
    ASSERT_EQ(rte_ring_enqueue(svc_.rx, mbuf_of(frame({1, 2, 3, 4}, tcp))), 0);
    FrameOptions ntp;
    ntp.dport = 123;  // NTP is off on this port: the kernel's
    ASSERT_EQ(rte_ring_enqueue(svc_.rx, mbuf_of(frame({1, 2, 3, 4}, ntp))), 0);
    const auto arp = arp_reply();
    ASSERT_EQ(rte_ring_enqueue(kernel_.rx, mbuf_of(arp)), 0);

    // The worker only hands frames to the service's ring; it never touches the kernel port.
    EXPECT_EQ(poll(w), 2u);
    EXPECT_TRUE(drain(kernel_.tx).empty());
    EXPECT_EQ(stats_.to_exception.load(), 2u);
    // The service gives them to the kernel, and takes the kernel's frame for worker 0.
    EXPECT_EQ(service.poll_once(0), 3u);
    EXPECT_EQ(drain(kernel_.tx).size(), 2u);
    EXPECT_EQ(xs.to_kernel.load(), 2u);
    EXPECT_EQ(xs.from_kernel.load(), 1u);
    EXPECT_TRUE(drain(svc_.tx).empty());
    // Worker 0 sends it out of the port on its next pass.
    EXPECT_EQ(poll(w), 1u);
    const auto out = drain(svc_.tx);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0], arp);
    EXPECT_EQ(stats_.from_kernel.load(), 1u);
    EXPECT_EQ(stats_.dns.queries.load(), 0u);
}

// The kernel's frames ride in the same TX burst as the answers, behind them: one kick.
TEST_F(WorkerTest, KernelFramesShareTheAnswersBurst) {
    Worker w(ctx_);
    ExceptionStats xs;
    ExceptionService service(*ports_, ExceptionConfig{}, xs);
    const auto arp = arp_reply();
    ASSERT_EQ(rte_ring_enqueue(kernel_.rx, mbuf_of(arp)), 0);
    EXPECT_EQ(service.poll_once(0), 1u);  // on worker 0's ring now
    ASSERT_EQ(rte_ring_enqueue(svc_.rx, mbuf_of(frame(*dns::build_query("0.pool.ntp.org")))), 0);
    const uint64_t bursts = stats_.tx_bursts.load();
    EXPECT_EQ(poll(w), 2u);
    const auto out = drain(svc_.tx);
    ASSERT_EQ(out.size(), 2u);
    EXPECT_TRUE(dns::decode(std::span<const uint8_t>(out[0]).subspan(42)).ok);  // the answer
    EXPECT_EQ(out[1], arp);
    EXPECT_EQ(stats_.tx_bursts.load(), bursts + 1);
    EXPECT_EQ(stats_.tx_packets.load(), 1u);
    EXPECT_EQ(stats_.from_kernel.load(), 1u);
}

TEST_F(WorkerTest, TheKernelGetsAtMostTheConfiguredRate) {
    Worker w(ctx_);
    ExceptionConfig config;
    config.rate = 100;
    config.burst = 5;
    ExceptionStats xs;
    ExceptionService service(*ports_, config, xs);
    FrameOptions junk;
    junk.dport = 9;  // UDP to a port we do not serve
    for (int i = 0; i < 20; ++i) {
        ASSERT_EQ(rte_ring_enqueue(svc_.rx, mbuf_of(frame({1, 2, 3, 4}, junk))), 0);
    }
    EXPECT_EQ(poll(w), 20u);
    constexpr uint64_t kSecond = 1000000000;
    EXPECT_EQ(service.poll_once(kSecond), 20u);
    EXPECT_EQ(drain(kernel_.tx).size(), 5u);  // the burst
    EXPECT_EQ(xs.rate_limited.load(), 15u);
    // 50 ms later the bucket holds five more tokens (100/s): the kernel gets five of ten.
    for (int i = 0; i < 10; ++i) {
        ASSERT_EQ(rte_ring_enqueue(svc_.rx, mbuf_of(frame({1, 2, 3, 4}, junk))), 0);
    }
    EXPECT_EQ(poll(w), 10u);
    EXPECT_EQ(service.poll_once(kSecond + kSecond / 20), 10u);
    EXPECT_EQ(drain(kernel_.tx).size(), 5u);
    EXPECT_EQ(xs.rate_limited.load(), 20u);
    EXPECT_EQ(xs.to_kernel.load(), 10u);
}

TEST_F(WorkerTest, ArpHasABucketOfItsOwn) {
    Worker w(ctx_);
    ExceptionConfig config;
    config.rate = 100;
    config.burst = 5;
    ExceptionStats xs;
    ExceptionService service(*ports_, config, xs);
    FrameOptions junk;
    junk.dport = 9;
    for (int i = 0; i < 20; ++i) {
        ASSERT_EQ(rte_ring_enqueue(svc_.rx, mbuf_of(frame({1, 2, 3, 4}, junk))), 0);
        if (i % 7 == 6) {
            ASSERT_EQ(rte_ring_enqueue(svc_.rx, mbuf_of(arp_request())), 0);
        }
    }
    EXPECT_EQ(poll(w), 22u);
    EXPECT_EQ(service.poll_once(1000000000), 22u);
    const auto got = drain(kernel_.tx);
    ASSERT_EQ(got.size(), 7u);  // the burst's five, and both ARP requests
    EXPECT_EQ(got[0], arp_request());
    EXPECT_EQ(got[1], arp_request());
    EXPECT_EQ(xs.neighbour.load(), 2u);
    EXPECT_EQ(xs.rate_limited.load(), 15u);
    // A storm of them is bounded by a bucket of their own: three more tokens are left.
    for (int i = 0; i < 10; ++i) {
        ASSERT_EQ(rte_ring_enqueue(svc_.rx, mbuf_of(arp_request())), 0);
    }
    EXPECT_EQ(poll(w), 10u);
    EXPECT_EQ(service.poll_once(1000000000), 10u);
    EXPECT_EQ(drain(kernel_.tx).size(), 3u);
    EXPECT_EQ(xs.neighbour.load(), 5u);
    EXPECT_EQ(xs.rate_limited.load(), 22u);
}

TEST_F(WorkerTest, AFullExceptionRingCostsTheWorkerNothingButACount) {
    Worker w(ctx_);
    FrameOptions junk;
    junk.dport = 9;
    // Nobody runs the service: the ring (1023 usable slots) fills, and the rest are freed.
    unsigned sent = 0;
    for (int round = 0; round < 40; ++round) {
        for (int i = 0; i < 32; ++i) {
            ASSERT_EQ(rte_ring_enqueue(svc_.rx, mbuf_of(frame({1, 2, 3, 4}, junk))), 0);
        }
        sent += poll(w);
    }
    EXPECT_EQ(sent, 1280u);
    EXPECT_EQ(stats_.to_exception.load(), 1023u);
    EXPECT_EQ(stats_.exception_ring_full.load(), 257u);
    free_exception_rings((*ports_)[0]);  // frees the frames still queued, for TearDown's count
    create_exception_rings((*ports_)[0], 1);
}

TEST_F(WorkerTest, TheServiceSendsTheKernelsFramesOnItsOwnQueue) {
    std::string why;
    const auto svc = test::make_ring_port("svcq", 64, &why, true);
    ASSERT_TRUE(svc) << why;
    const auto exc = test::make_ring_port("excq", 64, &why);
    ASSERT_TRUE(exc) << why;
    // net_ring queues do not come in receiving pairs: a second TX queue is free to add.
    ASSERT_TRUE(can_add_tx_queue(svc->id, 1));
    EXPECT_FALSE(can_add_tx_queue(exc->id, 1));  // it has only one
    std::vector<Port> ports(1);
    Port& p = ports[0];
    p.device = "svcq";
    p.id = svc->id;
    p.exception_id = exc->id;
    (void)start_port(p.id, p.device, 1, g_pool, false, 1);
    (void)start_port(p.exception_id, "excq", 1, g_pool, false);
    p.service_tx_queue = 1;
    create_exception_rings(p, 1);
    EXPECT_EQ(p.exception_rings[0].from_kernel, nullptr);  // no worker carries them

    ExceptionStats xs;
    ExceptionService service(ports, ExceptionConfig{}, xs);
    const auto arp = arp_reply();
    ASSERT_EQ(rte_ring_enqueue(exc->rx, mbuf_of(arp)), 0);
    EXPECT_EQ(service.poll_once(0), 1u);
    EXPECT_TRUE(drain(svc->tx).empty());
    const auto out = drain(svc->tx2);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0], arp);
    stop_ports(ports);
}

TEST_F(WorkerTest, DropsAndCountsBadFrames) {
    Worker w(ctx_);
    const auto q = *dns::build_query("0.pool.ntp.org");
    auto bad = frame(q);
    bad[14 + 10] ^= 0xFF;  // IPv4 header checksum
    ASSERT_EQ(rte_ring_enqueue(svc_.rx, mbuf_of(bad)), 0);
    FrameOptions other_host;
    other_host.dst_mac = {0x02, 0, 0, 0, 0, 0x99};
    ASSERT_EQ(rte_ring_enqueue(svc_.rx, mbuf_of(frame(q, other_host))), 0);
    EXPECT_EQ(poll(w), 2u);
    EXPECT_TRUE(drain(svc_.tx).empty());
    EXPECT_TRUE(drain(kernel_.tx).empty());
    EXPECT_EQ(stats_.drops[static_cast<size_t>(DropReason::BadIpChecksum)].load(), 1u);
    EXPECT_EQ(stats_.drops[static_cast<size_t>(DropReason::NotForUs)].load(), 1u);
}

TEST_F(WorkerTest, ServesTheImagePublishedLast) {
    Worker w(ctx_);
    const auto q = *dns::build_query("us.pool.ntp.org");
    auto ask = [&] {
        EXPECT_EQ(rte_ring_enqueue(svc_.rx, mbuf_of(frame(q))), 0);
        poll(w);
        const auto out = drain(svc_.tx);
        EXPECT_EQ(out.size(), 1u);
        const auto m = dns::decode(std::span<const uint8_t>(out.at(0)).subspan(42));
        EXPECT_TRUE(m.ok);
        EXPECT_EQ(m.answer.size(), 1u);
        return m.answer.empty() ? std::string() : m.answer[0].text;
    };
    EXPECT_EQ(ask(), "203.0.113.1");

    // A new image swapped in between two polls is what the next poll answers from.
    auto model = testkit::small_model();
    model.zones[0].labels["us"].a = {{*base::IpAddress::parse("203.0.113.99"), 1}};
    auto next = std::make_unique<LoadedImage>();
    next->bytes = image::compile_image(model, 2026112102, 1763740801);
    next->view = image::ImageView::load(next->bytes);
    ASSERT_TRUE(next->view);
    slot_.publish(std::move(next));  // synchronize_rcu: this thread is between polls
    EXPECT_EQ(ask(), "203.0.113.99");
}

// Abuse protection in the worker loop: a denied prefix gets nothing (counted by reason), a
// flood from one prefix gets the limiter's burst and then slips and drops, every action
// counted; the ACLs swapped between two polls rule the next; and none of it allocates.
TEST_F(WorkerTest, AclsAndRateLimitsActPerBurstWithoutAllocating) {
    limit::RrlConfig rc;
    rc.rate = {1, 1, 1};
    rc.window = 4;  // a burst of 4
    rc.slip = 2;
    rc.table_entries = 1024;
    rc.backstop = 0;
    limit::Rrl rrl(rc, 5, 0);
    AclSlot acls;
    limit::AclConfig deny;
    deny.deny = {*base::IpPrefix::parse("203.0.113.0/24")};
    auto first = std::make_unique<limit::Acls>();
    first->dns = *limit::build_acl(deny, nullptr);
    acls.publish(std::move(first));
    ctx_.acls = &acls;
    ctx_.rrl = &rrl;
    Worker w(ctx_);
    (void)poll(w);  // a first, empty poll: nothing lazily set up is counted below

    const auto q = *dns::build_query("0.pool.ntp.org");
    FrameOptions denied;
    denied.src = {203, 0, 113, 9};
    for (int i = 0; i < 4; ++i) {
        ASSERT_EQ(rte_ring_enqueue(svc_.rx, mbuf_of(frame(q, denied))), 0);
    }
    for (int i = 0; i < 28; ++i) {
        ASSERT_EQ(rte_ring_enqueue(svc_.rx, mbuf_of(frame(q))), 0);  // 198.51.100.7
    }
#if POOLEDGE_COUNT_ALLOCATIONS
    g_count_allocations = true;
#endif
    const unsigned n = w.poll_once();
#if POOLEDGE_COUNT_ALLOCATIONS
    g_count_allocations = false;
    EXPECT_EQ(g_allocations.exchange(0), 0u) << "allocations while limiting a burst";
#endif
    rcu_quiescent_state();
    EXPECT_EQ(n, 32u);
    const auto sent = drain(svc_.tx);
    EXPECT_EQ(stats_.drops[static_cast<size_t>(DropReason::DnsAclDenied)].load(), 4u);
    EXPECT_EQ(stats_.rrl.limited.load(), 24u);
    EXPECT_EQ(stats_.rrl.slipped.load(), 12u);
    EXPECT_EQ(stats_.rrl.dropped.load(), 12u);
    EXPECT_EQ(stats_.drops[static_cast<size_t>(DropReason::DnsRateLimited)].load(), 12u);
    EXPECT_EQ(stats_.rrl.new_sources.load(), 1u);
    ASSERT_EQ(sent.size(), 4u + 12u);
    unsigned truncated = 0;
    for (const auto& r : sent) {
        const auto m = dns::decode(std::span<const uint8_t>(r).subspan(42));
        ASSERT_TRUE(m.ok);
        truncated += (m.flags & 0x0200) != 0 && m.answer.empty();
    }
    EXPECT_EQ(truncated, 12u);

    // SIGHUP's swap: the lists published between two polls rule the next one.
    acls.publish(std::make_unique<limit::Acls>());
    ctx_.rrl = nullptr;
    Worker open(ctx_);
    ASSERT_EQ(rte_ring_enqueue(svc_.rx, mbuf_of(frame(q, denied))), 0);
    EXPECT_EQ(poll(open), 1u);
    EXPECT_EQ(drain(svc_.tx).size(), 1u);
}

// The EAL here runs --no-huge: the image stays in ordinary memory, says why, and serves.
// (Where the EAL has huge pages the move is the same code; the dataplane logs which.)
TEST(ImageMemory, WithoutHugePagesTheImageStaysWhereItArrived) {
    auto holder = testkit::load_small();
    LoadedImage img;
    img.bytes = std::move(holder.bytes);
    img.view = image::ImageView::load(img.bytes);
    ASSERT_TRUE(img.view);
    std::string why;
    EXPECT_FALSE(move_to_hugepages(img, &why));
    EXPECT_NE(why.find("no huge pages (--no-huge)"), std::string::npos) << why;
    EXPECT_EQ(img.view->bytes().data(), img.bytes.data());
    EXPECT_EQ(img.huge, nullptr);
}

// The EAL's heap (here plain memory under --no-huge) can hold a geo index's direct table.
TEST(ImageMemory, GeoIndexDirectTableInTheEalHeap) {
    auto holder = testkit::load_small();
    ASSERT_TRUE(image::attach_geo_index(holder.view, nullptr, eal_table_memory()));
    EXPECT_NE(holder.view.geo_index(), nullptr);
}

// net_af_xdp registers [first chunk, + objects x object size) as the socket's UMEM; an mbuf
// outside it is lost the first time the PMD posts it to the fill ring (mbuf_pool.hpp).
TEST(MbufPool, EveryMbufLiesInTheSpanAfXdpRegisters) {
    std::string why;
    rte_mempool* mp = create_mbuf_pool("umem_span_test", 6000, 64, true, &why);
    ASSERT_NE(mp, nullptr) << why;
    EXPECT_EQ(mp->nb_mem_chunks, 1u);
    EXPECT_EQ(mp->populated_size, 6000u);
    const auto* first = STAILQ_FIRST(&mp->mem_list);
    const auto base = reinterpret_cast<uintptr_t>(first->addr) & ~uintptr_t{4095};
    const uintptr_t end =
        reinterpret_cast<uintptr_t>(first->addr) +
        uintptr_t{mp->populated_size} * rte_mempool_calc_obj_size(mp->elt_size, mp->flags, nullptr);
    std::vector<rte_mbuf*> all(6000);
    ASSERT_EQ(rte_pktmbuf_alloc_bulk(mp, all.data(), 6000), 0);
    size_t outside = 0;
    for (rte_mbuf* m : all) {
        const auto a = reinterpret_cast<uintptr_t>(m);
        const auto data_end = reinterpret_cast<uintptr_t>(m->buf_addr) + m->buf_len;
        outside += (a < base || data_end > end) ? 1 : 0;
        EXPECT_EQ(m->buf_len, RTE_MBUF_DEFAULT_BUF_SIZE);
    }
    EXPECT_EQ(outside, 0u);
    rte_pktmbuf_free_bulk(all.data(), 6000);
    rte_mempool_free(mp);
}

// Too large for the EAL's memory: a clear reason, no pool.
TEST(MbufPool, TooLargeSaysWhy) {
    std::string why;
    EXPECT_EQ(create_mbuf_pool("umem_too_large", 1u << 22, 0, true, &why), nullptr);
    EXPECT_NE(why.find("-m"), std::string::npos) << why;
}

}  // namespace
}  // namespace pooledge::dataplane

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    // One EAL per process: no hugepages, no PCI, no shared runtime files, one lcore.
    const std::string prefix = "--file-prefix=pooledge-worker-test-" + std::to_string(::getpid());
    std::vector<std::string> args = {
        "worker_tests", "--no-huge", "-m", "256",  "--no-pci",
        "--no-shconf",  "-l",        "0",  prefix, "--log-level=lib.*:warning"};
    std::vector<char*> argv_eal;
    for (auto& a : args) {
        argv_eal.push_back(a.data());
    }
    if (rte_eal_init(static_cast<int>(argv_eal.size()), argv_eal.data()) < 0) {
        std::fprintf(stderr, "EAL: %s\n", rte_strerror(rte_errno));
        return 1;
    }
    pooledge::dataplane::g_pool = rte_pktmbuf_pool_create("worker_test", 4095, 0, 0,
                                                          RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
    if (pooledge::dataplane::g_pool == nullptr) {
        std::fprintf(stderr, "mbuf pool: %s\n", rte_strerror(rte_errno));
        return 1;
    }
    const int rc = RUN_ALL_TESTS();
    rte_eal_cleanup();
    return rc;
}
