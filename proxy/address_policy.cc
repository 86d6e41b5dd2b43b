#include "proxy/address_policy.h"

#include <cstdint>

namespace llmtap::proxy {
namespace {

bool in_v4(std::uint32_t a, std::uint32_t net, int bits) {
  std::uint32_t mask = bits == 0 ? 0 : ~std::uint32_t{0} << (32 - bits);
  return (a & mask) == (net & mask);
}

bool non_public_v4(std::uint32_t a) {
  static constexpr struct { std::uint32_t net; int bits; } kRanges[] = {
      {0x00000000, 8},   // "this network", 0.0.0.0
      {0x0A000000, 8},   // 10/8
      {0x64400000, 10},  // 100.64/10 carrier-grade NAT
      {0x7F000000, 8},   // loopback
      {0xA9FE0000, 16},  // link-local (cloud metadata at 169.254.169.254)
      {0xAC100000, 12},  // 172.16/12
      {0xC0000000, 24},  // IETF protocol assignments
      {0xC0A80000, 16},  // 192.168/16
      {0xC6120000, 15},  // 198.18/15 benchmarking
      {0xE0000000, 4},   // multicast
      {0xF0000000, 4},   // reserved, broadcast
  };
  for (const auto& r : kRanges)
    if (in_v4(a, r.net, r.bits)) return true;
  return false;
}

}  // namespace

bool is_non_public_address(const boost::asio::ip::address& address) {
  if (address.is_v4()) return non_public_v4(address.to_v4().to_uint());
  const auto v6 = address.to_v6();
  const auto b = v6.to_bytes();
  if (v6.is_v4_mapped()) return non_public_v4(v6.to_v4().to_uint());
  bool first12_zero = true;
  for (int i = 0; i < 12; ++i) first12_zero &= b[i] == 0;
  if (first12_zero) {  // ::, ::1 and the deprecated IPv4-compatible ::a.b.c.d
    std::uint32_t v4 = (std::uint32_t{b[12]} << 24) | (std::uint32_t{b[13]} << 16) | (std::uint32_t{b[14]} << 8) | b[15];
    return v4 <= 1 || non_public_v4(v4);
  }
  if ((b[0] & 0xFE) == 0xFC) return true;                    // fc00::/7 unique local
  if (b[0] == 0xFE && (b[1] & 0xC0) == 0x80) return true;    // fe80::/10 link-local
  if (b[0] == 0xFE && (b[1] & 0xC0) == 0xC0) return true;    // fec0::/10 site-local (deprecated)
  if (b[0] == 0xFF) return true;                             // multicast
  // NAT64 (64:ff9b::/96) and 6to4 (2002::/16) embed an IPv4 address: judge that one.
  if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xFF && b[3] == 0x9B) {
    std::uint32_t v4 = (std::uint32_t{b[12]} << 24) | (std::uint32_t{b[13]} << 16) | (std::uint32_t{b[14]} << 8) | b[15];
    return non_public_v4(v4);
  }
  if (b[0] == 0x20 && b[1] == 0x02) {
    std::uint32_t v4 = (std::uint32_t{b[2]} << 24) | (std::uint32_t{b[3]} << 16) | (std::uint32_t{b[4]} << 8) | b[5];
    return non_public_v4(v4);
  }
  return false;
}

std::string non_public_refusal(const std::string& host, const boost::asio::ip::address& address) {
  return host + " resolves to " + address.to_string() +
         ", a loopback, private or link-local address: llmtap forwards apps only to public hosts "
         "(start it with --allow-private-upstream to allow this; apps reach local services directly "
         "through NO_PROXY)";
}

}  // namespace llmtap::proxy
