import { describe, expect, test } from "bun:test";
import { toBase64, utf8 } from "../../core/crypto/encoding.ts";
import { BOUND_POL_VERSION, POL_CHALLENGE_MAX_CHARS, boundPayload, issueChallenge, publishedProof, readProofAnswer, readPublishedProof } from "./pol_proof.ts";

const uuid = () => crypto.randomUUID();
const b64url = (json: unknown) => toBase64(utf8(JSON.stringify(json))).replaceAll("+", "-").replaceAll("/", "_");

describe("the challenge a callee issues", () => {
  test("names the callee, is fresh, and survives the reference caller's split on ':' and trim", () => {
    const a = issueChallenge("@alice");
    expect(a).toMatch(/^pol1\.[A-Za-z0-9_-]+={0,2}$/);
    expect(a).not.toBe(issueChallenge("@alice"));
    const body = JSON.parse(Buffer.from(a.slice(5), "base64url").toString("utf8"));
    expect(body).toEqual({ v: "@alice", n: expect.stringMatching(/^[0-9a-f-]{36}$/), bound: BOUND_POL_VERSION });
  });

  test("is signed in the bound form by a caller that dialed that callee, and refused by one that dialed another", () => {
    const s = `_${uuid()}@bob`;
    const challenge = issueChallenge("@alice");
    expect(readProofAnswer(`proof:${s}:${challenge}`, "@bob", "@alice")).toEqual({ sessionKey: s, challenge, bound: true });
    expect(() => readProofAnswer(`proof:${s}:${challenge}`, "@bob", "@carol")).toThrow("issued by @alice, not by @carol");
  });
});

describe("what a caller agrees to sign", () => {
  test("a reference callee's bare UUID, or its challenge naming it without the bound offer", () => {
    const s = `_${uuid()}@bob`;
    const bare = uuid();
    expect(readProofAnswer(`proof:${s}:${bare}`, "@bob", "@carol")).toEqual({ sessionKey: s, challenge: bare, bound: false });
    const named = "pol1." + b64url({ v: "@Carol", n: uuid() });
    expect(readProofAnswer(`proof:${s}:${named}`, "@bob", "@carol").bound).toBe(false);
    const unpadded = named.replace(/=+$/, "");
    expect(readProofAnswer(`proof:${s}:${unpadded}`, "@bob", "@carol").challenge).toBe(unpadded);
  });

  test.each([
    ["a session key of another @sign", `proof:_${uuid()}@alice:${uuid()}`],
    ["a key that is not a session key", `proof:signing_publickey@bob:${uuid()}`],
    ["a session key not shaped like one", `proof:_../x@bob:${uuid()}`],
    ["a challenge of no known shape", `proof:_${uuid()}@bob:hello`],
    ["a named challenge that does not decode", `proof:_${uuid()}@bob:pol1.@@@`],
    ["a named challenge naming no one", `proof:_${uuid()}@bob:pol1.${b64url({ n: "x" })}`],
    ["a named challenge naming an invalid @sign", `proof:_${uuid()}@bob:pol1.${b64url({ v: "@a b" })}`],
    ["a challenge over the length limit", `proof:_${uuid()}@bob:pol1.${"A".repeat(POL_CHALLENGE_MAX_CHARS)}`],
    ["a cram challenge", `_${uuid()}@bob:${uuid()}`],
  ])("refuses %s", (_why, payload) => {
    expect(() => readProofAnswer(payload, "@bob", "@carol")).toThrow();
  });
});

describe("the bound payload and the published proof", () => {
  test("every part changes the payload; the published form says which form was signed", () => {
    const base = { callee: "@alice", caller: "@bob", sessionKey: `_${uuid()}@bob`, challenge: issueChallenge("@alice") };
    const variants = [base, { ...base, callee: "@carol" }, { ...base, caller: "@dave" }, { ...base, sessionKey: `_${uuid()}@bob` }, { ...base, challenge: uuid() }];
    expect(new Set(variants.map(boundPayload)).size).toBe(variants.length);
    expect(readPublishedProof(publishedProof("c2ln", true))).toEqual({ bound: true, signature: "c2ln" });
    expect(readPublishedProof(publishedProof("c2ln", false))).toEqual({ bound: false, signature: "c2ln" });
  });
});
