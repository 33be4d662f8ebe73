// PrefixTable and the ACLs on it: the longest prefix wins whatever the order of the rules,
// ranges merge, both families, duplicates refused.
#include "pooledge/limit/prefix_table.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "pooledge/limit/acl.hpp"

namespace pooledge::limit {
namespace {

base::IpPrefix prefix(const char* text) {
    return *base::IpPrefix::parse(text);
}
base::IpAddress addr(const char* text) {
    return *base::IpAddress::parse(text);
}

TEST(PrefixTableTest, EmptyTableGivesTheFallback) {
    const PrefixTable t(7);
    EXPECT_TRUE(t.empty());
    EXPECT_EQ(t.lookup(addr("192.0.2.1")), 7);
    EXPECT_EQ(t.lookup(addr("2001:db8::1")), 7);
    EXPECT_EQ(t.lookup(base::IpAddress{}), 7);
}

TEST(PrefixTableTest, LongestPrefixWinsInAnyOrder) {
    const std::vector<PrefixRule> rules{{prefix("10.1.2.0/24"), 3},
                                        {prefix("10.0.0.0/8"), 1},
                                        {prefix("10.1.0.0/16"), 2},
                                        {prefix("10.1.2.3/32"), 4}};
    std::string why;
    const auto t = PrefixTable::build(rules, 0, &why);
    ASSERT_TRUE(t) << why;
    EXPECT_EQ(t->lookup(addr("9.255.255.255")), 0);
    EXPECT_EQ(t->lookup(addr("10.0.0.0")), 1);
    EXPECT_EQ(t->lookup(addr("10.1.0.0")), 2);
    EXPECT_EQ(t->lookup(addr("10.1.2.2")), 3);
    EXPECT_EQ(t->lookup(addr("10.1.2.3")), 4);
    EXPECT_EQ(t->lookup(addr("10.1.2.4")), 3);
    EXPECT_EQ(t->lookup(addr("10.1.3.0")), 2);
    EXPECT_EQ(t->lookup(addr("10.2.0.0")), 1);
    EXPECT_EQ(t->lookup(addr("10.255.255.255")), 1);
    EXPECT_EQ(t->lookup(addr("11.0.0.0")), 0);
    // IPv4 rules say nothing about IPv6.
    EXPECT_EQ(t->lookup(addr("::ffff:10.1.2.3")), 0);
}

TEST(PrefixTableTest, EdgesOfTheAddressSpace) {
    const std::vector<PrefixRule> rules{{prefix("0.0.0.0/0"), 1},
                                        {prefix("255.255.255.255/32"), 2},
                                        {prefix("0.0.0.0/32"), 3},
                                        {prefix("::/0"), 4},
                                        {prefix("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ff00/120"), 5}};
    const auto t = PrefixTable::build(rules, 0, nullptr);
    ASSERT_TRUE(t);
    EXPECT_EQ(t->lookup(addr("0.0.0.0")), 3);
    EXPECT_EQ(t->lookup(addr("0.0.0.1")), 1);
    EXPECT_EQ(t->lookup(addr("255.255.255.254")), 1);
    EXPECT_EQ(t->lookup(addr("255.255.255.255")), 2);
    EXPECT_EQ(t->lookup(addr("::")), 4);
    EXPECT_EQ(t->lookup(addr("ffff:ffff:ffff:ffff:ffff:ffff:ffff:feff")), 4);
    EXPECT_EQ(t->lookup(addr("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ff00")), 5);
    EXPECT_EQ(t->lookup(addr("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")), 5);
}

TEST(PrefixTableTest, AdjacentRangesOfOneValueMerge) {
    const std::vector<PrefixRule> rules{{prefix("192.0.2.0/25"), 1},
                                        {prefix("192.0.2.128/25"), 1},
                                        {prefix("2001:db8::/33"), 1},
                                        {prefix("2001:db8:8000::/33"), 1}};
    const auto t = PrefixTable::build(rules, 0, nullptr);
    ASSERT_TRUE(t);
    EXPECT_EQ(t->rules(), 4U);
    // [0, 192.0.2.0), [192.0.2.0, 192.0.3.0), [192.0.3.0, ...) and the same for IPv6.
    EXPECT_EQ(t->ranges(), 6U);
    EXPECT_EQ(t->lookup(addr("192.0.2.255")), 1);
    EXPECT_EQ(t->lookup(addr("2001:db8:ffff::1")), 1);
    EXPECT_EQ(t->lookup(addr("2001:db9::")), 0);
}

TEST(PrefixTableTest, ManyNestedRulesMatchALinearScan) {
    std::vector<PrefixRule> rules;
    for (unsigned i = 0; i < 200; ++i) {
        const unsigned len = 8 + i % 25;
        const uint32_t a = (0x0A000000u + i * 0x00013579u) & (len == 32 ? ~0u : ~(~0u >> len));
        rules.push_back({base::IpPrefix{base::IpAddress::v4(a), static_cast<uint8_t>(len)},
                         static_cast<uint8_t>(1 + i % 5)});
    }
    std::string why;
    // Some generated prefixes repeat: drop the repeats, as a config would have to.
    std::vector<PrefixRule> unique;
    for (const auto& r : rules) {
        bool seen = false;
        for (const auto& u : unique) {
            seen = seen || (u.prefix.len == r.prefix.len && u.prefix.addr == r.prefix.addr);
        }
        if (!seen) {
            unique.push_back(r);
        }
    }
    const auto t = PrefixTable::build(unique, 0, &why);
    ASSERT_TRUE(t) << why;
    for (uint32_t x = 0x0A000000u; x < 0x0B000000u; x += 0x00000F3Bu) {
        const auto a = base::IpAddress::v4(x);
        int best_len = -1;
        uint8_t expected = 0;
        for (const auto& r : unique) {
            if (r.prefix.contains(a) && r.prefix.len > best_len) {
                best_len = r.prefix.len;
                expected = r.value;
            }
        }
        ASSERT_EQ(t->lookup(a), expected) << a.to_string();
    }
}

TEST(PrefixTableTest, DuplicateIsRefusedWithAReason) {
    const std::vector<PrefixRule> rules{{prefix("192.0.2.0/24"), 1}, {prefix("192.0.2.0/24"), 0}};
    std::string why;
    EXPECT_FALSE(PrefixTable::build(rules, 0, &why));
    EXPECT_EQ(why, "192.0.2.0/24 is listed twice");
}

TEST(AclTest, DenyListAloneAllowsTheRest) {
    AclConfig c;
    c.deny = {prefix("198.51.100.0/24")};
    const auto t = build_acl(c, nullptr);
    ASSERT_TRUE(t);
    EXPECT_EQ(t->lookup(addr("198.51.100.7")), kAclDeny);
    EXPECT_EQ(t->lookup(addr("198.51.101.7")), kAclAllow);
}

TEST(AclTest, AllowListDeniesTheRestAndDenyCarvesHoles) {
    AclConfig c;
    c.allow = {prefix("10.0.0.0/8"), prefix("2001:db8::/32")};
    c.deny = {prefix("10.9.0.0/16")};
    const auto t = build_acl(c, nullptr);
    ASSERT_TRUE(t);
    EXPECT_EQ(t->lookup(addr("10.1.1.1")), kAclAllow);
    EXPECT_EQ(t->lookup(addr("10.9.1.1")), kAclDeny);
    EXPECT_EQ(t->lookup(addr("192.0.2.1")), kAclDeny);
    EXPECT_EQ(t->lookup(addr("2001:db8::1")), kAclAllow);
    EXPECT_EQ(t->lookup(addr("2001:db9::1")), kAclDeny);
}

TEST(AclTest, APrefixInBothListsIsRefused) {
    AclConfig c;
    c.allow = {prefix("10.0.0.0/8")};
    c.deny = {prefix("10.0.0.0/8")};
    std::string why;
    EXPECT_FALSE(build_acl(c, &why));
    EXPECT_NE(why.find("10.0.0.0/8"), std::string::npos);
}

}  // namespace
}  // namespace pooledge::limit
