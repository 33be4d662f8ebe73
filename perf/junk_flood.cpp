// Junk for the exception path: TCP SYNs to port 80, ICMP echo requests and UDP to port 9, in
// turn, as prebuilt Ethernet frames sent with sendmmsg on an AF_PACKET socket (qdisc bypassed),
// open loop at a target rate or as fast as one core can. Every frame is well formed (the
// checksums are right), so the kernel behind a dataplane would answer each one; the point of
// perf/peers.sh's junk phase is that it only gets the exception path's configured rate.
//
//   junk_flood --iface IF --src IP --dst IP --dst-mac MAC [--seconds 5] [--rate PPS (0=max)]
//              [--kinds syn,icmp,udp]
//
// Prints one JSON line: frames sent, send errors, the offered rate. Source ports and ICMP ids
// vary per frame (a SYN flood from one address still opens many half-open connections).
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
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
constexpr unsigned kBatch = 64;
constexpr unsigned kFrames = 3 * 256;       // SYN, ICMP, UDP in turn; 256 source ports each
constexpr size_t kFrameLen = 14 + 20 + 20;  // the longest (SYN); ICMP and UDP pad to it
// The ICMP and UDP payload: 12 bytes, no terminator on the wire.
constexpr std::array<uint8_t, 12> kPayload = {'p', 'o', 'o', 'l', 'e', 'd',
                                              'g', 'e', 'j', 'u', 'n', 'k'};

[[noreturn]] void die(const std::string& why) {
    std::fprintf(stderr, "junk_flood: %s\n", why.c_str());
    std::exit(2);
}

uint16_t fold(uint32_t sum) {
    while ((sum >> 16) != 0) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return static_cast<uint16_t>(~sum);
}

uint32_t add_words(const uint8_t* p, size_t n, uint32_t sum = 0) {
    for (size_t i = 0; i + 1 < n; i += 2) {
        sum += static_cast<uint32_t>(p[i] << 8 | p[i + 1]);
    }
    if ((n & 1) != 0) {
        sum += static_cast<uint32_t>(p[n - 1] << 8);
    }
    return sum;
}

void put16(uint8_t* p, uint16_t v) {
    p[0] = static_cast<uint8_t>(v >> 8);
    p[1] = static_cast<uint8_t>(v);
}

// One frame: Ethernet + IPv4 + the kind's header (kind 0 SYN, 1 ICMP echo, 2 UDP).
std::array<uint8_t, kFrameLen> frame(unsigned kind, uint16_t port, const uint8_t* src_mac,
                                     const uint8_t* dst_mac, in_addr src, in_addr dst) {
    std::array<uint8_t, kFrameLen> f{};
    std::memcpy(f.data(), dst_mac, 6);
    std::memcpy(f.data() + 6, src_mac, 6);
    put16(f.data() + 12, ETHERTYPE_IP);
    uint8_t* ip = f.data() + 14;
    uint8_t* l4 = ip + 20;
    const uint8_t proto = kind == 0 ? IPPROTO_TCP : kind == 1 ? IPPROTO_ICMP : IPPROTO_UDP;
    const uint16_t l4_len = 20;  // TCP header, ICMP header + 12 bytes, UDP header + 12
    ip[0] = 0x45;
    put16(ip + 2, static_cast<uint16_t>(20 + l4_len));
    put16(ip + 4, port);
    ip[8] = 64;
    ip[9] = proto;
    std::memcpy(ip + 12, &src, 4);
    std::memcpy(ip + 16, &dst, 4);
    put16(ip + 10, fold(add_words(ip, 20)));
    // The pseudo-header sum for TCP and UDP.
    uint32_t pseudo = add_words(ip + 12, 8) + proto + l4_len;
    if (kind == 0) {
        put16(l4, static_cast<uint16_t>(10000 + port));
        put16(l4 + 2, 80);
        put16(l4 + 4, port);  // sequence number
        l4[12] = 5 << 4;      // data offset
        l4[13] = 0x02;        // SYN
        put16(l4 + 14, 65535);
        put16(l4 + 16, fold(add_words(l4, l4_len, pseudo)));
    } else if (kind == 1) {
        l4[0] = ICMP_ECHO;
        put16(l4 + 4, port);  // identifier
        put16(l4 + 6, 1);
        std::copy(kPayload.begin(), kPayload.end(), l4 + 8);
        put16(l4 + 2, fold(add_words(l4, l4_len)));
    } else {
        put16(l4, static_cast<uint16_t>(10000 + port));
        put16(l4 + 2, 9);  // discard: nobody serves it
        put16(l4 + 4, l4_len);
        std::copy(kPayload.begin(), kPayload.end(), l4 + 8);
        put16(l4 + 6, fold(add_words(l4, l4_len, pseudo)));
    }
    return f;
}

bool parse_mac(const std::string& s, uint8_t* mac) {
    unsigned v[6];
    if (std::sscanf(s.c_str(), "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) !=
        6) {
        return false;
    }
    for (int i = 0; i < 6; ++i) {
        mac[i] = static_cast<uint8_t>(v[i]);
    }
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    std::string iface, src_text, dst_text, mac_text, kinds = "syn,icmp,udp";
    double seconds = 5, rate = 0;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (i + 1 >= argc) {
            die("usage: junk_flood --iface IF --src IP --dst IP --dst-mac MAC [--seconds S] "
                "[--rate PPS]");
        }
        if (a == "--iface") {
            iface = argv[++i];
        } else if (a == "--src") {
            src_text = argv[++i];
        } else if (a == "--dst") {
            dst_text = argv[++i];
        } else if (a == "--dst-mac") {
            mac_text = argv[++i];
        } else if (a == "--seconds") {
            seconds = std::stod(argv[++i]);
        } else if (a == "--rate") {
            rate = std::stod(argv[++i]);
        } else if (a == "--kinds") {
            kinds = argv[++i];
        } else {
            die("unknown argument '" + a + "'");
        }
    }
    in_addr src{}, dst{};
    uint8_t dst_mac[6], src_mac[6];
    if (inet_pton(AF_INET, src_text.c_str(), &src) != 1 ||
        inet_pton(AF_INET, dst_text.c_str(), &dst) != 1) {
        die("--src and --dst take IPv4 addresses");
    }
    if (!parse_mac(mac_text, dst_mac)) {
        die("--dst-mac: not a MAC address: '" + mac_text + "'");
    }
    const int fd = socket(AF_PACKET, SOCK_RAW, 0);  // protocol 0: we never receive
    if (fd < 0) {
        die(std::string("AF_PACKET socket: ") + std::strerror(errno));
    }
    ifreq ifr{};
    std::snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", iface.c_str());
    if (ioctl(fd, SIOCGIFHWADDR, &ifr) != 0) {
        die("--iface " + iface + ": " + std::strerror(errno));
    }
    std::memcpy(src_mac, ifr.ifr_hwaddr.sa_data, 6);
    const int one = 1;
    setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one);
    sockaddr_ll ll{};
    ll.sll_family = AF_PACKET;
    ll.sll_ifindex = static_cast<int>(if_nametoindex(iface.c_str()));
    ll.sll_halen = 6;
    std::memcpy(ll.sll_addr, dst_mac, 6);

    std::vector<unsigned> wanted;  // kinds in turn: 0 SYN, 1 ICMP echo, 2 UDP
    for (unsigned k = 0; k < 3; ++k) {
        if (kinds.find(std::array{"syn", "icmp", "udp"}[k]) != std::string::npos) {
            wanted.push_back(k);
        }
    }
    if (wanted.empty()) {
        die("--kinds: none of syn, icmp, udp in '" + kinds + "'");
    }
    std::vector<std::array<uint8_t, kFrameLen>> frames;
    for (unsigned i = 0; i < kFrames; ++i) {
        frames.push_back(frame(wanted[i % wanted.size()], static_cast<uint16_t>(i / 3 + 1), src_mac,
                               dst_mac, src, dst));
    }
    std::array<iovec, kBatch> iov{};
    std::array<mmsghdr, kBatch> msgs{};
    uint64_t sent = 0, errors = 0;
    unsigned next = 0;
    const auto start = Clock::now();
    const auto end = start + std::chrono::duration<double>(seconds);
    for (auto now = start; now < end; now = Clock::now()) {
        if (rate > 0) {
            const double due = std::chrono::duration<double>(now - start).count() * rate;
            if (static_cast<double>(sent) >= due) {
                continue;  // open loop: spin until the next batch is due
            }
        }
        for (unsigned i = 0; i < kBatch; ++i) {
            iov[i] = {frames[next].data(), kFrameLen};
            next = (next + 1) % kFrames;
            msgs[i].msg_hdr = {};
            msgs[i].msg_hdr.msg_name = &ll;
            msgs[i].msg_hdr.msg_namelen = sizeof ll;
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
        }
        const int n = sendmmsg(fd, msgs.data(), kBatch, 0);
        if (n > 0) {
            sent += static_cast<uint64_t>(n);
        }
        if (n < static_cast<int>(kBatch)) {
            ++errors;
        }
    }
    const double took = std::chrono::duration<double>(Clock::now() - start).count();
    std::printf("{\"sent\": %llu, \"send_errors\": %llu, \"sent_pps\": %.0f}\n",
                static_cast<unsigned long long>(sent), static_cast<unsigned long long>(errors),
                static_cast<double>(sent) / took);
    close(fd);
    return 0;
}
