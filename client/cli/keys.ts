/**
 * `keys`: shows my public keys and where my .atKeys file is; `keys protect` / `keys unprotect` wrap the file in
 * a passphrase envelope or take it out of one, leaving the document inside byte for byte. No network.
 */
import { AtKeysFileError, AtKeysPassphraseRequired, type OpenedAtKeys, openAtKeys, protectAtKeys, readAtKeysText, writeAtKeysText } from "../../core/crypto/index.ts";
import { UsageError, type Options } from "../../core/options.ts";
import { COMMON_SPEC, emit, keysFileFor, type CliCommand, type CliIo } from "./command.ts";
import { newPassphrase, passphraseFor } from "./passphrase.ts";

const spec = {
  legacyEnvelope: { kind: "boolean", help: "keys protect: write at_auth 3.3's unsalted envelope (for older reference clients) instead of the salted v1", default: false },
} as const;

type KeysOptions = Options<typeof spec & typeof COMMON_SPEC>;

async function show(o: KeysOptions, file: string, io: CliIo): Promise<number> {
  const { keys: k, layout, envelope } = await openAtKeys(await readAtKeysText(file), file, passphraseFor(o.passphraseFile, file));
  const info = {
    atSign: k.atSign,
    keysFile: file,
    form: layout.form,
    protected: envelope !== undefined,
    pkamAlgo: k.pkamAlgo,
    pkamPublicKey: k.pkamPublicKey,
    encryptionPublicKey: k.encryptionPublicKey,
    ...(k.enrollmentId ? { enrollmentId: k.enrollmentId } : {}),
  };
  const form = `${layout.form}${envelope ? ", passphrase-protected" : ""}`;
  const text = [`atSign: ${info.atSign}`, `keysFile: ${file} (${form})`, `pkam (${k.pkamAlgo}): ${k.pkamPublicKey}`, `publickey${k.atSign}: ${k.encryptionPublicKey}`].join("\n") + "\n";
  emit(io, o.json, info, text);
  return 0;
}

async function protect(o: KeysOptions, file: string, io: CliIo): Promise<number> {
  let plain: OpenedAtKeys;
  try {
    plain = await openAtKeys(await readAtKeysText(file), file);
  } catch (e) {
    if (e instanceof AtKeysPassphraseRequired) throw new UsageError(`${file} is already passphrase-protected; to change the passphrase, unprotect it first`);
    throw e;
  }
  const passphrase = await newPassphrase(o.passphraseFile, file);
  const envelope = o.legacyEnvelope ? "legacy" : "v1";
  const text = await protectAtKeys(plain.text, passphrase, envelope, file);
  // Opened again before it replaces the file: a passphrase that cannot open what it wrote must not lock the keys away.
  if ((await openAtKeys(text, file, async () => passphrase)).text !== plain.text) throw new AtKeysFileError(file, "the protected file did not open back to the same keys; nothing was changed");
  await writeAtKeysText(file, text);
  emit(io, o.json, { keysFile: file, protected: true, envelope }, `${file} is now passphrase-protected (${envelope} envelope)\n`);
  return 0;
}

async function unprotect(o: KeysOptions, file: string, io: CliIo): Promise<number> {
  const opened = await openAtKeys(await readAtKeysText(file), file, passphraseFor(o.passphraseFile, file));
  if (!opened.envelope) throw new UsageError(`${file} is not passphrase-protected`);
  await writeAtKeysText(file, opened.text);
  emit(io, o.json, { keysFile: file, protected: false }, `${file} is no longer passphrase-protected\n`);
  return 0;
}

const ACTIONS = { show, protect, unprotect };

/** The keys command. */
export const keys: CliCommand<typeof spec & typeof COMMON_SPEC> = {
  name: "keys",
  usage: "bun client.ts keys [show | protect | unprotect] [FILE]   (FILE: default --keys / --as / the only .atKeys)",
  spec: { ...COMMON_SPEC, ...spec },
  async run(o, args, io) {
    const [action = "show", file, ...rest] = args;
    if (!Object.hasOwn(ACTIONS, action) || rest.length > 0) throw new UsageError("keys takes show, protect or unprotect, and optionally the .atKeys FILE");
    return ACTIONS[action as keyof typeof ACTIONS](o, file ?? keysFileFor(o), io);
  },
};
