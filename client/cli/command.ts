/**
 * What every CLI command shares: the common options, the exit-status mapping, loading the client from an
 * .atKeys file, and reading a value from an argument or stdin (binary-safe, bounded).
 */
import { readBounded } from "../../core/bytes.ts";
import { requireHostPort } from "../../core/host_port.ts";
import { X509Certificate } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { atSignSchema } from "../../core/atsign.ts";
import { AtKeysFileError, CryptoError } from "../../core/crypto/index.ts";
import { hostPortSchema, UsageError, type OptionSpec, type Options } from "../../core/options.ts";
import { AtClient, atKeysPath } from "../at_client.ts";
import { AtClientError } from "../errors.ts";
import { passphraseFor } from "./passphrase.ts";

/**
 * Exit statuses of the CLI (the table in client/README.md): 1 the key or enrollment does not exist; 2 the command
 * line is wrong (flag, argument, --ca file); 3 keys are missing or do not authenticate, or a value does not
 * decrypt or verify; 4 the directory, the atServer, the relay or the peer cannot be reached, or refused; 130 Ctrl-C
 * where a command says how to come back (enroll request).
 */
export const EXIT = { ok: 0, notFound: 1, usage: 2, authOrCrypto: 3, network: 4, interrupted: 130 } as const;

/** Largest value accepted from stdin: an encrypted value grows by 4/3 and must fit one request line. */
export const MAX_VALUE_BYTES = 7 * 1024 * 1024;

/** Options every command takes. */
export const COMMON_SPEC = {
  as: { kind: "string", help: "act as this @sign (default: the only .atKeys in ~/.atsign/keys)", arg: "@SIGN", schema: atSignSchema },
  keys: { kind: "string", help: "the .atKeys file to use", arg: "FILE" },
  keysDir: { kind: "string", help: "folder of .atKeys files (default ~/.atsign/keys)", arg: "DIR" },
  passphraseFile: { kind: "string", help: "file holding the passphrase of a protected .atKeys file (else you are prompted on a terminal)", arg: "FILE" },
  directory: { kind: "string", help: "the atDirectory", arg: "HOST:PORT", default: "root.atsign.org:64", schema: hostPortSchema },
  server: { kind: "string", help: "talk to my atServer at this address instead of asking the directory", arg: "HOST:PORT", schema: hostPortSchema },
  ca: { kind: "string", help: "PEM CA file to trust besides the system roots (default: the dev CA of INLAY_HOME)", arg: "FILE" },
  json: { kind: "boolean", help: "machine-readable output", default: false },
} as const satisfies OptionSpec;

/** The process streams a command uses (tests pass their own). */
export interface CliIo {
  stdin: () => AsyncIterable<Uint8Array>;
  out: (bytes: Uint8Array | string) => void;
  err: (line: string) => void;
  stdoutIsTty: boolean;
  /** Writes what `out` collected so far now (long-running commands such as monitor print as they go). */
  flush?: () => Promise<void>;
}

/** One CLI command: its own options, help and body. */
export interface CliCommand<S extends OptionSpec = OptionSpec> {
  name: string;
  usage: string;
  spec: S;
  run(options: Options<S & typeof COMMON_SPEC>, positionals: string[], io: CliIo): Promise<number>;
}

/** A failed command: its exit status, one line naming the fix, and the atProtocol code when there is one. */
export interface Failure {
  code: number;
  message: string;
  atCode?: string;
}

/** Maps any error to its exit status and a one-line message naming the fix (the atProtocol code said once). */
export function failure(e: unknown): Failure {
  if (e instanceof UsageError) return { code: EXIT.usage, message: e.message };
  if (e instanceof AtKeysFileError || e instanceof CryptoError) return { code: EXIT.authOrCrypto, message: e.message };
  if (e instanceof AtClientError) {
    const code = { not_found: EXIT.notFound, usage: EXIT.usage, auth: EXIT.authOrCrypto, crypto: EXIT.authOrCrypto, network: EXIT.network, server: EXIT.network }[e.kind];
    const tag = e.message.includes(e.code) ? "" : ` [${e.code}]`;
    const hint = e.kind === "not_found" ? " (list existing keys with `bun client.ts scan`)" : "";
    return { code, message: `${e.message}${tag}${hint}`, atCode: e.code };
  }
  return { code: EXIT.network, message: e instanceof Error ? e.message : String(e) };
}

/**
 * Checks a `--ca` file before anything dials, so that a wrong file is blamed on the file and not on the
 * directory whose certificate it then fails to verify.
 */
export function checkCaFile(file: string): void {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new UsageError(`Cannot read the --ca file ${file} (${(e as { code?: string }).code ?? String(e)})`);
  }
  const blocks = text.match(PEM_CERTIFICATE_RE) ?? [];
  if (blocks.length === 0) throw new UsageError(`The --ca file ${file} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
  for (const [i, pem] of blocks.entries()) {
    try {
      new X509Certificate(pem);
    } catch (e) {
      throw new UsageError(`The --ca file ${file}: certificate ${i + 1} does not parse (${e instanceof Error ? e.message : String(e)})`);
    }
  }
}

const PEM_CERTIFICATE_RE = /-----BEGIN CERTIFICATE-----[^-]*-----END CERTIFICATE-----/g;

/** The .atKeys file for `--keys` / `--as`, else the only one in the keys folder. */
export function keysFileFor(opts: { keys?: string | undefined; as?: string | undefined; keysDir?: string | undefined }): string {
  if (opts.keys) return opts.keys;
  if (opts.as) return atKeysPath(opts.as, opts.keysDir);
  const dir = opts.keysDir ?? join(homedir(), ".atsign", "keys");
  let files: string[] = [];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith("_key.atKeys"));
  } catch {
    // no directory: same answer as an empty one
  }
  if (files.length === 1) return join(dir, files[0]!);
  if (files.length === 0) throw new AtKeysFileError(dir, "no .atKeys file in this folder; run `onboard` first or pass --keys FILE");
  throw new UsageError(`Several .atKeys files in ${dir}; choose one with --as @SIGN`);
}

/** Opens an authenticated client for the common options. */
export function openClient(opts: Options<typeof COMMON_SPEC>): Promise<AtClient> {
  const keysFile = keysFileFor(opts);
  return AtClient.open({
    keysFile,
    passphrase: passphraseFor(opts.passphraseFile, keysFile),
    ...(opts.as ? { atSign: opts.as } : {}),
    directory: opts.directory,
    ...(opts.ca ? { caFile: opts.ca } : {}),
    ...(opts.server ? { address: requireHostPort(opts.server, "--server") } : {}),
  });
}


/** Reads all of stdin, refusing more than `limit` bytes; `lift` names the flag that lifts the limit, if one does. */
export async function readStdin(io: CliIo, limit = MAX_VALUE_BYTES, lift?: string): Promise<Uint8Array> {
  const bytes = await readBounded(io.stdin(), limit);
  if (!bytes) throw new UsageError(`Value on stdin is larger than ${limit} bytes${lift ? `; ${lift}` : ""}`);
  return bytes;
}

/** Text when the bytes are UTF-8 (and `binary` is not forced), else the bytes themselves. */
export function valueFromBytes(bytes: Uint8Array, binary: boolean): string | Uint8Array {
  if (binary) return bytes;
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return bytes;
  }
}

/** Writes a result: JSON when asked, else the given text (a newline is added for terminals only). */
export function emit(io: CliIo, json: boolean, data: unknown, text: string | Uint8Array | null): void {
  if (json) return io.out(JSON.stringify(data) + "\n");
  if (text === null) return;
  io.out(text);
  if (io.stdoutIsTty && (typeof text !== "string" || !text.endsWith("\n"))) io.out("\n");
}
