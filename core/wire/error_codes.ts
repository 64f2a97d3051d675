/**
 * The atProtocol error code table (ATPROTOCOL.md §2.6) as data.
 *
 * `description` is the reference server's table text, which appears on the wire in front of the message for
 * owner-authenticated connections (`key not found : @alice:x@bob does not exist`). `closes` says whether the
 * reference server closes the connection after writing the error.
 */
export const ERROR_CODES = {
  AT0001: { description: "Server exception", closes: false },
  AT0002: { description: "DataStore exception", closes: true },
  AT0003: { description: "Invalid syntax", closes: false },
  AT0004: { description: "Socket error", closes: false },
  AT0005: { description: "Buffer limit exceeded", closes: true },
  AT0006: { description: "Outbound connection limit exceeded", closes: false },
  AT0007: { description: "Secondary server not found", closes: false },
  AT0008: { description: "Handshake failure", closes: false },
  AT0009: { description: "UnAuthorized client in request", closes: false },
  AT0010: { description: "Internal server error", closes: false },
  // Unmapped exceptions close the connection; the throttling/enrollment uses of AT0011 pass `closes: false`.
  AT0011: { description: "Internal server exception", closes: true },
  AT0012: { description: "Inbound connection limit exceeded", closes: true },
  AT0013: { description: "Connection Exception", closes: true },
  AT0014: { description: "Unknown AtClient exception", closes: false },
  AT0015: { description: "key not found", closes: false },
  AT0016: { description: "Invalid key", closes: false },
  AT0021: { description: "Unable to connect to secondary", closes: false },
  AT0022: { description: "Illegal arguments", closes: false },
  AT0023: { description: "Timeout waiting for response", closes: false },
  AT0024: { description: "Server is paused", closes: true },
  AT0025: { description: "Apkam Auth Denied", closes: false },
  AT0026: { description: "Apkam Auth Failed", closes: false },
  AT0027: { description: "Apkam Access Revoked", closes: false },
  AT0028: { description: "Too Many Requests", closes: false },
  AT0029: { description: "Apkam Enrollment Expired", closes: false },
  AT0030: { description: "Invalid Enrollment Status", closes: false },
  AT0031: { description: "Cannot revoke self enrollment", closes: false },
  AT0401: { description: "Client authentication failed", closes: false },
} as const satisfies Record<string, { description: string; closes: boolean }>;

/** One of the known atProtocol error codes, e.g. `"AT0015"`. */
export type AtErrorCode = keyof typeof ERROR_CODES;

/**
 * True when `code` is a known atProtocol error code.
 * @example isAtErrorCode("AT0015") // true
 */
export function isAtErrorCode(code: string): code is AtErrorCode {
  return Object.hasOwn(ERROR_CODES, code);
}
