#include "pooledge/base/log.hpp"

#include <unistd.h>

#include <ctime>
#include <string>

namespace pooledge::base::log {
namespace {

void write_line(const char* level, std::string_view message) {
    timespec ts{};
    ::clock_gettime(CLOCK_REALTIME, &ts);
    tm utc{};
    ::gmtime_r(&ts.tv_sec, &utc);
    char stamp[32];
    const size_t n = std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &utc);
    std::string line;
    line.reserve(n + message.size() + 16);
    line.append(stamp, n).append(" ").append(level).append(" ").append(message).append("\n");
    // A single write(2) keeps lines from different threads whole.
    [[maybe_unused]] const ssize_t ignored = ::write(STDERR_FILENO, line.data(), line.size());
}

}  // namespace

void info(std::string_view message) {
    write_line("info", message);
}
void warn(std::string_view message) {
    write_line("warn", message);
}
void error(std::string_view message) {
    write_line("error", message);
}

}  // namespace pooledge::base::log
