/**
 * The real atSDK clients of the interop suite: which registry each comes from, at which pinned version, and how
 * it is installed into the interop cache (default `~/.cache/inlay-interop`, or `$INLAY_INTEROP_CACHE`). An
 * install is idempotent (a marker holds what was installed; a match skips the install) and bounded in time.
 * An SDK that its registry does not serve here is listed with the registry's answer, so the suite says why.
 *
 * `bun test/interop/sdks.ts` installs every available SDK; `--probe` asks the registries once more for the
 * unavailable ones (one request each, with the registry's ordinary client).
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

/** Longest time one install command may take (a fresh venv with its wheels takes ~20 s here). */
export const INSTALL_TIMEOUT_MS = 240_000;
/** Longest time one probe of a registry may take. */
export const PROBE_TIMEOUT_MS = 120_000;

/** An installed SDK: the command that runs its driver (the phase and the driver's stdin are added by the suite). */
export interface InstalledSdk {
  driver: string[];
  /** Extra environment for the driver (beyond PATH, HOME and the CA trust the suite sets). */
  env: Record<string, string>;
}

/** One real client of the suite. */
export interface SdkSpec {
  /** Column name in the matrix. */
  name: string;
  /** Registry coordinate, as a user of that registry writes it. */
  coordinate: string;
  registry: string;
  /** The pinned version the suite installs. */
  pinned: string;
  /** What the SDK does with data stored without an ivNonce (read in its source; printed in the matrix). */
  legacyIv?: string;
  /** Installs it (or finds it installed); throws with the registry's answer when the install fails. */
  install?(cache: string): Promise<InstalledSdk>;
  /** Set when the registry does not serve it here: its answer, and when it was asked. */
  unavailable?: string;
  /** One request that asks the registry again (for `--probe`). */
  probe?: string[];
}

const HERE = import.meta.dir;

/** The interop cache folder. */
export function interopCache(): string {
  return process.env.INLAY_INTEROP_CACHE ?? join(homedir(), ".cache", "inlay-interop");
}

/** Runs `cmd` to its end within `timeoutMs`; throws with its output when it fails. */
async function run(cmd: string[], timeoutMs: number, cwd?: string): Promise<string> {
  const proc = Bun.spawn(cmd, { cwd, stdout: "pipe", stderr: "pipe", timeout: timeoutMs, env: { ...process.env, PIP_DISABLE_PIP_VERSION_CHECK: "1" } });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) {
    const why = proc.signalCode ? `killed by ${proc.signalCode} after ${timeoutMs} ms` : `exit ${code}`;
    throw new Error(`${cmd.join(" ")}: ${why}\n${(err || out).trim().split("\n").slice(-15).join("\n")}`);
  }
  return out;
}

/** Python `atsdk` from PyPI in its own venv, exactly as python/requirements.txt pins it. */
async function installPython(cache: string): Promise<InstalledSdk> {
  const requirements = join(HERE, "python", "requirements.txt");
  const pins = readFileSync(requirements, "utf8");
  const venv = join(cache, `python-atsdk-${new Bun.CryptoHasher("sha256").update(pins).digest("hex").slice(0, 12)}`);
  const marker = join(venv, ".inlay-installed");
  const python = join(venv, "bin", "python");
  // The venv belongs to the interpreter that made it: a different python3 on PATH makes a new one.
  const installed = `${(await run(["python3", "-c", "import sys; print(sys.executable, sys.version)"], PROBE_TIMEOUT_MS)).trim()}\n${pins}`;
  if (!existsSync(marker) || readFileSync(marker, "utf8") !== installed) {
    rmSync(venv, { recursive: true, force: true });
    mkdirSync(cache, { recursive: true });
    await run(["python3", "-m", "venv", venv], INSTALL_TIMEOUT_MS);
    await run([python, "-m", "pip", "install", "--no-input", "--timeout", "30", "--retries", "2", "--no-deps", "-r", requirements], INSTALL_TIMEOUT_MS);
    writeFileSync(marker, installed);
  }
  return { driver: [python, join(HERE, "python", "driver.py")], env: { PYTHONDONTWRITEBYTECODE: "1", PYTHONUNBUFFERED: "1" } };
}

/** Every SDK of the matrix, in its column order. */
export const SDKS: readonly SdkSpec[] = [
  {
    name: "Python",
    coordinate: "atsdk",
    registry: "PyPI",
    pinned: "0.2.81",
    legacyIv: "it decrypts with the all-zero IV only values stored without an ivNonce (legacy data), as the Dart SDK does",
    install: installPython,
  },
  {
    name: "Java",
    coordinate: "org.atsign:at_client",
    registry: "Maven Central",
    pinned: "1.0.0",
    unavailable:
      "Maven Central as reached here has no org.atsign artifact: `mvn dependency:get` finds neither at_client 1.0.0 nor 0.0.3 (jar) nor the parent at_java_parent 1.0.0 (pom) (asked 2026-12-07)",
    probe: ["mvn", "-B", "-q", "dependency:get", "-Dartifact=org.atsign:at_client:1.0.0", "-Dtransitive=false"],
  },
  {
    name: "Go",
    coordinate: "github.com/atsign-foundation/at_go",
    registry: "the Go module proxy",
    pinned: "commit 45b8ce0f452b (pseudo-version; no tag known)",
    unavailable:
      'the Go module proxy answers 403 "This module version is not available" for github.com/atsign-foundation/at_go (`go list -m -versions`, and the pseudo-version of commit 45b8ce0) (asked 2026-12-07)',
    probe: ["go", "list", "-m", "-json", "github.com/atsign-foundation/at_go@45b8ce0f452be83d7c5633d9cfcb529cdcde6bc6"],
  },
];

async function main(): Promise<void> {
  const probe = process.argv.includes("--probe");
  for (const sdk of SDKS) {
    if (sdk.install) {
      const t0 = performance.now();
      await sdk.install(interopCache());
      console.log(`${sdk.name} ${sdk.coordinate} ${sdk.pinned}: installed (${Math.round(performance.now() - t0)} ms)`);
    } else if (probe && sdk.probe) {
      try {
        mkdirSync(interopCache(), { recursive: true });
        await run(sdk.probe, PROBE_TIMEOUT_MS, interopCache());
        console.log(`${sdk.name} ${sdk.coordinate}: now served (${sdk.probe.join(" ")}); give it a driver and an install`);
      } catch (e) {
        console.log(`${sdk.name} ${sdk.coordinate}: still refused: ${(e as Error).message.split("\n").slice(0, 3).join(" | ")}`);
      }
    } else {
      console.log(`${sdk.name} ${sdk.coordinate}: not available: ${sdk.unavailable}`);
    }
  }
}

if (import.meta.main) await main();
