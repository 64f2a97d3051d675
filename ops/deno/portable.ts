/**
 * The modules that must run under Deno as well as Bun (protocol, crypto, capabilities). `deno task check`
 * type-checks this file and so everything it imports; a Bun-only API in one of them fails the check.
 */
export * as options from "../../core/options.ts";
export * as atsign from "../../core/atsign.ts";
export * as lineBuffer from "../../core/net/line_buffer.ts";
export * as writeQueue from "../../core/net/write_queue.ts";
export * as wire from "../../core/wire/index.ts";
export * as verbs from "../../core/verbs/index.ts";
export * as keys from "../../core/keys/index.ts";
export * as crypto from "../../core/crypto/index.ts";
export * as macaroon from "../../core/macaroon/index.ts";
export * as capability from "../../client/api/capability/index.ts";
export * as relayWire from "../../core/relay/wire.ts";
export * as tunnelHandshake from "../../core/crypto/tunnel/handshake.ts";
export * as tunnelRecord from "../../core/crypto/tunnel/record.ts";
