/** The registry's behaviour, the same on both stores: sqlite (default) and PostgreSQL (real server). */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freshDatabase, postgresBin, POSTGRES_TEST_TIMEOUT_MS } from "../test/postgres.ts";
import { openPostgresRegistry } from "./postgres_registry.ts";
import { REGISTRY_PAGE_MAX, type Registry } from "./registry.ts";
import { openSqliteRegistry } from "./sqlite_registry.ts";

const dir = mkdtempSync(join(tmpdir(), "inlay-registry-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A store under test: `place()` names a new empty registry, `open(place)` opens (or reopens) it. */
interface Store {
  name: string;
  skip: boolean;
  place(): Promise<string>;
  open(place: string): Promise<Registry>;
}

let files = 0;
const stores: Store[] = [
  { name: "sqlite", skip: false, place: async () => join(dir, `r${++files}.sqlite`), open: async (path) => openSqliteRegistry(path) },
  { name: "postgres", skip: !postgresBin(), place: freshDatabase, open: (url) => openPostgresRegistry({ url }) },
];

for (const store of stores) {
  describe.skipIf(store.skip)(store.name, () => {
    test("put, get, lookup, replace and remove keep the count exact", async () => {
      const reg = await store.open(await store.place());
      try {
        expect(reg.count()).toBe(0);
        const saved = await reg.put("@alice", "alice.example", 6464);
        expect(saved).toMatchObject({ atSign: "@alice", host: "alice.example", port: 6464 });
        expect(await reg.lookup("alice")).toBe("alice.example:6464");
        expect(await reg.get("@alice")).toMatchObject({ atSign: "@alice", host: "alice.example", port: 6464 });
        await reg.put("@alice", "other.example", 7000);
        expect(reg.count()).toBe(1);
        expect(await reg.lookup("alice")).toBe("other.example:7000");
        expect(await reg.lookup("bob")).toBeNull();
        expect(await reg.get("@bob")).toBeNull();
        expect(await reg.remove("@alice")).toBe(true);
        expect(await reg.remove("@alice")).toBe(false);
        expect(reg.count()).toBe(0);
        expect(await reg.lookup("alice")).toBeNull();
      } finally {
        await reg.close();
      }
    }, POSTGRES_TEST_TIMEOUT_MS);

    test("list pages in @sign order with a next cursor, capped at the page maximum", async () => {
      const reg = await store.open(await store.place());
      try {
        for (const name of ["carol", "alice", "erin", "bob", "dave", "a_b", "zz-1"]) await reg.put("@" + name, name + ".example", 1000);
        const first = await reg.list(null, 2);
        expect(first.items.map((r) => r.atSign)).toEqual(["@a_b", "@alice"]);
        expect(first.next).toBe("@alice");
        const second = await reg.list(first.next, 3);
        expect(second.items.map((r) => r.atSign)).toEqual(["@bob", "@carol", "@dave"]);
        const last = await reg.list(second.next, 5);
        expect(last.items.map((r) => r.atSign)).toEqual(["@erin", "@zz-1"]);
        expect(last.next).toBeNull();
        expect((await reg.list(null, 7)).next).toBeNull();
        expect((await reg.list(null, REGISTRY_PAGE_MAX * 10)).items).toHaveLength(7);
      } finally {
        await reg.close();
      }
    }, POSTGRES_TEST_TIMEOUT_MS);

    test("data survives closing and reopening, count included", async () => {
      const place = await store.place();
      let reg = await store.open(place);
      await reg.put("@alice", "a.example", 1);
      await reg.put("@bob", "b.example", 2);
      await reg.close();
      reg = await store.open(place);
      try {
        expect(reg.count()).toBe(2);
        expect(await reg.lookup("bob")).toBe("b.example:2");
        expect((await reg.get("@bob"))!.updatedAt).toBeGreaterThan(0);
      } finally {
        await reg.close();
      }
    }, POSTGRES_TEST_TIMEOUT_MS);
  });
}
