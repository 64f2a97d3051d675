import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readPostgresUrl } from "./postgres_url.ts";

const dir = mkdtempSync(join(tmpdir(), "inlay-pg-url-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("the URL is the first line of a 0600 file", () => {
  const file = join(dir, "ok");
  writeFileSync(file, "postgres://u:p@127.0.0.1:5432/inlay\n# comment\n", { mode: 0o600 });
  expect(readPostgresUrl(file)).toBe("postgres://u:p@127.0.0.1:5432/inlay");
});

test("a file other users can read, or without a postgres:// URL, is refused with the reason", () => {
  const open = join(dir, "open");
  writeFileSync(open, "postgres://u:p@h/db\n", { mode: 0o644 });
  expect(() => readPostgresUrl(open)).toThrow("other users can read it (chmod 600 it)");
  const wrong = join(dir, "wrong");
  writeFileSync(wrong, "mysql://u:p@h/db\n", { mode: 0o600 });
  expect(() => readPostgresUrl(wrong)).toThrow("its first line is not a postgres:// URL");
});
