// zones-serve: the zones answer engine on a loopback UDP socket.
//
// A test and demo harness, not the appliance: it lets real DNS clients (kdig, dig) decode what
// the engine writes, before the DPDK dataplane exists. It compiles the synthetic pool (or
// loads an image file), applies prefix overrides so clients can be placed in countries with
// ECS, writes a facts file (port, label contents) for the test to check answers against, and
// serves until SIGTERM/SIGINT or --max-seconds.
//
//   zones-serve [--image FILE | --sample] [--override PREFIX=REGION]... [--port N]
//               [--facts FILE] [--write-image FILE] [--max-seconds N]
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include "pooledge/engine/answer.hpp"
#include "pooledge/image/geo_index.hpp"
#include "pooledge/image/reader.hpp"
#include "synthetic_pool.hpp"

using namespace pooledge::base;
using namespace pooledge::dns;
using namespace pooledge::image;
using namespace pooledge::engine;
namespace testkit = pooledge::testkit;

namespace {

volatile std::sig_atomic_t g_stop = 0;
void on_signal(int) {
    g_stop = 1;
}

struct Options {
    std::string image_file;
    std::vector<std::pair<std::string, std::string>> overrides;
    uint16_t port = 0;
    std::string facts_file;
    std::string write_image;
    int max_seconds = 600;
};

[[noreturn]] void usage(const std::string& why) {
    std::cerr << "zones-serve: " << why
              << "\nusage: zones-serve [--image FILE | --sample] [--override PREFIX=REGION]... "
                 "[--port N] [--facts FILE] [--write-image FILE] [--max-seconds N]\n";
    std::exit(2);
}

Options parse_args(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) {
                usage(a + " needs a value");
            }
            return argv[++i];
        };
        if (a == "--image") {
            o.image_file = value();
        } else if (a == "--sample") {
            o.image_file.clear();
        } else if (a == "--override") {
            const std::string v = value();
            const size_t eq = v.find('=');
            if (eq == std::string::npos) {
                usage("--override wants PREFIX=REGION, got " + v);
            }
            o.overrides.emplace_back(v.substr(0, eq), v.substr(eq + 1));
        } else if (a == "--port") {
            o.port = static_cast<uint16_t>(std::stoi(value()));
        } else if (a == "--facts") {
            o.facts_file = value();
        } else if (a == "--write-image") {
            o.write_image = value();
        } else if (a == "--max-seconds") {
            o.max_seconds = std::stoi(value());
        } else {
            usage("unknown argument " + a);
        }
    }
    return o;
}

std::string json_string(const std::string& s) {
    return "\"" + s + "\"";
}

// Label -> addresses of the sample zone, so a test can check an answer came from the right set.
void write_facts(const std::string& file, uint16_t port, const testkit::SyntheticPool* pool) {
    std::ofstream out(file);
    out << "{\"port\": " << port;
    if (pool != nullptr) {
        out << ", \"empty_countries\": [";
        for (size_t i = 0; i < pool->empty_countries.size(); ++i) {
            out << (i ? ", " : "") << json_string(pool->empty_countries[i]);
        }
        out << "], \"parents\": {";
        bool first = true;
        for (const auto& r : pool->model.regions) {
            out << (first ? "" : ", ") << json_string(r.name) << ": " << json_string(r.parent);
            first = false;
        }
        out << "}, \"labels\": {";
        first = true;
        for (const auto& [name, label] : pool->model.zones[0].labels) {
            out << (first ? "" : ", ") << json_string(name) << ": {\"a\": [";
            for (size_t i = 0; i < label.a.size(); ++i) {
                out << (i ? ", " : "") << json_string(label.a[i].addr.to_string());
            }
            out << "], \"aaaa\": [";
            for (size_t i = 0; i < label.aaaa.size(); ++i) {
                out << (i ? ", " : "") << json_string(label.aaaa[i].addr.to_string());
            }
            out << "]}";
            first = false;
        }
        out << "}";
    }
    out << "}\n";
}

}  // namespace

int main(int argc, char** argv) {
    const Options opts = parse_args(argc, argv);
    std::vector<uint8_t> bytes;
    testkit::SyntheticPool pool;
    const bool sample = opts.image_file.empty();
    try {
        if (sample) {
            testkit::SyntheticOptions so;
            pool = testkit::synthetic_pool(so);
            for (const auto& [prefix, region] : opts.overrides) {
                const auto p = IpPrefix::parse(prefix);
                if (!p) {
                    usage("bad prefix in --override: " + prefix);
                }
                pool.model.prefixes.push_back({*p, region, true});
            }
            bytes = compile_image(pool.model, static_cast<uint64_t>(std::time(nullptr)),
                                  static_cast<uint64_t>(std::time(nullptr)));
        } else {
            std::ifstream in(opts.image_file, std::ios::binary);
            if (!in) {
                usage("cannot read " + opts.image_file);
            }
            bytes.assign(std::istreambuf_iterator<char>(in), {});
        }
    } catch (const std::exception& e) {
        std::cerr << "zones-serve: cannot build the image: " << e.what() << "\n";
        return 1;
    }
    std::string why;
    auto image = ImageView::load(bytes, &why);
    if (!image) {
        std::cerr << "zones-serve: image refused: " << why << "\n";
        return 1;
    }
    if (!attach_geo_index(*image, &why)) {
        std::cerr << "zones-serve: no geo index (" << why << "): using the range search\n";
    }
    if (!opts.write_image.empty()) {
        std::ofstream(opts.write_image, std::ios::binary)
            .write(reinterpret_cast<const char*>(bytes.data()),
                   static_cast<std::streamsize>(bytes.size()));
    }

    const int fd = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(opts.port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);  // loopback only: this is a harness
    socklen_t len = sizeof addr;
    if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        std::cerr << "zones-serve: cannot bind 127.0.0.1:" << opts.port << ": "
                  << std::strerror(errno) << "\n";
        return 1;
    }
    const uint16_t port = ntohs(addr.sin_port);
    if (!opts.facts_file.empty()) {
        write_facts(opts.facts_file, port, sample ? &pool : nullptr);
    }
    std::signal(SIGTERM, on_signal);
    std::signal(SIGINT, on_signal);
    std::cout << "zones-serve: serving image serial " << image->header().serial << " ("
              << bytes.size() << " bytes, " << image->nodes().size()
              << " names) on 127.0.0.1:" << port << std::endl;

    const Identity identity{.nsid = "zones-serve",
                            .server_id = "zones-serve.pooledge",
                            .version = "pooledge zones-serve"};
    Rng rng(static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()));
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(opts.max_seconds);
    std::vector<uint8_t> buf(65535);
    while (g_stop == 0 && std::chrono::steady_clock::now() < deadline) {
        pollfd p{fd, POLLIN, 0};
        if (poll(&p, 1, 200) <= 0) {
            continue;
        }
        sockaddr_in from{};
        socklen_t from_len = sizeof from;
        const ssize_t n =
            recvfrom(fd, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&from), &from_len);
        if (n <= 0) {
            continue;
        }
        IpAddress client;
        client.family = 4;
        std::memcpy(client.bytes.data(), &from.sin_addr, 4);
        const AnswerContext ctx{&*image, &identity, &rng,
                                static_cast<uint32_t>(std::time(nullptr))};
        const Response r =
            answer(ctx, Client{client, Transport::Udp},
                   std::span<const uint8_t>(buf.data(), static_cast<size_t>(n)), buf);
        if (r.size > 0) {
            sendto(fd, buf.data(), r.size, 0, reinterpret_cast<sockaddr*>(&from), from_len);
        }
    }
    close(fd);
    return 0;
}
