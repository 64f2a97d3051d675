/**
 * README.md's metrics table says what each series of the directory and the atServer means: this test keeps it
 * equal to what the services expose (name, type and HELP text), so the table cannot drift from the code.
 */
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serviceTls } from "../core/net/tls.ts";
import { startDirectory } from "../directory/index.ts";
import { scrape, type Family } from "./prometheus_text.ts";
import { startServerFixture } from "./server_fixture.ts";

const home = mkdtempSync(join(tmpdir(), "inlay-metrics-readme-"));
afterAll(() => rmSync(home, { recursive: true, force: true }));

const rows = (families: Map<string, Family>) => [...families].map(([name, f]) => `${name} ${f.type} ${f.help}`);
const unique = (rows: string[]) => [...new Set(rows)].sort();

test("README.md's metrics table lists exactly the series the directory and the atServer expose", async () => {
  const dir = await startDirectory({ port: 0, adminPort: 0, dataDir: join(home, "dir"), tls: await serviceTls({ home }) });
  const server = await startServerFixture({ extra: { admin: { port: 0 } } });
  try {
    const exposed = [...rows(await scrape(`${dir.adminUrl}/metrics`, dir.token)), ...rows(await scrape(`${server.server.admin!.url}/metrics`, server.server.admin!.token))];
    const readme = readFileSync(join(import.meta.dir, "..", "README.md"), "utf8");
    const documented = [...readme.matchAll(/^\| `((?:inlay_(?:directory|server)|process)_\w+)` \| (\w+) \|[^|]*\| ([^|]+) \|$/gm)].map((m) => `${m[1]} ${m[2]} ${m[3]}`);
    expect(documented.sort()).toEqual(unique(exposed));
  } finally {
    await server.stop();
    await dir.stop();
  }
});
