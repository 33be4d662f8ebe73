// The XDP filter's program, run by the kernel on built frames (BPF_PROG_TEST_RUN), and the
// EAL argument rewriting that makes the PMD load it. Loading needs CAP_BPF: as root, as
// the suite runs; elsewhere those cases skip.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <gtest/gtest.h>
#include <linux/bpf.h>

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "pooledge/dataplane/xdp/xdp_filter.hpp"
#include "xdp_filter_maps.h"

namespace pooledge::dataplane::xdp {
namespace {

using Bytes = std::vector<uint8_t>;

void put16(Bytes& b, size_t at, uint16_t v) {
    b[at] = static_cast<uint8_t>(v >> 8);
    b[at + 1] = static_cast<uint8_t>(v);
}

// Ethernet (+ an 802.1Q tag) and the EtherType; the caller appends the rest.
Bytes ethernet(uint16_t type, bool vlan = false) {
    Bytes f(vlan ? 18 : 14, 0);
    f[0] = f[6] = 0x02;
    f[5] = 1;
    f[11] = 2;
    if (vlan) {
        put16(f, 12, 0x8100);
        put16(f, 14, 7);
    }
    put16(f, f.size() - 2, type);
    return f;
}

// IPv4 (no options unless ihl says so) carrying `proto` with an 8-byte L4 header whose
// destination port is `port`, then some payload. The checksums do not matter to the filter.
Bytes ipv4(uint8_t proto, uint16_t port, uint16_t frag = 0, uint8_t ihl = 5, bool vlan = false) {
    Bytes f = ethernet(0x0800, vlan);
    const size_t ip = f.size();
    f.resize(ip + ihl * 4U + 8 + 12, 0);
    f[ip] = static_cast<uint8_t>(0x40 | ihl);
    put16(f, ip + 2, static_cast<uint16_t>(f.size() - ip));
    put16(f, ip + 6, frag);
    f[ip + 8] = 64;
    f[ip + 9] = proto;
    const size_t l4 = ip + ihl * 4U;
    put16(f, l4, 40000);
    put16(f, l4 + 2, port);
    put16(f, l4 + 4, 20);
    return f;
}

Bytes ipv6(uint8_t next, uint16_t port) {
    Bytes f = ethernet(0x86DD);
    const size_t ip = f.size();
    f.resize(ip + 40 + 8 + 12, 0);
    f[ip] = 0x60;
    put16(f, ip + 4, 20);
    f[ip + 6] = next;
    f[ip + 7] = 64;
    put16(f, ip + 40, 40000);
    put16(f, ip + 42, port);
    put16(f, ip + 44, 20);
    return f;
}

constexpr uint8_t kUdp = 17, kTcp = 6, kIcmp = 1, kIcmp6 = 58;

class XdpFilterTest : public ::testing::Test {
  protected:
    void SetUp() override {
        const auto obj = filter_object();
        obj_ = bpf_object__open_mem(obj.data(), obj.size(), nullptr);
        ASSERT_NE(obj_, nullptr) << "the embedded object does not open";
        if (const int err = bpf_object__load(obj_); err != 0) {
            if (err == -EPERM) {
                GTEST_SKIP() << "loading BPF needs CAP_BPF (run as root)";
            }
            FAIL() << "the kernel refused the filter: " << std::strerror(-err);
        }
        const bpf_program* prog = bpf_object__find_program_by_name(obj_, PE_XDP_FILTER_PROG_NAME);
        ASSERT_NE(prog, nullptr);
        prog_fd_ = bpf_program__fd(prog);
        std::string why;
        filter_ = Filter::from_program(prog_fd_, &why);
        ASSERT_TRUE(filter_) << why;
    }
    void TearDown() override { bpf_object__close(obj_); }

    // The program's verdict on `frame`: XDP_PASS stands for "to the socket" here, as the
    // test run has no socket in xsks_map (the redirect falls back to XDP_PASS).
    uint32_t run(const Bytes& frame) {
        Bytes copy = frame;
        bpf_test_run_opts opts{};
        opts.sz = sizeof opts;
        opts.data_in = copy.data();
        opts.data_size_in = static_cast<uint32_t>(copy.size());
        opts.repeat = 1;
        EXPECT_EQ(bpf_prog_test_run_opts(prog_fd_, &opts), 0) << std::strerror(errno);
        return opts.retval;
    }
    unsigned passed(const std::vector<Bytes>& frames) {
        unsigned n = 0;
        for (const Bytes& f : frames) {
            n += run(f) == XDP_PASS ? 1 : 0;
        }
        return n;
    }

    bpf_object* obj_ = nullptr;
    int prog_fd_ = -1;
    std::optional<Filter> filter_;
};

TEST_F(XdpFilterTest, UnconfiguredFilterPassesEverythingUncounted) {
    EXPECT_EQ(run(ipv4(kTcp, 80)), XDP_PASS);
    EXPECT_EQ(run(ipv4(kUdp, 53)), XDP_PASS);
    const FilterCounts c = *filter_->counts();
    EXPECT_EQ(c.fast_path + c.kernel + c.rate_limited, 0u);
}

TEST_F(XdpFilterTest, FastPathIsNeverLimited) {
    filter_->configure({.rate = 1, .burst = 1, .ntp = false});
    std::vector<Bytes> dns;
    for (int i = 0; i < 20; ++i) {
        dns.push_back(ipv4(kUdp, 53));
        dns.push_back(ipv4(kUdp, 53, 0, 5, true));  // VLAN-tagged
        dns.push_back(ipv4(kUdp, 53, 0, 7));        // IP options
        dns.push_back(ipv6(kUdp, 53));
    }
    EXPECT_EQ(passed(dns), dns.size());
    const FilterCounts c = *filter_->counts();
    EXPECT_EQ(c.fast_path, dns.size());
    EXPECT_EQ(c.kernel + c.rate_limited, 0u);
}

TEST_F(XdpFilterTest, EverythingElseMeetsTheBucket) {
    // One frame a second, bursts of 5: within the test's few milliseconds, 5 pass.
    filter_->configure({.rate = 1, .burst = 5, .ntp = false});
    const std::vector<Bytes> junk = {
        ipv4(kTcp, 80), ipv4(kIcmp, 0), ipv4(kUdp, 9),          ipv6(kTcp, 53),   ipv6(kIcmp6, 0),
        ipv6(kUdp, 9),  ipv4(kTcp, 53), ipv4(kUdp, 53, 0x0010), ipv4(kUdp, 5353), ipv4(kUdp, 123)};
    std::vector<Bytes> twice = junk;
    twice.insert(twice.end(), junk.begin(), junk.end());
    EXPECT_EQ(passed(twice), 5u);
    FilterCounts c = *filter_->counts();
    EXPECT_EQ(c.kernel, 5u);
    EXPECT_EQ(c.rate_limited, twice.size() - 5);
    // DNS still goes through while the bucket is empty.
    EXPECT_EQ(run(ipv4(kUdp, 53)), XDP_PASS);
    EXPECT_EQ(filter_->counts()->fast_path, 1u);
    // A new configuration starts with a full bucket.
    filter_->configure({.rate = 1, .burst = 2, .ntp = false});
    EXPECT_EQ(passed(junk), 2u);
}

TEST_F(XdpFilterTest, FragmentsAndMalformedFramesAreNotFastPath) {
    filter_->configure({.rate = 1, .burst = 1, .ntp = false});
    Bytes eth_only = ethernet(0x0800);  // IPv4 type, no header
    Bytes short_ihl = ipv4(kUdp, 53, 0, 5);
    short_ihl[14] = 0x44;  // ihl 4: malformed
    Bytes truncated_udp = ipv4(kUdp, 53);
    truncated_udp.resize(14 + 20 + 4);
    Bytes multicast = ipv4(kUdp, 53);
    multicast[0] = 0x01;  // a group address: the dataplane never answers those
    const std::vector<Bytes> odd = {ipv4(kUdp, 53, 0x2000),
                                    ipv4(kUdp, 53, 0x0001),
                                    eth_only,
                                    short_ihl,
                                    truncated_udp,
                                    multicast};
    EXPECT_EQ(passed(odd), 1u);  // the bucket's one frame
    const FilterCounts c = *filter_->counts();
    EXPECT_EQ(c.fast_path, 0u);
    EXPECT_EQ(c.kernel + c.rate_limited, odd.size());
}

TEST_F(XdpFilterTest, NtpIsFastPathOnlyWhenTheResponderIsOn) {
    filter_->configure({.rate = 1, .burst = 1, .ntp = false});
    EXPECT_EQ(passed({ipv4(kUdp, 123), ipv4(kUdp, 123), ipv6(kUdp, 123)}), 1u);
    filter_->configure({.rate = 1, .burst = 1, .ntp = true});
    EXPECT_EQ(passed({ipv4(kUdp, 123), ipv4(kUdp, 123), ipv6(kUdp, 123)}), 3u);
    EXPECT_EQ(filter_->counts()->fast_path, 3u);
}

// ICMPv6 of `type` with `hop_limit` (ipv6() leaves 64): the type is the L4 header's first byte.
Bytes icmp6(uint8_t type, uint8_t hop_limit) {
    Bytes f = ipv6(kIcmp6, 0);
    f[14 + 7] = hop_limit;
    f[14 + 40] = type;
    return f;
}

TEST_F(XdpFilterTest, ArpAndOnLinkNdHaveABucketOfTheirOwn) {
    filter_->configure({.rate = 1, .burst = 7, .ntp = false});
    std::vector<Bytes> junk(7, ipv4(kTcp, 80));
    EXPECT_EQ(passed(junk), 7u);  // the junk bucket is empty now
    EXPECT_EQ(run(ipv4(kTcp, 80)), XDP_DROP);
    std::vector<Bytes> nd = {ethernet(0x0806), ethernet(0x0806, true)};
    nd.back().resize(60, 0);
    for (uint8_t type = 133; type <= 137; ++type) {
        nd.push_back(icmp6(type, 255));
    }
    EXPECT_EQ(passed(nd), nd.size());            // seven: their own bucket's burst
    EXPECT_EQ(run(ethernet(0x0806)), XDP_DROP);  // and a storm of them is bounded
    // From off the link (a router decremented the hop limit), or not ND: junk.
    filter_->configure({.rate = 1, .burst = 7, .ntp = false});
    EXPECT_EQ(passed({icmp6(135, 254), icmp6(128, 255), icmp6(138, 255)}), 3u);
    const FilterCounts c = *filter_->counts();
    EXPECT_EQ(c.neighbour, nd.size());
    EXPECT_EQ(c.kernel, 10u);
    EXPECT_EQ(c.rate_limited, 2u);
}

TEST_F(XdpFilterTest, RateZeroMeansNoLimit) {
    filter_->configure({.rate = 0, .burst = 1, .ntp = false});
    std::vector<Bytes> junk(200, ipv4(kTcp, 80));
    EXPECT_EQ(passed(junk), junk.size());
    EXPECT_EQ(filter_->counts()->kernel, junk.size());
}

TEST_F(XdpFilterTest, AnotherProgramIsNotTakenForTheFilter) {
    // r0 = XDP_PASS; exit
    bpf_insn insns[2] = {};
    insns[0].code = BPF_ALU64 | BPF_MOV | BPF_K;
    insns[0].imm = XDP_PASS;
    insns[1].code = BPF_JMP | BPF_EXIT;
    const int fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "other_prog", "GPL", insns, 2, nullptr);
    ASSERT_GE(fd, 0) << std::strerror(errno);
    std::string why;
    EXPECT_FALSE(Filter::from_program(fd, &why));
    EXPECT_NE(why.find("'other_prog' is not pooledge's filter"), std::string::npos) << why;
    ::close(fd);
}

TEST(XdpFilterObject, CarriesWhatThePmdAndTheDataplaneLookUp) {
    const auto obj = filter_object();
    bpf_object* o = bpf_object__open_mem(obj.data(), obj.size(), nullptr);
    ASSERT_NE(o, nullptr);
    for (const char* map : {PE_XDP_FILTER_XSKS_MAP, PE_XDP_FILTER_CFG_MAP, PE_XDP_FILTER_STATE_MAP,
                            PE_XDP_FILTER_STATS_MAP}) {
        EXPECT_NE(bpf_object__find_map_by_name(o, map), nullptr) << map;
    }
    // The PMD loads the object's first program: there must be only the filter.
    bpf_program* first = bpf_object__next_program(o, nullptr);
    ASSERT_NE(first, nullptr);
    EXPECT_STREQ(bpf_program__name(first), PE_XDP_FILTER_PROG_NAME);
    EXPECT_EQ(bpf_object__next_program(o, first), nullptr);
    bpf_object__close(o);
}

TEST(XdpFilterObject, PathHoldsTheObject) {
    const std::string& path = filter_object_path();
    EXPECT_EQ(path.rfind("/proc/self/fd/", 0), 0u) << path;
    FILE* f = std::fopen(path.c_str(), "rb");
    ASSERT_NE(f, nullptr);
    std::vector<uint8_t> back(filter_object().size() + 1);
    EXPECT_EQ(std::fread(back.data(), 1, back.size(), f), filter_object().size());
    std::fclose(f);
    EXPECT_EQ(std::memcmp(back.data(), filter_object().data(), filter_object().size()), 0);
    EXPECT_EQ(&filter_object_path(), &path);  // made once
}

TEST(XdpFilterArgs, AddsTheProgramToAfXdpDevicesOnly) {
    std::vector<std::string> filtered;
    const auto out = with_filter(
        {"-l", "0-1", "--vdev", "net_af_xdp0,iface=eth1",
         "--vdev=net_af_xdp1,iface=eth2,busy_budget=0", "--vdev", "net_af_packet0,iface=eth3",
         "--vdev", "net_af_xdp2,iface=eth4,xdp_prog=/opt/mine.o", "-a", "net_af_xdp9"},
        [] { return std::string("/proc/self/fd/9"); }, &filtered);
    const std::string prog = ",xdp_prog=/proc/self/fd/9";
    const std::vector<std::string> want = {"-l",
                                           "0-1",
                                           "--vdev",
                                           "net_af_xdp0,iface=eth1" + prog,
                                           "--vdev=net_af_xdp1,iface=eth2,busy_budget=0" + prog,
                                           "--vdev",
                                           "net_af_packet0,iface=eth3",
                                           "--vdev",
                                           "net_af_xdp2,iface=eth4,xdp_prog=/opt/mine.o",
                                           "-a",
                                           "net_af_xdp9"};
    EXPECT_EQ(out, want);
    EXPECT_EQ(filtered, (std::vector<std::string>{"net_af_xdp0", "net_af_xdp1"}));
    // No net_af_xdp device: the path (the memfd) is never asked for.
    bool asked = false;
    filtered.clear();
    const std::vector<std::string> plain = {"-l", "0-1", "--vdev", "net_af_packet0,iface=eth1"};
    EXPECT_EQ(with_filter(
                  plain,
                  [&] {
                      asked = true;
                      return std::string("x");
                  },
                  &filtered),
              plain);
    EXPECT_FALSE(asked);
    EXPECT_TRUE(filtered.empty());
}

}  // namespace
}  // namespace pooledge::dataplane::xdp
