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
    line.append(stamp, n)
        .append(" ")
        .append(level)
        .append(" ")
        .append(escape(message))
        .append("\n");
    // A single write(2) keeps lines from different threads whole.
    [[maybe_unused]] const ssize_t ignored = ::write(STDERR_FILENO, line.data(), line.size());
}

}  // namespace

std::string escape(std::string_view message) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    out.reserve(message.size());
    for (const char ch : message) {
        const auto c = static_cast<unsigned char>(ch);
        if (c < 0x20 || c == 0x7F) {
            out.append("\\x").push_back(kHex[c >> 4]);
            out.push_back(kHex[c & 0xF]);
        } else {
            out.push_back(ch);
        }
    }
    return out;
}

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
