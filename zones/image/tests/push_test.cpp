#include "pooledge/image/push.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <thread>

#include "test_util.hpp"

namespace pooledge::image::push {
namespace {

using namespace std::chrono_literals;

TEST(PushEndpoint, ParsesAndNamesErrors) {
    auto u = Endpoint::parse("unix:/run/pooledge/push.sock");
    ASSERT_TRUE(u.has_value());
    EXPECT_EQ(u->path, "/run/pooledge/push.sock");
    auto t = Endpoint::parse("tcp:[2001:db8::1]:7853");
    ASSERT_TRUE(t.has_value());
    EXPECT_EQ(t->host, "2001:db8::1");
    EXPECT_EQ(t->port, 7853);
    EXPECT_EQ(t->to_string(), "tcp:[2001:db8::1]:7853");
    EXPECT_EQ(Endpoint::parse("tcp:node1.example.net:1")->host, "node1.example.net");
    std::string why;
    for (const char* bad : {"", "unix:", "udp:1.2.3.4:5", "tcp:1.2.3.4", "tcp::53", "tcp:1.2.3.4:0",
                            "tcp:1.2.3.4:65536", "tcp:1.2.3.4:5x"}) {
        EXPECT_FALSE(Endpoint::parse(bad, &why).has_value()) << bad;
        EXPECT_FALSE(why.empty());
    }
}

TEST(PushWire, HeadersRoundTripAndRejectGarbage) {
    const auto h = encode_request(RequestType::Image, 0x0102030405060708ull);
    const auto d = decode_request(h);
    ASSERT_TRUE(d.has_value());
    EXPECT_EQ(d->type, RequestType::Image);
    EXPECT_EQ(d->length, 0x0102030405060708ull);
    auto bad = h;
    bad[5] = 9;  // unknown type
    EXPECT_FALSE(decode_request(bad).has_value());
    bad = h;
    bad[4] = 2;  // unknown version
    EXPECT_FALSE(decode_request(bad).has_value());

    const auto r = encode_reply({Status::Stale, 77, std::string(5000, 'x')});
    ASSERT_EQ(r.size(), kHeaderSize + kMaxReason);  // long reasons are cut, not rejected
    const auto rd = decode_reply(std::span<const uint8_t, kHeaderSize>(r.data(), kHeaderSize));
    ASSERT_TRUE(rd.has_value());
    EXPECT_EQ(rd->status, Status::Stale);
    EXPECT_EQ(rd->serial, 77u);
    EXPECT_EQ(rd->reason_length, kMaxReason);
}

// A receiver on a real socket, serving connections one at a time on its own thread.
class Receiver {
  public:
    Receiver(const Endpoint& at, ServeLimits limits) : limits_(limits) {
        std::string why;
        fd_ = listen_on(at, &why);
        EXPECT_GE(fd_, 0) << why;
        thread_ = std::thread([this] {
            for (;;) {
                const int c = ::accept(fd_, nullptr, nullptr);
                if (c < 0) {
                    return;
                }
                serve_connection(c, limits_, [this](RequestType type, std::vector<uint8_t>& b) {
                    if (type == RequestType::Status) {
                        return Reply{Status::Accepted, serial_, "status"};
                    }
                    ++images_;
                    last_size_ = b.size();
                    serial_ = b.size();
                    return Reply{Status::Accepted, serial_, ""};
                });
                ::close(c);
            }
        });
    }
    ~Receiver() {
        ::shutdown(fd_, SHUT_RDWR);
        ::close(fd_);
        thread_.join();
    }
    std::atomic<int> images_{0};
    std::atomic<size_t> last_size_{0};

  private:
    ServeLimits limits_;
    int fd_ = -1;
    uint64_t serial_ = 0;
    std::thread thread_;
};

std::string socket_path() {
    return (std::filesystem::temp_directory_path() /
            ("pooledge-push-" + std::to_string(::getpid()) + ".sock"))
        .string();
}

TEST(Push, ImageAndStatusOverUnixSocket) {
    const auto at = *Endpoint::parse("unix:" + socket_path());
    Receiver rx(at, ServeLimits{1 << 20, 2000ms});
    std::string why;
    const std::vector<uint8_t> image(300000, 0xAB);
    const auto reply = send_image(at, image, 5000ms, &why);
    ASSERT_TRUE(reply.has_value()) << why;
    EXPECT_EQ(reply->status, Status::Accepted);
    EXPECT_EQ(reply->serial, 300000u);
    EXPECT_EQ(rx.images_, 1);
    const auto status = query_status(at, 5000ms, &why);
    ASSERT_TRUE(status.has_value()) << why;
    EXPECT_EQ(status->serial, 300000u);
    EXPECT_EQ(status->reason, "status");
}

TEST(Push, OversizedImageIsRefusedWithoutReadingIt) {
    const auto at = *Endpoint::parse("unix:" + socket_path());
    Receiver rx(at, ServeLimits{1000, 2000ms});
    std::string why;
    const auto reply = send_image(at, std::vector<uint8_t>(5000, 1), 5000ms, &why);
    ASSERT_TRUE(reply.has_value()) << why;
    EXPECT_EQ(reply->status, Status::TooLarge);
    EXPECT_EQ(rx.images_, 0);
}

TEST(Push, GarbageAndTruncatedTransfersChangeNothing) {
    const auto at = *Endpoint::parse("unix:" + socket_path());
    Receiver rx(at, ServeLimits{1 << 20, 500ms});
    auto raw_connect = [&] {
        const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
        sockaddr_un sa{};
        sa.sun_family = AF_UNIX;
        std::strcpy(sa.sun_path, at.path.c_str());
        EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
        return fd;
    };
    {
        const int fd = raw_connect();
        const char junk[16] = "GET / HTTP/1.1\n";
        ASSERT_EQ(::write(fd, junk, sizeof junk), 16);
        uint8_t reply[kHeaderSize];
        ASSERT_EQ(::read(fd, reply, sizeof reply), static_cast<ssize_t>(kHeaderSize));
        EXPECT_EQ(decode_reply(reply)->status, Status::BadRequest);
        ::close(fd);
    }
    {
        // Announces 1000 bytes, sends 10, then goes away.
        const int fd = raw_connect();
        const auto h = encode_request(RequestType::Image, 1000);
        ASSERT_EQ(::write(fd, h.data(), h.size()), static_cast<ssize_t>(h.size()));
        ASSERT_EQ(::write(fd, "0123456789", 10), 10);
        ::close(fd);
    }
    {
        // Stalls mid-body: the receiver gives up after its I/O timeout.
        const int fd = raw_connect();
        const auto h = encode_request(RequestType::Image, 1000);
        ASSERT_EQ(::write(fd, h.data(), h.size()), static_cast<ssize_t>(h.size()));
        std::this_thread::sleep_for(800ms);
        ::close(fd);
    }
    std::string why;
    const auto reply = send_image(at, std::vector<uint8_t>(64, 7), 5000ms, &why);
    ASSERT_TRUE(reply.has_value()) << why;  // the receiver is still serving
    EXPECT_EQ(rx.images_, 1);
    EXPECT_EQ(rx.last_size_, 64u);
}

TEST(Push, ADrippingPeerRunsOutOfTime) {
    // Each byte arrives inside io_timeout, but the request as a whole has a deadline.
    const auto at = *Endpoint::parse("unix:" + socket_path());
    ServeLimits limits{1 << 20, 500ms};
    limits.transfer_timeout = std::chrono::seconds(1);
    Receiver rx(at, limits);
    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::strcpy(sa.sun_path, at.path.c_str());
    ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
    const auto h = encode_request(RequestType::Image, 100);
    ASSERT_EQ(::write(fd, h.data(), h.size()), static_cast<ssize_t>(h.size()));
    const auto t0 = std::chrono::steady_clock::now();
    bool cut_off = false;
    for (int i = 0; i < 20 && !cut_off; ++i) {
        std::this_thread::sleep_for(300ms);
        cut_off = ::send(fd, "x", 1, MSG_NOSIGNAL) != 1;
    }
    const auto took = std::chrono::steady_clock::now() - t0;
    ::close(fd);
    EXPECT_TRUE(cut_off);
    EXPECT_LT(took, std::chrono::seconds(4));
    EXPECT_EQ(rx.images_, 0);
}

TEST(Push, TcpAndUnreachableTargets) {
    // Any free port on loopback.
    const uint16_t port = testkit::free_loopback_port();
    ASSERT_NE(port, 0);

    const auto at = *Endpoint::parse("tcp:127.0.0.1:" + std::to_string(port));
    std::string why;
    EXPECT_FALSE(send_image(at, std::vector<uint8_t>(10, 1), 1000ms, &why).has_value());
    EXPECT_NE(why.find("127.0.0.1"), std::string::npos) << why;
    {
        Receiver rx(at, ServeLimits{1 << 22, 2000ms});
        const auto reply = send_image(at, std::vector<uint8_t>(2000000, 1), 5000ms, &why);
        ASSERT_TRUE(reply.has_value()) << why;
        EXPECT_EQ(reply->status, Status::Accepted);
    }
    EXPECT_FALSE(query_status(*Endpoint::parse("unix:/nonexistent/x.sock"), 1000ms, &why));
}

}  // namespace
}  // namespace pooledge::image::push
