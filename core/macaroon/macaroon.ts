/**
 * Macaroons (Birgisson et al., 2014) with the hash chain of libmacaroons / go-macaroon, so tokens minted here
 * verify there and the other way round. Values are plain immutable data: adding a caveat returns a new
 * macaroon, which is what attenuation needs (a holder narrows a copy and hands it on).
 *
 * @example
 * ```ts
 * const root = mintMacaroon({ rootKey, identifier: utf8("key-1"), location: "https://api.example" });
 * const narrowed = addFirstPartyCaveat(root, "methods = GET");
 * const r = verifyMacaroon(narrowed, rootKey, (cond) => (cond === "methods = GET" ? null : "unknown"));
 * ```
 */
import { constantTimeEqual } from "../crypto/constant_time_equal.ts";
import { bindForRequest, deriveKey, keyedHash, keyedHash2, openKey, sealKey } from "./_crypto.ts";
import { MAX_CAVEATS, MAX_DISCHARGES, MAX_FIELD_BYTES } from "./limits.ts";
import { MacaroonError } from "./macaroon_error.ts";

/** A caveat: first-party when `verificationId` is absent, third-party otherwise. */
export interface Caveat {
  /** The condition (first-party) or the third party's caveat id. */
  readonly id: Uint8Array;
  /** Encrypted caveat key; present only on third-party caveats. */
  readonly verificationId?: Uint8Array;
  /** Where to get a discharge (third-party only; not covered by the signature). */
  readonly location?: string;
}

/** A macaroon. `version` only selects the encoding (1: libmacaroons v1, 2: v2); the chain is the same. */
export interface Macaroon {
  readonly version: 1 | 2;
  /** Location hint; not covered by the signature. */
  readonly location: string;
  readonly identifier: Uint8Array;
  readonly caveats: readonly Caveat[];
  /** 32-byte HMAC-SHA256 chain value. */
  readonly signature: Uint8Array;
}

/** Inputs of `mintMacaroon`. */
export interface MintOptions {
  rootKey: Uint8Array;
  identifier: Uint8Array;
  location?: string;
}

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder("utf-8", { fatal: true });

/**
 * Creates a macaroon with no caveats. The root key goes through the "macaroons-key-generator" step first.
 * @example const m = mintMacaroon({ rootKey, identifier: crypto.getRandomValues(new Uint8Array(16)) });
 */
export function mintMacaroon(opts: MintOptions): Macaroon {
  checkField(opts.identifier, "identifier");
  const location = opts.location ?? "";
  checkField(encoder.encode(location), "location");
  return {
    version: 2,
    location,
    identifier: opts.identifier.slice(),
    caveats: [],
    signature: keyedHash(deriveKey(opts.rootKey), opts.identifier),
  };
}

/**
 * Returns a copy of `m` with one more first-party caveat (a condition the target service checks).
 * @example const narrowed = addFirstPartyCaveat(token, "expires = 1767225600000");
 */
export function addFirstPartyCaveat(m: Macaroon, condition: string | Uint8Array): Macaroon {
  const id = typeof condition === "string" ? encoder.encode(condition) : condition.slice();
  checkField(id, "caveat");
  checkCaveatCount(m);
  return { ...m, caveats: [...m.caveats, { id }], signature: keyedHash(m.signature, id) };
}

/**
 * Returns a copy of `m` with a third-party caveat: the holder must also present a discharge macaroon minted
 * by the third party with `caveatRootKey` and identifier `caveatId`, bound with `bindDischarge`.
 */
export function addThirdPartyCaveat(m: Macaroon, caveatRootKey: Uint8Array, caveatId: Uint8Array, location = ""): Macaroon {
  checkField(caveatId, "caveat id");
  checkField(encoder.encode(location), "caveat location");
  checkCaveatCount(m);
  const verificationId = sealKey(m.signature, deriveKey(caveatRootKey));
  const caveat: Caveat = location ? { id: caveatId.slice(), verificationId, location } : { id: caveatId.slice(), verificationId };
  return { ...m, caveats: [...m.caveats, caveat], signature: keyedHash2(m.signature, verificationId, caveatId) };
}

/**
 * Binds a discharge macaroon to the root macaroon it will travel with, so it cannot be reused with another.
 * @example const bound = bindDischarge(root.signature, discharge);
 */
export function bindDischarge(rootSignature: Uint8Array, discharge: Macaroon): Macaroon {
  return { ...discharge, signature: bindForRequest(rootSignature, discharge.signature) };
}

/** Where a first-party caveat sits, passed to the checker with its condition. */
export interface CaveatContext {
  /** 0 for the root macaroon, 1 + index into `discharges` for a discharge. */
  macaroonIndex: number;
  caveatIndex: number;
  /**
   * The chain value right after this caveat. It names this exact chain prefix, so a verifier can key
   * per-caveat state on it (a call budget counts calls by every token that carries this caveat, and only those).
   */
  chainKey: Uint8Array;
}

/**
 * Checks one first-party caveat. Returns null (or undefined) when it holds, else a short reason.
 * Unknown conditions must be refused: a macaroon is only as narrow as its checker is strict.
 */
export type CaveatChecker = (condition: string, context: CaveatContext) => string | null | undefined;

/** Why verification failed: a stable tag. */
export type VerifyFailure =
  | "signature_mismatch"
  | "caveat_failed"
  | "caveat_not_utf8"
  | "discharge_missing"
  | "discharge_reused"
  | "discharge_unused"
  | "too_many_discharges"
  | "third_party_key_unreadable";

/** Outcome of `verifyMacaroon`; on `caveat_failed` the condition and the checker's reason are included. */
export type VerifyResult =
  | { ok: true }
  | { ok: false; reason: VerifyFailure; detail: string; condition?: string; checkerReason?: string };

interface PendingCheck {
  bytes: Uint8Array;
  context: CaveatContext;
}

/**
 * Verifies `m` against its root key: every signature in the chain first (so nothing is checked, and no
 * state is touched, for a forged token), then each first-party caveat in order with `check`.
 * Discharges for third-party caveats must be bound to `m` and each used exactly once.
 */
export function verifyMacaroon(m: Macaroon, rootKey: Uint8Array, check: CaveatChecker, discharges: readonly Macaroon[] = []): VerifyResult {
  if (discharges.length > MAX_DISCHARGES) {
    return { ok: false, reason: "too_many_discharges", detail: `${discharges.length} discharges, at most ${MAX_DISCHARGES}` };
  }
  const used = discharges.map(() => false);
  const pending: PendingCheck[] = [];
  const failure = verifyChain(m, 0, deriveKey(rootKey), m.signature, discharges, used, pending);
  if (failure) return failure;
  const unused = used.indexOf(false);
  if (unused >= 0) return { ok: false, reason: "discharge_unused", detail: `discharge ${unused} matches no third-party caveat` };
  for (const p of pending) {
    let condition: string;
    try {
      condition = strictDecoder.decode(p.bytes);
    } catch {
      return { ok: false, reason: "caveat_not_utf8", detail: `caveat ${p.context.caveatIndex} is not UTF-8 text` };
    }
    const why = check(condition, p.context);
    if (why) return { ok: false, reason: "caveat_failed", detail: `caveat "${condition}" refused: ${why}`, condition, checkerReason: why };
  }
  return { ok: true };
}

function verifyChain(
  m: Macaroon,
  index: number,
  key: Uint8Array,
  rootSig: Uint8Array,
  discharges: readonly Macaroon[],
  used: boolean[],
  pending: PendingCheck[],
): Extract<VerifyResult, { ok: false }> | undefined {
  if (m.caveats.length > MAX_CAVEATS) return { ok: false, reason: "signature_mismatch", detail: `more than ${MAX_CAVEATS} caveats` };
  let sig = keyedHash(key, m.identifier);
  for (const [i, cav] of m.caveats.entries()) {
    if (cav.verificationId && cav.verificationId.length > 0) {
      const caveatKey = openKey(sig, cav.verificationId);
      if (!caveatKey) return { ok: false, reason: "third_party_key_unreadable", detail: `caveat ${i} of macaroon ${index}` };
      const di = discharges.findIndex((d, j) => !used[j] && constantTimeEqual(d.identifier, cav.id));
      if (di < 0) {
        const reused = discharges.some((d) => constantTimeEqual(d.identifier, cav.id));
        return reused
          ? { ok: false, reason: "discharge_reused", detail: `caveat ${i} of macaroon ${index} needs a discharge already used` }
          : { ok: false, reason: "discharge_missing", detail: `no discharge for caveat ${i} of macaroon ${index}` };
      }
      // Mark before descending: a discharge that (directly or not) requires itself must not recurse forever.
      used[di] = true;
      const inner = verifyChain(discharges[di]!, di + 1, caveatKey, rootSig, discharges, used, pending);
      if (inner) return inner;
      sig = keyedHash2(sig, cav.verificationId, cav.id);
    } else {
      sig = keyedHash(sig, cav.id);
      pending.push({ bytes: cav.id, context: { macaroonIndex: index, caveatIndex: i, chainKey: sig } });
    }
  }
  if (index > 0) sig = bindForRequest(rootSig, sig);
  if (!constantTimeEqual(sig, m.signature)) return { ok: false, reason: "signature_mismatch", detail: `macaroon ${index} signature does not match` };
  return undefined;
}

function checkField(bytes: Uint8Array, what: string): void {
  if (bytes.length > MAX_FIELD_BYTES) throw new MacaroonError("too_large", `Cannot use ${what}: ${bytes.length} bytes, at most ${MAX_FIELD_BYTES}`);
}

function checkCaveatCount(m: Macaroon): void {
  if (m.caveats.length >= MAX_CAVEATS) throw new MacaroonError("too_large", `Cannot add caveat: already ${MAX_CAVEATS}`);
}

/** The caveat conditions of `m` as text (first-party only), in order; for display and for parsers that read values. */
export function firstPartyConditions(m: Macaroon): string[] {
  return m.caveats.filter((c) => !c.verificationId?.length).map((c) => new TextDecoder().decode(c.id));
}
