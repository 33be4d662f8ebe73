// The one error type for bad registry input, GeoIP data and configuration.
//
// Every message names what is wrong and where ("servers[12] (id 345).ip: '1.2.3' is not an
// IP address"); the reason is a short, fixed word used as a metric label, so the NOC can
// graph failures by kind without a label per message.
#pragma once

#include <stdexcept>
#include <string>

namespace pooledge::base {

class InputError : public std::runtime_error {
  public:
    // reason: fetch, json, schema, value, duplicate, empty, stale, geoip, compile, config,
    // state (the state directory could not be written)
    InputError(std::string reason, const std::string& message)
        : std::runtime_error(message), reason_(std::move(reason)) {}
    [[nodiscard]] const std::string& reason() const noexcept { return reason_; }

  private:
    std::string reason_;
};

}  // namespace pooledge::base
