#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "pooledge/base/input_error.hpp"
#include "pooledge/control/config.hpp"
#include "pooledge/control/guard.hpp"

namespace pooledge::control {
namespace {

ServerSummary summary(uint64_t total, std::map<std::string, uint64_t> zones) {
    ServerSummary s;
    s.total = total;
    s.per_zone = std::move(zones);
    return s;
}

TEST(GuardRails, DropShare) {
    const auto last = summary(100, {{"@", 100}, {"de", 40}});
    EXPECT_FALSE(check_guard_rails(last, summary(75, {{"@", 75}, {"de", 10}}), {0.25, 1}));
    const auto r = check_guard_rails(last, summary(74, {{"@", 74}, {"de", 10}}), {0.25, 1});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->rule, "drop_share");
    EXPECT_NE(r->message.find("drops 26 of 100"), std::string::npos) << r->message;
    // Growth is always fine; a zero share refuses any drop.
    EXPECT_FALSE(check_guard_rails(last, summary(500, {{"@", 500}, {"de", 40}}), {0.25, 1}));
    EXPECT_TRUE(check_guard_rails(last, summary(99, {{"@", 99}, {"de", 40}}), {0.0, 1}));
}

TEST(GuardRails, EmptiedZone) {
    const auto last = summary(100, {{"@", 100}, {"de", 40}, {"td", 0}, {"aq", 1}});
    const auto r =
        check_guard_rails(last, summary(99, {{"@", 99}, {"de", 40}, {"aq", 0}}), {0.25, 1});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->rule, "empty_zone");
    EXPECT_NE(r->message.find("'aq'"), std::string::npos) << r->message;
    // A zone that was already empty may stay empty, or be missing.
    EXPECT_FALSE(
        check_guard_rails(last, summary(99, {{"@", 99}, {"de", 40}, {"aq", 1}}), {0.25, 1}));
}

// A country needs empty_zone_min_servers servers before emptying it is refused: a one-server
// country dipping below score 10 must not hold back a worldwide update. Global and the
// continents stay strict.
TEST(GuardRails, EmptyZoneMinimumSize) {
    const GuardLimits limits{0.25, 4};
    const auto last = summary(
        100, {{"@", 100}, {"europe", 60}, {"antarctica", 1}, {"li", 3}, {"de", 4}, {"lu", 1}});
    EXPECT_FALSE(check_guard_rails(
        last, summary(99, {{"@", 99}, {"europe", 59}, {"antarctica", 1}, {"de", 4}}), limits))
        << "li (3) and lu (1) may go empty";
    const auto de = check_guard_rails(
        last, summary(96, {{"@", 96}, {"europe", 56}, {"antarctica", 1}, {"li", 3}}), limits);
    ASSERT_TRUE(de);
    EXPECT_NE(de->message.find("'de'"), std::string::npos) << de->message;
    const auto aq = check_guard_rails(
        last, summary(99, {{"@", 99}, {"europe", 60}, {"li", 3}, {"de", 4}}), limits);
    ASSERT_TRUE(aq) << "a continent is guarded whatever its size";
    EXPECT_NE(aq->message.find("'antarctica'"), std::string::npos) << aq->message;
    EXPECT_EQ(GuardLimits{}.empty_zone_min_servers, 4u);
}

TEST(GuardRails, SummaryRoundTrips) {
    const auto s = summary(7, {{"@", 7}, {"de", 3}});
    const auto back = ServerSummary::from_json(s.to_json());
    ASSERT_TRUE(back);
    EXPECT_EQ(back->total, 7u);
    EXPECT_EQ(back->per_zone, s.per_zone);
    EXPECT_FALSE(ServerSummary::from_json("{\"total\": \"x\"}"));
    EXPECT_FALSE(ServerSummary::from_json("garbage"));
}

class ConfigTest : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_ =
            std::filesystem::temp_directory_path() / ("pooledge-cfg-" + std::to_string(::getpid()));
        std::filesystem::create_directories(dir_);
        for (const char* f : {"pool.json", "geo.mmdb", "control.key"}) {
            std::ofstream(dir_ / f) << "x";
        }
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    std::string write(const std::string& yaml) {
        auto path = (dir_ / "control.yaml").string();
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

    static constexpr const char* kGood =
        "registry:\n"
        "  pool_data: pool.json\n"
        "  interval: 5m\n"
        "compile:\n"
        "  max_drop_share: 0.1\n"
        "geoip:\n"
        "  path: geo.mmdb\n"
        "  overrides:\n"
        "    10.1.0.0/16: de\n"
        "signing:\n"
        "  key: control.key\n"
        "state_dir: state\n"
        "push:\n"
        "  targets: [unix:/run/pooledge/push.sock, 'tcp:[2001:db8::1]:7853']\n"
        "metrics:\n"
        "  listen: 127.0.0.1:9120\n";

    std::filesystem::path dir_;
};

TEST_F(ConfigTest, LoadsAndResolvesRelativePaths) {
    const ControlConfig c = load_config(write(kGood));
    EXPECT_EQ(c.registry.pool_data, (dir_ / "pool.json").string());
    EXPECT_EQ(c.registry.interval, std::chrono::seconds(300));
    EXPECT_EQ(c.compile.max_drop_share, 0.1);
    EXPECT_EQ(c.compile.empty_zone_min_servers, 4u);  // the default
    std::string y = kGood;
    y.replace(y.find("max_drop_share: 0.1"), 19, "empty_zone_min_servers: 2");
    EXPECT_EQ(load_config(write(y)).compile.empty_zone_min_servers, 2u);
    EXPECT_EQ(c.compile.min_score, 10);
    EXPECT_EQ(c.state_dir, (dir_ / "state").string());
    ASSERT_EQ(c.push.targets.size(), 2u);
    EXPECT_EQ(c.push.targets[1].port, 7853);
    ASSERT_EQ(c.overrides.size(), 1u);
    EXPECT_EQ(c.overrides[0].region, "de");
    EXPECT_EQ(c.metrics_listen, "127.0.0.1:9120");
}

TEST_F(ConfigTest, ErrorsNameTheLineAndKey) {
    std::string y = kGood;
    expect_error(y.replace(y.find("interval: 5m"), 12, "interval: soon"),
                 "control.yaml:3: registry.interval: expected a duration");
    y = kGood;
    expect_error(y.replace(y.find("max_drop_share: 0.1"), 19, "max_drop_share: 2"),
                 ":5: compile.max_drop_share: must be in");
    y = kGood;
    expect_error(y.replace(y.find("10.1.0.0/16: de"), 15, "10.1.0.0/16: xx"),
                 ":9: geoip.overrides: override '10.1.0.0/16': 'xx'");
    y = kGood;
    expect_error(y.replace(y.find("unix:/run"), 9, "udp:/run/"), ":14: push.targets[0]");
    y = kGood;
    expect_error(y.replace(y.find("path: geo.mmdb"), 14, "path: nothere.mmdb"),
                 ":7: geoip.path: '");
    y = kGood;
    expect_error(y.replace(y.find("interval: 5m"), 12, "intervall: 5m"),
                 ":3: registry.intervall: unknown key");
    y = kGood;
    // A key that is not a plain word (a flow sequence here) is an error, not an exception
    // from yaml-cpp (found by fuzz_files).
    expect_error(y + "? [a, b]\n: 1\n", "(top level) key: expected a string");
    expect_error(y.replace(y.find("10.1.0.0/16: de"), 15, "? [1, 2]\n    : de"),
                 "geoip.overrides key: expected a string");
    expect_error(y + "extra: 1\n", "extra: unknown key");
    y = kGood;
    expect_error(y.replace(y.find("pool_data"), 9, "geodns_json: pool.json\n  pool_data"),
                 "exactly one of pool_data and geodns_json");
    expect_error("registry: [1, 2\n", "control.yaml:");
    expect_error("", "the file is empty");
}

// The bearer token never crosses a network in clear: plain http is refused unless the host
// is loopback or registry.insecure_token says so.
TEST_F(ConfigTest, TokenOverPlainHttpIsRefused) {
    std::ofstream(dir_ / "token") << "secret";
    auto with = [&](const std::string& url, const std::string& extra = "") {
        std::string y = kGood;
        y.replace(y.find("pool_data: pool.json"), 20,
                  "pool_data: " + url + "\n  token_file: token" + extra);
        return y;
    };
    expect_error(with("http://registry.example/pool.json"),
                 "registry.pool_data: 'http://registry.example/pool.json' is plain http");
    EXPECT_NO_THROW((void)load_config(write(with("https://registry.example/pool.json"))));
    EXPECT_NO_THROW((void)load_config(write(with("http://127.0.0.1:8080/pool.json"))));
    EXPECT_NO_THROW((void)load_config(write(with("http://[::1]:8080/pool.json"))));
    EXPECT_NO_THROW((void)load_config(write(with("http://localhost/pool.json"))));
    const auto c =
        load_config(write(with("http://registry.example/pool.json", "\n  insecure_token: true")));
    EXPECT_TRUE(c.registry.insecure_token);
}

TEST(Config, Durations) {
    EXPECT_EQ(base::parse_duration("90"), std::chrono::seconds(90));
    EXPECT_EQ(base::parse_duration("90s"), std::chrono::seconds(90));
    EXPECT_EQ(base::parse_duration("15m"), std::chrono::seconds(900));
    EXPECT_EQ(base::parse_duration("2h"), std::chrono::seconds(7200));
    EXPECT_FALSE(base::parse_duration("1d"));
    EXPECT_FALSE(base::parse_duration("-1"));
    EXPECT_FALSE(base::parse_duration("m"));
}

}  // namespace
}  // namespace pooledge::control
