#include "pooledge/control/metrics.hpp"

#include <prometheus/counter.h>
#include <prometheus/exposer.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <mutex>

namespace pooledge::control {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::Counter;
using prometheus::Family;
using prometheus::Gauge;

struct ControlMetrics::Impl {
    std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
    std::unique_ptr<prometheus::Exposer> exposer;

    Family<Counter>& attempts = BuildCounter()
                                    .Name("pooledge_control_ingest_attempts_total")
                                    .Help("Registry and GeoIP ingest attempts, by source")
                                    .Register(*registry);
    Family<Counter>& failures =
        BuildCounter()
            .Name("pooledge_control_ingest_failures_total")
            .Help("Ingest failures by source and reason; the last good image keeps serving")
            .Register(*registry);
    Family<Gauge>& last_success =
        BuildGauge()
            .Name("pooledge_control_ingest_last_success_timestamp_seconds")
            .Help("Unix time of the last successful ingest, by source")
            .Register(*registry);
    Family<Counter>& refusals = BuildCounter()
                                    .Name("pooledge_control_guard_rail_refusals_total")
                                    .Help("Updates refused by a guard rail, by rule")
                                    .Register(*registry);
    Family<Gauge>& eligible = BuildGauge()
                                  .Name("pooledge_control_servers_eligible")
                                  .Help("Eligible servers per zone in the serving image")
                                  .Register(*registry);
    Family<Gauge>& image_serial = BuildGauge()
                                      .Name("pooledge_control_image_serial")
                                      .Help("Serial of the last good image")
                                      .Register(*registry);
    Family<Gauge>& image_size = BuildGauge()
                                    .Name("pooledge_control_image_size_bytes")
                                    .Help("Size of the last good image")
                                    .Register(*registry);
    Family<Gauge>& compile_seconds =
        BuildGauge()
            .Name("pooledge_control_compile_duration_seconds")
            .Help("Wall time of the last compile (parse to signed image)")
            .Register(*registry);
    Family<Gauge>& geoip_networks = BuildGauge()
                                        .Name("pooledge_control_geoip_networks")
                                        .Help("GeoIP networks in the database, by how they mapped")
                                        .Register(*registry);
    Family<Counter>& pushes = BuildCounter()
                                  .Name("pooledge_control_push_total")
                                  .Help("Image pushes by target and result")
                                  .Register(*registry);
    Family<Gauge>& acked_serial = BuildGauge()
                                      .Name("pooledge_control_push_target_serial")
                                      .Help("Serial each target confirmed serving")
                                      .Register(*registry);
    Family<Gauge>& acked_time = BuildGauge()
                                    .Name("pooledge_control_push_last_success_timestamp_seconds")
                                    .Help("Unix time a target last confirmed the current image")
                                    .Register(*registry);
};

ControlMetrics::ControlMetrics(const std::string& listen) : impl_(std::make_unique<Impl>()) {
    // Every fixed label combination exists from the start, at zero: a rate() over a series
    // that appears only with its first failure misses that failure.
    for (const char* source : {"pool_data", "scores", "geodns_json", "geoip"}) {
        impl_->attempts.Add({{"source", source}});
        for (const char* reason : {"fetch", "json", "schema", "value", "duplicate", "empty",
                                   "stale", "geoip", "compile", "config", "state"}) {
            impl_->failures.Add({{"source", source}, {"reason", reason}});
        }
    }
    for (const char* rule : {"drop_share", "empty_zone"}) {
        impl_->refusals.Add({{"rule", rule}});
    }
    if (!listen.empty()) {
        impl_->exposer = std::make_unique<prometheus::Exposer>(listen);
        impl_->exposer->RegisterCollectable(impl_->registry);
    }
}

ControlMetrics::~ControlMetrics() = default;

void ControlMetrics::ingest_attempt(const std::string& source) {
    impl_->attempts.Add({{"source", source}}).Increment();
}

void ControlMetrics::ingest_failure(const std::string& source, const std::string& reason) {
    impl_->failures.Add({{"source", source}, {"reason", reason}}).Increment();
}

void ControlMetrics::ingest_success(const std::string& source, double unix_time) {
    impl_->last_success.Add({{"source", source}}).Set(unix_time);
}

void ControlMetrics::guard_refusal(const std::string& rule) {
    impl_->refusals.Add({{"rule", rule}}).Increment();
}

void ControlMetrics::eligible(const std::map<std::string, uint64_t>& per_zone) {
    for (const auto& [zone, n] : per_zone) {
        impl_->eligible.Add({{"zone", zone}}).Set(static_cast<double>(n));
    }
}

void ControlMetrics::image(uint64_t serial, uint64_t size_bytes, double compile_seconds) {
    impl_->image_serial.Add({}).Set(static_cast<double>(serial));
    impl_->image_size.Add({}).Set(static_cast<double>(size_bytes));
    if (compile_seconds >= 0) {
        impl_->compile_seconds.Add({}).Set(compile_seconds);
    }
}

void ControlMetrics::geoip(const GeoIpStats& s) {
    impl_->geoip_networks.Add({{"mapped", "country"}}).Set(static_cast<double>(s.mapped_country));
    impl_->geoip_networks.Add({{"mapped", "continent"}})
        .Set(static_cast<double>(s.mapped_continent));
    impl_->geoip_networks.Add({{"mapped", "unknown_country"}})
        .Set(static_cast<double>(s.unknown_country));
    impl_->geoip_networks.Add({{"mapped", "none"}}).Set(static_cast<double>(s.no_location));
}

void ControlMetrics::push_result(const std::string& target, const std::string& result) {
    impl_->pushes.Add({{"target", target}, {"result", result}}).Increment();
}

void ControlMetrics::push_acked(const std::string& target, uint64_t serial, double unix_time) {
    impl_->acked_serial.Add({{"target", target}}).Set(static_cast<double>(serial));
    impl_->acked_time.Add({{"target", target}}).Set(unix_time);
}

std::string ControlMetrics::text() const {
    return prometheus::TextSerializer().Serialize(impl_->registry->Collect());
}

}  // namespace pooledge::control
