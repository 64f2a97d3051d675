import { describe, expect, test } from "bun:test";
import { addFirstPartyCaveat, type Macaroon } from "../../../core/macaroon/index.ts";
import {
  attenuateCapability,
  CallCounters,
  checkCapability,
  decodeCapability,
  encodeCapability,
  mintCapability,
  RATE_WINDOW_MS,
  type CapabilityRequest,
} from "./index.ts";

const rootKey = crypto.getRandomValues(new Uint8Array(32));
const T0 = 1_800_000_000_000;
const get = (path: string, atSign: string | undefined = "@bob"): CapabilityRequest => ({ atSign, path, method: "GET" });

describe("checkCapability() static caveats", () => {
  const token = mintCapability(rootKey, { atSign: ["@Bob", "@carol"], pathPrefix: "/v1", methods: ["get", "POST"], expires: T0 + 60_000 });
  const cases: { name: string; req: CapabilityRequest; now?: number; reason?: string }[] = [
    { name: "allowed caller, path and method", req: get("/v1/items") },
    { name: "the prefix itself", req: get("/v1") },
    { name: "the other allowed caller", req: get("/v1/x", "@Carol") },
    { name: "POST", req: { atSign: "@bob", path: "/v1/x", method: "post" } },
    { name: "another @sign", req: get("/v1/x", "@mallory"), reason: "wrong_atsign" },
    { name: "an anonymous caller", req: { atSign: undefined, path: "/v1/x", method: "GET" }, reason: "wrong_atsign" },
    { name: "a sibling path sharing the prefix text", req: get("/v10/x"), reason: "path_not_allowed" },
    { name: "a path outside the prefix", req: get("/admin"), reason: "path_not_allowed" },
    { name: "a dot-dot escape", req: get("/v1/../admin"), reason: "bad_path" },
    { name: "an encoded slash", req: get("/v1%2F..%2Fadmin"), reason: "bad_path" },
    { name: "DELETE", req: { atSign: "@bob", path: "/v1/x", method: "DELETE" }, reason: "method_not_allowed" },
    { name: "the expiry instant", req: get("/v1/x"), now: T0 + 60_000, reason: "expired" },
  ];
  for (const c of cases) {
    test(`${c.reason ? "refuses" : "accepts"} ${c.name}`, () => {
      const r = checkCapability(token, c.req, c.now ?? T0, new CallCounters(), rootKey);
      if (c.reason) expect(r).toMatchObject({ ok: false, reason: c.reason });
      else expect(r).toEqual({ ok: true });
    });
  }

  test("refuses a token minted under another key, or tampered", () => {
    expect(checkCapability(token, get("/v1"), T0, new CallCounters(), new Uint8Array(32))).toMatchObject({ ok: false, reason: "bad_signature" });
    const widened: Macaroon = { ...token, caveats: token.caveats.filter((_, i) => i !== 0) };
    expect(checkCapability(widened, get("/v1", "@mallory"), T0, new CallCounters(), rootKey)).toMatchObject({ ok: false, reason: "bad_signature" });
  });

  test("refuses unknown and malformed caveats", () => {
    const unknown = addFirstPartyCaveat(token, "ip = 10.0.0.1");
    expect(checkCapability(unknown, get("/v1"), T0, new CallCounters(), rootKey)).toMatchObject({ ok: false, reason: "unknown_caveat" });
    const malformed = addFirstPartyCaveat(token, "expires = soon");
    expect(checkCapability(malformed, get("/v1"), T0, new CallCounters(), rootKey)).toMatchObject({ ok: false, reason: "malformed_caveat" });
  });

  test("survives the text form", () => {
    const text = encodeCapability(token);
    expect(text).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(checkCapability(decodeCapability(text), get("/v1/a"), T0, new CallCounters(), rootKey)).toEqual({ ok: true });
  });
});

describe("attenuation", () => {
  const parent = mintCapability(rootKey, { pathPrefix: "/v1", methods: ["GET", "POST"] });
  const child = attenuateCapability(parent, { pathPrefix: "/v1/reports", methods: ["GET"], atSign: "@carol", expires: T0 + 1_000 });

  test("the child is narrower than its parent on every axis", () => {
    const counters = new CallCounters();
    const reqs: CapabilityRequest[] = [
      { atSign: "@carol", path: "/v1/items", method: "GET" },
      { atSign: "@carol", path: "/v1/reports/1", method: "POST" },
      { atSign: "@bob", path: "/v1/reports/1", method: "GET" },
    ];
    for (const req of reqs) {
      expect(checkCapability(parent, req, T0, counters, rootKey).ok).toBe(true);
      expect(checkCapability(child, req, T0, counters, rootKey).ok).toBe(false);
    }
    expect(checkCapability(child, { atSign: "@carol", path: "/v1/reports/1", method: "GET" }, T0, counters, rootKey)).toEqual({ ok: true });
    expect(checkCapability(child, { atSign: "@carol", path: "/v1/reports/1", method: "GET" }, T0 + 1_000, counters, rootKey)).toMatchObject({ reason: "expired" });
  });

  test("a holder cannot widen: a looser caveat added later does not lift an earlier one", () => {
    const rewidened = attenuateCapability(child, { pathPrefix: "/v1", methods: ["GET", "POST"] });
    expect(checkCapability(rewidened, { atSign: "@carol", path: "/v1/items", method: "POST" }, T0, new CallCounters(), rootKey)).toMatchObject({ ok: false });
  });
});

describe("budgets", () => {
  test("max_calls counts every token carrying the caveat, and only those", () => {
    const counters = new CallCounters();
    const parent = mintCapability(rootKey, { maxCalls: 3, expires: T0 + 10_000 });
    const child = attenuateCapability(parent, { maxCalls: 1 });
    expect(checkCapability(child, get("/a"), T0, counters, rootKey)).toEqual({ ok: true });
    expect(checkCapability(child, get("/a"), T0, counters, rootKey)).toMatchObject({ ok: false, reason: "calls_exhausted" });
    expect(checkCapability(parent, get("/a"), T0, counters, rootKey)).toEqual({ ok: true });
    expect(checkCapability(parent, get("/a"), T0, counters, rootKey)).toEqual({ ok: true });
    expect(checkCapability(parent, get("/a"), T0, counters, rootKey)).toMatchObject({ ok: false, reason: "calls_exhausted" });
  });

  test("a refused call is not counted", () => {
    const counters = new CallCounters();
    const token = mintCapability(rootKey, { maxCalls: 1, methods: ["GET"] });
    expect(checkCapability(token, { atSign: "@bob", path: "/a", method: "PUT" }, T0, counters, rootKey)).toMatchObject({ reason: "method_not_allowed" });
    expect(checkCapability(token, get("/a"), T0, counters, rootKey)).toEqual({ ok: true });
  });

  test("rpm refuses the call over the limit and recovers once the minute has passed", () => {
    const counters = new CallCounters();
    const token = mintCapability(rootKey, { rpm: 2 });
    const start = T0 - (T0 % RATE_WINDOW_MS);
    expect(checkCapability(token, get("/a"), start, counters, rootKey).ok).toBe(true);
    expect(checkCapability(token, get("/a"), start + 1, counters, rootKey).ok).toBe(true);
    expect(checkCapability(token, get("/a"), start + 2, counters, rootKey)).toMatchObject({ ok: false, reason: "rate_limited" });
    // Just into the next window the previous one still weighs almost fully.
    expect(checkCapability(token, get("/a"), start + RATE_WINDOW_MS + 1, counters, rootKey)).toMatchObject({ reason: "rate_limited" });
    expect(checkCapability(token, get("/a"), start + 2 * RATE_WINDOW_MS, counters, rootKey)).toEqual({ ok: true });
  });

  test("the counter store is bounded: full of live counters it refuses, expired ones make room", () => {
    const counters = new CallCounters(2);
    const mk = () => mintCapability(rootKey, { maxCalls: 5, expires: T0 + 1_000 });
    expect(checkCapability(mk(), get("/a"), T0, counters, rootKey).ok).toBe(true);
    expect(checkCapability(mk(), get("/a"), T0, counters, rootKey).ok).toBe(true);
    expect(checkCapability(mk(), get("/a"), T0, counters, rootKey)).toMatchObject({ ok: false, reason: "counter_store_full" });
    expect(counters.size).toBe(2);
    const later = mintCapability(rootKey, { maxCalls: 5, expires: T0 + 10_000 });
    expect(checkCapability(later, get("/a"), T0 + 1_000, counters, rootKey).ok).toBe(true);
    expect(counters.size).toBe(1);
  });
});
