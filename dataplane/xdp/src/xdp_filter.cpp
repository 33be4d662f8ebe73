#include "pooledge/dataplane/xdp/xdp_filter.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <stdexcept>

#include "xdp_filter_maps.h"

namespace pooledge::dataplane::xdp {

// Generated at build time from the compiled xdp_filter.bpf.c (dataplane/CMakeLists.txt).
extern const uint8_t kFilterObject[];
extern const size_t kFilterObjectSize;

namespace {

constexpr uint64_t kNsPerSecond = 1000000000ULL;

std::string errno_text(int err) {
    return std::strerror(err < 0 ? -err : err);
}

// The name a loaded program or map reports, or "" on error.
std::string prog_name(int fd) {
    bpf_prog_info info{};
    __u32 len = sizeof info;
    return bpf_obj_get_info_by_fd(fd, &info, &len) == 0 ? std::string(info.name) : std::string();
}

// The mode flag that names how a program is attached, for calls that must say.
__u32 mode_flag(__u8 attach_mode) {
    return attach_mode == XDP_ATTACHED_SKB  ? XDP_FLAGS_SKB_MODE
           : attach_mode == XDP_ATTACHED_HW ? XDP_FLAGS_HW_MODE
                                            : XDP_FLAGS_DRV_MODE;
}

// The single program attached to `if_index` over netlink and the mode flag it is attached
// in; nullopt with the reason in *why if there is none (or several, or it went meanwhile),
// and *query_failed set if the interface could not even be asked.
struct Attached {
    base::Fd prog;
    __u32 mode = 0;
};
std::optional<Attached> attached_program(unsigned if_index, std::string* why, bool* query_failed) {
    *query_failed = false;
    bpf_xdp_query_opts q{};
    q.sz = sizeof q;
    if (const int err = bpf_xdp_query(static_cast<int>(if_index), 0, &q); err != 0) {
        base::set_why(why, "cannot query the interface's XDP program: " + errno_text(err));
        *query_failed = true;
        return std::nullopt;
    }
    if (q.prog_id == 0 || q.attach_mode == XDP_ATTACHED_MULTI) {
        base::set_why(why, "no single XDP program on the interface");
        return std::nullopt;
    }
    base::Fd prog(bpf_prog_get_fd_by_id(q.prog_id));
    if (prog.get() < 0) {
        base::set_why(
            why, "cannot open XDP program " + std::to_string(q.prog_id) + ": " + errno_text(errno));
        return std::nullopt;
    }
    return Attached{std::move(prog), mode_flag(q.attach_mode)};
}

// Detaches exactly `a` (REPLACE with the old program, never a newcomer's); 0 or -errno,
// -EBUSY where a BPF link holds the interface.
int detach_netlink(unsigned if_index, const Attached& a) {
    bpf_xdp_attach_opts opts{};
    opts.sz = sizeof opts;
    opts.old_prog_fd = a.prog.get();
    return bpf_xdp_detach(static_cast<int>(if_index), a.mode | XDP_FLAGS_REPLACE, &opts);
}

// The descriptor of the map of `name` that program `prog_fd` uses, or -1.
base::Fd map_of(int prog_fd, const char* name) {
    bpf_prog_info info{};
    __u32 len = sizeof info;
    if (bpf_obj_get_info_by_fd(prog_fd, &info, &len) != 0) {
        return base::Fd();
    }
    std::vector<__u32> ids(info.nr_map_ids);
    info = bpf_prog_info{};
    info.nr_map_ids = static_cast<__u32>(ids.size());
    info.map_ids = reinterpret_cast<uintptr_t>(ids.data());
    len = sizeof info;
    if (bpf_obj_get_info_by_fd(prog_fd, &info, &len) != 0) {
        return base::Fd();
    }
    for (const __u32 id : ids) {
        base::Fd fd(bpf_map_get_fd_by_id(id));
        if (fd.get() < 0) {
            continue;
        }
        bpf_map_info m{};
        __u32 mlen = sizeof m;
        if (bpf_obj_get_info_by_fd(fd.get(), &m, &mlen) == 0 && std::strcmp(m.name, name) == 0) {
            return fd;
        }
    }
    return base::Fd();
}

}  // namespace

std::span<const uint8_t> filter_object() noexcept {
    return {kFilterObject, kFilterObjectSize};
}

const std::string& filter_object_path() {
    static std::once_flag once;
    static std::string path;
    std::call_once(once, [] {
        // A memfd rather than a file on disk: the dataplane is one self-contained binary,
        // and the object the PMD loads is the one this build was tested with.
        const int fd = ::memfd_create("pooledge-xdp-filter", MFD_CLOEXEC | MFD_ALLOW_SEALING);
        if (fd < 0) {
            throw std::runtime_error("XDP filter: memfd_create: " + errno_text(errno));
        }
        const auto obj = filter_object();
        if (::write(fd, obj.data(), obj.size()) != static_cast<ssize_t>(obj.size()) ||
            ::fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) !=
                0) {
            const int err = errno;
            ::close(fd);
            throw std::runtime_error("XDP filter: cannot write its object: " + errno_text(err));
        }
        path = "/proc/self/fd/" + std::to_string(fd);
    });
    if (path.empty()) {
        throw std::runtime_error("XDP filter: its object could not be written earlier");
    }
    return path;
}

std::vector<std::string> with_filter(const std::vector<std::string>& eal_args,
                                     const std::function<std::string()>& path,
                                     std::vector<std::string>* filtered) {
    static constexpr std::string_view kDriver = "net_af_xdp";
    std::vector<std::string> out;
    out.reserve(eal_args.size());
    bool vdev_next = false;
    for (const std::string& arg : eal_args) {
        std::string a = arg;
        size_t value = std::string::npos;
        if (vdev_next) {
            value = 0;
        } else if (a.rfind("--vdev=", 0) == 0) {
            value = 7;
        }
        vdev_next = a == "--vdev";
        if (value != std::string::npos && a.compare(value, kDriver.size(), kDriver) == 0) {
            const std::string dev = a.substr(value, a.find(',', value) - value);
            if (("," + a.substr(value)).find(",xdp_prog=") == std::string::npos) {
                a += ",xdp_prog=" + path();
                if (filtered != nullptr) {
                    filtered->push_back(dev);
                }
            }
        }
        out.push_back(std::move(a));
    }
    return out;
}

Stale detach_stale(unsigned if_index, std::string* why) {
    bool query_failed = false;
    const auto a = attached_program(if_index, why, &query_failed);
    if (!a) {
        if (!query_failed) {
            base::set_why(why, "");
        }
        return query_failed ? Stale::Error : Stale::None;
    }
    if (!Filter::from_program(a->prog.get(), nullptr)) {
        return Stale::None;  // somebody else's program
    }
    // A running dataplane holds its filter through a BPF link, which no netlink call can
    // detach.
    const int err = detach_netlink(if_index, *a);
    if (err == -EBUSY) {
        base::set_why(why, "a running dataplane holds the interface's XDP filter");
        return Stale::Held;
    }
    if (err != 0) {
        base::set_why(why, "cannot detach the stale XDP filter: " + errno_text(err));
        return Stale::Error;
    }
    return Stale::Detached;
}

std::optional<Filter> Filter::on_interface(unsigned if_index, std::string* why) {
    bool query_failed = false;
    const auto a = attached_program(if_index, why, &query_failed);
    if (!a) {
        return std::nullopt;
    }
    auto filter = from_program(a->prog.get(), why);
    if (!filter) {
        return std::nullopt;
    }
    // The PMD attached the program over netlink, where it outlives a killed process and
    // anyone may detach it (another PMD closing its port does). Moved to a BPF link, it
    // is ours: it goes when this process does, however it ends, and while it runs no
    // netlink call can replace or detach it. Between the two calls the interface has no
    // program for a few microseconds; the frames meanwhile go to the stack, not lost to a
    // wedged socket.
    if (const int err = detach_netlink(if_index, *a); err != 0) {
        base::set_why(why, "cannot take the filter over from the PMD: " + errno_text(err));
        return std::nullopt;
    }
    bpf_link_create_opts lopts{};
    lopts.sz = sizeof lopts;
    lopts.flags = a->mode;
    filter->link_.reset(
        bpf_link_create(a->prog.get(), static_cast<int>(if_index), BPF_XDP, &lopts));
    if (filter->link_.get() < 0) {
        const int err = errno;
        // Put it back as it was, so the port keeps receiving.
        bpf_xdp_attach(static_cast<int>(if_index), a->prog.get(),
                       a->mode | XDP_FLAGS_UPDATE_IF_NOEXIST, nullptr);
        base::set_why(why, "cannot attach the filter through a BPF link: " + errno_text(err));
        return std::nullopt;
    }
    return filter;
}

std::optional<Filter> Filter::from_program(int prog_fd, std::string* why) {
    const std::string name = prog_name(prog_fd);
    if (name != PE_XDP_FILTER_PROG_NAME) {
        base::set_why(why, "XDP program '" + name + "' is not pooledge's filter");
        return std::nullopt;
    }
    base::Fd cfg = map_of(prog_fd, PE_XDP_FILTER_CFG_MAP);
    base::Fd state = map_of(prog_fd, PE_XDP_FILTER_STATE_MAP);
    base::Fd stats = map_of(prog_fd, PE_XDP_FILTER_STATS_MAP);
    if (cfg.get() < 0 || state.get() < 0 || stats.get() < 0) {
        base::set_why(why, "the filter's maps cannot be opened");
        return std::nullopt;
    }
    return Filter(std::move(cfg), std::move(state), std::move(stats));
}

void Filter::configure(const FilterConfig& c) const {
    pe_xdp_cfg v{};
    v.flags = PE_XDP_CFG_ACTIVE | (c.ntp ? PE_XDP_CFG_NTP : 0U);
    if (c.rate != 0) {
        v.interval_ns = kNsPerSecond / c.rate;
        v.ahead_ns = v.interval_ns * (c.burst > 0 ? c.burst - 1 : 0);
    }
    const __u32 key = 0;
    const pe_xdp_state full{};  // a slot in the past: the whole burst is there
    for (__u32 b = 0; b < PE_XDP_BUCKETS; ++b) {
        if (bpf_map_update_elem(state_.get(), &b, &full, BPF_ANY) != 0) {
            throw std::runtime_error("XDP filter: cannot reset its buckets: " + errno_text(errno));
        }
    }
    if (bpf_map_update_elem(cfg_.get(), &key, &v, BPF_ANY) != 0) {
        throw std::runtime_error("XDP filter: cannot write its configuration: " +
                                 errno_text(errno));
    }
}

std::optional<FilterCounts> Filter::counts() const {
    const int cpus = libbpf_num_possible_cpus();
    FilterCounts out;
    if (cpus <= 0) {
        return std::nullopt;
    }
    std::vector<uint64_t> per_cpu(static_cast<size_t>(cpus));  // __u64 values: no padding
    uint64_t* const fields[PE_XDP_VERDICTS] = {&out.fast_path, &out.kernel, &out.rate_limited,
                                               &out.neighbour};
    for (__u32 k = 0; k < PE_XDP_VERDICTS; ++k) {
        if (bpf_map_lookup_elem(stats_.get(), &k, per_cpu.data()) != 0) {
            return std::nullopt;
        }
        for (const uint64_t v : per_cpu) {
            *fields[k] += v;
        }
    }
    return out;
}

}  // namespace pooledge::dataplane::xdp
