/**
 * atProtocol wire forms: prompts, success and error responses, the error code table and the protocol limits.
 * The one place that knows the exact bytes; server and client import from here.
 */
export * from "./limits.ts";
export * from "./error_codes.ts";
export * from "./at_protocol_error.ts";
export * from "./responses.ts";
export * from "./dart_date.ts";
export * from "./parse_response.ts";
