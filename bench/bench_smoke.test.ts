import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Report } from "./report.ts";
import { findPostgresBinDir } from "../ops/postgres/throwaway_postgres.ts";

/** Bound on the quick directory run (sqlite, then PostgreSQL when installed: ~10 s on a busy machine). */
const SMOKE_TIMEOUT_MS = 60_000;
const dir = mkdtempSync(join(tmpdir(), "inlay-bench-smoke-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("`bun bench.ts --quick directory` runs end to end and writes both reports", async () => {
  const json = join(dir, "report.json");
  const html = join(dir, "report.html");
  const proc = Bun.spawn([process.execPath, fileURLToPath(new URL("../bench.ts", import.meta.url)), "--quick", "directory", "--json", json, "--html", html], {
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  expect({ code, err }).toEqual({ code: 0, err: "" });
  expect(out).toContain("== directory");
  const report = JSON.parse(readFileSync(json, "utf8")) as Report;
  expect(report.schema).toBe("inlay-bench/1");
  const s = report.scenarios[0]!;
  expect(s.name).toBe("directory");
  expect(["ok", "not-available"]).toContain(s.status);
  if (s.status === "ok") expect(s.metrics.map((m) => m.id)).toContain("lookup_p99_1conn");
  // Where PostgreSQL is installed the quick run goes through it too.
  if (s.status === "ok" && findPostgresBinDir()) expect(s.metrics.map((m) => m.id)).toContain("lookup_p99_pg_cached_1conn");
  expect(readFileSync(html, "utf8")).toContain("<h2>directory");
}, SMOKE_TIMEOUT_MS);
