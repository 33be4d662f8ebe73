// The dataplane's YAML configuration: defaults, every optional field read, and errors that
// name the file, line and key. No EAL: loading a configuration touches no DPDK state.
#include "pooledge/dataplane/worker/config.hpp"

#include <gtest/gtest.h>
#include <sys/timex.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "pooledge/base/input_error.hpp"
#include "pooledge/image/signature.hpp"

namespace pooledge::dataplane {
namespace {

class DataplaneConfigTest : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_ = std::filesystem::temp_directory_path() /
               ("pooledge-dpconf-" + std::to_string(::getpid()));
        std::filesystem::create_directories(dir_);
        std::string why;
        const auto key = image::SigningKey::generate(&why);
        ASSERT_TRUE(key) << why;
        ASSERT_TRUE(key->save((dir_ / "k.key").string(), (dir_ / "k.pub").string(), &why)) << why;
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    std::string write(const std::string& yaml) {
        auto path = (dir_ / "dataplane.yaml").string();
        std::ofstream(path, std::ios::trunc) << yaml;
        return path;
    }
    void expect_error(const std::string& yaml, const std::string& fragment) {
        try {
            (void)load_config(write(yaml));
            ADD_FAILURE() << "accepted:\n" << yaml;
        } catch (const base::InputError& e) {
            EXPECT_EQ(e.reason(), "config");
            EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos)
                << "'" << e.what() << "' lacks '" << fragment << "'";
        }
    }

    static constexpr const char* kMinimal =
        "ports:\n"
        "  - device: net_tap0\n"
        "service_addresses: [192.0.2.1/24, '2001:db8::1']\n"
        "images:\n"
        "  dir: images\n"
        "  trusted_keys: [k.pub]\n";

    std::filesystem::path dir_;
};

TEST_F(DataplaneConfigTest, DefaultsStandWhenOptionalKeysAreAbsent) {
    const DataplaneConfig c = load_config(write(kMinimal));
    ASSERT_EQ(c.ports.size(), 1u);
    EXPECT_EQ(c.ports[0].exception, "pe0");
    EXPECT_EQ(c.image_dir, (dir_ / "images").string());
    ASSERT_EQ(c.service_v4_len.size(), 1u);
    EXPECT_EQ(c.service_v4_len[0], 24);
    ASSERT_EQ(c.service_v6_len.size(), 1u);
    EXPECT_EQ(c.service_v6_len[0], 128);
    EXPECT_EQ(c.edns_udp_size, 1232);
    EXPECT_EQ(c.workers, 1u);
    EXPECT_TRUE(c.exception.xdp_filter);
    EXPECT_EQ(c.tcp_idle_timeout, std::chrono::seconds(10));
    EXPECT_EQ(c.tcp_max_connections, 256u);
    EXPECT_EQ(c.tcp_message_timeout, std::chrono::seconds(3));
    EXPECT_EQ(c.tcp_max_per_prefix, 32u);
    EXPECT_EQ(c.max_image_size, uint64_t{1} << 30);
    EXPECT_TRUE(c.management.empty());
    EXPECT_EQ(c.trusted_keys.size(), 1u);
}

TEST_F(DataplaneConfigTest, ReadsEveryOptionalKey) {
    const DataplaneConfig c = load_config(
        write(std::string(kMinimal) + "  max_size: 65536\n"
                                      "identity:\n"
                                      "  nsid: node-1\n"
                                      "  server_id: sid\n"
                                      "  version: v9\n"
                                      "  edns_udp_size: 1400\n"
                                      "  status_clients: [192.0.2.0/24, '2001:db8::/32']\n"
                                      "management:\n"
                                      "  listen: [unix:/run/pe.sock]\n"
                                      "  allow: [192.0.2.10/32]\n"
                                      "metrics:\n"
                                      "  listen: 127.0.0.1:9100\n"
                                      "workers: 2\n"
                                      "tcp:\n"
                                      "  idle_timeout: 1m\n"
                                      "  message_timeout: 2s\n"
                                      "  max_connections: 64\n"
                                      "  max_per_prefix: 8\n"
                                      "exception:\n"
                                      "  backend: tap\n"
                                      "  rate: 500\n"
                                      "  burst: 50\n"
                                      "  xdp_filter: false\n"));
    EXPECT_EQ(c.exception.backend, ExceptionConfig::Backend::Tap);
    EXPECT_EQ(c.exception.rate, 500u);
    EXPECT_EQ(c.exception.burst, 50u);
    EXPECT_FALSE(c.exception.xdp_filter);
    EXPECT_EQ(c.max_image_size, 65536u);
    EXPECT_EQ(c.nsid, "node-1");
    EXPECT_EQ(c.server_id, "sid");
    EXPECT_EQ(c.version, "v9");
    EXPECT_EQ(c.edns_udp_size, 1400);
    ASSERT_EQ(c.status_clients.size(), 2u);
    EXPECT_EQ(c.status_clients[1].to_string(), "2001:db8::/32");
    ASSERT_EQ(c.management.size(), 1u);
    ASSERT_EQ(c.management_allow.size(), 1u);
    EXPECT_EQ(c.management_allow[0].to_string(), "192.0.2.10/32");
    EXPECT_EQ(c.metrics_listen, "127.0.0.1:9100");
    EXPECT_EQ(c.workers, 2u);
    EXPECT_EQ(c.tcp_idle_timeout, std::chrono::seconds(60));
    EXPECT_EQ(c.tcp_max_connections, 64u);
    EXPECT_EQ(c.tcp_message_timeout, std::chrono::seconds(2));
    EXPECT_EQ(c.tcp_max_per_prefix, 8u);
}

TEST_F(DataplaneConfigTest, ErrorsNameTheLineAndKey) {
    const std::string m = kMinimal;
    expect_error(m + "workers: 0\n", "dataplane.yaml:7: workers: must be in 1..64");
    expect_error(m + "exception:\n  backend: kni\n",
                 ":8: exception.backend: expected auto, tap or virtio_user");
    expect_error(m + "exception:\n  burst: 0\n", ":8: exception.burst: must be in 1..");
    expect_error(m + "tcp:\n  idle_timeout: soon\n", ":8: tcp.idle_timeout: expected a duration");
    expect_error(m + "identity:\n  edns_udp_size: 100\n", ":8: identity.edns_udp_size: must be");
    expect_error(m + "identity:\n  nsid: [a]\n", "identity.nsid: expected a string");
    expect_error(m + "identity:\n  status_clients: [10.0.0.1/8]\n",
                 "identity.status_clients[0]: '10.0.0.1/8' is not a prefix");
    expect_error(m + "tcp:\n  idle: 5\n", ":8: tcp.idle: unknown key");
    expect_error(m + "management:\n  listen: [udp:x]\n", "management.listen[0]");
    expect_error(m + "management:\n  allow: [bad]\n", "management.allow[0]: 'bad'");
    expect_error(m + "metrics: 5\n", "metrics: expected a mapping");
    expect_error("ports:\n  - exception_interface: pe0\n", ":2: ports[0].device: missing");
    expect_error("ports:\n  - device: a\n    exception_interface: much-too-long-name\n",
                 "ports[0].exception_interface: an interface name");
    expect_error("ports: [{device: a}]\nservice_addresses: [10.0.0.1/33]\n",
                 "service_addresses[0]: prefix length must be 1..32");
    expect_error("ports: [{device: a}]\nservice_addresses: [10.0.0.1]\n",
                 "images: missing (images.dir");
    expect_error("ports: [{device: a}]\nservice_addresses: [10.0.0.1]\nimages: {dir: d}\n",
                 "images.trusted_keys: missing");
    expect_error(
        "ports: [{device: a}]\nservice_addresses: [10.0.0.1]\n"
        "images: {dir: d, trusted_keys: []}\n",
        "images.trusted_keys: at least one public key is needed");
    expect_error("", "the file is empty");
}

TEST_F(DataplaneConfigTest, NtpDefaultsAnswerFromTheKernelClock) {
    const DataplaneConfig c = load_config(write(kMinimal));
    EXPECT_TRUE(c.ntp.enabled);
    EXPECT_EQ(c.ntp.policy.stratum, 3);
    EXPECT_EQ(c.ntp.policy.reference_id, 0u);
    EXPECT_DOUBLE_EQ(c.ntp.policy.max_error_bound, 1.5);
    EXPECT_FALSE(c.ntp.policy.silent_when_unsynchronised);
    EXPECT_FALSE(c.ntp.health_requires_sync);
    EXPECT_FALSE(c.ntp.clock_override);
}

TEST_F(DataplaneConfigTest, ReadsEveryNtpKey) {
    const DataplaneConfig c =
        load_config(write(std::string(kMinimal) + "ntp:\n"
                                                  "  enabled: true\n"
                                                  "  stratum: 2\n"
                                                  "  reference_id: 192.0.2.123\n"
                                                  "  max_error: 0.25\n"
                                                  "  unsynchronised: silent\n"
                                                  "  health_requires_sync: true\n"
                                                  "  clock_override:\n"
                                                  "    synchronised: true\n"
                                                  "    leap: delete\n"
                                                  "    max_error: 0.003\n"));
    EXPECT_EQ(c.ntp.policy.stratum, 2);
    const uint8_t refid[4] = {192, 0, 2, 123};
    EXPECT_EQ(std::memcmp(&c.ntp.policy.reference_id, refid, 4), 0);
    EXPECT_DOUBLE_EQ(c.ntp.policy.max_error_bound, 0.25);
    EXPECT_TRUE(c.ntp.policy.silent_when_unsynchronised);
    EXPECT_TRUE(c.ntp.health_requires_sync);
    ASSERT_TRUE(c.ntp.clock_override);
    EXPECT_EQ(c.ntp.clock_override->state, TIME_DEL);
    EXPECT_DOUBLE_EQ(c.ntp.clock_override->max_error, 0.003);
    // The override goes through the same derivation as the kernel's state.
    const auto s = ntp::derive(*c.ntp.clock_override, c.ntp.policy, timespec{1, 0});
    EXPECT_TRUE(s.synchronised);
    EXPECT_EQ(s.leap, ntp::Leap::Delete);

    const DataplaneConfig code =
        load_config(write(std::string(kMinimal) + "ntp: {reference_id: GPS, enabled: false}\n"));
    EXPECT_FALSE(code.ntp.enabled);
    EXPECT_EQ(std::memcmp(&code.ntp.policy.reference_id, "GPS\0", 4), 0);
    const DataplaneConfig unsync = load_config(
        write(std::string(kMinimal) + "ntp: {clock_override: {synchronised: false}}\n"));
    EXPECT_FALSE(ntp::derive(*unsync.ntp.clock_override, {}, timespec{1, 0}).synchronised);
}

TEST_F(DataplaneConfigTest, NtpErrorsNameTheKey) {
    const std::string m(kMinimal);
    expect_error(m + "ntp: {stratum: 16}\n", "ntp.stratum: must be in 1..15");
    expect_error(m + "ntp: {stratum: 0}\n", "ntp.stratum");
    expect_error(m + "ntp: {reference_id: TOOLONG}\n", "ntp.reference_id: expected an IPv4");
    expect_error(m + "ntp: {reference_id: '2001:db8::1'}\n", "ntp.reference_id");
    expect_error(m + "ntp: {unsynchronised: lie}\n", "ntp.unsynchronised: expected answer");
    expect_error(m + "ntp: {enabled: maybe}\n", "ntp.enabled: expected true or false");
    expect_error(m + "ntp: {max_error: 100}\n", "ntp.max_error: must be in");
    expect_error(m + "ntp: {clock_override: {leap: none}}\n",
                 "ntp.clock_override.synchronised: missing");
    expect_error(m + "ntp: {clock_override: {synchronised: true, leap: half}}\n",
                 "ntp.clock_override.leap: expected none, insert or delete");
    expect_error(m + "ntp: {clock_override: {synchronised: true, stratum: 1}}\n",
                 "ntp.clock_override.stratum: unknown key");
    expect_error(m + "ntp: {strata: 2}\n", "ntp.strata: unknown key");
}

}  // namespace
}  // namespace pooledge::dataplane

namespace pooledge::dataplane {
namespace {

TEST_F(DataplaneConfigTest, AbuseProtectionDefaults) {
    const DataplaneConfig c = load_config(write(kMinimal));
    EXPECT_TRUE(c.rrl.enabled);
    EXPECT_FALSE(c.rrl.log_only);
    EXPECT_EQ(c.rrl.rate[0], 100.0);
    EXPECT_EQ(c.rrl.slip, 2u);
    ASSERT_EQ(c.rrl.v4.size(), 1u);
    EXPECT_EQ(c.rrl.v4[0].length, 24);
    ASSERT_EQ(c.rrl.v6.size(), 1u);
    EXPECT_EQ(c.rrl.v6[0].length, 56);
    EXPECT_TRUE(c.ntp.rate_limit.enabled);
    EXPECT_EQ(c.ntp.rate_limit.interval, 3);
    EXPECT_EQ(c.ntp.rate_limit.burst, 8u);
    EXPECT_TRUE(c.acl.dns.empty());
    EXPECT_TRUE(c.acl.ntp.empty());
}

TEST_F(DataplaneConfigTest, ReadsEveryAbuseProtectionKey) {
    const DataplaneConfig c = load_config(
        write(std::string(kMinimal) + "rrl:\n"
                                      "  enabled: true\n"
                                      "  log_only: true\n"
                                      "  responses_per_second: 20\n"
                                      "  errors_per_second: 5\n"
                                      "  window: 3\n"
                                      "  slip: 3\n"
                                      "  ipv4_prefixes: [{length: 32, multiplier: 0.5},"
                                      " {length: 16, multiplier: 16}]\n"
                                      "  ipv6_prefixes: [{length: 48}]\n"
                                      "  exempt: [198.51.100.0/24]\n"
                                      "  table_entries: 4096\n"
                                      "  backstop: 0\n"
                                      "ntp:\n"
                                      "  rate_limit:\n"
                                      "    interval: 1\n"
                                      "    burst: 4\n"
                                      "    leak: 2\n"
                                      "    kod: 3\n"
                                      "    ipv4_prefix: 24\n"
                                      "    ipv6_prefix: 56\n"
                                      "    exempt: ['2001:db8::/32']\n"
                                      "acl:\n"
                                      "  dns: {deny: [203.0.113.0/24]}\n"
                                      "  ntp: {allow: [10.0.0.0/8], deny: [10.9.0.0/16]}\n"));
    EXPECT_TRUE(c.rrl.log_only);
    EXPECT_EQ(c.rrl.rate[0], 20.0);
    EXPECT_EQ(c.rrl.rate[1], 20.0);  // NXDOMAIN follows the response rate
    EXPECT_EQ(c.rrl.rate[2], 5.0);
    EXPECT_EQ(c.rrl.window, 3.0);
    EXPECT_EQ(c.rrl.slip, 3u);
    ASSERT_EQ(c.rrl.v4.size(), 2u);
    EXPECT_EQ(c.rrl.v4[1].length, 16);
    EXPECT_EQ(c.rrl.v4[1].multiplier, 16.0);
    EXPECT_EQ(c.rrl.v6[0].multiplier, 1.0);
    ASSERT_EQ(c.rrl.exempt.size(), 1u);
    EXPECT_EQ(c.rrl.table_entries, 4096u);
    EXPECT_EQ(c.rrl.backstop, 0.0);
    EXPECT_EQ(c.ntp.rate_limit.interval, 1);
    EXPECT_EQ(c.ntp.rate_limit.leak, 2u);
    EXPECT_EQ(c.ntp.rate_limit.kod, 3u);
    EXPECT_EQ(c.ntp.rate_limit.v4_prefix, 24);
    EXPECT_EQ(c.ntp.rate_limit.v6_prefix, 56);
    ASSERT_EQ(c.ntp.rate_limit.exempt.size(), 1u);
    const limit::Acls acls = build_acls(c.acl);
    EXPECT_EQ(acls.dns.lookup(*base::IpAddress::parse("203.0.113.9")), limit::kAclDeny);
    EXPECT_EQ(acls.dns.lookup(*base::IpAddress::parse("192.0.2.9")), limit::kAclAllow);
    EXPECT_EQ(acls.ntp.lookup(*base::IpAddress::parse("10.1.0.1")), limit::kAclAllow);
    EXPECT_EQ(acls.ntp.lookup(*base::IpAddress::parse("10.9.0.1")), limit::kAclDeny);
    EXPECT_EQ(acls.ntp.lookup(*base::IpAddress::parse("192.0.2.9")), limit::kAclDeny);
}

TEST_F(DataplaneConfigTest, AbuseProtectionErrorsNameTheKey) {
    const std::string m = kMinimal;
    expect_error(m + "rrl:\n  responses_per_second: 0\n",
                 ":8: rrl.responses_per_second: must be in");
    expect_error(m + "rrl:\n  ipv4_prefixes: [{length: 33}]\n", "rrl.ipv4_prefixes[0].length");
    expect_error(m + "rrl:\n  ipv4_prefixes: [{multiplier: 2}]\n",
                 "rrl.ipv4_prefixes[0].length: missing");
    expect_error(m + "rrl:\n  ipv4_prefixes: [{length: 24}, {length: 24}]\n",
                 "/24 is listed twice");
    expect_error(m + "rrl:\n  ipv6_prefixes: []\n", "rrl.ipv6_prefixes: a list of 1 to 4");
    expect_error(m + "rrl:\n  exempt: [192.0.2.1/24]\n", "rrl.exempt[0]: '192.0.2.1/24' is not");
    expect_error(m + "rrl:\n  exempt: [192.0.2.0/24, 192.0.2.0/24]\n",
                 "rrl.exempt: exempt: 192.0.2.0/24 is listed twice");
    expect_error(m + "rrl:\n  bogus: 1\n", "rrl.bogus");
    expect_error(m + "ntp:\n  rate_limit:\n    interval: 13\n",
                 "ntp.rate_limit.interval: must be in -4..12");
    expect_error(m + "ntp:\n  rate_limit:\n    burst: 0\n", "ntp.rate_limit.burst");
    expect_error(m + "acl:\n  dns: {allow: [10.0.0.0/8], deny: [10.0.0.0/8]}\n",
                 "acl.dns: 10.0.0.0/8 is listed twice");
    expect_error(m + "acl:\n  dns: {deny: [not-a-prefix]}\n", "acl.dns.deny[0]");
    expect_error(m + "acl:\n  smtp: {deny: [10.0.0.0/8]}\n", "acl.smtp");
}

}  // namespace
}  // namespace pooledge::dataplane
