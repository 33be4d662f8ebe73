#include "pooledge/dns/query.hpp"

#include <gtest/gtest.h>

#include "test_util.hpp"

namespace pooledge::dns {
namespace {

using testkit::make_query;

TEST(Query, ParsesQuestionFoldedAndHashed) {
    Query q;
    const auto pkt = make_query("0.PooL.ntp.ORG", {.qtype = rrtype::AAAA});
    ASSERT_EQ(parse_query(pkt, q), ParseResult::Ok);
    EXPECT_EQ(q.id, 0x1234);
    EXPECT_EQ(q.qtype, rrtype::AAAA);
    EXPECT_EQ(q.qclass, rrclass::IN);
    EXPECT_EQ(q.qname_len, 16);
    EXPECT_EQ(q.label_count, 4);
    EXPECT_EQ(q.question_end, pkt.size());
    EXPECT_EQ(name_to_text(q.name()), "0.pool.ntp.org.");
    EXPECT_EQ(q.qname_hash, name_hash(*name_from_text("0.pool.ntp.org")));
    EXPECT_FALSE(q.edns.present);
}

TEST(Query, DropsResponsesAndRunts) {
    Query q;
    auto pkt = make_query("pool.ntp.org");
    pkt[2] |= 0x80;  // QR
    EXPECT_EQ(parse_query(pkt, q), ParseResult::Drop);
    const std::vector<uint8_t> runt(11, 0);
    EXPECT_EQ(parse_query(runt, q), ParseResult::Drop);
    EXPECT_EQ(parse_query({}, q), ParseResult::Drop);
}

TEST(Query, OtherOpcodesAreNotImplemented) {
    Query q;
    auto pkt = make_query("pool.ntp.org");
    pkt[2] |= 4 << 3;  // NOTIFY
    EXPECT_EQ(parse_query(pkt, q), ParseResult::NotImp);
}

TEST(Query, HeaderCountsMustDescribeOneQuestion) {
    Query q;
    for (int field : {4, 6, 8}) {  // QDCOUNT=2, ANCOUNT=1, NSCOUNT=1
        auto pkt = make_query("pool.ntp.org");
        pkt[field + 1] = field == 4 ? 2 : 1;
        EXPECT_EQ(parse_query(pkt, q), ParseResult::FormErr) << field;
    }
    auto none = make_query("pool.ntp.org");
    none[5] = 0;
    EXPECT_EQ(parse_query(none, q), ParseResult::FormErr);
}

TEST(Query, RejectsBadNames) {
    Query q;
    // Compression pointer in the question.
    std::vector<uint8_t> ptr = {0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 12, 0, 1, 0, 1};
    EXPECT_EQ(parse_query(ptr, q), ParseResult::FormErr);
    // Label longer than 63 (0x40 is an extended label type).
    std::vector<uint8_t> longlabel = {0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0x40};
    longlabel.resize(longlabel.size() + 64, 'a');
    longlabel.insert(longlabel.end(), {0, 0, 1, 0, 1});
    EXPECT_EQ(parse_query(longlabel, q), ParseResult::FormErr);
    // Name over 255 bytes: five 63-byte labels.
    std::vector<uint8_t> longname = {0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0};
    for (int i = 0; i < 5; ++i) {
        longname.push_back(63);
        longname.resize(longname.size() + 63, 'a');
    }
    longname.insert(longname.end(), {0, 0, 1, 0, 1});
    EXPECT_EQ(parse_query(longname, q), ParseResult::FormErr);
    // Name running off the end.
    std::vector<uint8_t> cut = {0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 5, 'a', 'b'};
    EXPECT_EQ(parse_query(cut, q), ParseResult::FormErr);
    // Missing QTYPE/QCLASS.
    auto noclass = make_query("pool.ntp.org");
    noclass.resize(noclass.size() - 2);
    EXPECT_EQ(parse_query(noclass, q), ParseResult::FormErr);
}

TEST(Query, TrailingBytesAreFormErr) {
    Query q;
    auto pkt = make_query("pool.ntp.org");
    pkt.push_back(0);
    EXPECT_EQ(parse_query(pkt, q), ParseResult::FormErr);
}

TEST(Query, ParsesEdns) {
    Query q;
    const auto pkt = make_query("pool.ntp.org", {.edns = true,
                                                 .udp_size = 4096,
                                                 .nsid = true,
                                                 .ecs = "81.0.128.0/17",
                                                 .cookie = std::vector<uint8_t>(8, 0xAB)});
    ASSERT_EQ(parse_query(pkt, q), ParseResult::Ok);
    EXPECT_TRUE(q.edns.present);
    EXPECT_EQ(q.edns.udp_size, 4096);
    EXPECT_EQ(q.edns.version, 0);
    EXPECT_TRUE(q.edns.nsid);
    ASSERT_TRUE(q.edns.ecs.present);
    EXPECT_EQ(q.edns.ecs.family, 1);
    EXPECT_EQ(q.edns.ecs.source_prefix, 17);
    EXPECT_EQ(q.edns.ecs.address[0], 81);
    EXPECT_EQ(q.edns.ecs.address[2], 128);
    ASSERT_TRUE(q.edns.cookie.present);
    EXPECT_EQ(q.edns.cookie.server_len, 0);
    EXPECT_EQ(q.edns.cookie.client[7], 0xAB);
}

TEST(Query, UnknownOptionsAreIgnored) {
    Query q;
    auto pkt = make_query("pool.ntp.org", {.edns = true});
    // Append option 65001 with 3 bytes to the OPT rdata.
    pkt.insert(pkt.end(), {0xFD, 0xE9, 0, 3, 1, 2, 3});
    pkt[pkt.size() - 8] = 7;  // rdlength low byte (was 0)
    ASSERT_EQ(parse_query(pkt, q), ParseResult::Ok);
}

TEST(Query, EdnsErrorsAreFormErr) {
    Query q;
    // Two OPT records.
    auto two = make_query("pool.ntp.org", {.edns = true});
    const std::vector<uint8_t> opt(two.end() - 11, two.end());
    two.insert(two.end(), opt.begin(), opt.end());
    two[11] = 2;
    EXPECT_EQ(parse_query(two, q), ParseResult::FormErr);
    // OPT owned by a name other than the root.
    auto owner = make_query("pool.ntp.org", {.edns = true});
    owner.insert(owner.end() - 11, {1, 'x'});
    EXPECT_EQ(parse_query(owner, q), ParseResult::FormErr);
    // ECS with host bits set past the source prefix.
    std::vector<uint8_t> ecs_bad =
        make_query("pool.ntp.org", {.edns = true, .ecs = "81.0.128.0/17"});
    ecs_bad.back() = 0xC0;  // bit 17 set with a /17 source
    EXPECT_EQ(parse_query(ecs_bad, q), ParseResult::FormErr);
    // ECS with an unknown family.
    auto fam = make_query("pool.ntp.org", {.edns = true, .ecs = "81.0.0.0/16"});
    fam[fam.size() - 5] = 9;
    EXPECT_EQ(parse_query(fam, q), ParseResult::FormErr);
    // ECS source prefix longer than the family allows.
    auto longp = make_query("pool.ntp.org", {.edns = true, .ecs = "81.0.0.0/16"});
    longp[longp.size() - 4] = 33;
    EXPECT_EQ(parse_query(longp, q), ParseResult::FormErr);
    // Cookie of a bad length.
    auto cookie = make_query("pool.ntp.org", {.edns = true, .cookie = std::vector<uint8_t>(9, 1)});
    EXPECT_EQ(parse_query(cookie, q), ParseResult::FormErr);
    // OPT rdata longer than the packet.
    auto cut = make_query("pool.ntp.org", {.edns = true, .nsid = true});
    cut.pop_back();
    EXPECT_EQ(parse_query(cut, q), ParseResult::FormErr);
}

TEST(Query, EdnsVersionIsReported) {
    Query q;
    const auto pkt = make_query("pool.ntp.org", {.edns = true, .version = 1});
    ASSERT_EQ(parse_query(pkt, q), ParseResult::Ok);
    EXPECT_EQ(q.edns.version, 1);
}

}  // namespace
}  // namespace pooledge::dns
