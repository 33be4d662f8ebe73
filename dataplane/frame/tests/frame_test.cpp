#include "pooledge/dataplane/frame/checksum.hpp"
#include "pooledge/dataplane/frame/classify.hpp"
#include "pooledge/dataplane/frame/dns_answer.hpp"
#include "pooledge/dataplane/frame/ntp_answer.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

#include "frame_builder.hpp"
#include "pooledge/dns/cookie.hpp"
#include "pooledge/dns/message.hpp"
#include "pooledge/image/model.hpp"
#include "pooledge/image/reader.hpp"

namespace pooledge::dataplane {
namespace {

using namespace test_frames;

// With POOLEDGE_WRITE_SEEDS=DIR, every frame a test answers is also written there (with the
// fuzz target's room byte in front) as a seed for fuzz_frame.
void save_seed(const std::vector<uint8_t>& f) {
    const char* dir = std::getenv("POOLEDGE_WRITE_SEEDS");
    if (dir == nullptr) {
        return;
    }
    static int n = 0;
    std::filesystem::create_directories(dir);
    std::ofstream out(std::string(dir) + "/frame-" + std::to_string(n++), std::ios::binary);
    out.put(8);
    out.write(reinterpret_cast<const char*>(f.data()), static_cast<std::streamsize>(f.size()));
}

class PacketTest : public ::testing::Test {
  protected:
    void SetUp() override {
        image::ImageModel m;
        m.regions = {{"europe", ""}, {"de", "europe"}};
        m.prefixes = {{*base::IpPrefix::parse("198.51.100.0/24"), "de", true}};
        image::ZoneModel z;
        z.origin = "pool.ntp.org";
        z.soa = image::SoaRecord{
            "ns1.pool.ntp.org", "hostmaster.pool.ntp.org", 1, 5400, 5400, 1209600, 300, 1500};
        z.labels[""].ns = {"ns1.pool.ntp.org"};
        z.labels["0"].a = {{*base::IpAddress::parse("203.0.113.1"), 1}};
        z.labels["0.de"].a = {{*base::IpAddress::parse("203.0.113.49"), 1}};
        z.labels["2"].aaaa = {{*base::IpAddress::parse("2001:db8::123"), 1}};
        m.zones.push_back(z);
        bytes_ = image::compile_image(m, 1, 1);
        view_ = image::ImageView::load(bytes_);
        ASSERT_TRUE(view_);
        ctx_ = engine::AnswerContext{&*view_, &identity_, &rng_, 0};
    }

    // Classifies and answers; returns the reply frame (empty when not answered).
    std::vector<uint8_t> reply(std::vector<uint8_t> f) {
        save_seed(f);
        const auto c = classify(f, svc());
        EXPECT_EQ(c.verdict, Verdict::FastPath) << to_string(c.reason);
        if (c.verdict != Verdict::FastPath) {
            return {};
        }
        f.resize(2048);
        const auto a = answer_dns_in_place(f, c.layout, ctx_);
        f.resize(a.length);
        return f;
    }

    std::vector<uint8_t> bytes_;
    std::optional<image::ImageView> view_;
    engine::Identity identity_;
    base::Rng rng_{1};
    engine::AnswerContext ctx_;
};

TEST_F(PacketTest, AnswersIpv4InPlaceWithValidChecksums) {
    const auto q = *dns::build_query("0.pool.ntp.org");
    const auto r = reply(frame(q));
    ASSERT_FALSE(r.empty());
    EXPECT_TRUE(std::equal(kPeerMac.begin(), kPeerMac.end(), r.begin()));    // to the sender
    EXPECT_TRUE(std::equal(kOurMac.begin(), kOurMac.end(), r.begin() + 6));  // from us
    const uint8_t* ip = r.data() + 14;
    EXPECT_EQ(std::vector<uint8_t>(ip + 12, ip + 16), (std::vector<uint8_t>{192, 0, 2, 53}));
    EXPECT_EQ(std::vector<uint8_t>(ip + 16, ip + 20), (std::vector<uint8_t>{198, 51, 100, 7}));
    EXPECT_EQ(ipv4_header_checksum(ip, 20), 0) << "header checksum must verify";
    EXPECT_EQ(size_t(ip[2] << 8 | ip[3]), r.size() - 14);
    const uint8_t* udp = ip + 20;
    EXPECT_EQ(udp[0] << 8 | udp[1], 53);
    EXPECT_EQ(udp[2] << 8 | udp[3], 40000);
    // The reply classifies as a valid datagram (checksums included) when seen from the peer.
    FrameLayout l;
    l.l3_offset = 14;
    l.l4_offset = 34;
    l.ip_version = 4;
    auto copy = r;
    copy[40] = copy[41] = 0;
    EXPECT_EQ(udp_checksum(l, copy.data(), static_cast<uint16_t>(r.size() - 34)),
              static_cast<uint16_t>(udp[6] << 8 | udp[7]));
    const auto m = dns::decode(std::span<const uint8_t>(r).subspan(42));
    ASSERT_TRUE(m.ok);
    ASSERT_EQ(m.answer.size(), 1u);
    EXPECT_EQ(m.answer[0].text, "203.0.113.49");  // 198.51.100.0/24 is in DE
}

TEST_F(PacketTest, AnswersIpv6AndVlan) {
    FrameOptions o;
    o.ip = 6;
    o.vlan = true;
    o.src = v6({0x20, 0x01, 0x0d, 0xb8, 0, 1}, 7);
    o.dst = std::vector<uint8_t>(kSvc6[0].begin(), kSvc6[0].end());
    const auto q = *dns::build_query("2.pool.ntp.org", {.qtype = 28});
    const auto r = reply(frame(q, o));
    ASSERT_FALSE(r.empty());
    EXPECT_EQ(r[12] << 8 | r[13], 0x8100);
    EXPECT_EQ(r[14] << 8 | r[15], 42);  // VLAN tag kept
    const uint8_t* ip = r.data() + 18;
    EXPECT_EQ(size_t(ip[4] << 8 | ip[5]), r.size() - 58);
    EXPECT_TRUE(std::equal(o.src.begin(), o.src.end(), ip + 24));
    FrameLayout l;
    l.l3_offset = 18;
    l.l4_offset = 58;
    l.ip_version = 6;
    auto copy = r;
    copy[64] = copy[65] = 0;
    EXPECT_EQ(udp_checksum(l, copy.data(), static_cast<uint16_t>(r.size() - 58)),
              static_cast<uint16_t>(r[64] << 8 | r[65]));
    const auto m = dns::decode(std::span<const uint8_t>(r).subspan(66));
    ASSERT_TRUE(m.ok);
    ASSERT_EQ(m.answer.size(), 1u);
    EXPECT_EQ(m.answer[0].text, "2001:db8::123");
}

TEST_F(PacketTest, Ipv4OptionsAreStrippedFromTheReply) {
    FrameOptions o;
    o.ip_options = 8;
    const auto r = reply(frame(*dns::build_query("0.pool.ntp.org"), o));
    ASSERT_FALSE(r.empty());
    EXPECT_EQ(r[14], 0x45);
    EXPECT_EQ(ipv4_header_checksum(r.data() + 14, 20), 0);
    EXPECT_TRUE(dns::decode(std::span<const uint8_t>(r).subspan(42)).ok);
}

TEST_F(PacketTest, KernelTrafficGoesToTheExceptionPath) {
    const auto q = *dns::build_query("0.pool.ntp.org");
    auto arp = frame(q);
    arp[12] = 0x08;
    arp[13] = 0x06;
    FrameOptions bcast;
    bcast.dst_mac = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    FrameOptions tcp;
    tcp.proto = 6;
    FrameOptions ntp;
    ntp.dport = 123;
    FrameOptions frag;
    frag.frag = 0x2000;  // more fragments
    FrameOptions other_ip;
    other_ip.dst = {192, 0, 2, 99};
    FrameOptions icmp6;
    icmp6.ip = 6;
    icmp6.proto = 58;
    icmp6.src = v6({0x20, 0x01, 0x0d, 0xb8, 0, 1}, 7);
    icmp6.dst = std::vector<uint8_t>(kSvc6[0].begin(), kSvc6[0].end());
    for (const auto& f : {arp, frame(q, bcast), frame(q, tcp), frame(q, ntp), frame(q, frag),
                          frame(q, other_ip), frame(q, icmp6)}) {
        EXPECT_EQ(classify(f, svc()).verdict, Verdict::Exception);
    }
}

// ARP and on-link ND pass the exception path's rate limits; ND from off the link (hop limit
// below 255), other ICMPv6 and anything truncated do not.
TEST_F(PacketTest, NeighbourDiscoveryIsRecognised) {
    const auto q = *dns::build_query("0.pool.ntp.org");
    auto arp = frame(q);
    arp[12] = 0x08;
    arp[13] = 0x06;
    FrameOptions vlan;
    vlan.vlan = true;
    auto tagged_arp = frame(q, vlan);
    tagged_arp[16] = 0x08;
    tagged_arp[17] = 0x06;
    FrameOptions icmp6;
    icmp6.ip = 6;
    icmp6.proto = 58;
    icmp6.src = v6({0xfe, 0x80}, 7);
    icmp6.dst = std::vector<uint8_t>(kSvc6[0].begin(), kSvc6[0].end());
    auto nd = [&](uint8_t type, uint8_t hop_limit) {
        auto f = frame(q, icmp6);
        f[14 + 7] = hop_limit;
        f[14 + 40] = type;
        return f;
    };
    EXPECT_TRUE(is_neighbour_discovery(arp));
    EXPECT_TRUE(is_neighbour_discovery(tagged_arp));
    for (uint8_t type = 133; type <= 137; ++type) {
        EXPECT_TRUE(is_neighbour_discovery(nd(type, 255))) << int{type};
    }
    EXPECT_FALSE(is_neighbour_discovery(nd(135, 254)));  // forwarded: not from the link
    EXPECT_FALSE(is_neighbour_discovery(nd(128, 255)));  // echo request
    EXPECT_FALSE(is_neighbour_discovery(nd(138, 255)));
    EXPECT_FALSE(is_neighbour_discovery(frame(q)));  // DNS over IPv4
    FrameOptions tcp;
    tcp.proto = 6;
    EXPECT_FALSE(is_neighbour_discovery(frame(q, tcp)));
    auto short_nd = nd(135, 255);
    short_nd.resize(14 + 40);
    EXPECT_FALSE(is_neighbour_discovery(short_nd));
    EXPECT_FALSE(is_neighbour_discovery(std::span<const uint8_t>(arp.data(), 13)));
}

// The word-at-a-time sum against RFC 1071's definition, for every length up to 100 bytes
// and every alignment, with carries forced (0xFF bytes) and random data.
TEST(Checksum, OnesSumIsTheSumOfBigEndianWords) {
    base::Rng rng{3};
    std::vector<uint8_t> buf(128);
    for (int round = 0; round < 2; ++round) {
        for (auto& b : buf) {
            b = round == 0 ? 0xFF : static_cast<uint8_t>(rng.next());
        }
        for (size_t off = 0; off < 8; ++off) {
            for (size_t n = 0; n <= 100; ++n) {
                uint64_t ref = 12345;
                for (size_t k = 0; k + 1 < n; k += 2) {
                    ref += static_cast<uint64_t>(buf[off + k]) << 8 | buf[off + k + 1];
                }
                if (n % 2 == 1) {
                    ref += static_cast<uint64_t>(buf[off + n - 1]) << 8;
                }
                EXPECT_EQ(fold_sum(ones_sum(buf.data() + off, n, 12345)), fold_sum(ref))
                    << "offset " << off << ", length " << n;
            }
        }
    }
}

// NTP: UDP to 123 is the kernel's unless the port serves NTP (above); then the NTP step.
class NtpFrameTest : public ::testing::Test {
  protected:
    static ServiceAddresses ntp_svc() {
        ServiceAddresses s = svc();
        s.ntp = true;
        return s;
    }
    static std::vector<uint8_t> request(uint8_t first, size_t length = 48) {
        std::vector<uint8_t> p(length, 0);
        p[0] = first;
        p[2] = 6;  // poll
        for (size_t i = 0; i < 8 && 40 + i < length; ++i) {
            p[40 + i] = static_cast<uint8_t>(0xA0 + i);  // the client's transmit timestamp
        }
        return p;
    }
    static ntp::ClockState clock() {
        ntp::ClockState c;
        c.synchronised = true;
        c.leap = ntp::Leap::None;
        c.stratum = 2;
        c.precision = -24;
        return c;
    }
    // Classifies, prepares and finishes; the NTP step's verdict and the frame after it.
    static ntp::Verdict answer(std::vector<uint8_t>& f, const ntp::ClockState& c = clock()) {
        save_seed(f);
        const auto cl = classify(f, ntp_svc());
        EXPECT_EQ(cl.verdict, Verdict::FastPath);
        EXPECT_EQ(cl.service, Service::Ntp);
        const size_t len = f.size();
        f.resize(len + 64);
        const NtpPrepared p = prepare_ntp_in_place(f, cl.layout, c, 0x1111111122222222);
        if (p.request.verdict != ntp::Verdict::Answer) {
            f.resize(len);
            return p.request.verdict;
        }
        f.resize(finish_ntp_in_place(f, p.reply, 0x3333333344444444));
        return p.request.verdict;
    }
};

TEST_F(NtpFrameTest, AClientRequestIsAnsweredInPlaceOverIpv4Ipv6AndVlan) {
    FrameOptions v6o;
    v6o.ip = 6;
    v6o.src = v6({0x20, 0x01, 0x0d, 0xb8, 0, 1}, 7);
    v6o.dst = std::vector<uint8_t>(kSvc6[0].begin(), kSvc6[0].end());
    v6o.dport = 123;
    FrameOptions v4o;
    v4o.dport = 123;
    FrameOptions vlan = v4o;
    vlan.vlan = true;
    FrameOptions options = v4o;
    options.ip_options = 8;
    for (const FrameOptions& o : {v4o, v6o, vlan, options}) {
        auto f = frame(request(0x23), o);
        ASSERT_EQ(answer(f), ntp::Verdict::Answer);
        const size_t l3 = o.vlan ? 18 : 14;
        const size_t l4 = l3 + (o.ip == 4 ? 20 : 40);
        ASSERT_EQ(f.size(), l4 + 8 + 48);
        EXPECT_TRUE(std::equal(kPeerMac.begin(), kPeerMac.end(), f.begin()));
        const uint8_t* udp = f.data() + l4;
        EXPECT_EQ(udp[0] << 8 | udp[1], 123);
        EXPECT_EQ(udp[2] << 8 | udp[3], 40000);
        EXPECT_EQ(udp[4] << 8 | udp[5], 56);
        if (o.ip == 4) {
            EXPECT_EQ(f[l3], 0x45);  // options stripped
            EXPECT_EQ(ipv4_header_checksum(f.data() + l3, 20), 0);
        }
        FrameLayout l;
        l.l3_offset = static_cast<uint16_t>(l3);
        l.l4_offset = static_cast<uint16_t>(l4);
        l.ip_version = static_cast<uint8_t>(o.ip);
        auto copy = f;
        copy[l4 + 6] = copy[l4 + 7] = 0;
        EXPECT_EQ(udp_checksum(l, copy.data(), 56), static_cast<uint16_t>(udp[6] << 8 | udp[7]));
        const uint8_t* a = udp + 8;
        EXPECT_EQ(a[0], 4 << 3 | 4);  // LI 0, version 4, mode 4
        EXPECT_EQ(a[1], 2);
        EXPECT_EQ(a[2], 6);
        EXPECT_EQ(a[24], 0xA0);  // origin = the client's transmit
        EXPECT_EQ(a[31], 0xA7);
        EXPECT_EQ(a[32], 0x11);  // receive
        EXPECT_EQ(a[40], 0x33);  // transmit, stamped last
        EXPECT_EQ(a[47], 0x44);
    }
}

TEST_F(NtpFrameTest, ModeFourReachesTheKernelUntouched) {
    FrameOptions o;
    o.dport = 123;
    o.ip_options = 8;  // what begin_reply would move
    auto f = frame(request(0x24), o);
    const auto before = f;
    EXPECT_EQ(answer(f), ntp::Verdict::Kernel);
    EXPECT_EQ(f, before);
}

TEST_F(NtpFrameTest, ControlPrivateAndSilenceAreDropped) {
    FrameOptions o;
    o.dport = 123;
    auto control = frame(request(0x16, 12), o);
    EXPECT_EQ(answer(control), ntp::Verdict::Drop);
    auto monlist = frame(request(0x17, 192), o);
    EXPECT_EQ(answer(monlist), ntp::Verdict::Drop);
    ntp::ClockState silent;
    silent.silent = true;
    auto quiet = frame(request(0x23), o);
    EXPECT_EQ(answer(quiet, silent), ntp::Verdict::Drop);
}

TEST_F(PacketTest, GarbageIsDroppedWithAReason) {
    const auto q = *dns::build_query("0.pool.ntp.org");
    auto expect = [&](const std::vector<uint8_t>& f, DropReason r) {
        const auto c = classify(f, svc());
        EXPECT_EQ(c.verdict, Verdict::Drop);
        EXPECT_EQ(c.reason, r) << to_string(c.reason) << " instead of " << to_string(r);
    };
    const auto good = frame(q);
    expect(std::vector<uint8_t>(good.begin(), good.begin() + 10), DropReason::Runt);
    expect(std::vector<uint8_t>(good.begin(), good.begin() + 30), DropReason::Runt);
    FrameOptions other_mac;
    other_mac.dst_mac = {0x02, 9, 9, 9, 9, 9};
    expect(frame(q, other_mac), DropReason::NotForUs);
    auto own = good;
    std::copy(kOurMac.begin(), kOurMac.end(), own.begin() + 6);
    expect(own, DropReason::OwnFrame);
    auto bad_ip_sum = good;
    bad_ip_sum[24] ^= 0x40;
    expect(bad_ip_sum, DropReason::BadIpChecksum);
    auto bad_udp_sum = good;
    bad_udp_sum[good.size() - 1] ^= 1;
    expect(bad_udp_sum, DropReason::BadUdpChecksum);
    auto bad_version = good;
    bad_version[14] = 0x55;
    expect(bad_version, DropReason::BadIpHeader);
    auto long_udp = good;
    long_udp[38] = 0x40;  // UDP length beyond the datagram
    expect(long_udp, DropReason::BadUdpHeader);
    FrameOptions spoof;
    spoof.src = {192, 0, 2, 53};  // ourselves
    expect(frame(q, spoof), DropReason::BadSource);
    spoof.src = {224, 0, 0, 1};
    expect(frame(q, spoof), DropReason::BadSource);
    FrameOptions zero_port;
    zero_port.sport = 0;
    expect(frame(q, zero_port), DropReason::SourcePortZero);
    FrameOptions v6_nosum;
    v6_nosum.ip = 6;
    v6_nosum.checksum = false;
    v6_nosum.src = v6({0x20, 0x01, 0x0d, 0xb8, 0, 1}, 7);
    v6_nosum.dst = std::vector<uint8_t>(kSvc6[0].begin(), kSvc6[0].end());
    expect(frame(q, v6_nosum), DropReason::BadUdpChecksum);
    // IPv4 without a UDP checksum is legal.
    FrameOptions v4_nosum;
    v4_nosum.checksum = false;
    EXPECT_EQ(classify(frame(q, v4_nosum), svc()).verdict, Verdict::FastPath);
    // A DNS response (QR set) sent to us gets no answer: no reflection loops.
    auto resp = q;
    resp[2] |= 0x80;
    auto f = frame(resp);
    const auto c = classify(f, svc());
    ASSERT_EQ(c.verdict, Verdict::FastPath);
    f.resize(2048);
    EXPECT_EQ(answer_dns_in_place(f, c.layout, ctx_).reason, DropReason::DnsNoAnswer);
}

TEST_F(PacketTest, OffloadLeavesThePseudoHeaderSum) {
    auto f = frame(*dns::build_query("0.pool.ntp.org"));
    const auto c = classify(f, svc());
    f.resize(2048);
    const auto a = answer_dns_in_place(f, c.layout, ctx_, false);
    ASSERT_GT(a.length, 0);
    // What DPDK's rte_ipv4_phdr_cksum gives: the folded, uncomplemented pseudo-header sum.
    uint32_t sum = 0;
    for (int i = 26; i < 34; i += 2) {
        sum += static_cast<uint32_t>(f[i] << 8 | f[i + 1]);
    }
    sum += 17 + static_cast<uint32_t>(a.length - 34);
    while (sum >> 16) {
        sum = (sum & 0xFFFF) + (sum >> 16);
    }
    EXPECT_EQ(static_cast<uint32_t>(f[40] << 8 | f[41]), sum);
}

}  // namespace
}  // namespace pooledge::dataplane

namespace pooledge::dataplane {
namespace {

// Response rate limiting through the DNS answer step: a limited response is dropped or
// slipped (TC=1, header and question only, never larger than the query); a valid server
// cookie passes whatever the limiter says, a forged one does not.
class RrlFrameTest : public PacketTest {
  protected:
    void SetUp() override {
        PacketTest::SetUp();
        identity_.cookie_secret = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
        ctx_.now = 1700000000;
        limit::RrlConfig c;
        c.rate = {1, 1, 1};
        c.window = 2;  // a burst of 2
        c.slip = 2;
        c.table_entries = 1024;
        c.backstop = 0;
        rrl_.emplace(c, 99, 0);
        limits_ = DnsLimits{&*rrl_, &state_, 1000000000};
    }
    DnsAnswered limited(std::vector<uint8_t>& f) {
        const auto c = classify(f, svc());
        EXPECT_EQ(c.verdict, Verdict::FastPath);
        const size_t len = f.size();
        f.resize(2048);
        DnsPrepared p;
        prepare_dns_in_place(f, c.layout, ctx_, p, &limits_);
        resolve_dns(p, ctx_);
        const DnsAnswered a = finish_dns_in_place(f, p, ctx_, true, &limits_);
        f.resize(a.length != 0 ? a.length : len);
        return a;
    }
    std::optional<limit::Rrl> rrl_;
    limit::RrlWorker state_{0, 1};
    DnsLimits limits_;
};

TEST_F(RrlFrameTest, OverTheRateResponsesAreDroppedOrSlipped) {
    const auto q = *dns::build_query("0.pool.ntp.org");
    unsigned passed = 0, slipped = 0, dropped = 0;
    for (int i = 0; i < 10; ++i) {
        auto f = frame(q);
        const size_t query_frame = f.size();
        const DnsAnswered a = limited(f);
        if (a.rrl.action == limit::Action::Pass) {
            ++passed;
            continue;
        }
        EXPECT_TRUE(a.rrl.limited);
        if (a.rrl.action == limit::Action::Drop) {
            EXPECT_EQ(a.length, 0);
            EXPECT_EQ(a.reason, DropReason::DnsRateLimited);
            ++dropped;
            continue;
        }
        ++slipped;
        ASSERT_EQ(a.length, query_frame);  // header + question: exactly the query's size
        const auto m = dns::decode(std::span<const uint8_t>(f).subspan(42));
        ASSERT_TRUE(m.ok);
        EXPECT_NE(m.flags & 0x0200, 0) << "TC set";
        EXPECT_NE(m.flags & 0x8000, 0) << "a response";
        EXPECT_TRUE(m.answer.empty());
        EXPECT_EQ(ipv4_header_checksum(f.data() + 14, 20), 0);
    }
    EXPECT_EQ(passed, 2u);
    EXPECT_EQ(slipped, 4u);
    EXPECT_EQ(dropped, 4u);
}

TEST_F(RrlFrameTest, AValidServerCookieBypassesTheLimiterAForgedOneDoesNot) {
    const std::array<uint8_t, 8> client{9, 8, 7, 6, 5, 4, 3, 2};
    const auto server = dns::make_server_cookie(identity_.cookie_secret, client,
                                                *base::IpAddress::parse("198.51.100.7"), ctx_.now);
    std::vector<uint8_t> good(client.begin(), client.end());
    good.insert(good.end(), server.begin(), server.end());
    std::vector<uint8_t> forged = good;
    forged.back() ^= 1;
    dns::QueryOptions o;
    o.edns = true;
    // Use up the burst.
    for (int i = 0; i < 2; ++i) {
        auto f = frame(*dns::build_query("0.pool.ntp.org"));
        ASSERT_EQ(limited(f).rrl.action, limit::Action::Pass);
    }
    o.cookie = forged;
    auto f = frame(*dns::build_query("0.pool.ntp.org", o));
    const DnsAnswered bad = limited(f);
    EXPECT_NE(bad.rrl.action, limit::Action::Pass);
    EXPECT_FALSE(bad.cookie_bypass);
    o.cookie = good;
    for (int i = 0; i < 5; ++i) {
        auto g = frame(*dns::build_query("0.pool.ntp.org", o));
        const DnsAnswered a = limited(g);
        EXPECT_EQ(a.rrl.action, limit::Action::Pass);
        EXPECT_TRUE(a.rrl.limited);
        EXPECT_TRUE(a.cookie_bypass);
        ASSERT_NE(a.length, 0);
        const auto m = dns::decode(std::span<const uint8_t>(g).subspan(42));
        ASSERT_TRUE(m.ok);
        EXPECT_EQ(m.answer.size(), 1u);
    }
    // A node whose cookie secret is all zero does not do cookies: a cookie anyone could
    // compute for a spoofed address bypasses nothing.
    const auto secret = identity_.cookie_secret;
    identity_.cookie_secret = {};
    std::vector<uint8_t> zero_cookie(client.begin(), client.end());
    const auto zero = dns::make_server_cookie(identity_.cookie_secret, client,
                                              *base::IpAddress::parse("198.51.100.7"), ctx_.now);
    zero_cookie.insert(zero_cookie.end(), zero.begin(), zero.end());
    dns::QueryOptions z = o;
    z.cookie = zero_cookie;
    auto zf = frame(*dns::build_query("0.pool.ntp.org", z));
    EXPECT_FALSE(limited(zf).cookie_bypass);
    identity_.cookie_secret = secret;
    // An hour and more later the same cookie is stale: limited again.
    ctx_.now += 3601;
    auto late = frame(*dns::build_query("0.pool.ntp.org", o));
    EXPECT_FALSE(limited(late).cookie_bypass);
}

TEST_F(NtpFrameTest, KodRateKeepsOriginAndReceiveAndRaisesThePoll) {
    FrameOptions o;
    o.dport = 123;
    auto f = frame(request(0x23), o);
    const auto cl = classify(f, ntp_svc());
    ASSERT_EQ(cl.verdict, Verdict::FastPath);
    const size_t len = f.size();
    f.resize(len + 64);
    const NtpPrepared p = prepare_ntp_in_place(f, cl.layout, clock(), 0x1111111122222222);
    ASSERT_EQ(p.request.verdict, ntp::Verdict::Answer);
    kod_in_place(f, p.reply, 10);
    f.resize(finish_ntp_in_place(f, p.reply, 0x3333333344444444));
    ASSERT_EQ(f.size(), len);  // 48 bytes: never more than the request
    const uint8_t* a = f.data() + 42;
    EXPECT_EQ(a[0], 3 << 6 | 4 << 3 | 4);  // LI 3, version 4, mode 4
    EXPECT_EQ(a[1], 0);                    // stratum 0: a kiss
    EXPECT_EQ(a[2], 10);                   // poll raised from 6
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(a + 12), 4), "RATE");
    EXPECT_EQ(a[24], 0xA0);  // origin = the client's transmit: it can match the kiss
    EXPECT_EQ(a[32], 0x11);
    EXPECT_EQ(a[40], 0x33);
}

}  // namespace
}  // namespace pooledge::dataplane
