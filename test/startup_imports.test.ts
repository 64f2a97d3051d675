/**
 * Keeps node:crypto and node:tls (and node:net, node:os) off the start-up path of the services. Each costs a
 * Bun process MiBs of RSS as soon as it is loaded, and the atServer must idle at <= 40 MiB (issue 2) while the
 * relay stays small with many streams (issue 8). Measured on Bun 1.4.5 (bundled programs, RSS = anon + file
 * pages; the bare runtime idles at ~22 MiB): P-256 keygen + sign + PKCS#8 export + Ed25519 verify is 25.9 MiB
 * on WebCrypto but 30.5 MiB on node:crypto; spreading node:tls `rootCertificates` adds ~8 MiB; importing
 * node:net's `isIP` ~6 MiB; node:os ~1.4 MiB. Moving the services off them took the bundled atServer from
 * 48.6 to 45.9 MiB, the directory from 47.7 to 44.3, the atServer from source from 53.5 to 51.4
 * (/work/notes/measure_rss.sh, fresh INLAY_HOME; other changes landed meanwhile, so roughly).
 *
 * So the entries are bundled as the Dockerfile does (target bun, code splitting) and every chunk an entry
 * loads statically must be free of static imports of those modules; so must every module the entries import
 * from source, where nothing is tree-shaken. Dynamic `import("node:crypto")` and
 * `process.getBuiltinModule` stay allowed: rare paths (s2s certificate checks, signing a pol proof, the
 * system roots when a CA list is first built, the SDK a relay loads to publish its address) load them when
 * they run.
 */
import { afterAll, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";

const ROOT = join(import.meta.dir, "..");
const ENTRIES = ["server.ts", "directory.ts", "relay.ts", "bench/fixtures/relay_child.ts"];
const HEAVY = new Set(["crypto", "node:crypto", "tls", "node:tls", "net", "node:net", "os", "node:os"]);
// Static `import … from "x"`, `export … from "x"` and bare `import "x"`; `import("x")` has no space or quote after `import`.
const STATIC_IMPORT_RE = /(?:^|[;\n])\s*(?:import|export)\b(?!\s*\()(?:[^;"'`]*?\bfrom)?\s*"([^"]+)"/g;
const TYPE_ONLY_RE = /^[;\s]*(?:import|export)\s+type\b/;

const out = mkdtempSync(join(tmpdir(), "inlay-startup-imports-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));

/** The modules a bundled or source file imports statically; `import type` / `export type` cost nothing when asked. */
function staticImports(code: string, opts: { skipTypeOnly?: boolean } = {}): string[] {
  return [...code.matchAll(STATIC_IMPORT_RE)].filter((m) => !(opts.skipTypeOnly && TYPE_ONLY_RE.test(m[0]))).map((m) => m[1]!);
}

test("server, directory and relay load none of node:crypto, node:tls, node:net, node:os at start (bundled, split)", async () => {
  const build = await Bun.build({ entrypoints: ENTRIES.map((e) => join(ROOT, e)), target: "bun", splitting: true, outdir: out });
  expect(build.success).toBe(true);
  const entries = build.outputs.filter((o) => o.kind === "entry-point").map((o) => o.path);
  expect(entries).toHaveLength(ENTRIES.length);
  const offenders: string[] = [];
  for (const entry of entries) {
    const seen = new Set<string>();
    const walk = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      for (const spec of staticImports(readFileSync(file, "utf8"))) {
        if (HEAVY.has(spec)) offenders.push(`${relative(out, entry)} loads ${spec} via ${relative(out, file)}`);
        else if (spec.startsWith("./") || spec.startsWith("../")) walk(resolve(dirname(file), spec));
      }
    };
    walk(entry);
    expect(seen.size).toBeGreaterThan(1); // the walk followed the shared chunks
  }
  expect(offenders).toEqual([]);
});

test("single-file bundles of server, directory and relay_child are clean too", async () => {
  // Without splitting, a dynamically imported module of ours is inlined and its imports hoisted to the top, so
  // only builtins may be imported lazily. relay.ts is left out: it loads the SDK (node:crypto) lazily on purpose.
  for (const entry of ENTRIES.filter((e) => e !== "relay.ts")) {
    const build = await Bun.build({ entrypoints: [join(ROOT, entry)], target: "bun" });
    expect(build.success).toBe(true);
    const heavy = staticImports(await build.outputs[0]!.text()).filter((spec) => HEAVY.has(spec));
    expect([entry, heavy]).toEqual([entry, []]);
  }
});

/** Every source file `entry` imports statically (transitively), itself included. */
function sourceGraph(entry: string): string[] {
  const seen = new Set<string>();
  const walk = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const spec of staticImports(readFileSync(file, "utf8"), { skipTypeOnly: true })) {
      if (!spec.startsWith("./") && !spec.startsWith("../")) continue;
      const target = resolve(dirname(file), spec);
      if (existsSync(target)) walk(target);
    }
  };
  walk(join(ROOT, entry));
  return [...seen];
}

test("from source too: no module the entries import statically imports them", () => {
  // `bun server.ts` evaluates every imported module, used or not, so the bundler's tree shaking does not help.
  const offenders: string[] = [];
  for (const entry of ENTRIES) {
    for (const file of sourceGraph(entry)) {
      for (const spec of staticImports(readFileSync(file, "utf8"), { skipTypeOnly: true })) {
        if (HEAVY.has(spec)) offenders.push(`${entry} loads ${spec} via ${relative(ROOT, file)}`);
      }
    }
  }
  expect(offenders).toEqual([]);
});

test("services print with console.*, not process.stdout/stderr", () => {
  // In Bun the first touch of process.stdout or process.stderr builds a node stream: measured +2 MiB idle RSS on
  // the shipped atServer (41.2 -> 39.3 MiB), ~7 MiB in a bare program; console.log/error cost ~0.1 MiB.
  // core/entry.ts may use them on its way out (help text, usage errors), when memory no longer matters.
  const offenders = new Set<string>();
  for (const entry of ENTRIES) {
    for (const file of sourceGraph(entry)) {
      if (file.endsWith("core/entry.ts")) continue;
      if (/\bprocess\.std(out|err)\b/.test(readFileSync(file, "utf8").replace(/^\s*(\/\/|\*).*$/gm, ""))) offenders.add(relative(ROOT, file));
    }
  }
  expect([...offenders]).toEqual([]);
});

test("the import scan sees static imports and skips dynamic ones", () => {
  const code = 'import { a } from "crypto";\nimport {\n  b,\n  c\n} from "./chunk.js";\nimport "tls";\nconst x = await import("node:crypto");\nexport { d } from "./other.js";';
  expect(staticImports(code)).toEqual(["crypto", "./chunk.js", "tls", "./other.js"]);
  expect(staticImports('import { a } from "./a.ts";\nimport type { X509Certificate } from "node:crypto";', { skipTypeOnly: true })).toEqual(["./a.ts"]);
});

/** Modules the atServer loads on first use only (dynamic import); in its start chunks they would cost every server RSS. */
const SERVER_LAZY = [
  "server/hosting/",
  "server/http/public_records.ts",
  "server/metrics/admin_endpoint.ts",
  "server/verbs/enroll.ts",
  "server/verbs/otp.ts",
  "server/verbs/to.ts",
  "server/verbs/notify_multi.ts",
];

test("the atServer's start chunks hold none of the modules it loads on first use", async () => {
  // Measured (bundled, restarted, idle): these took the atServer from ~38.3 to ~40.3 MiB with the rest of the growth.
  const dir = mkdtempSync(join(tmpdir(), "inlay-startup-lazy-"));
  try {
    const build = await Bun.build({ entrypoints: [join(ROOT, "server.ts")], root: ROOT, target: "bun", splitting: true, outdir: dir });
    expect(build.success).toBe(true);
    const modules: string[] = [];
    const seen = new Set<string>();
    const walk = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const code = readFileSync(file, "utf8");
      // The unminified bundle opens each module's code with a `// path/of/module.ts` line.
      for (const m of code.matchAll(/^\/\/ (\S+\.ts)$/gm)) modules.push(m[1]!);
      for (const spec of staticImports(code)) if (spec.startsWith("./") || spec.startsWith("../")) walk(resolve(dirname(file), spec));
    };
    walk(join(dir, "server.js"));
    expect(modules).toContain("server/index.ts"); // the walk reads the module markers
    expect(modules.filter((m) => SERVER_LAZY.some((lazy) => m.startsWith(lazy)))).toEqual([]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("each lazily loaded verb family names exactly the verbs its module handles", async () => {
  const { LAZY_FAMILIES } = await import("../server/dispatch.ts");
  const modules = {
    enroll: (await import("../server/verbs/enroll.ts")).enrollHandlers,
    otp: (await import("../server/verbs/otp.ts")).otpHandlers,
    to: (await import("../server/verbs/to.ts")).toHandlers,
    notifyMulti: (await import("../server/verbs/notify_multi.ts")).notifyMultiHandlers,
  };
  for (const [family, lazy] of Object.entries(LAZY_FAMILIES)) {
    expect([family, Object.keys(lazy).sort()]).toEqual([family, Object.keys(modules[family as keyof typeof modules]).sort()]);
  }
});
