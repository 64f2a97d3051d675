import { expect, test } from "bun:test";
import { isIP } from "node:net";
import { ipVersion } from "./ip_version.ts";

test("agrees with node:net isIP on addresses, names and near misses", () => {
  const hosts = [
    "127.0.0.1", "0.0.0.0", "255.255.255.255", "256.0.0.1", "1.2.3", "01.2.3.4", "1.2.3.4.5", "1.2.3.4 ",
    "::", "::1", "fe80::1", "2001:db8::8a2e:370:7334", "::ffff:192.168.0.1", "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8:9",
    "2001:db8:::1", "[::1]", "gggg::1", "localhost", "alice.example", "", ":",
  ];
  for (const h of hosts) expect([h, ipVersion(h)]).toEqual([h, isIP(h) as 0 | 4 | 6]);
});
