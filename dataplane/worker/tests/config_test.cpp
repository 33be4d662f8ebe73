// The dataplane's YAML configuration: defaults, every optional field read, and errors that
// name the file, line and key. No EAL: loading a configuration touches no DPDK state.
#include "pooledge/dataplane/worker/config.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

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
                                      "  max_per_prefix: 8\n"));
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

}  // namespace
}  // namespace pooledge::dataplane
