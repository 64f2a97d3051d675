/**
 * Container health check: healthy when the service accepts a TCP connection on INLAY_PORT (the port the
 * entry was told to listen on). Exit 0 healthy, 1 not.
 */
const port = Number(process.env.INLAY_PORT ?? "0");
if (!port) {
  console.error("healthcheck: INLAY_PORT is not set; set it to the service port");
  process.exit(1);
}
const HEALTHCHECK_TIMEOUT_MS = 3_000;
const timer = setTimeout(() => process.exit(1), HEALTHCHECK_TIMEOUT_MS);
try {
  const s = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {} } });
  s.end();
  clearTimeout(timer);
  process.exit(0);
} catch {
  process.exit(1);
}
