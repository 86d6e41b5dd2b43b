#include "proxy/address_policy.h"

#include <gtest/gtest.h>

namespace llmtap::proxy {
namespace {

bool non_public(const char* text) { return is_non_public_address(boost::asio::ip::make_address(text)); }

TEST(AddressPolicy, RefusesLoopbackPrivateLinkLocalAndFriends) {
  for (const char* a : {"127.0.0.1", "127.255.0.9", "0.0.0.0", "10.1.2.3", "172.16.0.1", "172.31.255.255",
                        "192.168.1.1", "169.254.169.254", "100.64.0.1", "224.0.0.1", "255.255.255.255", "::1", "::",
                        "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::127.0.0.1", "fe80::1", "fc00::1", "fd12:3456::1",
                        "ff02::1", "64:ff9b::7f00:1", "2002:7f00:1::1"})
    EXPECT_TRUE(non_public(a)) << a;
}

TEST(AddressPolicy, AllowsPublicAddresses) {
  for (const char* a : {"8.8.8.8", "1.1.1.1", "172.32.0.1", "172.15.255.255", "100.128.0.1", "192.169.0.1",
                        "2606:4700:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1"})
    EXPECT_FALSE(non_public(a)) << a;
}

TEST(AddressPolicy, RefusalNamesHostAddressAndOption) {
  std::string m = non_public_refusal("example.internal", boost::asio::ip::make_address("10.0.0.7"));
  EXPECT_NE(m.find("example.internal resolves to 10.0.0.7"), std::string::npos) << m;
  EXPECT_NE(m.find("--allow-private-upstream"), std::string::npos) << m;
}

}  // namespace
}  // namespace llmtap::proxy
