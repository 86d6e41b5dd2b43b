#pragma once
// Which upstream addresses an app may make the proxy reach. Targets the app chooses (CONNECT,
// absolute-form) must not turn the proxy into a door to the machine's own or its network's private
// services; the check runs on the resolved addresses, so DNS names pointing inside (rebinding) and
// numeric spellings (0x7f.1, 2130706433, [::ffff:127.0.0.1]) are caught alike. Operator-chosen
// upstreams (--upstream) are not restricted.
#include <boost/asio/ip/address.hpp>

#include <string>

namespace llmtap::proxy {

// Loopback, unspecified, private (RFC 1918, fc00::/7), link-local, CGNAT (100.64/10), multicast,
// broadcast and reserved ranges; IPv4-mapped and -compatible IPv6 forms are judged as their IPv4.
bool is_non_public_address(const boost::asio::ip::address& address);

// The 403 message for a refused target.
std::string non_public_refusal(const std::string& host, const boost::asio::ip::address& address);

}  // namespace llmtap::proxy
