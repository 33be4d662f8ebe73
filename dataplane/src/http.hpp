// A small HTTP/1.0 server on its own thread for /metrics and /health: enough for Prometheus
// and a load balancer's or BGP speaker's health check, nothing more. One request per
// connection, bounded request size and time.
#pragma once

#include <functional>
#include <string>
#include <thread>

namespace pooledge::dataplane {

struct HttpResponse {
    int status = 200;
    std::string content_type = "text/plain; charset=utf-8";
    std::string body;
};

using HttpHandler = std::function<HttpResponse(const std::string& path)>;

class HttpServer {
  public:
    // listen: "127.0.0.1:9121" or "[::1]:9121". Throws std::runtime_error when it cannot bind.
    HttpServer(const std::string& listen, HttpHandler handler);
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

  private:
    void run();
    HttpHandler handler_;
    int fd_ = -1;
    int wake_[2] = {-1, -1};
    std::thread thread_;
};

}  // namespace pooledge::dataplane
