// NTP load generator: NTPv4 client requests from many UDP sockets (so RSS or a packet fanout
// spreads them) to SERVER:123, open loop at a target rate or as fast as it can, with
// sendmmsg/recvmmsg, counting the mode 4 answers whose origin timestamp is one of ours. One
// thread does both (the machines here have two cores; the server gets the other).
//
//   ntp_loadgen --server ADDR [--seconds 5] [--rate PPS (0 = max)] [--sockets 64]
//
// Prints one JSON line: sent, answered, bad (answers that are not ours or not mode 4),
// send errors, the offered and answered rates.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
constexpr unsigned kBatch = 32;
constexpr uint32_t kMagic = 0x50454C47;  // "PELG": the origin timestamp's high half

[[noreturn]] void die(const std::string& why) {
    std::fprintf(stderr, "ntp_loadgen: %s\n", why.c_str());
    std::exit(2);
}

struct Counts {
    uint64_t sent = 0, answered = 0, bad = 0, send_errors = 0;
};

}  // namespace

int main(int argc, char** argv) {
    std::string server;
    double seconds = 5, rate = 0;
    unsigned nsock = 64;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--server" && i + 1 < argc) {
            server = argv[++i];
        } else if (a == "--seconds" && i + 1 < argc) {
            seconds = std::stod(argv[++i]);
        } else if (a == "--rate" && i + 1 < argc) {
            rate = std::stod(argv[++i]);
        } else if (a == "--sockets" && i + 1 < argc) {
            nsock = static_cast<unsigned>(std::max(1, std::stoi(argv[++i])));
        } else {
            die("usage: ntp_loadgen --server ADDR [--seconds S] [--rate PPS] [--sockets N]");
        }
    }
    sockaddr_storage ss{};
    socklen_t sslen = 0;
    int family = AF_INET;
    if (auto* s4 = reinterpret_cast<sockaddr_in*>(&ss);
        inet_pton(AF_INET, server.c_str(), &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        s4->sin_port = htons(123);
        sslen = sizeof *s4;
    } else if (auto* s6 = reinterpret_cast<sockaddr_in6*>(&ss);
               inet_pton(AF_INET6, server.c_str(), &s6->sin6_addr) == 1) {
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons(123);
        sslen = sizeof *s6;
        family = AF_INET6;
    } else {
        die("--server: not an IP address: '" + server + "'");
    }
    std::vector<int> socks;
    for (unsigned i = 0; i < nsock; ++i) {
        const int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK, 0);
        if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&ss), sslen) != 0) {
            die(std::string("socket: ") + std::strerror(errno));
        }
        const int buf = 4 << 20;
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
        socks.push_back(fd);
    }

    std::array<std::array<uint8_t, 48>, kBatch> out{};
    std::array<std::array<uint8_t, 128>, kBatch> in{};
    std::array<iovec, kBatch> out_iov{}, in_iov{};
    std::array<mmsghdr, kBatch> out_msg{}, in_msg{};
    for (unsigned i = 0; i < kBatch; ++i) {
        out[i][0] = 0x23;  // LI 0, version 4, mode 3
        out[i][2] = 6;
        out_iov[i] = {out[i].data(), out[i].size()};
        out_msg[i].msg_hdr.msg_iov = &out_iov[i];
        out_msg[i].msg_hdr.msg_iovlen = 1;
        in_iov[i] = {in[i].data(), in[i].size()};
        in_msg[i].msg_hdr.msg_iov = &in_iov[i];
        in_msg[i].msg_hdr.msg_iovlen = 1;
    }

    Counts c;
    const auto t0 = Clock::now();
    const auto until = t0 + std::chrono::duration<double>(seconds);
    uint32_t seq = 0;
    unsigned next_sock = 0;
    auto receive_all = [&] {
        for (int fd : socks) {
            for (;;) {
                const int n = recvmmsg(fd, in_msg.data(), kBatch, MSG_DONTWAIT, nullptr);
                if (n <= 0) {
                    break;
                }
                for (int k = 0; k < n; ++k) {
                    const uint8_t* a = in[k].data();
                    uint32_t magic;
                    std::memcpy(&magic, a + 24, 4);
                    const bool ours =
                        in_msg[k].msg_len == 48 && (a[0] & 7) == 4 && ntohl(magic) == kMagic;
                    ours ? ++c.answered : ++c.bad;
                }
            }
        }
    };
    for (auto now = Clock::now(); now < until; now = Clock::now()) {
        // Open loop: as many as the schedule says are due (all of a batch at max rate).
        unsigned due = kBatch;
        if (rate > 0) {
            const double elapsed = std::chrono::duration<double>(now - t0).count();
            const auto target = static_cast<uint64_t>(elapsed * rate);
            due = target > c.sent
                      ? static_cast<unsigned>(std::min<uint64_t>(kBatch, target - c.sent))
                      : 0;
        }
        if (due > 0) {
            for (unsigned i = 0; i < due; ++i) {
                const uint32_t hi = htonl(kMagic), lo = htonl(seq++);
                std::memcpy(out[i].data() + 40, &hi, 4);
                std::memcpy(out[i].data() + 44, &lo, 4);
            }
            const int fd = socks[next_sock];
            next_sock = (next_sock + 1) % socks.size();
            const int n = sendmmsg(fd, out_msg.data(), due, 0);
            if (n > 0) {
                c.sent += static_cast<uint64_t>(n);
            }
            if (n < static_cast<int>(due)) {
                c.send_errors += due - static_cast<unsigned>(std::max(n, 0));
            }
        }
        receive_all();
    }
    // Late answers: a short grace period, not counted in the duration.
    const auto grace = Clock::now() + std::chrono::milliseconds(200);
    while (Clock::now() < grace) {
        receive_all();
    }
    const double took = seconds;
    std::printf(
        "{\"sent\": %llu, \"answered\": %llu, \"bad\": %llu, \"send_errors\": %llu, "
        "\"offered_pps\": %.0f, \"answered_pps\": %.0f}\n",
        static_cast<unsigned long long>(c.sent), static_cast<unsigned long long>(c.answered),
        static_cast<unsigned long long>(c.bad), static_cast<unsigned long long>(c.send_errors),
        c.sent / took, c.answered / took);
    for (int fd : socks) {
        close(fd);
    }
    return 0;
}
