/**
 * The typed form of every atProtocol request line (ATPROTOCOL.md §5, §8).
 *
 * `parseCommand` (index.ts) turns a line into one `Command` variant; `buildCommand` turns it back into a line.
 * Optional fields are absent when the line did not carry them. @signs keep the case they were written in but
 * always carry their leading `@`; key names are as written (the server lower-cases them, see core/keys).
 */

/** Metadata fields a request can set. `null` = the client sent the literal `null`, i.e. clear the field. */
export interface MetadataPatch {
  ttl?: number | null;
  ttb?: number | null;
  ttr?: number | null;
  ccd?: boolean | null;
  /**
   * at_commons 5.10: createdAt / updatedAt / expiresAt / availableAt asserted by the caller (another server
   * carrying the origin's times, or a client syncing), as written: ISO 8601 UTC (`2026-05-05T11:59:44.123456Z`).
   */
  cAt?: string | null;
  uAt?: string | null;
  eAt?: string | null;
  aAt?: string | null;
  dataSignature?: string | null;
  /** Accepted by the grammar but never stored by the reference. */
  sharedKeyStatus?: string | null;
  isBinary?: boolean | null;
  isEncrypted?: boolean | null;
  sharedKeyEnc?: string | null;
  pubKeyCS?: string | null;
  /** Newer at_commons (after the Oct 2024 baseline): hash of the recipient's public key, and its algorithm. */
  pubKeyHash?: string | null;
  hashingAlgo?: string | null;
  encoding?: string | null;
  encKeyName?: string | null;
  encAlgo?: string | null;
  ivNonce?: string | null;
  skeEncKeyName?: string | null;
  skeEncAlgo?: string | null;
  /** at_commons 5.3: once set, the record refuses `update` and refuses `delete` without `:force`. */
  immutable?: boolean | null;
  /** at_commons 5.11: base64 of a JSON object (`providerId` plus provider-owned fields), opaque to the server. */
  appMetadata?: string | null;
}

/** A key as written in update/update:meta/delete/llookup: `[cached:][public:|@with:]name[@owner]`. */
export interface KeyRef {
  cached?: true;
  isPublic?: true;
  /** `@bob` for `@bob:name@alice`. Never set together with `isPublic`. */
  sharedWith?: string;
  /** The name between scope and `@owner`, e.g. `phone.wavi` or `privatekey:at_pkam_publickey`. */
  name: string;
  /** `@alice`; absent when the line omitted it (update/delete allow that). */
  owner?: string;
}

/** `meta` = metadata JSON, `all` = `{"key","data","metaData"}`; absent = the raw value. */
export type LookupOperation = "meta" | "all";

/** PKAM signing algorithms: the reference's two plus our `ed25519`. */
export type SigningAlgo = "rsa2048" | "ecc_secp256r1" | "ed25519";
/** PKAM hashing algorithms (ignored for ECC and Ed25519). */
export type HashingAlgo = "sha256" | "sha512";

/** The parsed body of `update:json:`. */
export interface UpdateJsonBody {
  atKey: string;
  value: unknown;
  sharedBy?: string;
  sharedWith?: string;
  metadata?: Record<string, unknown>;
}

/** One entry of a `batch:` request. */
export interface BatchItem {
  id: number;
  command: string;
}

/** Enrollment operations of §8.1, with the 3.15/3.16 additions `update`, `listns` and `infons`. */
export type EnrollOperation = "request" | "approve" | "deny" | "revoke" | "unrevoke" | "list" | "fetch" | "delete" | "update" | "listns" | "infons";

/** Statuses an enrollment can have; `enrollmentStatusFilter` takes a list of them. */
export type EnrollStatus = "pending" | "approved" | "denied" | "revoked" | "expired";

/** The JSON parameters of `enroll:<op>:{...}` (§8.1); unknown fields are dropped. */
export interface EnrollParams {
  enrollmentId?: string;
  appName?: string;
  deviceName?: string;
  namespaces?: Record<string, string>;
  otp?: string;
  encryptedDefaultEncryptionPrivateKey?: string;
  encryptedDefaultSelfEncryptionKey?: string;
  encryptedAPKAMSymmetricKey?: string;
  apkamPublicKey?: string;
  enrollmentStatusFilter?: EnrollStatus[];
  apkamKeysExpiryInMillis?: number;
  /** IVs of the two wrapped default keys (stored beside them as `iv`). */
  encPrivateKeyIV?: string;
  selfEncKeyIV?: string;
  /** The algorithm of `apkamPublicKey`, kept on the record. */
  signingAlgo?: string;
  /** The client-composed `_apsk` document, published JSON-encoded at `public:_apsk.<id>.a.__e@me`. */
  apsk?: Record<string, unknown>;
  /** The bare legacy `_apsk` string, published verbatim; never together with `apsk`. */
  apskLegacy?: string;
  /** `enroll:update`: the new key's signature over `<enrollmentId>|<apkamPublicKey>|<signingAlgo>`. */
  apkamPublicKeySignature?: string;
  /** Opaque map stored on the record and shown by list, fetch and listns. */
  metadata?: Record<string, unknown>;
}

/** Every request line, one variant per verb. */
export type Command =
  | { verb: "exit" }
  | { verb: "from"; atSign: string; clientConfig?: string; clientVersion?: string }
  | { verb: "cram"; digest: string }
  | {
      verb: "pkam";
      signingAlgo?: SigningAlgo;
      hashingAlgo?: HashingAlgo;
      enrollmentId?: string;
      signature: string;
    }
  | { verb: "pol" }
  /** `noCommit` is at_commons 5.10's `:nc`: the write makes no commit-log entry and purges the key's old one. */
  | { verb: "update"; noCommit?: true; key: KeyRef; metadata: MetadataPatch; value: string }
  | { verb: "updateJson"; noCommit?: true; body: UpdateJsonBody }
  | { verb: "updateMeta"; noCommit?: true; key: KeyRef & { owner: string }; metadata: MetadataPatch }
  | {
      verb: "delete";
      /** `:dAt:` (ISO 8601), recorded as the delete's commit time. */
      deletedAt?: string;
      noCommit?: true;
      /** Deletes an `immutable` record. */
      force?: true;
      priority?: "low" | "medium" | "high";
      key: KeyRef;
    }
  | { verb: "llookup"; operation?: LookupOperation; key: KeyRef & { owner: string } }
  | { verb: "lookup"; bypassCache?: boolean; operation?: LookupOperation; name: string; atSign: string }
  | { verb: "plookup"; bypassCache?: boolean; operation?: LookupOperation; name: string; atSign: string }
  /** `commitLog` is `scan:cl`: list the commit log's entries instead of the keys. */
  | { verb: "scan"; commitLog?: true; showHidden?: boolean; forAtSign?: string; page?: number; regex?: string }
  | {
      verb: "notify";
      id?: string;
      operation?: "update" | "delete";
      messageType?: "key" | "text";
      priority?: "low" | "medium" | "high";
      strategy?: "all" | "latest";
      latestN?: number;
      notifier?: string;
      ttln?: number;
      metadata: MetadataPatch;
      /** `public` scope or the recipient `@bob`; exactly one is set. */
      isPublic?: true;
      forAtSign?: string;
      /** The key name (text messages: the text itself), e.g. `phone.wavi` or `public:phone`. */
      atKey: string;
      atSign?: string;
      value?: string;
    }
  | {
      /** One key notification to several @signs (`notify:multi:...:@bob,@carol:key@alice:value`). */
      verb: "notifyMulti";
      operation?: "update" | "delete";
      ttln?: number;
      metadata: MetadataPatch;
      recipients: string[];
      atKey: string;
      atSign: string;
      value?: string;
    }
  | { verb: "notifyStatus"; id: string }
  | { verb: "notifyList"; fromDate?: string; toDate?: string; regex?: string }
  | { verb: "notifyFetch"; id: string }
  | { verb: "notifyRemove"; id: string }
  | {
      verb: "notifyAll";
      operation?: "update" | "delete";
      messageType?: "key" | "text";
      ttl?: number;
      ttb?: number;
      ttr?: number;
      ccd?: boolean;
      recipients: string[];
      atKey: string;
      atSign?: string;
      value?: string;
    }
  | {
      verb: "monitor";
      strict?: true;
      selfNotifications?: true;
      multiplexed?: true;
      epochMillis?: number;
      regex?: string;
    }
  | {
      verb: "syncFrom";
      fromCommitId: number;
      /** Page size the client asks for (advisory; the server applies its own page limit). */
      limit?: number;
      /** Newer at_commons: leave out delete entries with a commit id below this. */
      skipDeletesUntil?: number;
      regex?: string;
    }
  | { verb: "stats"; ids?: number[]; regex?: string }
  | { verb: "config"; operation: "blockAdd" | "blockRemove" | "allowAdd" | "allowRemove"; atSigns: string[] }
  | { verb: "config"; operation: "blockShow" | "allowShow" }
  | { verb: "config"; operation: "set" | "reset" | "print"; setting: string }
  /** `config:gatekeeper:...`: Inlay's own extension (server/README.md "Gatekeeper"), not in the reference. */
  | { verb: "config"; operation: "gatekeeper"; gate: GatekeeperOperation }
  | { verb: "info"; mode?: "brief" | "mtls" | "mtlsbrief" }
  /** A peer server's first verb naming the @sign it means (3.15); answers that @sign's two public keys. */
  | { verb: "to"; atSign: string }
  | { verb: "noop"; delayMs: number }
  | { verb: "batch"; items: BatchItem[] }
  | { verb: "enroll"; operation: EnrollOperation; force?: true; namespace?: string; params?: EnrollParams }
  | { verb: "otp"; operation: "get"; ttlMs?: number }
  | { verb: "otp"; operation: "put"; otp: string; ttlMs?: number }
  | {
      verb: "keys";
      operation: "put" | "get" | "delete";
      visibility?: "public" | "private" | "self";
      namespace?: string;
      appName?: string;
      deviceName?: string;
      keyType?: string;
      encryptionKeyName?: string;
      keyName?: string;
      keyValue?: string;
    }
  | {
      verb: "stream";
      operation?: "init" | "send" | "receive" | "done" | "resume";
      receiver?: string;
      namespace?: string;
      startByte?: number;
      streamId?: string;
      fileName?: string;
      length?: number;
    };

/** The `verb` tag of a Command, e.g. `"updateMeta"`. */
export type VerbName = Command["verb"];

/** The Command variant(s) with the given verb tag. */
export type CommandOf<V extends VerbName> = Extract<Command, { verb: V }>;

/** Which way a gatekeeper rule binds: what other @signs bring in (notifications), or what leaves (notifications, lookup answers). */
export type GateDirection = "in" | "out";
/** What a rule does with an @sign on none of its lists and never admitted: `quarantine` only inbound. */
export type GateUnknownPolicy = "allow" | "quarantine" | "deny";
/** One `config:gatekeeper:` form. `namespace` is a namespace or `*` (every namespace without a rule of its own). */
export type GatekeeperOperation =
  | { op: "show" }
  | { op: "unknown"; direction: GateDirection; namespace: string; policy: GateUnknownPolicy }
  | { op: "allow" | "deny" | "forget"; direction: GateDirection; namespace: string; atSigns: string[] }
  | { op: "quarantineList" }
  | { op: "admit"; atSign: string }
  | { op: "reject"; atSign: string; block: boolean };
