// A small HTTP/1.0 server on its own thread for /metrics and /health: enough for Prometheus
// and a load balancer's or BGP speaker's health check, nothing more. One request per
// connection.
//
// /health gates the anycast announcement, so no client may stall it: every connection is
// non-blocking and served from one poll loop, concurrently, with a deadline for the request
// head (a client dripping bytes is cut off) and one for the whole exchange (a client that
// never reads a large /metrics body is dropped, not waited for). At most kMaxConnections at
// once; past that the oldest connection makes room.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <thread>

#include "pooledge/base/fd.hpp"

namespace pooledge::dataplane {

struct HttpResponse {
    int status = 200;
    std::string content_type = "text/plain; charset=utf-8";
    std::string body;
};

using HttpHandler = std::function<HttpResponse(const std::string& path)>;

struct HttpLimits {
    std::chrono::milliseconds head_timeout{2000};    // from accept to the end of the head
    std::chrono::milliseconds total_timeout{10000};  // from accept to the last byte sent
    size_t max_head = 8192;
    size_t max_connections = 64;
};

class HttpServer {
  public:
    // listen: "127.0.0.1:9121" or "[::1]:9121". Throws std::runtime_error when it cannot bind.
    HttpServer(const std::string& listen, HttpHandler handler, HttpLimits limits = {});
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

  private:
    void run();
    HttpHandler handler_;
    HttpLimits limits_;
    base::Fd listen_;
    base::Fd wake_read_, wake_write_;
    std::thread thread_;
};

}  // namespace pooledge::dataplane
