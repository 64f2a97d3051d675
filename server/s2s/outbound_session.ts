/**
 * One authenticated server-to-server connection (ATPROTOCOL.md §4.3, caller side): TLS presenting our server
 * certificate as client certificate, `lookup:all:publickey@them`, `from:@me`, the proof signed with our
 * signing key and published as `public:_<session>@me` for 60 s, `pol`, and the `@me@` answer. Only a proof
 * for a session key of ours, issued by the @sign we dialed (or naming no one, as the reference's) is signed;
 * when the callee offers the bound form, what we sign names it as dialed (s2s/pol_proof.ts). After that the
 * session carries requests (`notify:`, `lookup:all:`) whose answers come back in order, so several may be in
 * flight at once (bounded by `maxInFlight`).
 */
import type { Socket } from "bun";
import { normalizeAtSign } from "../../core/atsign.ts";
import { flush, newWriteQueue, send, type WriteQueue } from "../../core/net/write_queue.ts";
import { AtProtocolError, parsePolResponse, parseResponse, stripPrompt, type ParsedResponse } from "../../core/wire/index.ts";
import { REMOTE_ANSWER_MAX_BYTES } from "../line_client.ts";
import { boundPayload, publishedProof, readProofAnswer, type ProofRequest } from "./pol_proof.ts";

/** Deadline of each handshake step (the reference's 3 s from/pol read timeout). */
export const S2S_HANDSHAKE_TIMEOUT_MS = 3_000;
/** Default deadline of one request on an open session (the reference's notify timeout). */
export const S2S_REQUEST_TIMEOUT_MS = 10_000;
/** Requests written but not yet answered, per session. */
export const S2S_MAX_IN_FLIGHT = 64;
/** Requests waiting for a slot in the window, per session; beyond it `request` rejects. */
export const S2S_MAX_WAITING = 10_000;
/** Bytes queued for the socket before writes are refused (the peer is not reading). */
export const S2S_WRITE_QUEUE_MAX_BYTES = 16 * 1024 * 1024;

/** What a session needs from its server. */
export interface SessionOptions {
  ownAtSign: string;
  remoteAtSign: string;
  host: string;
  port: number;
  /** CAs that may sign the remote server's certificate. */
  ca: string[];
  /** Our certificate and key, presented as client certificate. */
  tls: { key: string; cert: string };
  /** Signs the proof (base64 RSA-SHA256 with our signing key). */
  signProof(proof: string): Promise<string>;
  /**
   * Publishes the signature as `public:<sessionKey>` (e.g. `public:_<uuid>@alice`) for 60 s; throws when that
   * key is already published (a callee must not make us replace another session's proof).
   */
  publishProof(sessionKey: string, signature: string): void;
  /** Removes it once `pol` succeeded. */
  retractProof(sessionKey: string): void;
  /** Receives the remote's `lookup:all:publickey@them` answer (JSON), to refresh our cached copy. */
  onPublicKey?(json: string): void;
  maxInFlight?: number;
}

/** An open, pol-authenticated session. */
export interface OutboundSession {
  readonly remoteAtSign: string;
  /** Sends one request line; resolves with its parsed answer. Rejects when the session fails or times out. */
  request(line: string, timeoutMs?: number): Promise<ParsedResponse>;
  /** Requests sent or waiting. */
  pending(): number;
  isClosed(): boolean;
  /** Epoch ms of the last request (idle close). */
  lastUsedAt: number;
  close(): void;
}

interface Waiter {
  kind: "greeting" | "line" | "pol";
  resolve(v: ParsedResponse | string): void;
  reject(err: Error): void;
  timer?: ReturnType<typeof setTimeout>;
}

interface Queued {
  line: string;
  timeoutMs: number;
  waiter: Waiter;
}

const handshakeError = (msg: string) => new AtProtocolError("AT0008", `Handshake failure: ${msg}`);

/**
 * Connects and authenticates. Rejects with AT0021 when the server cannot be reached and AT0008 when the
 * handshake fails.
 * @example const s = await openSession({ ownAtSign: "@alice", remoteAtSign: "@bob", host, port, ca, tls, ... });
 */
export async function openSession(opts: SessionOptions): Promise<OutboundSession> {
  const maxInFlight = opts.maxInFlight ?? S2S_MAX_IN_FLIGHT;
  const decoder = new TextDecoder();
  const out: WriteQueue = newWriteQueue(S2S_WRITE_QUEUE_MAX_BYTES);
  let buffer = "";
  let closed = false;
  let socket: Socket<undefined> | undefined;
  const inFlight: Waiter[] = [];
  const waiting: Queued[] = [];
  let closedError: Error = new AtProtocolError("AT0021", `Connection to ${opts.remoteAtSign} closed`);

  const fail = (err: Error) => {
    if (closed) return;
    closed = true;
    closedError = err;
    for (const w of inFlight.splice(0)) {
      clearTimeout(w.timer);
      w.reject(err);
    }
    for (const q of waiting.splice(0)) q.waiter.reject(err);
    socket?.end();
  };

  const settle = (w: Waiter, v: ParsedResponse | string) => {
    clearTimeout(w.timer);
    w.resolve(v);
  };

  const read = () => {
    while (inFlight.length > 0) {
      const w = inFlight[0]!;
      if (w.kind === "greeting") {
        if (buffer !== "@") return;
        buffer = "";
        inFlight.shift();
        settle(w, "@");
        continue;
      }
      const nl = buffer.indexOf("\n");
      if (w.kind === "pol" && nl === -1) {
        // The answer is `@alice@` with no newline, behind the `@` prompt of the `from:` answer.
        const atSign = parsePolResponse(buffer.replace(/^@(?=@)/, ""));
        if (atSign === null) return;
        buffer = "";
        inFlight.shift();
        settle(w, atSign);
        continue;
      }
      if (nl === -1) return;
      const line = stripPrompt(buffer.slice(0, nl));
      buffer = buffer.slice(nl + 1);
      const parsed = parseResponse(line);
      if (!parsed) return fail(new AtProtocolError("AT0021", `${opts.remoteAtSign} sent an unexpected line: ${line.slice(0, 100)}`));
      inFlight.shift();
      settle(w, parsed);
    }
    // Between answers only a prompt may be left over.
    if (buffer.includes("\n")) fail(new AtProtocolError("AT0021", `${opts.remoteAtSign} sent an unrequested answer`));
  };

  const pump = () => {
    while (!closed && waiting.length > 0 && inFlight.length < maxInFlight) {
      const q = waiting.shift()!;
      q.waiter.timer = setTimeout(() => fail(new AtProtocolError("AT0023", `Timeout waiting for a response from ${opts.remoteAtSign}`)), q.timeoutMs);
      inFlight.push(q.waiter);
      if (send(socket!, out, q.line + "\n") === "overflow") fail(new AtProtocolError("AT0021", `${opts.remoteAtSign} does not read its requests`));
    }
  };

  const enqueue = (kind: Waiter["kind"], line: string | null, timeoutMs: number) =>
    new Promise<ParsedResponse | string>((resolve, reject) => {
      if (closed) return reject(closedError);
      const waiter: Waiter = { kind, resolve, reject };
      if (line === null) {
        waiter.timer = setTimeout(() => fail(handshakeError(`no greeting from ${opts.remoteAtSign}`)), timeoutMs);
        inFlight.push(waiter);
        return;
      }
      if (waiting.length >= S2S_MAX_WAITING) return reject(new AtProtocolError("AT0006", `Too many requests queued for ${opts.remoteAtSign}`));
      waiting.push({ line, timeoutMs, waiter });
      pump();
    });

  try {
    socket = await Bun.connect<undefined>({
      hostname: opts.host,
      port: opts.port,
      tls: { ca: opts.ca, serverName: opts.host, key: opts.tls.key, cert: opts.tls.cert },
      socket: {
        data(_s, chunk) {
          buffer += decoder.decode(chunk, { stream: true });
          if (buffer.length > REMOTE_ANSWER_MAX_BYTES) return fail(new AtProtocolError("AT0021", `${opts.remoteAtSign} sent an oversized answer`));
          read();
          pump();
        },
        drain(s) {
          flush(s, out);
        },
        close() {
          fail(closedError);
        },
        connectError(_s, err) {
          fail(new AtProtocolError("AT0021", `Unable to connect to ${opts.remoteAtSign} at ${opts.host}:${opts.port}: ${err.message}`));
        },
        error(_s, err) {
          fail(new AtProtocolError("AT0021", `Connection to ${opts.remoteAtSign} failed: ${err.message}`));
        },
      },
    });
  } catch (err) {
    throw new AtProtocolError("AT0021", `Unable to connect to ${opts.remoteAtSign} at ${opts.host}:${opts.port}: ${(err as Error).message}`);
  }
  if (closed) {
    socket.end();
    throw closedError;
  }

  const session: OutboundSession = {
    remoteAtSign: opts.remoteAtSign,
    lastUsedAt: Date.now(),
    async request(line, timeoutMs = S2S_REQUEST_TIMEOUT_MS) {
      session.lastUsedAt = Date.now();
      return (await enqueue("line", line, timeoutMs)) as ParsedResponse;
    },
    pending: () => inFlight.length + waiting.length,
    isClosed: () => closed,
    close: () => fail(new AtProtocolError("AT0021", `Session to ${opts.remoteAtSign} closed`)),
  };

  try {
    // TLS writes before the handshake are lost (Bun resolves connect early): wait for the server's `@`.
    await enqueue("greeting", null, S2S_HANDSHAKE_TIMEOUT_MS);
    await authenticate(opts, session, () => enqueue("pol", "pol", S2S_HANDSHAKE_TIMEOUT_MS));
  } catch (err) {
    session.close();
    throw err instanceof AtProtocolError ? err : handshakeError((err as Error).message);
  }
  return session;
}

/** `lookup:all:publickey`, `from:`, the proof we agree to sign (published until `pol` is answered), `pol`. */
async function authenticate(opts: SessionOptions, session: OutboundSession, pol: () => Promise<ParsedResponse | string>): Promise<void> {
  // Whom we dialed, as it names itself: the bound form signs this, never a name read from its answers.
  const callee = normalizeAtSign(opts.remoteAtSign);
  const pk = await session.request(`lookup:all:publickey${opts.remoteAtSign}`, S2S_HANDSHAKE_TIMEOUT_MS);
  if (pk.kind === "data") opts.onPublicKey?.(pk.payload);
  const from = await session.request(`from:${opts.ownAtSign}`, S2S_HANDSHAKE_TIMEOUT_MS);
  if (from.kind !== "data") throw handshakeError(`${opts.remoteAtSign} refused from:${opts.ownAtSign}: ${from.code} ${from.description}`);
  let asked: ProofRequest;
  try {
    asked = readProofAnswer(from.payload, opts.ownAtSign, callee);
  } catch (err) {
    throw handshakeError(`refusing to sign for ${opts.remoteAtSign}: ${(err as Error).message}`);
  }
  const { sessionKey, challenge, bound } = asked;
  const signed = bound ? boundPayload({ callee, caller: opts.ownAtSign, sessionKey, challenge }) : challenge;
  opts.publishProof(sessionKey, publishedProof(await opts.signProof(signed), bound));
  try {
    const answer = await pol();
    if (typeof answer !== "string") throw handshakeError(`${opts.remoteAtSign} refused pol: ${answer.kind === "error" ? `${answer.code} ${answer.description}` : answer.payload}`);
    if (answer !== opts.ownAtSign) throw handshakeError(`${opts.remoteAtSign} answered pol as ${answer}`);
  } finally {
    opts.retractProof(sessionKey);
  }
}
