// The pusher against a real push receiver (image::push's server side on a unix socket), whose
// handler plays a dataplane that already serves a newer serial.
#include "pooledge/control/pusher.hpp"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "pooledge/base/fd.hpp"
#include "pooledge/image/push.hpp"
#include "pooledge/image/push_server.hpp"

namespace pooledge::control {
namespace {

// Accepts connections until stopped and answers every image with `status` and `serial`.
class FakeTarget {
  public:
    FakeTarget(image::push::Status status, uint64_t serial)
        : path_(std::filesystem::temp_directory_path() /
                ("pooledge-pusher-" + std::to_string(::getpid()) + ".sock")) {
        std::string why;
        endpoint_ = *image::push::Endpoint::parse("unix:" + path_.string());
        fd_ = image::push::listen_on(endpoint_, &why);
        EXPECT_GE(fd_, 0) << why;
        thread_ = std::thread([this, status, serial] {
            while (!stop_) {
                pollfd p{fd_, POLLIN, 0};
                if (::poll(&p, 1, 100) <= 0) {
                    continue;
                }
                const int c = ::accept(fd_, nullptr, nullptr);
                if (c < 0) {
                    continue;
                }
                image::push::serve_connection(
                    c, {}, [&](image::push::RequestType, std::vector<uint8_t>&) {
                        ++requests_;
                        return image::push::Reply{status, serial, "test target"};
                    });
                ::close(c);
            }
        });
    }
    ~FakeTarget() {
        stop_ = true;
        thread_.join();
        ::close(fd_);
        std::filesystem::remove(path_);
    }
    FakeTarget(const FakeTarget&) = delete;
    FakeTarget& operator=(const FakeTarget&) = delete;

    [[nodiscard]] const image::push::Endpoint& endpoint() const { return endpoint_; }
    [[nodiscard]] int requests() const { return requests_; }

  private:
    std::filesystem::path path_;
    image::push::Endpoint endpoint_;
    int fd_ = -1;
    std::atomic<bool> stop_{false};
    std::atomic<int> requests_{0};
    std::thread thread_;
};

bool wait_until(const std::function<bool()>& pred) {
    for (int i = 0; i < 100; ++i) {
        if (pred()) {
            return true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
}

// A Stale reply means the target refused the image: it is not counted as confirmed, even when
// the serial it reports is higher than ours (dashboards would show "in sync" otherwise).
TEST(Pusher, StaleIsNotConfirmed) {
    FakeTarget target(image::push::Status::Stale, 1000);
    ControlMetrics metrics("");
    PushConfig config;
    config.targets = {target.endpoint()};
    config.timeout = std::chrono::seconds(5);
    {
        Pusher pusher(config, metrics);
        pusher.publish(std::make_shared<const std::vector<uint8_t>>(64, 1), 5);
        ASSERT_TRUE(wait_until([&] { return target.requests() >= 1; }));
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    const std::string text = metrics.text();
    const std::string name = target.endpoint().to_string();
    EXPECT_NE(text.find("pooledge_control_push_total{result=\"stale\",target=\"" + name + "\"} 1"),
              std::string::npos)
        << text;
    EXPECT_EQ(text.find("pooledge_control_push_target_serial{target=\"" + name + "\"}"),
              std::string::npos)
        << "a refused push must not set the confirmed serial:\n"
        << text;
}

TEST(Pusher, AcceptedIsConfirmed) {
    FakeTarget target(image::push::Status::Accepted, 5);
    ControlMetrics metrics("");
    PushConfig config;
    config.targets = {target.endpoint()};
    Pusher pusher(config, metrics);
    pusher.publish(std::make_shared<const std::vector<uint8_t>>(64, 1), 5);
    const std::string series =
        "pooledge_control_push_target_serial{target=\"" + target.endpoint().to_string() + "\"} 5";
    EXPECT_TRUE(wait_until([&] { return metrics.text().find(series) != std::string::npos; }))
        << metrics.text();
}

// A target that loses its image (a restart without it on disk, an upgrade that refuses it)
// gets it again at the next recheck, though no new image was built; one that keeps it does
// not.
TEST(Pusher, RecheckPushesAgainToATargetThatLostTheImage) {
    const auto path = std::filesystem::temp_directory_path() /
                      ("pooledge-recheck-" + std::to_string(::getpid()) + ".sock");
    const auto endpoint = *image::push::Endpoint::parse("unix:" + path.string());
    std::atomic<uint64_t> serving{0};
    std::atomic<int> images{0}, statuses{0};
    std::vector<base::Fd> listeners;
    std::string why;
    listeners.emplace_back(image::push::listen_on(endpoint, &why));
    ASSERT_GE(listeners.back().get(), 0) << why;
    image::push::Server server(
        std::move(listeners), {}, [&](image::push::RequestType type, std::vector<uint8_t>&) {
            if (type == image::push::RequestType::Status) {
                ++statuses;
            } else {
                ++images;
                serving = 5;
            }
            return image::push::Reply{image::push::Status::Accepted, serving.load(), ""};
        });
    ControlMetrics metrics("");
    PushConfig config;
    config.targets = {endpoint};
    config.recheck = std::chrono::seconds(1);
    Pusher pusher(config, metrics);
    pusher.publish(std::make_shared<const std::vector<uint8_t>>(64, 1), 5);
    ASSERT_TRUE(wait_until([&] { return images == 1; }));
    ASSERT_TRUE(wait_until([&] { return statuses >= 1; })) << "no recheck";
    EXPECT_EQ(images, 1) << "a target still serving the image got it again";
    serving = 0;  // restarted with nothing
    EXPECT_TRUE(wait_until([&] { return images == 2; })) << "the lost image was not pushed again";
    EXPECT_EQ(serving, 5u);
    std::filesystem::remove(path);
}

}  // namespace
}  // namespace pooledge::control
