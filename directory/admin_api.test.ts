import { afterAll, beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { adminApi, ADMIN_BODY_LIMIT_BYTES, ADMIN_PAGE_DEFAULT } from "./admin_api.ts";
import type { Registry } from "./registry.ts";
import { openSqliteRegistry } from "./sqlite_registry.ts";

const dir = mkdtempSync(join(tmpdir(), "inlay-admin-"));
const TOKEN = "test-token-0123456789abcdef";
const auth = { Authorization: `Bearer ${TOKEN}` };
let n = 0;
let registry: Registry;
let app: ReturnType<typeof adminApi>;

beforeEach(async () => {
  await registry?.close();
  registry = openSqliteRegistry(join(dir, `reg-${n++}.sqlite`));
  app = adminApi(registry, TOKEN);
});
afterAll(async () => {
  await registry.close();
  rmSync(dir, { recursive: true, force: true });
});

const put = (atSign: string, body: unknown, headers: Record<string, string> = auth) =>
  app.request(`/v1/atsigns/${atSign}`, { method: "PUT", headers: { ...headers, "content-type": "application/json" }, body: typeof body === "string" ? body : JSON.stringify(body) });

/** Status and parsed JSON of a response. */
async function result(res: Response | Promise<Response>): Promise<[number, unknown]> {
  const r = await res;
  return [r.status, await r.json()];
}

describe("auth", () => {
  test("healthz needs no token and reports the count", async () => {
    await registry.put("@alice", "a.example", 1);
    expect(await result(app.request("/healthz"))).toEqual([200, { ok: true, count: 1 }]);
  });

  test("/v1 without, with a wrong, or with a non-bearer token is 401", async () => {
    const variants: Record<string, string>[] = [{}, { Authorization: "Bearer wrong" }, { Authorization: `Bearer ${TOKEN}x` }, { Authorization: `Basic ${TOKEN}` }, { Authorization: TOKEN }];
    for (const headers of variants) {
      const res = await app.request("/v1/atsigns", { headers });
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toContain("Bearer");
      expect(await res.json()).toEqual({ error: "missing or wrong bearer token" });
    }
    expect((await put("alice", { host: "h", port: 1 }, {})).status).toBe(401);
    expect(registry.count()).toBe(0);
  });
});

describe("CRUD", () => {
  test("PUT registers, GET reads, PUT replaces, DELETE removes", async () => {
    expect(await result(put("%40Alice", { host: "alice.example", port: 6464 }))).toEqual([200, { atSign: "@alice", host: "alice.example", port: 6464 }]);
    expect(registry.lookup("alice")).toBe("alice.example:6464");
    expect(await result(app.request("/v1/atsigns/alice", { headers: auth }))).toEqual([200, { atSign: "@alice", host: "alice.example", port: 6464 }]);
    expect(await result(put("alice", { host: "10.0.0.7", port: 7000 }))).toEqual([200, { atSign: "@alice", host: "10.0.0.7", port: 7000 }]);
    expect(registry.count()).toBe(1);
    expect(await result(app.request("/v1/atsigns/%40alice", { method: "DELETE", headers: auth }))).toEqual([200, { deleted: true }]);
    expect(await result(app.request("/v1/atsigns/alice", { method: "DELETE", headers: auth }))).toEqual([404, { error: "@alice is not registered" }]);
    expect(await result(app.request("/v1/atsigns/alice", { headers: auth }))).toEqual([404, { error: "@alice is not registered" }]);
    expect(registry.count()).toBe(0);
  });

  test("emoji @signs register and resolve", async () => {
    expect(await result(put(encodeURIComponent("@🦄"), { host: "u.example", port: 9 }))).toEqual([200, { atSign: "@🦄", host: "u.example", port: 9 }]);
    expect(registry.lookup("🦄")).toBe("u.example:9");
  });

  test("unknown routes are a JSON 404", async () => {
    expect(await result(app.request("/v2/x", { headers: auth }))).toEqual([404, { error: "no route GET /v2/x" }]);
  });
});

describe("validation", () => {
  const cases: [string, unknown, string][] = [
    ["alice", { host: "::1", port: 1 }, 'host must not contain ":" (clients split the directory reply on ":"; IPv6 literals cannot be published, use a DNS name)'],
    ["alice", { host: "a.example:99", port: 1 }, 'host must not contain ":" (clients split the directory reply on ":"; IPv6 literals cannot be published, use a DNS name)'],
    ["alice", { host: "", port: 1 }, "host must not be empty"],
    ["alice", { host: "a b", port: 1 }, "host may contain only letters, digits, '.', '-' and '_'"],
    ["alice", { host: "evil\r\n@x", port: 1 }, "host may contain only letters, digits, '.', '-' and '_'"],
    ["alice", { host: "x".repeat(254), port: 1 }, "host must be at most 253 characters"],
    ["alice", { host: 7, port: 1 }, "host must be a string"],
    ["alice", { host: "h", port: 0 }, "port must be 1 to 65535"],
    ["alice", { host: "h", port: 65536 }, "port must be 1 to 65535"],
    ["alice", { host: "h", port: 1.5 }, "port must be an integer"],
    ["alice", { host: "h", port: "64" }, "port must be a number"],
    ["alice", { host: "h", port: 1, extra: true }, "unknown field(s): extra"],
    ["alice", [], 'body must be a JSON object {"host":"...","port":1234}'],
    ["alice", "{not json", "body must be valid JSON"],
    ["al%20ice", { host: "h", port: 1 }, '@sign "al ice" may contain only letters, digits, _ , - and emoji'],
    ["a:b", { host: "h", port: 1 }, '@sign "a:b" may contain only letters, digits, _ , - and emoji'],
    ["x".repeat(56), { host: "h", port: 1 }, "@sign \"" + "x".repeat(56) + '" is longer than 55 characters'],
  ];
  test.each(cases)("PUT %s %j -> 400 %s", async (atSign, body, message) => {
    expect(await result(put(atSign, body))).toEqual([400, { error: message }]);
    expect(registry.count()).toBe(0);
  });

  test("an oversized body is 413", async () => {
    expect(await result(put("alice", { host: "h", port: 1, pad: "x".repeat(ADMIN_BODY_LIMIT_BYTES) }))).toEqual([413, { error: `body must be at most ${ADMIN_BODY_LIMIT_BYTES} bytes` }]);
  });

  test("GET of an invalid @sign is 400", async () => {
    expect(await result(app.request("/v1/atsigns/a%2Fb", { headers: auth }))).toEqual([400, { error: '@sign "a/b" may contain only letters, digits, _ , - and emoji' }]);
  });
});

describe("list", () => {
  test("pages follow `next` to the end, in @sign order", async () => {
    for (let i = 0; i < 7; i++) await registry.put(`@user${i}`, `h${i}.example`, 1000 + i);
    const seen: string[] = [];
    let after: string | null = null;
    for (let pages = 0; pages < 10; pages++) {
      const q: string = after ? `?limit=3&after=${encodeURIComponent(after)}` : "?limit=3";
      const [status, body] = (await result(app.request(`/v1/atsigns${q}`, { headers: auth }))) as [number, { items: { atSign: string; host: string; port: number }[]; next: string | null }];
      expect(status).toBe(200);
      seen.push(...body.items.map((i) => i.atSign));
      after = body.next;
      if (after === null) break;
    }
    expect(seen).toEqual(["@user0", "@user1", "@user2", "@user3", "@user4", "@user5", "@user6"]);
    expect(await result(app.request("/v1/atsigns?limit=1", { headers: auth }))).toEqual([200, { items: [{ atSign: "@user0", host: "h0.example", port: 1000 }], next: "@user0" }]);
  });

  test(`limit defaults to ${ADMIN_PAGE_DEFAULT}; an empty registry is an empty last page`, async () => {
    expect(await result(app.request("/v1/atsigns", { headers: auth }))).toEqual([200, { items: [], next: null }]);
  });

  test.each([["limit=0"], ["limit=1001"], ["limit=-1"], ["limit=abc"], ["limit=2.5"]])("?%s -> 400", async (q) => {
    expect(await result(app.request(`/v1/atsigns?${q}`, { headers: auth }))).toEqual([400, { error: "limit must be an integer from 1 to 1000" }]);
  });

  test("an invalid `after` is 400", async () => {
    expect(await result(app.request("/v1/atsigns?after=a%20b", { headers: auth }))).toEqual([400, { error: 'after: @sign "a b" may contain only letters, digits, _ , - and emoji' }]);
  });
});
