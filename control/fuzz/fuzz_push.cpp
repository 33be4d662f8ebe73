// libFuzzer target: the receiving side of the push protocol. The input is the byte stream a
// peer sends; serve_connection() reads it from a socket and hands each image to
// judge_image(), as the dataplane will.
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <vector>

#include "pooledge/image/push.hpp"
#include "pooledge/image/receiver.hpp"

using namespace pooledge::image;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    // The whole input must fit in the socket buffer: the writer does not run concurrently.
    if (size > 60000) {
        return 0;
    }
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) {
        return 0;
    }
    const int buf = 1 << 20;
    ::setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
    if (size > 0 && ::write(sv[0], data, size) != static_cast<ssize_t>(size)) {
        ::close(sv[0]);
        ::close(sv[1]);
        return 0;
    }
    ::shutdown(sv[0], SHUT_WR);
    static const std::vector<TrustedKey> keys = [] {
        const auto k = SigningKey::generate();
        return std::vector<TrustedKey>{{k->public_key(), k->key_id(), "fuzz"}};
    }();
    push::ServeLimits limits;
    limits.max_image_size = 1 << 20;
    limits.io_timeout = push::Timeout(50);
    push::serve_connection(sv[1], limits, [](push::RequestType, std::vector<uint8_t>& body) {
        return judge_image(body, keys, std::nullopt);
    });
    ::close(sv[0]);
    ::close(sv[1]);
    return 0;
}
