// Registry fetches: http(s) with libcurl (bearer token, ETag / If-None-Match, timeouts,
// retries with exponential back-off, a size cap, gzip), or a local file.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>

#include "pooledge/base/stopper.hpp"

namespace pooledge::control {

struct FetchOptions {
    std::string token_file;  // read on every fetch, so a rotated token needs no restart
    std::chrono::seconds timeout{30};
    int retries = 3;
    std::chrono::milliseconds backoff{1000};  // doubles per retry
    uint64_t max_bytes = uint64_t{512} << 20;
};

struct Fetched {
    // HTTP 304, or a file with the same content as last time; the body is then empty and
    // the caller reuses the one it kept.
    bool unchanged = false;
    std::string body;
};

class Fetcher {
  public:
    explicit Fetcher(FetchOptions opts, base::Stopper* stopper = nullptr);
    ~Fetcher();
    Fetcher(const Fetcher&) = delete;
    Fetcher& operator=(const Fetcher&) = delete;

    // Throws base::InputError (reason "fetch") after the last retry, naming the location and
    // what failed (DNS, connect, timeout, HTTP status, size cap). Server errors (5xx, 429)
    // and transport failures are retried; other 4xx are not: they will not get better.
    [[nodiscard]] Fetched fetch(const std::string& location);

  private:
    FetchOptions opts_;
    base::Stopper* stopper_;
    std::map<std::string, std::string> etags_;
    std::map<std::string, std::string> file_hashes_;
};

}  // namespace pooledge::control
