/**
 * atKey names as the SDK accepts them: `public:name`, `@bob:name`, `name`, each optionally ending in
 * `@owner` (default: me). The owner's name forms: `public:name@alice`, `@bob:name@alice`, `name@alice`.
 */
import { normalizeAtSign } from "../../core/atsign.ts";
import { keyRefText, type KeyRef as WireKey } from "../../core/verbs/index.ts";
import { MAX_KEY_CHARS } from "../../core/wire/limits.ts";
import { AtUsageError } from "../errors.ts";

/** A parsed key reference. */
export interface KeyRef {
  visibility: "public" | "self" | "shared";
  /** The entity name with its namespace, e.g. `phone.wavi`. */
  name: string;
  /** The @sign that owns (and stores) the key. */
  owner: string;
  /** For shared keys, who may read it; on a self key, the owner itself (`@alice:name@alice`). */
  sharedWith?: string;
}

const NAME_RE = /^[^\s:@]+$/;

/**
 * Parses a key as typed by a user; `me` is the default owner.
 * @example parseKeyRef("@bob:phone", "@alice") // { visibility: "shared", name: "phone", owner: "@alice", sharedWith: "@bob" }
 */
export function parseKeyRef(text: string, me: string): KeyRef {
  const bad = (why: string) => new AtUsageError(`Invalid key "${text}": ${why} (forms: public:NAME, @BOB:NAME, NAME, optionally followed by @OWNER)`);
  let rest = text.trim();
  let visibility: KeyRef["visibility"] = "self";
  let sharedWith: string | undefined;
  if (rest.toLowerCase().startsWith("public:")) {
    visibility = "public";
    rest = rest.slice(7);
  } else if (rest.startsWith("@")) {
    const colon = rest.indexOf(":");
    if (colon < 0) throw bad("a shared key needs a name after the recipient");
    sharedWith = atSign(rest.slice(0, colon), bad);
    visibility = "shared";
    rest = rest.slice(colon + 1);
  }
  const at = rest.lastIndexOf("@");
  const owner = at >= 0 ? atSign(rest.slice(at), bad) : me;
  const name = (at >= 0 ? rest.slice(0, at) : rest).toLowerCase();
  if (!NAME_RE.test(name)) throw bad("the name may not be empty or contain spaces, ':' or '@'");
  // The reference llookup/lookup grammar needs two characters before the @; a one-letter key could be
  // written but never read back.
  if (name.length < 2) throw bad("the name needs at least 2 characters");
  // `@alice:name@alice` is a self key too (the reference encrypts it with the self key) but a distinct name.
  if (sharedWith === owner) visibility = "self";
  const ref: KeyRef = sharedWith ? { visibility, name, owner, sharedWith } : { visibility, name, owner };
  if (formatKey(ref).length > MAX_KEY_CHARS) throw bad(`longer than ${MAX_KEY_CHARS} characters`);
  return ref;
}

function atSign(text: string, bad: (why: string) => Error): string {
  try {
    return normalizeAtSign(text);
  } catch (e) {
    throw bad((e as Error).message);
  }
}

/** The core/verbs key of a parsed reference (what the request builders take). */
export function wireKey(ref: KeyRef): WireKey & { owner: string } {
  if (ref.visibility === "public") return { isPublic: true, name: ref.name, owner: ref.owner };
  if (ref.sharedWith) return { sharedWith: ref.sharedWith, name: ref.name, owner: ref.owner };
  return { name: ref.name, owner: ref.owner };
}

/** The full key as the server stores it: `public:name@owner`, `@bob:name@owner` or `name@owner`. */
export function formatKey(ref: KeyRef): string {
  return keyRefText(wireKey(ref));
}
