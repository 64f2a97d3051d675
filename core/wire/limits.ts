/**
 * Numeric limits and timers of the atProtocol as the reference atServer applies them (ATPROTOCOL.md §2.7).
 *
 * Every part that enforces one of these imports it from here, so the server, the client and the tests agree.
 */

/** Largest request the reference server buffers before answering AT0005 and closing (bytes, incl. the `\n`). */
export const MAX_REQUEST_BYTES = 10_240_000;

/** Longest key name accepted by update/delete/notify (characters). */
export const MAX_KEY_CHARS = 248;

/** Longest key name when it starts with `cached:` (the prefix adds 7 characters). */
export const MAX_CACHED_KEY_CHARS = 255;

/** Longest line the atDirectory buffers before destroying the socket (characters). */
export const MAX_DIRECTORY_LINE_CHARS = 255;

/** How long a `from:` challenge (and a pol proof) stays valid. */
export const CHALLENGE_TTL_MS = 60_000;

/** Largest delay `noop:<ms>` accepts; above it the reference answers AT0022. */
export const NOOP_MAX_MS = 5_000;

/** A sync:from page stops before its JSON would exceed this many bytes (at least one entry is always sent). */
export const SYNC_PAGE_MAX_BYTES = 5_242_880;

/** Default sync page length when the server has no configured limit (reference config.yaml uses 25). */
export const SYNC_PAGE_DEFAULT_ENTRIES = 25;

/** Clients announcing a clientConfig version above this one get JSON error bodies (form B). */
export const JSON_ERRORS_AFTER_CLIENT_VERSION = "3.0.37";

/** Lifetime of a pending enrollment request. */
export const PENDING_ENROLLMENT_TTL_MS = 48 * 60 * 60 * 1000;

/** Default lifetime of an `otp:get` passcode. */
export const OTP_DEFAULT_TTL_MS = 5 * 60 * 1000;

/** Interval of the stats notification written to monitor connections. */
export const STATS_NOTIFICATION_INTERVAL_MS = 15_000;

/** Depth to which `atsign://` value references are resolved by `lookup`. */
export const VALUE_REFERENCE_MAX_DEPTH = 3;
