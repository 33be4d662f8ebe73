// push::Server: no single peer holds up another's push.
#include "pooledge/image/push_server.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <thread>

#include "test_util.hpp"

namespace pooledge::image::push {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

std::string socket_path() {
    return (std::filesystem::temp_directory_path() /
            ("pooledge-pushsrv-" + std::to_string(::getpid()) + ".sock"))
        .string();
}

int connect_unix(const std::string& path) {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::strncpy(sa.sun_path, path.c_str(), sizeof sa.sun_path - 1);
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
    return fd;
}

// A receiver like the dataplane's: images one at a time (each "install" takes
// `install_time`), Status from an atomic, never behind an install.
struct Receiver {
    explicit Receiver(const Endpoint& at, const ServerOptions& options = {},
                      std::chrono::milliseconds install_time = 0ms)
        : install_time_(install_time) {
        std::string why;
        std::vector<base::Fd> listeners;
        listeners.emplace_back(listen_on(at, &why));
        EXPECT_GE(listeners.back().get(), 0) << why;
        server_ = std::make_unique<Server>(
            std::move(listeners), options, [this](RequestType type, std::vector<uint8_t>& b) {
                if (type == RequestType::Status) {
                    return Reply{Status::Accepted, serial_.load(), "status"};
                }
                std::lock_guard lock(install_mu_);
                std::this_thread::sleep_for(install_time_);
                serial_ = b.size();
                return Reply{Status::Accepted, serial_.load(), ""};
            });
    }
    std::chrono::milliseconds install_time_;
    std::mutex install_mu_;
    std::atomic<uint64_t> serial_{0};
    std::unique_ptr<Server> server_;
};

// 18 idle connections (the backlog used to be 16, served one at a time) and a peer dripping
// a header: a push still goes through at once.
TEST(PushServer, IdleAndDrippingPeersDoNotBlockAPush) {
    const std::string path = socket_path();
    const auto at = *Endpoint::parse("unix:" + path);
    ServerOptions options;
    options.max_connections = 8;
    Receiver rx(at, options);
    std::vector<int> idle;
    for (int i = 0; i < 18; ++i) {
        idle.push_back(connect_unix(path));
    }
    const int drip = connect_unix(path);
    const auto h = encode_request(RequestType::Image, 1000);
    ASSERT_EQ(::send(drip, h.data(), 3, MSG_NOSIGNAL), 3);
    std::this_thread::sleep_for(100ms);
    const auto t0 = Clock::now();
    std::string why;
    const auto reply = send_image(at, std::vector<uint8_t>(5000, 1), 5000ms, &why);
    ASSERT_TRUE(reply.has_value()) << why;
    EXPECT_EQ(reply->status, Status::Accepted);
    EXPECT_LT(Clock::now() - t0, 2s);
    EXPECT_GE(rx.server_->stats().evicted_idle.load(), 10u);
    for (const int fd : idle) {
        ::close(fd);
    }
    ::close(drip);
}

TEST(PushServer, StatusNeverWaitsBehindAnInstall) {
    const auto at = *Endpoint::parse("unix:" + socket_path());
    Receiver rx(at, {}, 1500ms);
    std::thread push([&] {
        std::string why;
        const auto r = send_image(at, std::vector<uint8_t>(4000, 1), 5000ms, &why);
        EXPECT_TRUE(r.has_value()) << why;
    });
    std::this_thread::sleep_for(300ms);  // the install is running now
    const auto t0 = Clock::now();
    std::string why;
    const auto status = query_status(at, 5000ms, &why);
    ASSERT_TRUE(status.has_value()) << why;
    EXPECT_LT(Clock::now() - t0, 500ms) << "Status waited for the install";
    push.join();
    EXPECT_EQ(rx.serial_.load(), 4000u);
}

// One connection is bounded: by its request count, and by a deadline that covers the time
// between requests too (a Status every so often no longer keeps it for ever).
TEST(PushServer, ConnectionsEndByRequestCountAndDeadline) {
    const std::string path = socket_path();
    const auto at = *Endpoint::parse("unix:" + path);
    ServerOptions options;
    options.limits.max_requests = 3;
    options.limits.connection_timeout = 1s;
    Receiver rx(at, options);
    auto status_replies = [&](int requests, std::chrono::milliseconds gap) {
        const int fd = connect_unix(path);
        timeval tv{3, 0};
        ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        int replies = 0;
        for (int i = 0; i < requests; ++i) {
            const auto h = encode_request(RequestType::Status, 0);
            if (::send(fd, h.data(), h.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(h.size())) {
                break;
            }
            std::array<uint8_t, kHeaderSize> r{};
            if (::recv(fd, r.data(), r.size(), MSG_WAITALL) != static_cast<ssize_t>(r.size())) {
                break;
            }
            const auto rh = decode_reply(r);
            std::vector<char> reason(rh ? rh->reason_length : 0);
            if (!reason.empty()) {
                (void)::recv(fd, reason.data(), reason.size(), MSG_WAITALL);
            }
            ++replies;
            std::this_thread::sleep_for(gap);
        }
        ::close(fd);
        return replies;
    };
    EXPECT_EQ(status_replies(5, 0ms), 3) << "max_requests";
    EXPECT_LE(status_replies(10, 400ms), 3) << "connection_timeout covers the gaps";
}

// A unix socket another process still serves is not unlinked from under it.
TEST(PushServer, ALiveUnixSocketIsNotTakenOver) {
    const std::string path = socket_path();
    const auto at = *Endpoint::parse("unix:" + path);
    Receiver first(at);
    std::string why;
    EXPECT_EQ(listen_on(at, &why), -1);
    EXPECT_NE(why.find("another process is listening there"), std::string::npos) << why;
    EXPECT_TRUE(query_status(at, 2000ms, &why).has_value()) << "the first still serves: " << why;
}

TEST(PushServer, AllowListRefusesOtherTcpPeers) {
    const uint16_t port = testkit::free_loopback_port();
    ASSERT_NE(port, 0);
    const auto at = *Endpoint::parse("tcp:127.0.0.1:" + std::to_string(port));
    std::string why;
    {
        ServerOptions options;
        options.allow = {*base::IpPrefix::parse("192.0.2.0/24")};
        Receiver rx(at, options);
        EXPECT_FALSE(query_status(at, 2000ms, &why).has_value());
        EXPECT_EQ(rx.server_->stats().refused_peer.load(), 1u);
    }
    ServerOptions options;
    options.allow = {*base::IpPrefix::parse("127.0.0.0/8")};
    Receiver rx(at, options);
    EXPECT_TRUE(query_status(at, 2000ms, &why).has_value()) << why;
}

}  // namespace
}  // namespace pooledge::image::push
