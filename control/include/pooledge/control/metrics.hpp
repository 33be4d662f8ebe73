// pooledge-control's Prometheus metrics (prometheus-cpp), served on metrics.listen.
// Label sets are bounded: sources and reasons are fixed words, zones are the pool's ~260
// zones, targets are the configured dataplanes.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "pooledge/control/geoip.hpp"

namespace pooledge::control {

class ControlMetrics {
  public:
    // Serves /metrics on `listen` ("127.0.0.1:9120", "[::1]:9120"); empty = keep the values
    // but serve nothing. Throws std::runtime_error when the address cannot be bound.
    explicit ControlMetrics(const std::string& listen);
    ~ControlMetrics();
    ControlMetrics(const ControlMetrics&) = delete;
    ControlMetrics& operator=(const ControlMetrics&) = delete;

    void ingest_attempt(const std::string& source);
    void ingest_failure(const std::string& source, const std::string& reason);
    void ingest_success(const std::string& source, double unix_time);
    void guard_refusal(const std::string& rule);
    void eligible(const std::map<std::string, uint64_t>& per_zone);
    void image(uint64_t serial, uint64_t size_bytes, double compile_seconds);
    void geoip(const GeoIpStats& stats);
    void push_result(const std::string& target, const std::string& result);
    void push_acked(const std::string& target, uint64_t serial, double unix_time);

    // The exposition text /metrics would serve (for tests and tools).
    [[nodiscard]] std::string text() const;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace pooledge::control
