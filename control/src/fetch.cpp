#include "pooledge/control/fetch.hpp"

#include <curl/curl.h>
#include <openssl/sha.h>

#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <thread>

#include <strings.h>

#include "pooledge/base/file_io.hpp"
#include "pooledge/base/input_error.hpp"

namespace pooledge::control {
namespace {

[[noreturn]] void fail(const std::string& location, const std::string& what) {
    throw base::InputError("fetch", location + ": " + what);
}

std::string trim(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) {
        s.pop_back();
    }
    return s;
}

std::string sha256_of(const std::string& body) {
    unsigned char d[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(body.data()), body.size(), d);
    return std::string(reinterpret_cast<const char*>(d), sizeof d);
}

struct Transfer {
    std::string body;
    std::string etag;
    uint64_t max_bytes = 0;
    bool too_large = false;
};

size_t on_body(char* data, size_t size, size_t n, void* user) {
    auto* t = static_cast<Transfer*>(user);
    if (t->body.size() + size * n > t->max_bytes) {
        t->too_large = true;
        return 0;  // aborts the transfer
    }
    t->body.append(data, size * n);
    return size * n;
}

size_t on_header(char* data, size_t size, size_t n, void* user) {
    auto* t = static_cast<Transfer*>(user);
    const std::string line(data, size * n);
    if (line.size() > 5 && strncasecmp(line.c_str(), "etag:", 5) == 0) {
        t->etag = trim(line.substr(5));
        t->etag.erase(0, t->etag.find_first_not_of(' '));
    }
    return size * n;
}

struct CurlFree {
    void operator()(CURL* c) const noexcept { curl_easy_cleanup(c); }
};
struct SlistFree {
    void operator()(curl_slist* l) const noexcept { curl_slist_free_all(l); }
};

enum class Outcome { Ok, NotModified, Retry, Fatal };

}  // namespace

namespace {

// Retries back off from FetchOptions::backoff, doubling, up to this.
constexpr std::chrono::milliseconds kMaxBackoff{30000};

// libcurl's progress callback (about once a second, and on every transfer step): non-zero
// aborts the transfer.
int on_progress(void* stopper, curl_off_t /*dltotal*/, curl_off_t /*dlnow*/, curl_off_t /*ultotal*/,
                curl_off_t /*ulnow*/) {
    return static_cast<base::Stopper*>(stopper)->stopped() ? 1 : 0;
}

}  // namespace

Fetcher::Fetcher(FetchOptions opts, base::Stopper* stopper)
    : opts_(std::move(opts)), stopper_(stopper) {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

Fetcher::~Fetcher() = default;

Fetched Fetcher::fetch(const std::string& location) {
    if (!location.starts_with("http://") && !location.starts_with("https://")) {
        std::string why;
        auto bytes = base::read_file(location, opts_.max_bytes, &why);
        if (!bytes) {
            fail(location, why);
        }
        std::string body(bytes->begin(), bytes->end());
        const std::string hash = sha256_of(body);
        if (file_hashes_[location] == hash) {
            return Fetched{true, {}};
        }
        file_hashes_[location] = hash;
        return Fetched{false, std::move(body)};
    }

    std::string last_error;
    auto backoff = opts_.backoff;
    for (int attempt = 0; attempt <= opts_.retries; ++attempt) {
        if (attempt > 0) {
            if (stopper_ != nullptr ? stopper_->wait_for(backoff)
                                    : (std::this_thread::sleep_for(backoff), false)) {
                fail(location, "stopped while retrying (" + last_error + ")");
            }
            backoff = std::min(backoff * 2, kMaxBackoff);
        }
        std::unique_ptr<CURL, CurlFree> curl(curl_easy_init());
        if (!curl) {
            fail(location, "libcurl initialisation failed");
        }
        Transfer t;
        t.max_bytes = opts_.max_bytes;
        std::unique_ptr<curl_slist, SlistFree> headers;
        auto add_header = [&headers](const std::string& h) {
            headers.reset(curl_slist_append(headers.release(), h.c_str()));
        };
        if (!opts_.token_file.empty()) {
            std::ifstream in(opts_.token_file);
            std::stringstream ss;
            ss << in.rdbuf();
            const std::string token = trim(ss.str());
            if (!in || token.empty()) {
                fail(location, "cannot read a token from " + opts_.token_file);
            }
            add_header("Authorization: Bearer " + token);
        }
        if (const auto it = etags_.find(location); it != etags_.end()) {
            add_header("If-None-Match: " + it->second);
        }
        CURL* c = curl.get();
        curl_easy_setopt(c, CURLOPT_URL, location.c_str());
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
        // An https source may only redirect to https: no silent downgrade to plain http.
        curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR,
                         location.starts_with("https://") ? "https" : "http,https");
        curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
        curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);  // threads: no SIGALRM for DNS timeouts
        curl_easy_setopt(c, CURLOPT_TIMEOUT, static_cast<long>(opts_.timeout.count()));
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT,
                         static_cast<long>(std::min<int64_t>(opts_.timeout.count(), 10)));
        curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");  // whatever libcurl can decode
        curl_easy_setopt(c, CURLOPT_USERAGENT, "pooledge-control/0.1");
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
        curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(c, CURLOPT_HEADERDATA, &t);
        // A stop interrupts a transfer in progress instead of waiting for registry.timeout.
        if (stopper_ != nullptr) {
            curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
            curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
            curl_easy_setopt(c, CURLOPT_XFERINFODATA, stopper_);
        }
        const CURLcode rc = curl_easy_perform(c);
        long status = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        Outcome outcome = Outcome::Ok;
        if (t.too_large) {
            last_error =
                "response larger than registry.max_bytes (" + std::to_string(opts_.max_bytes) + ")";
            outcome = Outcome::Fatal;
        } else if (rc != CURLE_OK) {
            last_error = curl_easy_strerror(rc);
            outcome = Outcome::Retry;
        } else if (status == 304) {
            outcome = Outcome::NotModified;
        } else if (status >= 500 || status == 429 || status == 408) {
            last_error = "HTTP " + std::to_string(status);
            outcome = Outcome::Retry;
        } else if (status != 200) {
            last_error = "HTTP " + std::to_string(status);
            outcome = Outcome::Fatal;
        }
        switch (outcome) {
            case Outcome::Ok:
                if (!t.etag.empty()) {
                    etags_[location] = t.etag;
                } else {
                    etags_.erase(location);
                }
                return Fetched{false, std::move(t.body)};
            case Outcome::NotModified:
                return Fetched{true, {}};
            case Outcome::Fatal:
                fail(location, last_error);
            case Outcome::Retry:
                break;
        }
    }
    fail(location, last_error + " (after " + std::to_string(opts_.retries + 1) + " attempts)");
}

}  // namespace pooledge::control
