/**
 * The proof relay (issue 13, item 1) in the dev setup: two real Inlay servers sharing the dev CA, host name
 * and certificate, and hand-written peers. An operator whose certificate names the shared host sends
 * `from:@bob` to @alice and hands @alice's proof to @bob's server when @bob's server dials its fake "@carol";
 * @bob's server must not sign it, so the operator never becomes @bob at @alice. Also: a proof in the
 * reference form is refused in the name of an @sign whose server signs the bound form, and the reference form
 * still works with peers that only speak it, in both directions.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { fromBase64, toBase64, utf8 } from "../../core/crypto/encoding.ts";
import { generateRsaKeyPair, rsaSignSha256 } from "../../core/crypto/rsa_webcrypto.ts";
import { verifySignature } from "../../core/crypto/verify_signature.ts";
import { serviceTls } from "../../core/net/tls.ts";
import { boundPayload, publishedProof } from "../../server/s2s/pol_proof.ts";
import { startStack, type Stack } from "../harness.ts";
import type { WireClient } from "../wire_client.ts";
import { startFakePeer, type FakePeer } from "./fake_peer.ts";
import { connectRaw, ownerClient, rawAsk } from "./helpers.ts";

const SECRET = "TOP-SECRET-for-bob-only";
const PROOF_RE = /^data:proof:(_[0-9a-f-]+@[a-z]+):(\S+)$/;

let stack: Stack;
let alice: WireClient;
let bob: WireClient;
/** The certificate every server of the dev setup presents: it names the one host they share. */
let sharedCert: { key: string; cert: string };
const fakes: FakePeer[] = [];

beforeAll(async () => {
  stack = await startStack({ atSigns: ["@alice", "@bob"] });
  alice = await ownerClient(stack, "@alice");
  bob = await ownerClient(stack, "@bob");
  const tls = await serviceTls({ home: stack.home });
  sharedCert = { key: tls.key, cert: tls.cert };
  expect(await alice.send(`update:@bob:secret.wavi@alice ${SECRET}`)).toMatch(/^data:\d+$/);
});
afterAll(async () => {
  for (const f of fakes) f.stop();
  alice.close();
  bob.close();
  await stack.stop();
});

const portOf = (atSign: string) => stack.servers.get(atSign)!.port;
const fake = async (atSign: string, onLine: Parameters<typeof startFakePeer>[2]) => {
  const f = await startFakePeer(stack, atSign, onLine);
  fakes.push(f);
  return f;
};

test("the proof relay: @carol's operator cannot become @bob at @alice", async () => {
  const toAlice = await connectRaw(portOf("@alice"), stack.ca, sharedCert);
  const proof = await rawAsk(toAlice, "from:@bob");
  expect(proof).toMatch(PROOF_RE);
  const carol = await fake("@carol", (line, c) => {
    if (line.startsWith("lookup:all:publickey")) c.answer("error:AT0015-publickey@carol does not exist");
    else if (line === "from:@bob") c.answer(proof); // @alice's proof, as if @carol had issued it
  });
  // @bob's server dials @carol (an owner lookup here; a delivery or the cache refresher do the same).
  const bobPolOrClose = carol.nextLine((l) => l === "pol");
  const trigger = bob.send("lookup:anything@carol");
  const bobPol = await bobPolOrClose; // "pol" once @bob's server published a signature, null if it refused
  const pol = await rawAsk(toAlice, "pol");
  const read = await rawAsk(toAlice, "lookup:secret.wavi@alice").catch(() => "closed");
  const notified = await rawAsk(toAlice, "notify:id:relay1:@alice:x@bob:as-bob").catch(() => "closed");
  toAlice.close();
  expect(read).not.toContain(SECRET);
  expect(notified).not.toStartWith("data:");
  expect(pol).toStartWith("error:AT0401-");
  expect(bobPol).toBeNull();
  expect(await trigger).toStartWith("error:AT0008-");
});

test("@alice refuses a reference-form proof in @bob's name, as @bob's server signs the bound form", async () => {
  // Only whoever holds @bob's signing key can sign as @bob: here @bob's owner, trying both forms.
  const signingKey = (await bob.send("llookup:@bob:signing_privatekey@bob")).slice("data:".length);
  const answers: Record<string, string> = {};
  for (const bound of [false, true]) {
    const c = await connectRaw(portOf("@alice"), stack.ca, sharedCert);
    const [, sessionKey = "", challenge = ""] = PROOF_RE.exec(await rawAsk(c, "from:@bob")) ?? [];
    const signed = bound ? boundPayload({ callee: "@alice", caller: "@bob", sessionKey, challenge }) : challenge;
    const signature = toBase64(await rsaSignSha256(signingKey, utf8(signed)));
    expect(await bob.send(`update:public:${sessionKey} ${publishedProof(signature, bound)}`)).toMatch(/^data:/);
    answers[bound ? "bound" : "reference"] = await rawAsk(c, "pol");
    c.close();
  }
  expect(answers.reference).toStartWith("error:AT0401-");
  expect(answers.reference).toContain("bound form");
  expect(answers.bound).toBe("@bob@");
});

test("a reference-form caller (bare signature, no bound form advertised) still authenticates at @alice", async () => {
  const pair = await generateRsaKeyPair();
  const published = new Map<string, string>();
  await fake("@dave", (line, c) => {
    const key = line.slice("lookup:".length);
    if (line === "lookup:signing_publickey@dave") c.answer(`data:${pair.publicKey}`);
    else if (published.has(key)) c.answer(`data:${published.get(key)}`);
    else c.answer(`error:AT0015-${key} does not exist`);
  });
  const c = await connectRaw(portOf("@alice"), stack.ca, sharedCert);
  const [, sessionKey = "", challenge = ""] = PROOF_RE.exec(await rawAsk(c, "from:@dave")) ?? [];
  // The reference signs the challenge as it came, whatever it holds.
  published.set(sessionKey, toBase64(await rsaSignSha256(pair.privateKey, utf8(challenge))));
  expect(await rawAsk(c, "pol")).toBe("@dave@");
  c.close();
});

/** A reference-form callee: issues `challenge`, verifies @bob's bare signature at @bob's real server. */
async function referenceCallee(atSign: string, challenge: () => string): Promise<FakePeer> {
  let issued = { sessionKey: "", challenge: "" };
  return await fake(atSign, async (line, c) => {
    if (line.startsWith("lookup:all:publickey")) return c.answer(`error:AT0015-publickey${atSign} does not exist`);
    if (line === "from:@bob") {
      issued = { sessionKey: `_${crypto.randomUUID()}@bob`, challenge: challenge() };
      return c.answer(`data:proof:${issued.sessionKey}:${issued.challenge}`);
    }
    if (line === "pol") {
      const check = await connectRaw(portOf("@bob"), stack.ca);
      const sig = (await rawAsk(check, `lookup:${issued.sessionKey}`)).slice("data:".length);
      const key = (await rawAsk(check, "lookup:signing_publickey@bob")).slice("data:".length);
      check.close();
      const ok = await verifySignature("rsa-sha256", key, utf8(issued.challenge), fromBase64(sig, "signature")).catch(() => false);
      return ok ? c.raw("@bob@") : c.answer("error:AT0401-pol failed");
    }
    if (line.startsWith("lookup:all:")) return c.answer(`data:${JSON.stringify({ key: `@bob:${line.slice(11)}`, data: "hello", metaData: {} })}`);
    c.answer("error:AT0003-unexpected");
  });
}

const namedChallenge = (callee: string) =>
  "pol1." + toBase64(utf8(JSON.stringify({ v: callee, n: crypto.randomUUID() }))).replaceAll("+", "-").replaceAll("/", "_");

test("@bob's server still signs a reference callee's challenge: a bare UUID, or one naming that callee", async () => {
  await referenceCallee("@erin", () => crypto.randomUUID());
  expect(await bob.send("lookup:x@erin")).toBe("data:hello");
  await referenceCallee("@frank", () => namedChallenge("@frank"));
  expect(await bob.send("lookup:x@frank")).toBe("data:hello");
});

test("@bob's server signs nothing a callee names outside its own session keys or issued by someone else", async () => {
  const uuid = () => crypto.randomUUID();
  const bad = [
    `proof:_${uuid()}@alice:${uuid()}`, // a session key of another @sign
    `proof:signing_publickey@bob:${uuid()}`, // not a session key
    `proof:_x@bob:${uuid()}`, // not a session key's shape
    `proof:_${uuid()}@bob:${namedChallenge("@alice")}`, // a challenge @alice issued
    `proof:_${uuid()}@bob:not-a-challenge`,
    `proof:_${uuid()}@bob:pol1.${"A".repeat(600)}`,
  ];
  let next = "";
  const mallory = await fake("@mallory", (line, c) => {
    if (line.startsWith("lookup:all:publickey")) c.answer("error:AT0015-publickey@mallory does not exist");
    else if (line === "from:@bob") c.answer(`data:${next}`);
  });
  const signingKey = await bob.send("llookup:public:signing_publickey@bob");
  for (const [i, answer] of bad.entries()) {
    next = answer;
    expect(await bob.send(`lookup:k${i}@mallory`)).toStartWith("error:AT0008-");
  }
  expect(mallory.lines.filter((l) => l === "pol")).toEqual([]);
  expect(await bob.send("llookup:public:signing_publickey@bob")).toBe(signingKey);
});
