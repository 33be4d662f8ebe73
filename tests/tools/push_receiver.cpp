// A stand-in for the dataplane's image receiver, for the control plane's end-to-end tests:
// the real push protocol, the real zones reader and signature check, the real atomic store.
// It prints one line per decision on stdout ("accepted serial 17 ...") for tests to follow.
//
//   push-receiver --listen unix:PATH|tcp:ADDR:PORT --key PUB [--key PUB]... --dir DIR
//                 [--max-seconds N]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "pooledge/base/file_io.hpp"
#include "pooledge/image/push_server.hpp"
#include "pooledge/image/reader.hpp"
#include "pooledge/image/receiver.hpp"

namespace base = pooledge::base;
namespace image = pooledge::image;

int main(int argc, char** argv) {
    std::string listen, dir;
    std::vector<image::TrustedKey> keys;
    int max_seconds = 600;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string a = argv[i];
        if (a == "--listen") {
            listen = argv[i + 1];
        } else if (a == "--dir") {
            dir = argv[i + 1];
        } else if (a == "--max-seconds") {
            max_seconds = std::atoi(argv[i + 1]);
        } else if (a == "--key") {
            std::string why;
            auto k = image::TrustedKey::load(argv[i + 1], &why);
            if (!k) {
                std::fprintf(stderr, "push-receiver: %s\n", why.c_str());
                return 1;
            }
            keys.push_back(*k);
        } else {
            std::fprintf(stderr, "push-receiver: unknown option %s\n", a.c_str());
            return 2;
        }
    }
    std::string why;
    const auto endpoint = image::push::Endpoint::parse(listen, &why);
    if (!endpoint || dir.empty() || keys.empty()) {
        std::fprintf(stderr, "usage: push-receiver --listen EP --key PUB --dir DIR (%s)\n",
                     why.c_str());
        return 2;
    }
    const int fd = image::push::listen_on(*endpoint, &why);
    if (fd < 0) {
        std::fprintf(stderr, "push-receiver: %s\n", why.c_str());
        return 1;
    }
    const std::string path = dir + "/current.img";
    std::optional<image::ServingImage> serving;
    // Like a dataplane after a restart: what is on disk serves first.
    if (auto bytes = base::read_file(path, uint64_t{4} << 30, &why)) {
        if (auto view = image::load_trusted(*bytes, keys, &why)) {
            serving = image::ServingImage{view->header().serial, view->header().checksum};
            std::printf("restored serial %llu\n", static_cast<unsigned long long>(serving->serial));
        }
    }
    std::printf("listening on %s\n", endpoint->to_string().c_str());
    std::fflush(stdout);

    // The same concurrent server the dataplane uses; decisions are taken one at a time.
    std::mutex mu;
    std::vector<base::Fd> listeners;
    listeners.emplace_back(fd);
    image::push::Server server(
        std::move(listeners), {}, [&](image::push::RequestType type, std::vector<uint8_t>& body) {
            using image::push::Status;
            std::lock_guard lock(mu);
            if (type == image::push::RequestType::Status) {
                return image::push::Reply{Status::Accepted, serving ? serving->serial : 0, ""};
            }
            auto reply = image::judge_image(body, keys, serving);
            if (reply.status == Status::Accepted) {
                std::string err;
                if (!base::write_file_atomic(path, body, &err)) {
                    reply = {Status::Failed, serving ? serving->serial : 0, err};
                } else {
                    image::format::Header h;
                    std::memcpy(&h, body.data(), sizeof h);
                    serving = image::ServingImage{h.serial, h.checksum};
                }
            }
            std::printf("%s serial %llu %zu bytes%s%s\n", image::push::to_string(reply.status),
                        static_cast<unsigned long long>(reply.serial), body.size(),
                        reply.reason.empty() ? "" : ": ", reply.reason.c_str());
            std::fflush(stdout);
            return reply;
        });
    std::this_thread::sleep_for(std::chrono::seconds(max_seconds));
    return 0;
}
