/**
 * AtClient: an @sign's keys plus one authenticated connection to its atServer, and the data API over atKey
 * names (put/get/delete/exists/scan) with the encryption conventions of the reference atSDKs.
 */
import { parseHostPort } from "../core/host_port.ts";
import { existsSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { normalizeAtSign } from "../core/atsign.ts";
import {
  atSdkSuite,
  defaultAtKeysPath,
  generateAesKey,
  generatePkamKeyPair,
  readAtKeysFile,
  writeAtKeysFile,
  type AtKeys,
  type PassphraseSource,
  type PkamSigningAlgo,
} from "../core/crypto/index.ts";
import { trustedCas } from "../core/net/tls.ts";
import { keyRefText } from "../core/verbs/index.ts";
import { inlayHome } from "../core/crypto/dev_ca.ts";
import { cramAuthenticate, pkamAuthenticate, type Authenticator } from "./auth/authenticate.ts";
import { AtConnection } from "./connection/at_connection.ts";
import { rootResolver, type HostPort, type RootResolver } from "./connection/root_lookup.ts";
import { Session } from "./connection/session.ts";
import { deleteLine, llookupAllLine, lookupAllLine, lookupLine, plookupLine, scanLine, updateLine, type TimingOptions, type UpdateMeta, type WireKey } from "./data/commands.ts";
import { formatKey, parseKeyRef, wireKey, type KeyRef } from "./data/key_name.ts";
import { parseRecord, type RecordMeta, type StoredRecord } from "./data/record.ts";
import { sharedKeyStore } from "./data/shared_keys.ts";
import {
  openPublic,
  openSelf,
  openSharedAsOwner,
  openSharedAsRecipient,
  sealPublic,
  sealSelf,
  sealShared,
  type AtValue,
} from "./data/value_crypto.ts";
import { AtAuthError, AtClientError, AtKeyNotFoundError, AtNetworkError, AtServerError, AtUsageError } from "./errors.ts";
import { AtMonitor, type MonitorOptions } from "./monitor/at_monitor.ts";
import { notificationOpener, type NotificationOpener } from "./monitor/open_notification.ts";
import { notificationStatus, sendNotify, type NotificationStatus, type NotifyOptions } from "./notify/send_notify.ts";

/** Where to find the network and whom to trust. */
export interface ConnectOptions {
  /** The directory, `HOST:PORT` or an address. */
  directory: string | HostPort;
  /** PEM CAs to trust; default: system roots plus `caFile`, else the dev CA of `home`. */
  ca?: string[];
  caFile?: string;
  /** INLAY_HOME (dev CA); default `$INLAY_HOME` or `~/.inlay`. */
  home?: string;
  /** Use this address for my own atServer instead of asking the directory. */
  address?: HostPort;
  connectTimeoutMs?: number;
  requestTimeoutMs?: number;
}

/** Options of `AtClient.open`. */
export interface OpenOptions extends ConnectOptions {
  /** The .atKeys file; default `<keysDir>/<atSign>_key.atKeys`. */
  keysFile?: string;
  /** Folder of .atKeys files; default `~/.atsign/keys`. */
  keysDir?: string;
  /** The @sign; needed when keysFile is not given. */
  atSign?: string;
  /** Asked for the passphrase when the .atKeys file is passphrase-protected. */
  passphrase?: PassphraseSource;
}

/** Options of `AtClient.onboard`. */
export interface OnboardOptions extends ConnectOptions {
  /** Where to write the .atKeys file; default `<keysDir>/<atSign>_key.atKeys`. */
  keysFile?: string;
  /** Folder of .atKeys files; default `~/.atsign/keys`. */
  keysDir?: string;
  /** PKAM key type; default rsa2048 (what every reference client can use). */
  pkamAlgo?: PkamSigningAlgo;
  /** Replace an existing .atKeys file at keysFile. */
  overwrite?: boolean;
}

/** Options of `put`: timing metadata. */
export type PutOptions = TimingOptions;

/** What `get` returns. */
export interface GetResult {
  /** Text, or bytes for values stored with isBinary. */
  value: AtValue;
  /** The key as stored. */
  key: string;
  meta: RecordMeta;
}

/** Most other @signs whose public key, and whose unauthenticated connection, the client keeps. */
export const PEER_CACHE_MAX_ENTRIES = 256;
/** How long another @sign's public key is reused before it is fetched again (it changes when they re-onboard). */
export const PEER_PUBLIC_KEY_TTL_MS = 10 * 60 * 1000;

function directoryAddress(text: string): HostPort {
  const hp = parseHostPort(text);
  if (!hp) throw new AtUsageError(`Invalid directory "${text}": expected HOST:PORT`);
  return hp;
}

function resolveNetwork(opts: ConnectOptions): { resolver: RootResolver; ca: string[] } {
  const ca = opts.ca ?? trustedCas(opts.caFile !== undefined ? { caFile: opts.caFile, home: opts.home ?? inlayHome() } : { home: opts.home ?? inlayHome() });
  const directory = typeof opts.directory === "string" ? directoryAddress(opts.directory) : opts.directory;
  return { resolver: rootResolver(directory, ca), ca };
}

/**
 * Where the .atKeys file of `atSign` lives: `<keysDir>/@alice_key.atKeys`, by default in `~/.atsign/keys`
 * where the reference clients look.
 */
export function atKeysPath(atSign: string, keysDir?: string): string {
  const canonical = normalizeAtSign(atSign);
  return keysDir ? join(keysDir, `${canonical}_key.atKeys`) : defaultAtKeysPath(canonical);
}

/** The PKAM authenticator for a set of keys. */
export function pkamWith(keys: AtKeys): Authenticator {
  return (conn) =>
    pkamAuthenticate(conn, keys.atSign, { algo: keys.pkamAlgo, privateKey: keys.pkamPrivateKey }, keys.enrollmentId ? { enrollmentId: keys.enrollmentId } : {});
}

/** Another @sign: an unauthenticated session to its atServer. */
interface Peer {
  session: Session;
}

/** A client acting as one @sign. */
export class AtClient {
  /** My @sign. */
  readonly atSign: string;
  private readonly session: Session;
  private readonly peers = new Map<string, Peer>();
  /** Other @signs' encryption public keys, for PEER_PUBLIC_KEY_TTL_MS each (oldest dropped first). */
  private readonly peerKeys = new Map<string, { text: string; expiresAt: number }>();
  private readonly sharedKeys;
  private opener: NotificationOpener | undefined;
  /** Open monitors, closed with the client. */
  private readonly monitors = new Set<AtMonitor>();

  private constructor(
    readonly keys: AtKeys,
    private readonly net: { resolver: RootResolver; ca: string[] },
    private readonly opts: ConnectOptions,
  ) {
    this.atSign = normalizeAtSign(keys.atSign);
    this.session = new Session({ ...this.sessionOpts(this.atSign), authenticate: pkamWith(keys), ...(opts.address ? { address: opts.address } : {}) });
    this.sharedKeys = sharedKeyStore({
      me: this.atSign,
      session: this.session,
      encryptionPublicKey: keys.encryptionPublicKey,
      encryptionPrivateKey: keys.encryptionPrivateKey,
      publicKeyOf: (a) => this.publicKeyOf(a),
    });
  }

  /** A client for `keys` that connects on first use (no network traffic yet). */
  static fromKeys(keys: AtKeys, opts: ConnectOptions): AtClient {
    return new AtClient(keys, resolveNetwork(opts), opts);
  }

  /**
   * Reads the .atKeys file and authenticates with PKAM, so a wrong key or an unreachable server shows up here.
   * @example const alice = await AtClient.open({ atSign: "@alice", directory: "127.0.0.1:6464" });
   */
  static async open(opts: OpenOptions): Promise<AtClient> {
    const file = opts.keysFile ?? (opts.atSign ? atKeysPath(opts.atSign, opts.keysDir) : undefined);
    if (!file) throw new AtUsageError("Cannot find keys: give an @sign or an .atKeys file");
    const keys = await readAtKeysFile(file, opts.passphrase ? { passphrase: opts.passphrase } : {});
    if (opts.atSign && normalizeAtSign(opts.atSign) !== normalizeAtSign(keys.atSign)) {
      throw new AtUsageError(`${file} holds the keys of ${keys.atSign}, not ${normalizeAtSign(opts.atSign)}`);
    }
    const client = AtClient.fromKeys(keys, opts);
    try {
      await client.authenticate();
    } catch (e) {
      client.close();
      throw e;
    }
    return client;
  }

  /**
   * First-time setup of an @sign on this device: CRAM with the server's one-time secret, new PKAM and
   * encryption key pairs and a self-encryption key made here, the .atKeys file written (0600), the PKAM
   * public key stored, PKAM checked on a new connection, the encryption public key published as
   * `public:publickey@alice`, and finally the CRAM secret deleted (as at_auth's onboarding does).
   * The server creates `public:signing_publickey@alice` itself (its pol key); the client does not write it.
   */
  static async onboard(atSignText: string, cramSecret: string, opts: OnboardOptions): Promise<{ client: AtClient; keysFile: string }> {
    const atSign = normalizeAtSign(atSignText);
    const keysFile = opts.keysFile ?? atKeysPath(atSign, opts.keysDir);
    if (existsSync(keysFile) && !opts.overwrite) {
      throw new AtUsageError(`${keysFile} already exists; use it (it may already be onboarded) or pass another keys path`);
    }
    const net = resolveNetwork(opts);
    const address = opts.address ?? (await net.resolver.resolve(atSign));
    const pkamAlgo = opts.pkamAlgo ?? "rsa2048";
    const [pkam, encryption] = await Promise.all([generatePkamKeyPair(pkamAlgo), atSdkSuite.generateEncryptionKeyPair()]);
    const keys: AtKeys = {
      atSign,
      pkamAlgo,
      pkamPublicKey: pkam.publicKey,
      pkamPrivateKey: pkam.privateKey,
      encryptionPublicKey: encryption.publicKey,
      encryptionPrivateKey: encryption.privateKey,
      selfEncryptionKey: generateAesKey(),
    };

    const cram = await AtConnection.open({ ...address, ca: net.ca }, opts.connectTimeoutMs);
    let written = false;
    let client: AtClient | undefined;
    try {
      await cramAuthenticate(cram, atSign, cramSecret);
      await writeAtKeysFile(keys, keysFile);
      written = true;
      await expectCommit(cram, updateLine({ name: "privatekey:at_pkam_publickey" }, keys.pkamPublicKey), "store the PKAM public key");
      cram.close();
      client = new AtClient(keys, net, opts);
      await client.authenticate();
      await client.session.send(updateLine({ isPublic: true, name: "publickey", owner: atSign }, keys.encryptionPublicKey, { isEncrypted: false }));
      await client.session.send(deleteLine({ name: "privatekey:at_secret" }));
      return { client, keysFile };
    } catch (e) {
      cram.close();
      client?.close();
      // Until at_secret is gone the user can simply onboard again; a key file of a failed attempt would block that.
      if (written) await rm(keysFile, { force: true });
      throw e instanceof AtClientError ? e : new AtAuthError(`Onboarding of ${atSign} failed: ${(e as Error).message}`, "AT0401", { cause: e });
    }
  }

  /** Connects and authenticates now (otherwise the first request does). */
  async authenticate(): Promise<void> {
    await this.session.connection();
  }

  /**
   * Stores a value. `key` forms: `public:name`, `@bob:name` (shared with @bob), `name` (self, encrypted).
   * @example await alice.put("@bob:phone.wavi", "+1-555", { ttl: 60_000 })
   */
  async put(key: string, value: AtValue, opts: PutOptions = {}): Promise<void> {
    const ref = this.ownRef(key, "put");
    const sealed = await this.sealOwn(ref, value);
    await this.session.send(updateLine(wireKey(ref), sealed.value, { ...timing(opts), ...sealed.meta }));
  }

  /**
   * The stored form of a value for one of my keys, exactly as `put` would write it, without writing it
   * (for an offline cache that pushes later). `key` comes back canonical (`phone.wavi@alice`).
   */
  async seal(key: string, value: AtValue, opts: PutOptions = {}): Promise<{ key: string; value: string; meta: UpdateMeta }> {
    const ref = this.ownRef(key, "put");
    const sealed = await this.sealOwn(ref, value);
    return { key: formatKey(ref), value: sealed.value, meta: { ...timing(opts), ...sealed.meta } };
  }

  /** Decrypts (or verifies) a stored record of one of my keys, as `get` does after reading it. */
  async open(key: string, record: StoredRecord): Promise<AtValue> {
    const ref = this.ownRef(key, "read");
    return ref.visibility === "public"
      ? openPublic(this.keys.encryptionPublicKey, record)
      : ref.visibility === "self"
        ? openSelf(this.keys.selfEncryptionKey, record)
        : openSharedAsOwner(await this.ownSharedKey(ref.sharedWith!, record.key), record);
  }

  private async sealOwn(ref: KeyRef, value: AtValue): Promise<{ value: string; meta: UpdateMeta }> {
    return ref.visibility === "public"
      ? sealPublic(this.keys.encryptionPrivateKey, value)
      : ref.visibility === "self"
        ? sealSelf(this.keys.selfEncryptionKey, value)
        : sealShared(await this.sharedKeys.forRecipient(ref.sharedWith!), value);
  }

  /**
   * Reads and decrypts (or verifies) a value. Mine: `name`, `public:name`, `@bob:name`. Others':
   * `public:name@bob` (verified against bob's public key), `name@bob` (shared with me by @bob).
   * Throws AtKeyNotFoundError when there is no such key.
   */
  async get(key: string): Promise<GetResult> {
    const ref = parseKeyRef(key, this.atSign);
    if (ref.owner === this.atSign) {
      const record = await this.ownRecord(wireKey(ref));
      return { value: await this.open(key, record), key: record.key, meta: record.meta };
    }
    if (ref.visibility === "public") {
      const record = await this.peerRecord(ref);
      return { value: openPublic(await this.publicKeyOf(ref.owner), record), key: record.key, meta: record.meta };
    }
    if (ref.sharedWith && ref.sharedWith !== this.atSign) {
      throw new AtUsageError(`Cannot read ${formatKey(ref)}: it is shared with ${ref.sharedWith}, not with ${this.atSign}`);
    }
    return this.getSharedWithMe(ref);
  }

  /**
   * The recipient side: `lookup:all:name@owner` through my own atServer, which fetches it from the owner's
   * atServer over a server-to-server (pol) connection; the shared key comes from `sharedKeyEnc` or, for older
   * writers, from `shared_key@owner`.
   */
  private async getSharedWithMe(ref: KeyRef): Promise<GetResult> {
    const full = `${this.atSign}:${ref.name}${ref.owner}`;
    const record = parseRecord(await this.session.send(lookupAllLine(ref.name, ref.owner)), full);
    if (!record) throw new AtKeyNotFoundError(`${full} is not available (expired or not yet born)`);
    let fallback: string | undefined;
    if (!record.meta.sharedKeyEnc) fallback = await this.wrappedSharedKeyOf(ref.owner, record.meta.isEncrypted === true);
    return { value: openSharedAsRecipient(this.keys, record, fallback), key: record.key, meta: record.meta };
  }

  /**
   * `@me:shared_key@owner`, wrapped for me. Missing, it is an error for a value marked encrypted; an unmarked
   * value then cannot be decrypted and is returned as stored (undefined here).
   */
  private async wrappedSharedKeyOf(owner: string, required: boolean): Promise<string | undefined> {
    try {
      return await this.session.send(lookupLine("shared_key", owner));
    } catch (e) {
      if (required || !(e instanceof AtKeyNotFoundError)) throw e;
      return undefined;
    }
  }

  /** Deletes one of my keys. */
  async delete(key: string): Promise<void> {
    await this.session.send(deleteLine(wireKey(this.ownRef(key, "delete"))));
  }

  /** True when one of my keys exists (and is active). */
  async exists(key: string): Promise<boolean> {
    try {
      return parseRecord(await this.session.send(llookupAllLine(wireKey(this.ownRef(key, "check")))), key) !== null;
    } catch (e) {
      if (e instanceof AtKeyNotFoundError) return false;
      throw e;
    }
  }

  /** Lists my keys whose stored name matches `regex` (server-side, "contains" semantics). */
  async scan(regex?: string): Promise<string[]> {
    if (regex !== undefined && /\s/.test(regex)) throw new AtUsageError("A scan regex cannot contain whitespace");
    const payload = await this.session.send(scanLine(regex));
    const list: unknown = JSON.parse(payload);
    if (!Array.isArray(list) || !list.every((k) => typeof k === "string")) throw new AtServerError("AT0014", "server", "scan returned something that is not a list of keys");
    return list;
  }

  /**
   * Sends one raw atProtocol command on the authenticated connection and returns the payload after `data:`
   * (errors become typed errors). For verbs the data API does not cover.
   * @example await alice.command("llookup:meta:phone.wavi@alice")
   */
  command(line: string): Promise<string> {
    return this.session.send(line);
  }

  /**
   * Notifies another @sign (or myself) about one of my keys; a value is encrypted for the recipient like a
   * shared put. With `{ text: true }` the `key` argument is a text message, encrypted the same way (plain
   * only with `encrypt: false`). Resolves with the notification id once my atServer has queued it.
   * @example const id = await alice.notify("@bob", "phone.wavi", "+1-555", { ttln: 60_000 })
   */
  notify(to: string, key: string, value?: string, opts: NotifyOptions = {}): Promise<string> {
    return sendNotify({ me: this.atSign, sharedKeyFor: (a) => this.sharedKeys.forRecipient(a), send: (l) => this.session.send(l) }, to, key, value, opts);
  }

  /** Delivery state of a notification I sent (`delivered`, `queued`, `errored`, `expired`), null if unknown. */
  notifyStatus(id: string): Promise<NotificationStatus | null> {
    return notificationStatus((l) => this.session.send(l), id);
  }

  /**
   * My notifications, live, on a connection of their own, decrypted; reconnects and resumes by itself.
   * @example for await (const n of bob.monitor({ regex: "wavi" })) console.log(n.key, n.value)
   */
  monitor(opts: MonitorOptions = {}): AtMonitor {
    this.opener ??= notificationOpener({
      encryptionPrivateKey: this.keys.encryptionPrivateKey,
      fetchWrappedSharedKey: async (sender) => {
        try {
          return await this.session.send(lookupLine("shared_key", sender));
        } catch (e) {
          if (e instanceof AtKeyNotFoundError) return null;
          throw e;
        }
      },
    });
    const fixed = this.opts.address;
    const monitor = new AtMonitor(
      {
        keys: this.keys,
        ca: this.net.ca,
        resolve: () => (fixed ? Promise.resolve(fixed) : this.net.resolver.resolve(this.atSign)),
        forget: () => this.net.resolver.forget(this.atSign),
        open: this.opener,
        onClosed: (m) => this.monitors.delete(m),
      },
      opts,
    );
    this.monitors.add(monitor);
    return monitor;
  }

  /**
   * The encryption public key of an @sign (`public:publickey@x`), read through my own atServer as the SDKs
   * do: fresh from the @sign's server when it answers (so a changed key is seen), else my server's copy
   * (`cached:public:publickey@x`), so that sharing and notifying work while that server is away.
   */
  async publicKeyOf(atSignText: string): Promise<string> {
    const atSign = normalizeAtSign(atSignText);
    if (atSign === this.atSign) return this.keys.encryptionPublicKey;
    const known = this.peerKeys.get(atSign);
    if (known && known.expiresAt > Date.now()) return known.text;
    let text: string;
    try {
      text = await this.publicKeyThroughMyServer(atSign);
    } catch (e) {
      if (e instanceof AtKeyNotFoundError) throw new AtKeyNotFoundError(`${atSign} has no public key yet (not onboarded?)`);
      throw e;
    }
    if (text === "null") throw new AtKeyNotFoundError(`${atSign} has no public key yet (not onboarded?)`);
    this.peerKeys.delete(atSign);
    if (this.peerKeys.size >= PEER_CACHE_MAX_ENTRIES) this.peerKeys.delete(this.peerKeys.keys().next().value!);
    this.peerKeys.set(atSign, { text, expiresAt: Date.now() + PEER_PUBLIC_KEY_TTL_MS });
    return text;
  }

  private async publicKeyThroughMyServer(atSign: string): Promise<string> {
    try {
      return await this.session.send(plookupLine("publickey", atSign, true));
    } catch (e) {
      // Its server cannot be reached (AT0021) or found (AT0007): my server's cached copy will do.
      if (!isUnreachable(e)) throw e;
    }
    try {
      return await this.session.send(plookupLine("publickey", atSign, false));
    } catch (e) {
      if (!isUnreachable(e)) throw e;
      throw new AtNetworkError(`Cannot reach the atServer of ${atSign}, and mine keeps no copy of its public key: ${e.message}`, e.code, { cause: e });
    }
  }

  /** Closes every connection (`@exit`), monitors included. */
  close(): void {
    for (const m of [...this.monitors]) m.close();
    this.session.close();
    for (const p of this.peers.values()) p.session.close();
    this.peers.clear();
  }

  private sessionOpts(atSign: string) {
    return {
      atSign,
      resolver: this.net.resolver,
      ca: this.net.ca,
      ...(this.opts.connectTimeoutMs ? { connectTimeoutMs: this.opts.connectTimeoutMs } : {}),
      ...(this.opts.requestTimeoutMs ? { requestTimeoutMs: this.opts.requestTimeoutMs } : {}),
    };
  }

  private peer(atSign: string): Peer {
    let p = this.peers.get(atSign);
    if (!p) {
      if (this.peers.size >= PEER_CACHE_MAX_ENTRIES) {
        const [oldest, entry] = this.peers.entries().next().value!;
        entry.session.close();
        this.peers.delete(oldest);
      }
      p = { session: new Session(this.sessionOpts(atSign)) };
      this.peers.set(atSign, p);
    }
    return p;
  }

  private ownRef(key: string, verb: string): KeyRef {
    const ref = parseKeyRef(key, this.atSign);
    if (ref.owner !== this.atSign) throw new AtUsageError(`Cannot ${verb} ${formatKey(ref)}: only ${ref.owner} can change its keys`);
    return ref;
  }

  private async ownRecord(key: WireKey & { owner: string }): Promise<StoredRecord> {
    const fullKey = keyRefText(key);
    const record = parseRecord(await this.session.send(llookupAllLine(key)), fullKey);
    if (!record) throw new AtKeyNotFoundError(`${fullKey} is not available (expired or not yet born)`);
    return record;
  }

  private async ownSharedKey(atSign: string, key: string): Promise<string> {
    const shared = await this.sharedKeys.ownKey(atSign);
    if (!shared) throw new AtKeyNotFoundError(`No shared key for ${atSign} exists, so ${key} cannot be decrypted`);
    return shared;
  }

  private async peerRecord(ref: KeyRef): Promise<StoredRecord> {
    const record = parseRecord(await this.peer(ref.owner).session.send(lookupAllLine(ref.name, ref.owner)), formatKey(ref));
    if (!record) throw new AtKeyNotFoundError(`${formatKey(ref)} is not available (expired or not yet born)`);
    return record;
  }
}

/** My atServer's answer that another @sign's server cannot be reached or found. */
function isUnreachable(e: unknown): e is AtServerError {
  return e instanceof AtServerError && (e.code === "AT0021" || e.code === "AT0007");
}

function timing(opts: PutOptions): TimingOptions {
  const out: TimingOptions = {};
  for (const f of ["ttl", "ttb", "ttr"] as const) {
    const v = opts[f];
    if (v === undefined) continue;
    if (!Number.isInteger(v) || v < -1 || (f !== "ttr" && v < 0)) throw new AtUsageError(`Invalid ${f} ${v}: expected a whole number of milliseconds${f === "ttr" ? " or -1" : ""}`);
    out[f] = v;
  }
  if (opts.ccd !== undefined) out.ccd = opts.ccd;
  return out;
}

async function expectCommit(conn: AtConnection, line: string, what: string): Promise<void> {
  const r = await conn.request(line);
  if (!r.ok) throw new AtAuthError(`Cannot ${what}: ${r.code} ${r.description}`, r.code);
}
