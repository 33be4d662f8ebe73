#include "pooledge/base/file_io.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "pooledge/base/fd.hpp"

namespace pooledge::base {
namespace {

// "path: what" as the reason.
void set(std::string* why, const std::string& path, const std::string& what) {
    base::set_why(why, path + ": " + what);
}

bool write_all(int fd, std::span<const uint8_t> bytes) {
    while (!bytes.empty()) {
        const ssize_t n = ::write(fd, bytes.data(), bytes.size());
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return false;
        }
        bytes = bytes.subspan(static_cast<size_t>(n));
    }
    return true;
}

std::string directory_of(const std::string& path) {
    const auto slash = path.rfind('/');
    if (slash == std::string::npos) {
        return ".";
    }
    return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

bool write_file_atomic(const std::string& path, std::span<const uint8_t> bytes, std::string* why) {
    std::string tmp = path + ".tmp.XXXXXX";
    Fd fd(::mkostemp(tmp.data(), O_CLOEXEC));
    if (fd.get() < 0) {
        set(why, tmp, std::strerror(errno));
        return false;
    }
    if (!write_all(fd.get(), bytes) || ::fchmod(fd.get(), 0644) != 0 || ::fsync(fd.get()) != 0) {
        set(why, tmp, std::strerror(errno));
        ::unlink(tmp.c_str());
        return false;
    }
    if (::close(fd.release()) != 0 || ::rename(tmp.c_str(), path.c_str()) != 0) {
        set(why, path, std::strerror(errno));
        ::unlink(tmp.c_str());
        return false;
    }
    const std::string dir = directory_of(path);
    Fd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dfd.get() < 0 || ::fsync(dfd.get()) != 0) {
        set(why, dir, std::strerror(errno));
        return false;
    }
    return true;
}

std::optional<std::vector<uint8_t>> read_file(const std::string& path, uint64_t max_size,
                                              std::string* why) {
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    struct stat st {};
    if (fd.get() < 0 || ::fstat(fd.get(), &st) != 0) {
        set(why, path, std::strerror(errno));
        return std::nullopt;
    }
    if (!S_ISREG(st.st_mode)) {
        set(why, path, "not a regular file");
        return std::nullopt;
    }
    if (static_cast<uint64_t>(st.st_size) > max_size) {
        set(why, path, ("larger than the limit of " + std::to_string(max_size) + " bytes").c_str());
        return std::nullopt;
    }
    std::vector<uint8_t> out(static_cast<size_t>(st.st_size));
    size_t got = 0;
    while (got < out.size()) {
        const ssize_t n = ::read(fd.get(), out.data() + got, out.size() - got);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            set(why, path, n == 0 ? "file shrank while being read" : std::strerror(errno));
            return std::nullopt;
        }
        got += static_cast<size_t>(n);
    }
    return out;
}

size_t remove_stale_temp_files(const std::string& path) {
    namespace fs = std::filesystem;
    const fs::path target(path);
    const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
    const std::string prefix = target.filename().string() + ".tmp.";
    size_t removed = 0;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
        const std::string name = e.path().filename().string();
        // mkostemp's six random characters after the prefix, nothing else.
        if (name.size() == prefix.size() + 6 && name.starts_with(prefix) && e.is_regular_file(ec) &&
            fs::remove(e.path(), ec)) {
            ++removed;
        }
    }
    return removed;
}

}  // namespace pooledge::base
