/**
 * Typed errors of the client SDK. Every error carries the atProtocol code it came from (or the nearest code
 * of the table for client-side failures), a `kind` that decides the CLI exit status, and a message a person
 * can act on. Callers branch on the class (`instanceof AtKeyNotFoundError`) or on `kind`.
 */

/** What went wrong, coarsely; the CLI maps it to its exit status. */
export type AtErrorKind = "not_found" | "usage" | "auth" | "crypto" | "network" | "server";

/** Base class of every SDK error. */
export class AtClientError extends Error {
  override name = "AtClientError";
  constructor(
    /** The atProtocol code (`AT0015`) or, for client-side failures, the closest code of the table. */
    readonly code: string,
    readonly kind: AtErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The key does not exist (AT0015), or an @sign has no public key yet. */
export class AtKeyNotFoundError extends AtClientError {
  override name = "AtKeyNotFoundError";
  constructor(message: string, code = "AT0015") {
    super(code, "not_found", message);
  }
}

/** CRAM/PKAM failed or a command needed an authenticated connection (AT0401, APKAM codes AT0025-AT0029). */
export class AtAuthError extends AtClientError {
  override name = "AtAuthError";
  constructor(message: string, code = "AT0401", options?: { cause?: unknown }) {
    super(code, "auth", message, options);
  }
}

/** Decryption or signature verification failed: wrong key, tampered value, or a key that is not ours. */
export class AtCryptoError extends AtClientError {
  override name = "AtCryptoError";
  constructor(message: string, options?: { cause?: unknown }) {
    super("AT0014", "crypto", message, options);
  }
}

/** The directory or the atServer could not be reached, the TLS check failed, or a reply did not come in time. */
export class AtNetworkError extends AtClientError {
  override name = "AtNetworkError";
  constructor(message: string, code = "AT0021", options?: { cause?: unknown }) {
    super(code, "network", message, options);
  }
}

/** The server refused the request for a reason not covered above (bad syntax, invalid key, not allowed ...). */
export class AtServerError extends AtClientError {
  override name = "AtServerError";
}

/** The caller passed something the SDK cannot use (bad key name, bad option value). */
export class AtUsageError extends AtClientError {
  override name = "AtUsageError";
  constructor(message: string) {
    super("AT0022", "usage", message);
  }
}

const AUTH_CODES = new Set(["AT0401", "AT0025", "AT0026", "AT0027", "AT0028", "AT0029"]);

/**
 * The typed error for an `error:` response of the server.
 * @example errorFromServer("AT0015", "key not found : x@alice does not exist", "llookup:x@alice")
 */
export function errorFromServer(code: string, description: string, request: string): AtClientError {
  const what = `${verbOf(request)} failed: ${description}`;
  if (code === "AT0015") return new AtKeyNotFoundError(what);
  if (AUTH_CODES.has(code)) return new AtAuthError(what, code);
  if (code === "AT0016" || code === "AT0003" || code === "AT0022") return new AtServerError(code, "usage", what);
  return new AtServerError(code, "server", what);
}

// Never echo a whole request: it may carry a value or a signature.
function verbOf(request: string): string {
  const colon = request.indexOf(":");
  return colon > 0 ? request.slice(0, colon) : request.split(" ")[0]!;
}
