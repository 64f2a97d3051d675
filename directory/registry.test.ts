import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openRegistry, REGISTRY_PAGE_MAX } from "./registry.ts";

const dir = mkdtempSync(join(tmpdir(), "inlay-registry-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("put, get, lookup, replace and remove keep the count exact", () => {
  const reg = openRegistry(join(dir, "crud.sqlite"));
  try {
    expect(reg.count()).toBe(0);
    const saved = reg.put("@alice", "alice.example", 6464);
    expect(saved).toMatchObject({ atSign: "@alice", host: "alice.example", port: 6464 });
    expect(reg.lookup("alice")).toBe("alice.example:6464");
    expect(reg.get("@alice")).toMatchObject({ atSign: "@alice", host: "alice.example", port: 6464 });
    reg.put("@alice", "other.example", 7000);
    expect(reg.count()).toBe(1);
    expect(reg.lookup("alice")).toBe("other.example:7000");
    expect(reg.lookup("bob")).toBeNull();
    expect(reg.get("@bob")).toBeNull();
    expect(reg.remove("@alice")).toBe(true);
    expect(reg.remove("@alice")).toBe(false);
    expect(reg.count()).toBe(0);
    expect(reg.lookup("alice")).toBeNull();
  } finally {
    reg.close();
  }
});

test("list pages in @sign order with a next cursor, capped at the page maximum", () => {
  const reg = openRegistry(join(dir, "pages.sqlite"));
  try {
    for (const name of ["carol", "alice", "erin", "bob", "dave"]) reg.put("@" + name, name + ".example", 1000);
    const first = reg.list(null, 2);
    expect(first.items.map((r) => r.atSign)).toEqual(["@alice", "@bob"]);
    expect(first.next).toBe("@bob");
    const second = reg.list(first.next, 2);
    expect(second.items.map((r) => r.atSign)).toEqual(["@carol", "@dave"]);
    const last = reg.list(second.next, 2);
    expect(last.items.map((r) => r.atSign)).toEqual(["@erin"]);
    expect(last.next).toBeNull();
    expect(reg.list(null, 5).next).toBeNull();
    expect(reg.list(null, REGISTRY_PAGE_MAX * 10).items).toHaveLength(5);
  } finally {
    reg.close();
  }
});

test("data survives closing and reopening the file, count included", () => {
  const path = join(dir, "reopen.sqlite");
  let reg = openRegistry(path);
  reg.put("@alice", "a.example", 1);
  reg.put("@bob", "b.example", 2);
  reg.close();
  reg = openRegistry(path);
  try {
    expect(reg.count()).toBe(2);
    expect(reg.lookup("bob")).toBe("b.example:2");
  } finally {
    reg.close();
  }
});
