// The push protocol between the control plane and dataplanes (control/PUSH.md).
//
// A stream connection (unix socket locally, TCP to remote nodes) carries requests and
// replies, one at a time, each with a 16-byte header. The image's Ed25519 signature is the
// authority, not the connection: a receiver verifies every image itself, so a man in the
// middle can delay or drop an update but never alter one. Plain POSIX sockets, no DPDK, so
// the control plane, the dataplane's management thread and the test receiver share it.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace pooledge::image::push {

inline constexpr std::array<char, 4> kRequestMagic = {'P', 'E', 'P', 'Q'};
inline constexpr std::array<char, 4> kReplyMagic = {'P', 'E', 'P', 'A'};
inline constexpr uint8_t kVersion = 1;
inline constexpr size_t kHeaderSize = 16;
inline constexpr size_t kMaxReason = 1024;

enum class RequestType : uint8_t { Image = 1, Status = 2 };

enum class Status : uint8_t {
    Accepted = 0,    // verified, stored and serving
    Current = 1,     // this very image (same checksum) already serves
    Refused = 2,     // failed a check: bounds, checksum, signature; reason says which
    Stale = 3,       // serial lower than the one serving (a replay cannot roll a node back)
    TooLarge = 4,    // announced length above the receiver's limit; body not read
    BadRequest = 5,  // bad magic, version or type; the receiver closes the connection
    Failed = 6,      // the receiver could not store or map a good image (disk full, ...)
};
[[nodiscard]] const char* to_string(Status s) noexcept;

struct Reply {
    Status status = Status::Failed;
    uint64_t serial = 0;  // the serial serving after the request; 0 = none
    std::string reason;
};

// "unix:/run/pooledge/push.sock", "tcp:192.0.2.1:7853", "tcp:[2001:db8::1]:7853",
// "tcp:node1.example.net:7853".
struct Endpoint {
    enum class Kind { Unix, Tcp } kind = Kind::Unix;
    std::string path;
    std::string host;
    uint16_t port = 0;

    [[nodiscard]] static std::optional<Endpoint> parse(std::string_view text,
                                                       std::string* why = nullptr);
    [[nodiscard]] std::string to_string() const;
};

using Timeout = std::chrono::milliseconds;

struct ClientOptions {
    Timeout timeout{30000};                     // the connect, and each read or write step
    std::chrono::seconds deadline{600};         // the whole exchange
    const std::atomic<bool>* cancel = nullptr;  // set: give up within about 200 ms
};

// Client side: connect, send, wait for the reply, close. Nothing (and a reason) when the
// connection, the transfer or the reply fails, runs out of time or is cancelled; a reply the
// receiver sent is returned even when it is a refusal.
[[nodiscard]] std::optional<Reply> send_image(const Endpoint& to, std::span<const uint8_t> image,
                                              const ClientOptions& options,
                                              std::string* why = nullptr);
[[nodiscard]] std::optional<Reply> send_image(const Endpoint& to, std::span<const uint8_t> image,
                                              Timeout timeout, std::string* why = nullptr);
[[nodiscard]] std::optional<Reply> query_status(const Endpoint& to, Timeout timeout,
                                                std::string* why = nullptr);
[[nodiscard]] std::optional<Reply> query_status(const Endpoint& to, const ClientOptions& options,
                                                std::string* why = nullptr);

// Server side. A listening socket; -1 and a reason on failure. A stale unix socket file is
// replaced, but one that another process still accepts on is refused.
[[nodiscard]] int listen_on(const Endpoint& at, std::string* why = nullptr);

struct ServeLimits {
    uint64_t max_image_size = uint64_t{1} << 30;
    Timeout io_timeout{30000};  // per read or write: a stalled peer cannot pin the receiver
    // The whole image transfer: a peer sending a byte just inside each io_timeout cannot
    // either. 10 minutes is a gigabyte at 14 Mbit/s.
    std::chrono::seconds transfer_timeout{600};
    // The whole connection, from the accept, request headers included: a peer asking for
    // Status every 20 s cannot keep a connection for ever.
    std::chrono::seconds connection_timeout{900};
    unsigned max_requests = 16;  // per connection; then it is closed
};

// Decides on one request; the body is empty for Status. Runs on the serving thread. The
// handler may take the body (move it out) to keep the image without copying it: a receiver
// then holds at most the serving image and the one arriving.
using Handler = std::function<Reply(RequestType type, std::vector<uint8_t>& body)>;

// Serves requests on an accepted connection until the peer closes, stalls or misbehaves, or
// the connection's deadline or request count runs out; does not close `fd`. `waiting`, when
// given, is true while the connection waits for a request header (and may be cut off to
// make room for another one).
void serve_connection(int fd, const ServeLimits& limits, const Handler& handler,
                      std::atomic<bool>* waiting = nullptr);

// Encoders and decoders of the fixed headers, exposed for tests and fuzzing.
[[nodiscard]] std::array<uint8_t, kHeaderSize> encode_request(RequestType type, uint64_t length);
struct RequestHeader {
    RequestType type;
    uint64_t length;
};
// Nothing when the magic, version or type is wrong.
[[nodiscard]] std::optional<RequestHeader> decode_request(std::span<const uint8_t, kHeaderSize> h);
[[nodiscard]] std::vector<uint8_t> encode_reply(const Reply& r);
struct ReplyHeader {
    Status status;
    uint64_t serial;
    uint16_t reason_length;
};
[[nodiscard]] std::optional<ReplyHeader> decode_reply(std::span<const uint8_t, kHeaderSize> h);

}  // namespace pooledge::image::push
