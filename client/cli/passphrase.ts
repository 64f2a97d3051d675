/**
 * Where the CLI gets the passphrase of a protected .atKeys file: the file `--passphrase-file` names, else a
 * prompt on the terminal with echo off. Never from the command line or the environment, where `ps` and shell
 * histories would show it. A passphrase is asked for only when the key file turns out to be protected.
 */
import { open } from "node:fs/promises";
import { ATKEYS_MAX_PASSPHRASE_BYTES, AtKeysPassphraseRequired, type PassphraseSource } from "../../core/crypto/index.ts";
import { UsageError } from "../../core/options.ts";

/** Largest passphrase file: the passphrase and a line ending. */
export const PASSPHRASE_FILE_MAX_BYTES = ATKEYS_MAX_PASSPHRASE_BYTES + 2;

const CTRL_C = "\u0003";
const CTRL_D = "\u0004";
const BACKSPACES = new Set(["\u007f", "\b"]);

/** The passphrase in `path`: its text without one trailing line ending. */
export async function readPassphraseFile(path: string): Promise<string> {
  const bad = (what: string) => new UsageError(`--passphrase-file ${path}: ${what}`);
  let bytes: Uint8Array;
  try {
    const handle = await open(path, "r");
    try {
      const buffer = new Uint8Array(PASSPHRASE_FILE_MAX_BYTES + 1);
      const { bytesRead } = await handle.read(buffer, 0, buffer.byteLength, 0);
      bytes = buffer.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  } catch (e) {
    throw bad(`cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  if (bytes.byteLength > PASSPHRASE_FILE_MAX_BYTES) throw bad(`larger than ${PASSPHRASE_FILE_MAX_BYTES} bytes; it must hold only the passphrase`);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw bad("not UTF-8 text");
  }
  text = text.replace(/\r?\n$/, "");
  if (text.length === 0) throw bad("empty");
  return text;
}

const canPrompt = () => process.stdin.isTTY === true && process.stderr.isTTY === true;

/** Reads one line from the terminal with echo off; Ctrl-C or Ctrl-D cancels. */
export async function promptHidden(prompt: string): Promise<string> {
  const stdin = process.stdin;
  stdin.setRawMode(true); // echo is off before the prompt shows, so nothing typed after it is echoed
  process.stderr.write(prompt);
  stdin.resume();
  try {
    return await new Promise<string>((resolve, reject) => {
      let typed = "";
      const finish = (error: Error | null) => {
        stdin.off("data", onData);
        if (error) reject(error);
        else resolve(typed);
      };
      const onData = (chunk: Buffer) => {
        for (const ch of chunk.toString("utf8")) {
          if (ch === "\r" || ch === "\n") return finish(null);
          if (ch === CTRL_C || ch === CTRL_D) return finish(new UsageError("cancelled; nothing was changed"));
          typed = BACKSPACES.has(ch) ? Array.from(typed).slice(0, -1).join("") : typed + ch;
          if (Buffer.byteLength(typed) > ATKEYS_MAX_PASSPHRASE_BYTES) return finish(new UsageError(`the passphrase is longer than ${ATKEYS_MAX_PASSPHRASE_BYTES} bytes`));
        }
      };
      stdin.on("data", onData);
    });
  } finally {
    stdin.setRawMode(false);
    stdin.pause();
    process.stderr.write("\n");
  }
}

/** The passphrase of `keysFile`, asked for when it is needed: from `passphraseFile`, else the terminal. */
export function passphraseFor(passphraseFile: string | undefined, keysFile: string): PassphraseSource {
  return async () => {
    if (passphraseFile) return readPassphraseFile(passphraseFile);
    if (!canPrompt()) throw new AtKeysPassphraseRequired(keysFile, "is passphrase-protected; pass --passphrase-file FILE (a file holding the passphrase) or run on a terminal to be prompted");
    return promptHidden(`Passphrase for ${keysFile}: `);
  };
}

/** A new passphrase for `keysFile`: from `passphraseFile`, else typed twice on the terminal. */
export async function newPassphrase(passphraseFile: string | undefined, keysFile: string): Promise<string> {
  if (passphraseFile) return readPassphraseFile(passphraseFile);
  if (!canPrompt()) throw new UsageError("keys protect needs the new passphrase: pass --passphrase-file FILE (a file holding it) or run on a terminal to be prompted");
  const first = await promptHidden(`New passphrase for ${keysFile}: `);
  if ((await promptHidden("Repeat it: ")) !== first) throw new UsageError("the two passphrases differ; nothing was changed");
  return first;
}
