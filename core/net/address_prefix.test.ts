import { expect, test } from "bun:test";
import { canonicalAddress, networkPrefix } from "./address_prefix.ts";

test("IPv4 addresses share their /24", () => {
  expect(networkPrefix("10.1.2.3")).toBe("10.1.2.0/24");
  expect(networkPrefix("10.1.2.250")).toBe("10.1.2.0/24");
  expect(networkPrefix("10.1.3.3")).not.toBe(networkPrefix("10.1.2.3"));
});

test("IPv6 addresses share their /64, whatever the spelling", () => {
  expect(networkPrefix("2001:db8:1:2::7")).toBe("2001:db8:1:2::/64");
  expect(networkPrefix("2001:0db8:0001:0002:ffff:0:0:9")).toBe("2001:db8:1:2::/64");
  expect(networkPrefix("2001:DB8:1:2:a:b:c:d")).toBe("2001:db8:1:2::/64");
  expect(networkPrefix("::1")).toBe("0:0:0:0::/64");
  expect(networkPrefix("fe80::1")).toBe("fe80:0:0:0::/64");
  expect(networkPrefix("2001:db8:1:3::7")).not.toBe(networkPrefix("2001:db8:1:2::7"));
});

test("IPv4-mapped IPv6 counts as IPv4", () => {
  expect(canonicalAddress("::ffff:127.0.0.1")).toBe("127.0.0.1");
  expect(networkPrefix("::FFFF:10.1.2.3")).toBe("10.1.2.0/24");
});

test("anything that is not an IP literal is its own budget", () => {
  expect(networkPrefix("")).toBe("");
  expect(networkPrefix("Some-Host")).toBe("some-host");
});
