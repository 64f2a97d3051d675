/**
 * Reserved and protected keys (ATPROTOCOL.md §3.3).
 */
import { ATSIGN_BODY_PATTERN } from "./_chars.ts";

/** What the reserved keys hold and who writes them; the names use `<me>`/`<other>` for @signs. */
export const RESERVED_KEYS: readonly { key: string; writer: "server" | "client"; content: string }[] = [
  { key: "privatekey:at_secret", writer: "server", content: "CRAM secret" },
  { key: "privatekey:at_secret_deleted", writer: "server", content: "marker `true` once the CRAM secret is deleted" },
  { key: "privatekey:at_pkam_publickey", writer: "client", content: "legacy PKAM public key (base64 DER)" },
  { key: "privatekey:at_pkam_privatekey", writer: "server", content: "reserved name, unused by the server" },
  { key: "privatekey:privatekey", writer: "server", content: "reserved name" },
  { key: "privatekey:self_encryption_key", writer: "server", content: "reserved name" },
  { key: "privatekey:signing_keypair_generated", writer: "server", content: "marker" },
  { key: "privatekey:commitlogcompactionstats", writer: "server", content: "stats" },
  { key: "privatekey:accesslogcompactionstats", writer: "server", content: "stats" },
  { key: "privatekey:notificationcompactionstats", writer: "server", content: "stats" },
  { key: "public:publickey@<me>", writer: "client", content: "RSA-2048 encryption public key" },
  { key: "public:signing_publickey@<me>", writer: "server", content: "RSA-2048 key used for pol" },
  { key: "@<me>:signing_privatekey@<me>", writer: "server", content: "its private half" },
  { key: "private:blocklist@<me>", writer: "server", content: "block list (config:block)" },
  { key: "configkey", writer: "server", content: "legacy block list" },
  { key: "@<other>:shared_key@<me>", writer: "client", content: "AES key for <other>, encrypted with their public key" },
  { key: "cached:public:publickey@<other>", writer: "server", content: "another @sign's encryption key (ttr -1)" },
  { key: "cached:@<me>:shared_key@<other>", writer: "server", content: "cached copy of <other>'s shared key for me" },
];

const SIGN = ATSIGN_BODY_PATTERN;
const RESERVED_PRIVATEKEY_NAMES = [
  "at_pkam_publickey",
  "at_pkam_privatekey",
  "privatekey",
  "self_encryption_key",
  "at_secret",
  "at_secret_deleted",
  "signing_keypair_generated",
  "commitlogcompactionstats",
  "accesslogcompactionstats",
  "notificationcompactionstats",
].join("|");

// The reference tests reserved keys by a partial (unanchored) match, so `cached:public:publickey@bob` and
// `cached:@alice:shared_key@bob` are reserved too. We match case-insensitively (the stored keys are lower case).
const RESERVED = new RegExp(
  String.raw`(?<=privatekey:)(?:${RESERVED_PRIVATEKEY_NAMES})$|configkey$` +
    String.raw`|(?:(?<=private:)blocklist|(?<=public:)signing_publickey|(?<=@${SIGN}:)signing_privatekey` +
    String.raw`|@${SIGN}:shared_key|(?<=public:)publickey)@${SIGN}`,
  "iu",
);

/**
 * True for the well-known keys of §3.3, matched as the reference does (partially).
 * @example isReservedKey("public:publickey@alice") // true
 * @example isReservedKey("phone.wavi@alice") // false
 */
export function isReservedKey(full: string): boolean {
  return RESERVED.test(full);
}

/**
 * True when `delete` must refuse the key with AT0009 (§3.3 `hive.protectedKeys`). Like the reference, the check
 * looks at `<name>@<owner>` without the `public:`/`@with:` scope, so `delete:@bob:publickey@alice` is refused
 * too. We also protect the PKAM public key.
 * @example isProtectedKey({ name: "signing_publickey", owner: "@alice" }, "@alice") // true
 */
export function isProtectedKey(ref: { name: string; owner?: string }, ownAtSign: string): boolean {
  const me = ownAtSign.toLowerCase();
  const bare = `${ref.name}${ref.owner ?? ""}`.toLowerCase();
  return (
    bare === `signing_publickey${me}` ||
    bare === `signing_privatekey${me}` ||
    bare === `publickey${me}` ||
    bare === "at_pkam_publickey" ||
    bare === "privatekey:at_pkam_publickey"
  );
}
