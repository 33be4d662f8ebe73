#include "pooledge/dataplane/frame/frame.hpp"

namespace pooledge::dataplane {

const char* to_string(DropReason r) noexcept {
    switch (r) {
        case DropReason::None:
            return "none";
        case DropReason::Runt:
            return "runt";
        case DropReason::NotForUs:
            return "not_for_us";
        case DropReason::OwnFrame:
            return "own_frame";
        case DropReason::BadIpHeader:
            return "bad_ip_header";
        case DropReason::BadIpChecksum:
            return "bad_ip_checksum";
        case DropReason::BadUdpHeader:
            return "bad_udp_header";
        case DropReason::BadUdpChecksum:
            return "bad_udp_checksum";
        case DropReason::BadSource:
            return "bad_source";
        case DropReason::SourcePortZero:
            return "source_port_zero";
        case DropReason::DnsNoAnswer:
            return "dns_no_answer";
        case DropReason::NtpNoAnswer:
            return "ntp_no_answer";
        case DropReason::DnsAclDenied:
            return "dns_acl_denied";
        case DropReason::NtpAclDenied:
            return "ntp_acl_denied";
        case DropReason::DnsRateLimited:
            return "dns_rate_limited";
        case DropReason::NtpRateLimited:
            return "ntp_rate_limited";
        case DropReason::Count:
            break;
    }
    return "unknown";
}

const char* to_string(Service s) noexcept {
    switch (s) {
        case Service::Dns:
            return "dns";
        case Service::Ntp:
            return "ntp";
        case Service::Count:
            break;
    }
    return "unknown";
}

}  // namespace pooledge::dataplane
