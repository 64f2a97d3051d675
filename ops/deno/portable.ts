/**
 * The modules that must run under Deno as well as Bun (protocol, crypto, client SDK). `deno task check`
 * type-checks this file and so everything it imports; a Bun-only API in one of them fails the check.
 */
export * from "../../core/options.ts";
export * from "../../core/atsign.ts";
export * from "../../core/net/line_buffer.ts";
export * from "../../core/net/write_queue.ts";
