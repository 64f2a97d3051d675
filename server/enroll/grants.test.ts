import { describe, expect, test } from "bun:test";
import { mayAccessKey } from "./grants.ts";

describe("mayAccessKey", () => {
  const app = { wavi: "rw", buzz: "r" };
  const manager = { __manage: "rw", "*": "rw" };
  const everything = { "*": "rw" };
  test.each([
    [null, "anything.other@alice", "rw", true],
    [app, "phone.wavi@alice", "rw", true],
    [app, "@bob:phone.wavi@alice", "r", true],
    [app, "phone.buzz@alice", "r", true],
    [app, "phone.buzz@alice", "rw", false],
    [app, "phone.other@alice", "r", false],
    [app, "nonamespace@alice", "r", false],
    [app, "public:publickey@alice", "r", true],
    [app, "public:publickey@alice", "rw", false],
    [everything, "public:publickey@alice", "rw", true],
    [app, "privatekey:at_pkam_publickey", "r", false],
    [everything, "privatekey:at_pkam_publickey", "r", true],
    [everything, "privatekey:at_pkam_publickey", "rw", false],
    [manager, "privatekey:at_pkam_publickey", "rw", true],
    [everything, "e1.new.enrollments.__manage@alice", "r", false],
    [manager, "e1.new.enrollments.__manage@alice", "rw", true],
    [everything, "private:abc123.__otp@alice", "r", false],
    [everything, "private:spp.__otp@alice", "r", false],
    [manager, "private:spp.__otp@alice", "rw", true],
    [app, "@bob:shared_key@alice", "rw", true],
    [app, "shared_key.bob@alice", "rw", true],
    [app, "cached:@alice:shared_key@bob", "r", true],
    [app, "@bob:shared_key.x@alice", "rw", false],
    // The s2s signing private key: the reference lets every enrollment read it; here only __manage or *.
    [app, "@alice:signing_privatekey@alice", "r", false],
    [{ wavi: "rw", __manage: "r" }, "@alice:signing_privatekey@alice", "r", true],
    [{ wavi: "rw", __manage: "r" }, "@alice:signing_privatekey@alice", "rw", false],
    [{ "*": "r" }, "@alice:signing_privatekey@alice", "r", true],
    [manager, "@alice:signing_privatekey@alice", "rw", true],
  ] as const)("%o %s %s -> %s", (grants, key, need, expected) => {
    expect(mayAccessKey(grants, key, need)).toBe(expected);
  });
});
