/**
 * The modules that must run under Deno as well as Bun (protocol, crypto, capabilities, and the client SDK's
 * core: TLS transport, connection, auth, data API, notify/monitor, enrollment). `deno task check` type-checks
 * this file and so everything it imports; a Bun-only API in one of them fails the check (no module in this
 * graph may import from "bun", which would bring Bun's global types along).
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
export * as transport from "../../core/net/transport.ts";
export * as serviceTls from "../../core/net/tls.ts";
export * as atClient from "../../client/at_client.ts";
export * as atMonitor from "../../client/monitor/at_monitor.ts";
export * as sendNotify from "../../client/notify/send_notify.ts";
export * as requestEnrollment from "../../client/enroll/request_enrollment.ts";
export * as manageEnrollments from "../../client/enroll/manage_enrollments.ts";
export * as rootLookup from "../../client/connection/root_lookup.ts";
export * as syncWire from "../../client/sync/sync_wire.ts";
export * as tunnelControlMessage from "../../client/tunnel/control_message.ts";
export * as tunnelPermits from "../../client/tunnel/permits.ts";
export * as apiEnvelope from "../../client/api/serve/envelope.ts";
export * as bytes from "../../core/bytes.ts";
export * as hostPort from "../../core/host_port.ts";
