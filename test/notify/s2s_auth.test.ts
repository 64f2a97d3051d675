/**
 * Server-to-server authentication (ATPROTOCOL.md §4.3) against a real directory and real servers: the
 * genuine handshake works, and a `pol` nobody signed, a client certificate for another host, one from an
 * untrusted CA, no certificate at all, and a blocked @sign are all refused.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { issueLeaf, loadOrCreateDevCa } from "../../core/crypto/dev_ca.ts";
import { startStack, type Stack } from "../harness.ts";
import type { WireClient } from "../wire_client.ts";
import { connectRaw, ownerClient, rawAsk } from "./helpers.ts";

let stack: Stack;
let alice: WireClient;
let bob: WireClient;
let goodCert: { key: string; cert: string };
let otherHome: string;

beforeAll(async () => {
  stack = await startStack({ atSigns: ["@alice", "@bob"] });
  alice = await ownerClient(stack, "@alice");
  bob = await ownerClient(stack, "@bob");
  goodCert = await issueLeaf(await loadOrCreateDevCa(stack.home), ["127.0.0.1"]);
  otherHome = mkdtempSync(join(tmpdir(), "inlay-other-ca-"));
});
afterAll(async () => {
  alice.close();
  bob.close();
  await stack.stop();
  rmSync(otherHome, { recursive: true, force: true });
});

const bobPort = () => stack.servers.get("@bob")!.port;

test("the real handshake: alice's server reads a key bob shared with alice over pol", async () => {
  expect(await bob.send("update:@alice:phone@bob +1-555")).toMatch(/^data:\d+$/);
  expect(await alice.send("lookup:phone@bob")).toBe("data:+1-555");
  // The proof alice published for the handshake is gone once pol succeeded.
  expect(await alice.send("scan:showhidden:true public:_")).toBe("data:[]");
});

test("a pol that alice's server never signed is refused and the connection stays unauthenticated", async () => {
  const c = await connectRaw(bobPort(), stack.ca, goodCert);
  const proof = await rawAsk(c, "from:@alice");
  expect(proof).toMatch(/^data:proof:_[0-9a-f-]+@alice:pol1\.[A-Za-z0-9_-]+={0,2}$/);
  const pol = await rawAsk(c, "pol");
  expect(pol).toStartWith("error:AT0401-");
  expect(await rawAsk(c, "notify:id:spoof1:@bob:x@alice:v")).toStartWith("error:AT0401-");
  c.close();
});

test("a wrong signature published under the session key is refused", async () => {
  const c = await connectRaw(bobPort(), stack.ca, goodCert);
  const proof = await rawAsk(c, "from:@alice");
  const sessionKey = /^data:proof:(_[^:]+@alice):/.exec(proof)![1]!;
  // Even alice's owner cannot make bob accept a signature not made with alice's server signing key.
  const stored = await alice.send(`update:public:${sessionKey} ${Buffer.from("not a signature").toString("base64")}`);
  expect(stored).toMatch(/^(data:-?\d+|error:.*)$/);
  expect(await rawAsk(c, "pol")).toStartWith("error:AT0401-");
  c.close();
});

test("a client certificate that does not name alice's published host is refused", async () => {
  const evil = await issueLeaf(await loadOrCreateDevCa(stack.home), ["evil.example"]);
  const c = await connectRaw(bobPort(), stack.ca, evil);
  const answer = await rawAsk(c, "from:@alice");
  expect(answer).toStartWith("error:AT0401-");
  expect(answer).toContain("Certificate Verification Failed");
  c.close();
});

test("a certificate from a CA bob does not trust is refused, and so is no certificate", async () => {
  const foreign = await issueLeaf(await loadOrCreateDevCa(otherHome), ["127.0.0.1"]);
  const c = await connectRaw(bobPort(), stack.ca, foreign);
  expect(await rawAsk(c, "from:@alice")).toContain("Certificate Verification Failed");
  c.close();
  const bare = await connectRaw(bobPort(), stack.ca);
  expect(await rawAsk(bare, "from:@alice")).toContain("Certificate Verification Failed");
  bare.close();
});

test("pol without from: is AT0011 and closes", async () => {
  const c = await connectRaw(bobPort(), stack.ca, goodCert);
  expect(await rawAsk(c, "pol")).toStartWith("error:AT0011-");
  await c.closed;
});

test("a blocked @sign gets AT0013 on from: and the connection closes", async () => {
  expect(await bob.send("config:block:add:@alice")).toBe("data:success");
  try {
    const c = await connectRaw(bobPort(), stack.ca, goodCert);
    expect(await rawAsk(c, "from:@alice")).toStartWith("error:AT0013-");
    await c.closed;
    // alice's pooled session is closed on its next use too, and a new one is refused.
    expect(await alice.send("lookup:bypassCache:true:phone@bob")).toStartWith("error:");
  } finally {
    expect(await bob.send("config:block:remove:@alice")).toBe("data:success");
  }
  expect(await alice.send("lookup:bypassCache:true:phone@bob")).toBe("data:+1-555");
});
