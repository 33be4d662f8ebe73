#include "pooledge/engine/answer.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <set>

#include "pooledge/dns/cookie.hpp"
#include "pooledge/dns/dname.hpp"
#include "test_util.hpp"

// Counts heap allocations so a test can prove the answer path makes none. Under
// AddressSanitizer the sanitizer owns operator new, so the count (and that test) is off there;
// the plain build runs it. The replacement pairs malloc with free; GCC cannot see that through
// the operators and warns.
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define POOLEDGE_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define POOLEDGE_ASAN 1
#endif

namespace {
std::atomic<size_t> g_allocations{0};
}
#ifndef POOLEDGE_ASAN
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(size_t n) {
    g_allocations.fetch_add(1, std::memory_order_relaxed);
    if (void* p = std::malloc(n == 0 ? 1 : n)) {
        return p;
    }
    throw std::bad_alloc();
}
void* operator new[](size_t n) {
    return operator new(n);
}
void operator delete(void* p) noexcept {
    std::free(p);
}
void operator delete(void* p, size_t) noexcept {
    std::free(p);
}
void operator delete[](void* p) noexcept {
    std::free(p);
}
void operator delete[](void* p, size_t) noexcept {
    std::free(p);
}
#endif

namespace pooledge::engine {
namespace {

using testkit::make_query;

const std::set<std::string> kGlobal0 = {"192.0.2.10", "192.0.2.11", "192.0.2.12", "192.0.2.13",
                                        "192.0.2.14"};
const std::set<std::string> kDe0 = {"198.51.100.1", "198.51.100.2"};
const std::set<std::string> kEurope0 = {"203.0.113.50", "203.0.113.51"};

class AnswerTest : public ::testing::Test {
  protected:
    AnswerTest() : holder_(testkit::load_small()), rng_(1) {
        identity_.nsid = "edge-fra-1";
        identity_.server_id = "fra1.pooledge.example";
        identity_.version = "pooledge 0.1";
        ctx_.image = &holder_.view;
        ctx_.identity = &identity_;
        ctx_.rng = &rng_;
        ctx_.now = 1763740800;
    }

    dns::Message ask(const std::string& name, const dns::QueryOptions& o = {},
                     const char* from = "127.0.0.1", Transport t = Transport::Udp) {
        const auto q = make_query(name, o);
        return ask_raw(q, from, t);
    }

    dns::Message ask_raw(const std::vector<uint8_t>& q, const char* from = "127.0.0.1",
                         Transport t = Transport::Udp) {
        out_.assign(65535, 0xEE);
        last_ = answer(ctx_, Client{*base::IpAddress::parse(from), t}, q, out_);
        out_.resize(last_.size);
        dns::Message m = dns::decode(out_);
        return m;
    }

    static std::set<std::string> texts(const std::vector<dns::Record>& rrs) {
        std::set<std::string> s;
        for (const auto& r : rrs) {
            s.insert(r.text);
        }
        return s;
    }

    testkit::ImageHolder holder_;
    Identity identity_;
    base::Rng rng_;
    AnswerContext ctx_;
    std::vector<uint8_t> out_;
    Response last_;
};

TEST_F(AnswerTest, GeoAnswerFromSourceAddress) {
    const auto m = ask("0.pool.ntp.org", {}, "10.1.2.3");  // overridden to Germany
    ASSERT_TRUE(m.ok);
    EXPECT_EQ(m.rcode, 0);
    EXPECT_TRUE(m.flags & dns::flag::AA);
    EXPECT_TRUE(m.flags & dns::flag::QR);
    EXPECT_TRUE(m.flags & dns::flag::RD);  // copied
    EXPECT_FALSE(m.flags & dns::flag::RA);
    EXPECT_EQ(texts(m.answer), kDe0);
    EXPECT_EQ(m.answer[0].ttl, 150u);
    EXPECT_EQ(m.answer[0].owner, "0.pool.ntp.org.");
    EXPECT_FALSE(m.has_opt);
}

TEST_F(AnswerTest, UnknownLocationGetsGlobalMaxHosts) {
    const auto m = ask("0.pool.ntp.org", {}, "127.0.0.1");
    ASSERT_TRUE(m.ok);
    ASSERT_EQ(m.answer.size(), 4u);  // max_hosts of 5
    const auto got = texts(m.answer);
    EXPECT_EQ(got.size(), 4u);  // without replacement
    for (const auto& a : got) {
        EXPECT_TRUE(kGlobal0.count(a)) << a;
    }
}

TEST_F(AnswerTest, EcsPlacesTheClientAndReportsTheScope) {
    const auto m = ask("0.pool.ntp.org", {.edns = true, .ecs = "81.0.77.0/24"});
    ASSERT_TRUE(m.ok);
    EXPECT_EQ(texts(m.answer), kDe0);
    ASSERT_EQ(m.options.size(), 1u);
    EXPECT_EQ(m.options[0].first, dns::edns::ECS);
    const auto& ecs = m.options[0].second;
    ASSERT_EQ(ecs.size(), 7u);
    EXPECT_EQ(ecs[2], 24);  // source echoed
    EXPECT_EQ(ecs[3], 16);  // scope: Germany is all of 81.0.0.0/16
    EXPECT_EQ(ecs[4], 81);
    EXPECT_EQ(ecs[6], 77);
}

TEST_F(AnswerTest, EcsFallsBackToTheContinent) {
    const auto m = ask("0.pool.ntp.org", {.edns = true, .ecs = "82.0.1.0/24"});  // France
    EXPECT_EQ(texts(m.answer), kEurope0);
    const auto v6 = ask("0.pool.ntp.org", {.edns = true, .ecs = "2a01:4f8::/48"});  // Germany
    EXPECT_EQ(texts(v6.answer), kDe0);
}

TEST_F(AnswerTest, PrivateEcsIsIgnoredWithScopeZero) {
    const auto m = ask("0.pool.ntp.org", {.edns = true, .ecs = "10.1.0.0/16"}, "24.0.0.9");
    ASSERT_TRUE(m.ok);
    EXPECT_EQ(texts(m.answer), (std::set<std::string>{"203.0.113.1"}));  // the US source
    ASSERT_EQ(m.options.size(), 1u);
    EXPECT_EQ(m.options[0].second[3], 0);
}

TEST_F(AnswerTest, StaticAnswersHaveScopeZero) {
    const auto m = ask("0.de.pool.ntp.org", {.edns = true, .ecs = "24.0.0.0/24"});
    EXPECT_EQ(texts(m.answer), kDe0);
    ASSERT_EQ(m.options.size(), 1u);
    EXPECT_EQ(m.options[0].second[3], 0);
}

TEST_F(AnswerTest, AliasFollowsTheClient) {
    const auto m = ask("0.debian.pool.ntp.org", {}, "10.1.0.1");
    EXPECT_EQ(texts(m.answer), kDe0);
    EXPECT_EQ(m.answer[0].owner, "0.debian.pool.ntp.org.");
}

TEST_F(AnswerTest, AaaaOnlyWhereItExists) {
    const auto m = ask("2.pool.ntp.org", {.qtype = dns::rrtype::AAAA}, "10.1.0.1");
    EXPECT_EQ(texts(m.answer), (std::set<std::string>{"2001:db8:de::1"}));
    EXPECT_EQ(m.answer[0].type, dns::rrtype::AAAA);
    const auto nodata = ask("0.pool.ntp.org", {.qtype = dns::rrtype::AAAA}, "10.1.0.1");
    EXPECT_EQ(nodata.rcode, 0);
    EXPECT_TRUE(nodata.answer.empty());
    ASSERT_EQ(nodata.authority.size(), 1u);
    EXPECT_EQ(nodata.authority[0].type, dns::rrtype::SOA);
}

TEST_F(AnswerTest, NxdomainCarriesSoaWithNegativeTtl) {
    const auto m = ask("nonexistent.pool.ntp.org");
    ASSERT_TRUE(m.ok);
    EXPECT_EQ(m.rcode, static_cast<uint16_t>(dns::Rcode::NxDomain));
    EXPECT_TRUE(m.flags & dns::flag::AA);
    EXPECT_TRUE(m.answer.empty());
    ASSERT_EQ(m.authority.size(), 1u);
    const auto& soa = m.authority[0];
    EXPECT_EQ(soa.type, dns::rrtype::SOA);
    EXPECT_EQ(soa.owner, "pool.ntp.org.");
    EXPECT_EQ(soa.ttl, 300u);  // min(SOA TTL 1500, MINIMUM 300)
    EXPECT_EQ(soa.text, "ns1.pool.ntp.org. hostmaster.pool.ntp.org. 7 5400 5400 1209600 300");
    EXPECT_EQ(last_.rcode, dns::Rcode::NxDomain);
    EXPECT_EQ(last_.zone, 0);
    // Deeper under an existing name is NXDOMAIN too.
    EXPECT_EQ(ask("x.0.pool.ntp.org").rcode, static_cast<uint16_t>(dns::Rcode::NxDomain));
}

TEST_F(AnswerTest, EmptyNonTerminalIsNodata) {
    const auto m = ask("debian.pool.ntp.org");
    EXPECT_EQ(m.rcode, 0);
    EXPECT_TRUE(m.answer.empty());
    ASSERT_EQ(m.authority.size(), 1u);
    EXPECT_EQ(m.authority[0].type, dns::rrtype::SOA);
}

TEST_F(AnswerTest, OutsideOurZonesIsRefused) {
    const auto m = ask("www.example.com");
    EXPECT_EQ(m.rcode, static_cast<uint16_t>(dns::Rcode::Refused));
    EXPECT_FALSE(m.flags & dns::flag::AA);
    EXPECT_TRUE(m.answer.empty() && m.authority.empty());
    EXPECT_EQ(last_.zone, -1);
    EXPECT_EQ(ask("ntp.org").rcode, static_cast<uint16_t>(dns::Rcode::Refused));
}

TEST_F(AnswerTest, AnswerKeepsTheQueryCase) {
    const auto m = ask("0.PoOl.NtP.oRg", {}, "10.1.0.1");
    EXPECT_EQ(m.qname, "0.PoOl.NtP.oRg.");
    EXPECT_EQ(m.answer[0].owner, "0.PoOl.NtP.oRg.");
    const auto nx = ask("NoNe.POOL.ntp.org");
    EXPECT_EQ(nx.authority[0].owner, "POOL.ntp.org.");
}

TEST_F(AnswerTest, AnyGetsRfc8482Hinfo) {
    const auto m = ask("pool.ntp.org", {.qtype = dns::rrtype::ANY});
    ASSERT_EQ(m.answer.size(), 1u);
    EXPECT_EQ(m.answer[0].type, dns::rrtype::HINFO);
    const std::vector<uint8_t> rd = {7, 'R', 'F', 'C', '8', '4', '8', '2', 0};
    EXPECT_EQ(m.answer[0].rdata, rd);
}

TEST_F(AnswerTest, ApexRecordsAndCompression) {
    const auto ns = ask("pool.ntp.org", {.qtype = dns::rrtype::NS});
    ASSERT_TRUE(ns.ok);
    EXPECT_EQ(texts(ns.answer), (std::set<std::string>{"ns1.pool.ntp.org.", "ns2.pool.ntp.org."}));
    EXPECT_EQ(ns.answer[0].ttl, 86400u);
    // "ns1" then a pointer to the question name at byte 12: 1+3+2 bytes of rdata.
    EXPECT_EQ(ns.answer[0].rdata.size(), 6u);
    const auto mx = ask("pool.ntp.org", {.qtype = dns::rrtype::MX});
    ASSERT_EQ(mx.answer.size(), 1u);
    EXPECT_EQ(mx.answer[0].text, "0 .");
    const auto soa = ask("pool.ntp.org", {.qtype = dns::rrtype::SOA});
    ASSERT_EQ(soa.answer.size(), 1u);
    EXPECT_EQ(soa.answer[0].ttl, 1500u);
    // Both SOA names end in the question name: each is a label or two and a pointer.
    EXPECT_EQ(soa.answer[0].rdata.size(), (1 + 3 + 2) + (1 + 10 + 2) + 20u);
}

TEST_F(AnswerTest, CnameIsReturnedAlone) {
    const auto m = ask("www.pool.ntp.org", {.qtype = dns::rrtype::A});
    ASSERT_EQ(m.answer.size(), 1u);
    EXPECT_EQ(m.answer[0].type, dns::rrtype::CNAME);
    EXPECT_EQ(m.answer[0].text, "www.ntppool.org.");
    const auto txt = ask("www.pool.ntp.org", {.qtype = dns::rrtype::TXT});
    ASSERT_EQ(txt.answer.size(), 1u);
    EXPECT_EQ(txt.answer[0].type, dns::rrtype::CNAME);
}

TEST_F(AnswerTest, ChaosIdentity) {
    for (const char* name : {"id.server", "hostname.bind", "ID.SERVER"}) {
        const auto m = ask(name, {.qtype = dns::rrtype::TXT, .qclass = dns::rrclass::CH});
        ASSERT_EQ(m.answer.size(), 1u) << name;
        EXPECT_EQ(m.answer[0].klass, dns::rrclass::CH);
        EXPECT_EQ(m.answer[0].text, "fra1.pooledge.example");
    }
    const auto v = ask("version.bind", {.qtype = dns::rrtype::TXT, .qclass = dns::rrclass::CH});
    ASSERT_EQ(v.answer.size(), 1u);
    EXPECT_EQ(v.answer[0].text, "pooledge 0.1");
    EXPECT_EQ(ask("authors.bind", {.qtype = dns::rrtype::TXT, .qclass = dns::rrclass::CH}).rcode,
              static_cast<uint16_t>(dns::Rcode::Refused));
    identity_.version = "";
    EXPECT_EQ(ask("version.bind", {.qtype = dns::rrtype::TXT, .qclass = dns::rrclass::CH}).rcode,
              static_cast<uint16_t>(dns::Rcode::Refused));
    EXPECT_EQ(ask("pool.ntp.org", {.qclass = 4}).rcode, static_cast<uint16_t>(dns::Rcode::Refused));
}

TEST_F(AnswerTest, NsidWhenAsked) {
    const auto m = ask("pool.ntp.org", {.edns = true, .nsid = true});
    ASSERT_EQ(m.options.size(), 1u);
    EXPECT_EQ(m.options[0].first, dns::edns::NSID);
    EXPECT_EQ(std::string(m.options[0].second.begin(), m.options[0].second.end()), "edge-fra-1");
    EXPECT_TRUE(ask("pool.ntp.org", {.edns = true}).options.empty());
}

TEST_F(AnswerTest, EdnsVersionAboveZeroIsBadvers) {
    const auto m = ask("pool.ntp.org", {.edns = true, .version = 1});
    ASSERT_TRUE(m.ok);
    EXPECT_TRUE(m.has_opt);
    EXPECT_EQ(m.rcode, static_cast<uint16_t>(dns::Rcode::BadVers));
    EXPECT_TRUE(m.answer.empty());
}

TEST_F(AnswerTest, OptAdvertisesOurSizeAndClientSizeIsHonoured) {
    const auto m = ask("pool.ntp.org", {.edns = true, .udp_size = 4096});
    EXPECT_TRUE(m.has_opt);
    EXPECT_EQ(m.opt_udp, 1232);
}

TEST_F(AnswerTest, TruncatesWhenTheAnswerDoesNotFit) {
    // 32 A records: 12 + 22 + 32*16 = 546 bytes > 512.
    const auto small = ask("many.pool.ntp.org");
    ASSERT_TRUE(small.ok);
    EXPECT_TRUE(small.flags & dns::flag::TC);
    EXPECT_TRUE(small.answer.empty());
    EXPECT_EQ(small.qname, "many.pool.ntp.org.");
    EXPECT_TRUE(last_.truncated);
    EXPECT_LE(out_.size(), 512u);
    // With EDNS 1232 it fits, and OPT is there.
    const auto big = ask("many.pool.ntp.org", {.edns = true, .udp_size = 1232});
    EXPECT_FALSE(big.flags & dns::flag::TC);
    EXPECT_EQ(big.answer.size(), 32u);
    EXPECT_TRUE(big.has_opt);
    // EDNS with a size under 512 is treated as 512; truncated answers keep their OPT.
    const auto tiny = ask("many.pool.ntp.org", {.edns = true, .udp_size = 100, .nsid = true});
    EXPECT_TRUE(tiny.flags & dns::flag::TC);
    EXPECT_TRUE(tiny.has_opt);
    EXPECT_EQ(tiny.options.size(), 1u);
    // Over TCP there is no 512 limit.
    const auto tcp = ask("many.pool.ntp.org", {}, "127.0.0.1", Transport::Tcp);
    EXPECT_FALSE(tcp.flags & dns::flag::TC);
    EXPECT_EQ(tcp.answer.size(), 32u);
}

TEST_F(AnswerTest, MalformedQueriesGetFormerrOrNothing) {
    auto bad = make_query("pool.ntp.org");
    bad.push_back(0);  // trailing garbage
    const auto m = ask_raw(bad);
    ASSERT_TRUE(m.ok);
    EXPECT_EQ(m.rcode, static_cast<uint16_t>(dns::Rcode::FormErr));
    EXPECT_EQ(m.qname, "pool.ntp.org.");  // question echoed when it parsed
    std::vector<uint8_t> header_only = {0xab, 0xcd, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 5, 'a'};
    const auto h = ask_raw(header_only);
    EXPECT_EQ(h.rcode, static_cast<uint16_t>(dns::Rcode::FormErr));
    EXPECT_EQ(h.id, 0xabcd);
    EXPECT_TRUE(h.qname.empty());
    auto response = make_query("pool.ntp.org");
    response[2] |= 0x80;
    ask_raw(response);
    EXPECT_EQ(last_.size, 0u);  // a response is never answered
    ask_raw(std::vector<uint8_t>(5, 0));
    EXPECT_EQ(last_.size, 0u);
    auto notify = make_query("pool.ntp.org");
    notify[2] = 4 << 3;
    EXPECT_EQ(ask_raw(notify).rcode, static_cast<uint16_t>(dns::Rcode::NotImp));
}

// RFC 6891 6.1.1: a query with an OPT gets one back, even when its options were the problem.
TEST_F(AnswerTest, FormerrKeepsOptWhenTheQueryHadOne) {
    auto q = make_query("pool.ntp.org", {.edns = true, .ecs = "81.0.0.0/16"});
    q[q.size() - 3] = 8;  // ECS scope must be 0 in a query
    const auto m = ask_raw(q);
    ASSERT_TRUE(m.ok);
    EXPECT_EQ(m.rcode, static_cast<uint16_t>(dns::Rcode::FormErr));
    EXPECT_TRUE(m.has_opt);
    EXPECT_TRUE(m.options.empty());
    EXPECT_EQ(m.qname, "pool.ntp.org.");
}

TEST_F(AnswerTest, ErrorsNeverOverrunASmallBuffer) {
    auto bad = make_query("pool.ntp.org");
    bad.push_back(0);
    std::vector<uint8_t> tiny(8);
    EXPECT_EQ(answer(ctx_, Client{*base::IpAddress::parse("127.0.0.1")}, bad, tiny).size, 0u);
    std::vector<uint8_t> header_only(12);
    EXPECT_EQ(answer(ctx_, Client{*base::IpAddress::parse("127.0.0.1")}, bad, header_only).size,
              0u);
}

TEST_F(AnswerTest, BadversWhateverTheOptionsOfTheNewerVersion) {
    auto q = make_query("pool.ntp.org", {.edns = true, .version = 1, .ecs = "81.0.0.0/16"});
    q[q.size() - 3] = 8;  // meaningless under version 0, none of our business under 1
    const auto m = ask_raw(q);
    EXPECT_EQ(m.rcode, static_cast<uint16_t>(dns::Rcode::BadVers));
    EXPECT_TRUE(m.has_opt);
}

TEST_F(AnswerTest, LargestOptStillFits) {
    const std::string nsid(64, 'n');  // Identity holds views: keep the bytes alive
    identity_.nsid = nsid;
    identity_.cookie_secret.fill(9);
    const auto m = ask(
        "pool.ntp.org",
        {.edns = true, .nsid = true, .ecs = "2a01::1/128", .cookie = std::vector<uint8_t>(8, 1)});
    ASSERT_TRUE(m.ok);
    EXPECT_EQ(m.rcode, 0);
    ASSERT_TRUE(m.has_opt);
    EXPECT_EQ(m.options.size(), 3u);  // NSID, ECS, COOKIE
}

TEST_F(AnswerTest, DnssecOkIsCopied) {
    auto opt_ttl = [&](bool d) {
        const auto q = make_query("pool.ntp.org", {.edns = true, .dnssec_ok = d});
        out_.assign(1232, 0);
        const auto r = answer(ctx_, Client{*base::IpAddress::parse("127.0.0.1")}, q, out_);
        // OPT is the last record: its TTL sits 6 bytes after the type.
        return std::vector<uint8_t>(out_.begin() + r.size - 6, out_.begin() + r.size - 2);
    };
    EXPECT_EQ(opt_ttl(true), (std::vector<uint8_t>{0, 0, 0x80, 0}));
    EXPECT_EQ(opt_ttl(false), (std::vector<uint8_t>{0, 0, 0, 0}));
}

TEST_F(AnswerTest, NoImageMeansServfail) {
    ctx_.image = nullptr;
    EXPECT_EQ(ask("0.pool.ntp.org").rcode, static_cast<uint16_t>(dns::Rcode::ServFail));
    // The node still tells who it is.
    EXPECT_EQ(
        ask("id.server", {.qtype = dns::rrtype::TXT, .qclass = dns::rrclass::CH}).answer.size(),
        1u);
}

TEST_F(AnswerTest, ZoneTransfersAreRefused) {
    EXPECT_EQ(ask("pool.ntp.org", {.qtype = dns::rrtype::AXFR}).rcode,
              static_cast<uint16_t>(dns::Rcode::Refused));
}

// RFC 6891 7: whatever the error, a query that had an OPT gets one back. NOTIMP and a FORMERR
// for the counts or the question are decided before the additional section is parsed.
TEST_F(AnswerTest, NotimpAndQuestionFormerrKeepOpt) {
    auto notify = make_query("pool.ntp.org", {.edns = true});
    notify[2] = 4 << 3;  // opcode NOTIFY
    auto m = ask_raw(notify);
    EXPECT_EQ(m.rcode, static_cast<uint16_t>(dns::Rcode::NotImp));
    EXPECT_TRUE(m.has_opt);
    // Two questions (RFC 9619), the OPT after both.
    auto two = make_query("pool.ntp.org", {.edns = true});
    const auto plain = make_query("pool.ntp.org");
    two[5] = 2;  // QDCOUNT
    two.insert(two.begin() + static_cast<ptrdiff_t>(plain.size()), plain.begin() + dns::kHeaderSize,
               plain.end());
    m = ask_raw(two);
    EXPECT_EQ(m.rcode, static_cast<uint16_t>(dns::Rcode::FormErr));
    EXPECT_TRUE(m.has_opt);
    // Without an OPT, none comes back.
    auto notify_plain = make_query("pool.ntp.org");
    notify_plain[2] = 4 << 3;
    EXPECT_FALSE(ask_raw(notify_plain).has_opt);
}

// A TSIG RR (RFC 8945 4.2) for `key`, with a 32-byte MAC.
std::vector<uint8_t> tsig_rr(const std::string& key, uint16_t klass = 255) {
    std::vector<uint8_t> rr = *dns::name_from_text(key);
    const auto alg = *dns::name_from_text("hmac-sha256");
    std::vector<uint8_t> rd(alg);
    const uint8_t fixed[] = {0,    0,    0x69, 0x20, 0x00,
                             0x00, 0x01, 0x2c, 0,    32};  // time, fudge, MAC size
    rd.insert(rd.end(), std::begin(fixed), std::end(fixed));
    rd.insert(rd.end(), 32, 0xAA);                    // MAC
    const uint8_t tail[] = {0x12, 0x34, 0, 0, 0, 0};  // original id, error, other len
    rd.insert(rd.end(), std::begin(tail), std::end(tail));
    const uint8_t head[] = {
        0, 250, static_cast<uint8_t>(klass >> 8),     static_cast<uint8_t>(klass),    0, 0,
        0, 0,   static_cast<uint8_t>(rd.size() >> 8), static_cast<uint8_t>(rd.size())};
    rr.insert(rr.end(), std::begin(head), std::end(head));
    rr.insert(rr.end(), rd.begin(), rd.end());
    return rr;
}

std::vector<uint8_t> with_additional(std::vector<uint8_t> q, const std::vector<uint8_t>& rr) {
    q.insert(q.end(), rr.begin(), rr.end());
    ++q[11];  // ARCOUNT
    return q;
}

// RFC 8945 5.2.2: no keys here, so a signed query gets NOTAUTH and an unsigned TSIG RR with
// error BADKEY; a misplaced or duplicate TSIG, or one of the wrong class, is FORMERR.
TEST_F(AnswerTest, TsigIsAnsweredNotauthBadkey) {
    for (const bool edns : {false, true}) {
        const auto q =
            with_additional(make_query("0.pool.ntp.org", {.edns = edns}), tsig_rr("key.example"));
        const auto m = ask_raw(q);
        ASSERT_TRUE(m.ok) << edns;
        EXPECT_EQ(m.rcode, static_cast<uint16_t>(dns::Rcode::NotAuth));
        EXPECT_TRUE(m.answer.empty());
        EXPECT_EQ(m.has_opt, edns);
        ASSERT_FALSE(m.additional.empty());
        const auto& t = m.additional.back();
        EXPECT_EQ(t.type, 250) << "TSIG comes last";
        EXPECT_EQ(t.owner, "key.example.");
        EXPECT_EQ(t.klass, 255);
        const auto alg_len = dns::name_from_text("hmac-sha256")->size();
        ASSERT_EQ(t.rdata.size(), alg_len + 16);
        const uint8_t* f = t.rdata.data() + alg_len;
        EXPECT_EQ(f[1], 0) << "time signed echoed";
        EXPECT_EQ(f[2], 0x69);
        EXPECT_EQ(f[8] << 8 | f[9], 0) << "MAC size 0: unsigned";
        EXPECT_EQ(f[10] << 8 | f[11], 0x1234) << "original id";
        EXPECT_EQ(f[12] << 8 | f[13], 17) << "BADKEY";
    }
    // Not last: TSIG, then OPT.
    auto q = make_query("pool.ntp.org");
    q = with_additional(q, tsig_rr("key.example"));
    const uint8_t opt[] = {0, 0, 41, 4, 0xD0, 0, 0, 0, 0, 0, 0};
    q = with_additional(q, std::vector<uint8_t>(std::begin(opt), std::end(opt)));
    EXPECT_EQ(ask_raw(q).rcode, static_cast<uint16_t>(dns::Rcode::FormErr));
    // Two of them.
    auto two = with_additional(make_query("pool.ntp.org"), tsig_rr("a.example"));
    two = with_additional(two, tsig_rr("b.example"));
    EXPECT_EQ(ask_raw(two).rcode, static_cast<uint16_t>(dns::Rcode::FormErr));
    // Class IN.
    EXPECT_EQ(ask_raw(with_additional(make_query("pool.ntp.org"), tsig_rr("k.example", 1))).rcode,
              static_cast<uint16_t>(dns::Rcode::FormErr));
}

// RFC 7873 5.4: QDCOUNT 0 with only a COOKIE option asks for a server cookie.
TEST_F(AnswerTest, CookieOnlyQueryLearnsTheServerCookie) {
    auto q = make_query("pool.ntp.org", {.edns = true, .cookie = std::vector<uint8_t>(8, 5)});
    const auto plain = make_query("pool.ntp.org");
    q[5] = 0;  // QDCOUNT 0: cut the question out
    q.erase(q.begin() + dns::kHeaderSize, q.begin() + static_cast<ptrdiff_t>(plain.size()));
    auto m = ask_raw(q);
    EXPECT_EQ(m.rcode, static_cast<uint16_t>(dns::Rcode::FormErr)) << "no secret: no cookies";
    EXPECT_TRUE(m.has_opt);
    identity_.cookie_secret.fill(7);
    m = ask_raw(q);
    ASSERT_TRUE(m.ok);
    EXPECT_EQ(m.rcode, static_cast<uint16_t>(dns::Rcode::NoError));
    EXPECT_TRUE(m.qname.empty());
    EXPECT_TRUE(m.answer.empty());
    ASSERT_EQ(m.options.size(), 1u);
    EXPECT_EQ(m.options[0].first, dns::edns::COOKIE);
    EXPECT_EQ(m.options[0].second.size(), 8u + dns::kServerCookieLen);
    // QDCOUNT 0 without a cookie stays FORMERR.
    auto bare = make_query("pool.ntp.org", {.edns = true});
    bare[5] = 0;
    bare.erase(bare.begin() + dns::kHeaderSize,
               bare.begin() + static_cast<ptrdiff_t>(plain.size()));
    EXPECT_EQ(ask_raw(bare).rcode, static_cast<uint16_t>(dns::Rcode::FormErr));
}

TEST_F(AnswerTest, ServerCookieWhenConfigured) {
    const std::vector<uint8_t> client(8, 0x42);
    EXPECT_TRUE(ask("pool.ntp.org", {.edns = true, .cookie = client}).options.empty());
    identity_.cookie_secret.fill(7);
    const auto m = ask("pool.ntp.org", {.edns = true, .cookie = client}, "192.0.2.200");
    ASSERT_EQ(m.options.size(), 1u);
    EXPECT_EQ(m.options[0].first, dns::edns::COOKIE);
    const auto& c = m.options[0].second;
    ASSERT_EQ(c.size(), 24u);
    EXPECT_TRUE(std::equal(client.begin(), client.end(), c.begin()));
    const auto expect = dns::make_server_cookie(identity_.cookie_secret,
                                                std::span<const uint8_t, 8>(client.data(), 8),
                                                *base::IpAddress::parse("192.0.2.200"), ctx_.now);
    EXPECT_TRUE(std::equal(expect.begin(), expect.end(), c.begin() + 8));
}

TEST_F(AnswerTest, AnswersInPlaceExactlyAsIntoAFreshBuffer) {
    const auto q = make_query("0.Pool.ntp.org", {.edns = true, .nsid = true, .ecs = "81.0.1.0/24"});
    base::Rng a(5), b(5);
    ctx_.rng = &a;
    std::vector<uint8_t> fresh(1232);
    const auto r1 = answer(ctx_, Client{*base::IpAddress::parse("127.0.0.1")}, q, fresh);
    fresh.resize(r1.size);
    ctx_.rng = &b;
    std::vector<uint8_t> inplace = q;
    inplace.resize(1232);
    const auto r2 = answer(ctx_, Client{*base::IpAddress::parse("127.0.0.1")},
                           std::span<const uint8_t>(inplace.data(), q.size()), inplace);
    inplace.resize(r2.size);
    EXPECT_EQ(fresh, inplace);
}

// The burst stages answer byte for byte as answer() does: the only difference is the draw's
// generator, which resolve() seeds with the context generator's next word.
TEST_F(AnswerTest, StagedAnswersMatchTheOnePacketPath) {
    const std::vector<std::pair<std::vector<uint8_t>, const char*>> cases = {
        {make_query("0.pool.ntp.org", {.edns = true, .ecs = "81.0.1.0/24"}), "127.0.0.1"},
        {make_query("0.pool.ntp.org"), "81.0.1.7"},
        {make_query("0.pool.ntp.org"), "10.1.0.1"},
        {make_query("2.pool.ntp.org", {.qtype = dns::rrtype::AAAA}), "2a01:4f8::1"},
        {make_query("1.pool.ntp.org", {.qtype = dns::rrtype::AAAA}), "127.0.0.1"},
        {make_query("nx.pool.ntp.org", {.edns = true, .nsid = true}), "127.0.0.1"},
        {make_query("pool.ntp.org", {.qtype = dns::rrtype::SOA}), "127.0.0.1"},
        {make_query("pool.ntp.org", {.qtype = dns::rrtype::ANY}), "127.0.0.1"},
        {make_query("pool.ntp.org", {.qtype = dns::rrtype::AXFR}), "127.0.0.1"},
        {make_query("_country.pool.ntp.org", {.qtype = dns::rrtype::TXT}), "81.0.1.7"},
        {make_query("id.server", {.qtype = dns::rrtype::TXT, .qclass = dns::rrclass::CH}),
         "127.0.0.1"},
        {make_query("example.com"), "127.0.0.1"},
        {make_query("many.pool.ntp.org"), "127.0.0.1"},
        {make_query("0.pool.ntp.org", {.edns = true, .version = 1}), "127.0.0.1"},
    };
    for (uint64_t seed = 1; seed <= 20; ++seed) {
        for (const auto& [q, from] : cases) {
            const Client client{*base::IpAddress::parse(from)};
            base::Rng staged_rng(seed);
            base::Rng direct_rng(base::Rng(seed).next());
            ctx_.rng = &staged_rng;
            Parsed p;
            parse_query(q, p);
            prefetch(ctx_, client, p);
            resolve(ctx_, client, p);
            std::vector<uint8_t> staged(1232);
            staged.resize(answer_parsed(ctx_, client, p, q, staged).size);
            ctx_.rng = &direct_rng;
            std::vector<uint8_t> direct(1232);
            direct.resize(answer(ctx_, client, q, direct).size);
            ASSERT_FALSE(direct.empty()) << dns::name_to_text(p.q.name());
            EXPECT_EQ(staged, direct) << dns::name_to_text(p.q.name()) << " from " << from;
        }
    }
}

TEST_F(AnswerTest, AnswerPathDoesNotAllocate) {
#ifdef POOLEDGE_ASAN
    GTEST_SKIP() << "allocation counting needs the plain build";
#endif
    const std::vector<std::vector<uint8_t>> queries = {
        make_query("0.pool.ntp.org", {.edns = true, .ecs = "81.0.1.0/24"}),
        make_query("2.pool.ntp.org", {.qtype = dns::rrtype::AAAA}),
        make_query("nx.pool.ntp.org", {.edns = true, .nsid = true}),
        make_query("pool.ntp.org", {.qtype = dns::rrtype::SOA}),
        make_query("id.server", {.qtype = dns::rrtype::TXT, .qclass = dns::rrclass::CH}),
        make_query("many.pool.ntp.org"),
    };
    std::vector<uint8_t> buf(1232);
    const Client client{*base::IpAddress::parse("10.1.0.1")};
    const size_t before = g_allocations.load();
    size_t answered = 0;
    for (int round = 0; round < 100; ++round) {
        for (const auto& q : queries) {
            answered += answer(ctx_, client, q, buf).size > 0;
        }
    }
    EXPECT_EQ(g_allocations.load(), before);
    EXPECT_EQ(answered, 600u);
}

}  // namespace
}  // namespace pooledge::engine
