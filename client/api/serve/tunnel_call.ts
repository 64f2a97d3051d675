/**
 * The calling side of the tunnel path: one tunnel session per API @sign (client/tunnel's openTunnel without a
 * local listener), opened on first use through the caller's relay and kept for later calls; each call is one
 * stream carrying one HTTP/1.1 exchange. The request body is sent chunked as fast as the stream takes it while
 * the response is read, so an upload and a download can both stream; the response body is pulled from the
 * stream only as the app reads it (backpressure back to the API).
 */
import type { AtClient } from "../../at_client.ts";
import { notificationControlChannel, type NotificationChannel } from "../../tunnel/control_channel.ts";
import { resolveRelays } from "../../tunnel/relay_address.ts";
import { openTunnel, TunnelSetupError, type RelayAddress, type Tunnel } from "../../tunnel/tunnel_client.ts";
import { envelopeHeaders, isNullBodyStatus } from "./envelope.ts";
import { ByteReader, bodyStream, encodeHead, framingOf, readHead, statusLine, writeChunked } from "./http1.ts";
import { newStreamSocket } from "./stream_socket.ts";
import { API_DEVICE_NAME, API_TUNNEL_TARGET, TUNNEL_CAPABILITY_HEADER } from "./tunnel_serve.ts";

/** Most APIs one caller keeps a tunnel session with. */
export const MAX_API_TUNNELS = 64;
/** Time to set up a tunnel session with an API. */
export const API_TUNNEL_SETUP_TIMEOUT_MS = 15_000;

/** Why a tunnel call gave no response (mapped to AtFetchError by the caller). */
export class TunnelCallError extends Error {
  override name = "TunnelCallError";
  constructor(
    readonly reason: "unreachable" | "no_answer" | "timeout" | "closed" | "busy",
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

interface ApiTunnel {
  channel: NotificationChannel;
  tunnel: Promise<Tunnel>;
}

/** Tunnel sessions of one caller, per API. */
export class TunnelCaller {
  private readonly tunnels = new Map<string, ApiTunnel>();
  private relay: Promise<RelayAddress[]> | null = null;
  private closed = false;

  /** `relay` is `@relay` (its published addresses are looked up: a fleet) or `host:port[,host:port…]`. */
  constructor(
    private readonly client: AtClient,
    private readonly relayText: string,
  ) {}

  /**
   * Sends `request` (method, headers, body stream) to `path` of `api` over a tunnel stream.
   * Resolves with the response once its head arrived (within `timeoutMs`); its body streams.
   */
  async fetch(api: string, path: string, request: Request, o: { capability?: string; timeoutMs: number; signal?: AbortSignal | null }): Promise<Response> {
    const tunnel = await this.tunnelTo(api, o.timeoutMs);
    const s = newStreamSocket({ abortOnCancel: true });
    s.bind(tunnel.stream(s.sock));
    const onAbort = () => s.abort();
    if (o.signal?.aborted) onAbort();
    o.signal?.addEventListener("abort", onAbort, { once: true });
    void s.done.then(() => o.signal?.removeEventListener("abort", onAbort));

    const hasBody = request.body !== null && request.method !== "GET" && request.method !== "HEAD";
    const headers = envelopeHeaders(request.headers).filter(([k]) => k !== TUNNEL_CAPABILITY_HEADER);
    const capability = o.capability ?? request.headers.get(TUNNEL_CAPABILITY_HEADER) ?? undefined;
    if (capability) headers.push([TUNNEL_CAPABILITY_HEADER, capability]);
    headers.push(["host", "api.at.invalid"]);
    const head = encodeHead(`${request.method} ${path} HTTP/1.1`, headers, hasBody ? [["transfer-encoding", "chunked"]] : []);

    // Upload in the background: the response may start (or refuse) before the body is all sent.
    let uploaded = false;
    const upload = (async () => {
      await s.write(head);
      if (hasBody) await writeChunked(request.body!, (b) => s.write(b));
      uploaded = true;
      s.end();
    })();
    upload.catch(() => s.abort());
    // The whole response is here: the rest of the body is not wanted (the API drops it until our END).
    void s.peerEnded.then(() => {
      if (!uploaded) s.abort();
    });

    const r = new ByteReader(s.readable.getReader());
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), o.timeoutMs)));
    try {
      const got = await Promise.race([readHead(r), late]);
      if (got === "timeout") throw new TunnelCallError("timeout", `${api} did not answer within ${o.timeoutMs} ms (tunnel)`);
      if (got === null) throw new TunnelCallError("closed", `${api} closed the tunnel stream without answering`);
      const status = statusLine(got);
      const noBody = request.method === "HEAD" || isNullBodyStatus(status);
      const body = noBody ? null : bodyStream(r, framingOf(got.headers, true));
      if (noBody) r.cancel();
      const statusText = got.start[2] === "-" ? "" : got.start[2];
      return new Response(body, { status, statusText, headers: got.headers.filter(([k]) => k !== "transfer-encoding" && k !== "content-length") });
    } catch (e) {
      s.abort();
      if (e instanceof TunnelCallError) throw e;
      if (o.signal?.aborted) throw o.signal.reason ?? e;
      throw new TunnelCallError("closed", `The tunnel stream to ${api} failed: ${(e as Error).message}`, { cause: e });
    } finally {
      clearTimeout(timer);
    }
  }

  /** Closes every tunnel session. */
  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.tunnels.values()];
    this.tunnels.clear();
    for (const t of all) {
      t.channel.close();
      await t.tunnel.then((x) => x.close()).catch(() => {});
    }
  }

  private relayAddress(): Promise<RelayAddress[]> {
    this.relay ??= resolveRelays(this.client, this.relayText).catch((e: unknown) => {
      this.relay = null;
      throw e;
    });
    return this.relay;
  }

  private async tunnelTo(api: string, timeoutMs: number): Promise<Tunnel> {
    if (this.closed) throw new TunnelCallError("closed", "the caller was closed");
    let t = this.tunnels.get(api);
    if (!t) {
      if (this.tunnels.size >= MAX_API_TUNNELS) throw new TunnelCallError("busy", `Cannot call ${api}: tunnels to ${MAX_API_TUNNELS} APIs are open`);
      // One control channel per API: a channel's messages go to one consumer, the tunnel of that API.
      const channel = notificationControlChannel({ client: this.client, keys: this.client.keys, device: API_DEVICE_NAME });
      const tunnel = (async () => {
        const relay = await this.relayAddress();
        await channel.ready;
        return openTunnel({
          client: this.client,
          keys: this.client.keys,
          channel,
          device: api,
          deviceName: API_DEVICE_NAME,
          target: API_TUNNEL_TARGET,
          relay,
          setupTimeoutMs: Math.min(timeoutMs, API_TUNNEL_SETUP_TIMEOUT_MS),
        });
      })();
      const entry: ApiTunnel = { channel, tunnel };
      t = entry;
      this.tunnels.set(api, entry);
      tunnel.catch(() => {
        if (this.tunnels.get(api) === entry) this.tunnels.delete(api);
        channel.close();
      });
    }
    try {
      return await t.tunnel;
    } catch (e) {
      // Refused by the API's daemon, or no session in time (the request went out: nothing served it), or the
      // request could not be sent at all (no such @sign, my atServer down).
      const reason = e instanceof TunnelSetupError && !/ refused /.test(e.message) ? "no_answer" : "unreachable";
      throw new TunnelCallError(reason, `Cannot open a tunnel to ${api}: ${(e as Error).message}`, { cause: e });
    }
  }
}
