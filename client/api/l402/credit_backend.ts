/**
 * Prepaid-credit payment backend, for deployments without Lightning: the operator issues credit tokens
 * (a balance in satoshi-equivalent credits), the L402 middleware asks for invoices as usual, and a caller
 * settles one by spending credit, which reveals the invoice's preimage exactly as a Lightning payment would.
 * So clients and the middleware see one flow whichever backend is in use.
 *
 * Storage is sqlite. Credit tokens are bearer secrets: only their SHA-256 is stored. Spending is one
 * IMMEDIATE transaction (debit guarded by `balance >= amount`, invoice marked settled), so two concurrent
 * payments can neither overdraw an account nor settle one invoice twice.
 *
 * Payment request format: `inlay-credit:<payment hash hex>:<amount>`.
 */
import type { Database } from "bun:sqlite";
import { createHash, randomBytes } from "node:crypto";
import { openSqlite } from "../../../core/store/sqlite.ts";
import { PaymentBackendError, type Invoice, type PaymentBackend } from "./payment_backend.ts";

/** How long a credit invoice can be paid. */
export const CREDIT_INVOICE_TTL_MS = 10 * 60_000;
/** Settled invoices are kept this long for `lookup`, then pruned. */
export const CREDIT_SETTLED_RETENTION_MS = 7 * 86_400_000;
/** Most unpaid, unexpired invoices at once: every 402 answer creates one, so strangers can grow this. */
export const MAX_OPEN_CREDIT_INVOICES = 100_000;
/** Largest single issue or invoice amount. */
export const MAX_CREDIT_AMOUNT = 1_000_000_000;

const TOKEN_PREFIX = "inlaycredit_";
const REQUEST_PREFIX = "inlay-credit:";

const SCHEMA_V1 = `
CREATE TABLE accounts (token_hash BLOB PRIMARY KEY, balance INTEGER NOT NULL CHECK (balance >= 0), created_at INTEGER NOT NULL) STRICT;
CREATE TABLE invoices (
  payment_hash BLOB PRIMARY KEY, preimage BLOB NOT NULL, amount INTEGER NOT NULL, memo TEXT NOT NULL,
  created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, settled_at INTEGER
) STRICT;
CREATE INDEX invoices_open ON invoices (expires_at) WHERE settled_at IS NULL;
`;

/** Why `pay` settled nothing. */
export type PayRefusal = "unknown_token" | "unknown_invoice" | "malformed_request" | "already_paid" | "invoice_expired" | "insufficient_credit";

/** Outcome of `pay`: the preimage (hex) on success. */
export type PayResult = { ok: true; preimage: string } | { ok: false; reason: PayRefusal };

/** Where the credit database lives, plus an injectable clock and limits for tests. */
export interface CreditBackendOptions {
  path: string;
  now?: () => number;
  invoiceTtlMs?: number;
  maxOpenInvoices?: number;
}

/** Operator-issued prepaid credits in sqlite; implements PaymentBackend and adds issue/pay/balance. */
export class CreditBackend implements PaymentBackend {
  readonly #db: Database;
  readonly #now: () => number;
  readonly #ttl: number;
  readonly #maxOpen: number;

  constructor(opts: CreditBackendOptions) {
    this.#db = openSqlite(opts.path, { migrations: [SCHEMA_V1] });
    this.#now = opts.now ?? Date.now;
    this.#ttl = opts.invoiceTtlMs ?? CREDIT_INVOICE_TTL_MS;
    this.#maxOpen = opts.maxOpenInvoices ?? MAX_OPEN_CREDIT_INVOICES;
  }

  /**
   * Issues a new credit token holding `amount` credits. Show the token to its owner once; only its hash is kept.
   * @example const token = backend.issueCredits(10_000);
   */
  issueCredits(amount: number): string {
    checkAmount(amount);
    const token = TOKEN_PREFIX + new Uint8Array(randomBytes(32)).toBase64({ alphabet: "base64url", omitPadding: true });
    this.#db.query("INSERT INTO accounts (token_hash, balance, created_at) VALUES ($h, $b, $t)").run({ h: tokenHash(token), b: amount, t: this.#now() });
    return token;
  }

  /** Adds credits to an existing token; false when the token is unknown. */
  topUp(token: string, amount: number): boolean {
    checkAmount(amount);
    return this.#db.query("UPDATE accounts SET balance = balance + $b WHERE token_hash = $h").run({ h: tokenHash(token), b: amount }).changes === 1;
  }

  /** Remaining credits, or undefined for an unknown token. */
  balance(token: string): number | undefined {
    const row = this.#db.query("SELECT balance FROM accounts WHERE token_hash = $h").get({ h: tokenHash(token) }) as { balance: number } | null;
    return row?.balance;
  }

  async createInvoice(amountSat: number, memo: string): Promise<Invoice> {
    checkAmount(amountSat);
    const now = this.#now();
    const preimage = new Uint8Array(randomBytes(32));
    const hash = new Uint8Array(createHash("sha256").update(preimage).digest());
    this.#db.transaction(() => {
      this.#prune(now);
      const open = (this.#db.query("SELECT count(*) AS n FROM invoices WHERE settled_at IS NULL").get() as { n: number }).n;
      if (open >= this.#maxOpen) throw new PaymentBackendError("full", `${open} unpaid credit invoices open`);
      this.#db
        .query("INSERT INTO invoices (payment_hash, preimage, amount, memo, created_at, expires_at) VALUES ($h, $p, $a, $m, $c, $e)")
        .run({ h: hash, p: preimage, a: amountSat, m: memo, c: now, e: now + this.#ttl });
    }).immediate();
    return { paymentRequest: `${REQUEST_PREFIX}${hash.toHex()}:${amountSat}`, paymentHash: hash.toHex() };
  }

  async lookup(paymentHash: string): Promise<boolean> {
    if (!/^[0-9a-f]{64}$/.test(paymentHash)) return false;
    const row = this.#db.query("SELECT settled_at FROM invoices WHERE payment_hash = $h").get({ h: Uint8Array.fromHex(paymentHash) }) as { settled_at: number | null } | null;
    return row?.settled_at != null;
  }

  /**
   * Settles `paymentRequest` with credit from `token`, atomically; returns the preimage (hex) to present.
   * @example const r = backend.pay(token, invoice); if (r.ok) headers.set("Authorization", authorizationHeader(mac, r.preimage));
   */
  pay(token: string, paymentRequest: string): PayResult {
    const m = new RegExp(`^${REQUEST_PREFIX}([0-9a-f]{64}):([0-9]{1,10})$`).exec(paymentRequest);
    if (!m) return { ok: false, reason: "malformed_request" };
    const hash = Uint8Array.fromHex(m[1]!);
    const now = this.#now();
    return this.#db.transaction((): PayResult => {
      const inv = this.#db.query("SELECT preimage, amount, expires_at, settled_at FROM invoices WHERE payment_hash = $h").get({ h: hash }) as {
        preimage: Uint8Array;
        amount: number;
        expires_at: number;
        settled_at: number | null;
      } | null;
      if (!inv) return { ok: false, reason: "unknown_invoice" };
      if (inv.settled_at !== null) return { ok: false, reason: "already_paid" };
      if (inv.expires_at <= now) return { ok: false, reason: "invoice_expired" };
      const th = tokenHash(token);
      const debit = this.#db.query("UPDATE accounts SET balance = balance - $a WHERE token_hash = $h AND balance >= $a").run({ a: inv.amount, h: th });
      if (debit.changes !== 1) {
        const known = this.#db.query("SELECT 1 FROM accounts WHERE token_hash = $h").get({ h: th });
        return { ok: false, reason: known ? "insufficient_credit" : "unknown_token" };
      }
      this.#db.query("UPDATE invoices SET settled_at = $t WHERE payment_hash = $h").run({ t: now, h: hash });
      return { ok: true, preimage: inv.preimage.toHex() };
    }).immediate();
  }

  close(): void {
    this.#db.close();
  }

  #prune(now: number): void {
    this.#db.query("DELETE FROM invoices WHERE settled_at IS NULL AND expires_at <= $n").run({ n: now });
    this.#db.query("DELETE FROM invoices WHERE settled_at IS NOT NULL AND settled_at <= $n").run({ n: now - CREDIT_SETTLED_RETENTION_MS });
  }
}

function tokenHash(token: string): Uint8Array {
  return new Uint8Array(createHash("sha256").update(token).digest());
}

function checkAmount(amount: number): void {
  if (!Number.isSafeInteger(amount) || amount <= 0 || amount > MAX_CREDIT_AMOUNT) {
    throw new RangeError(`Cannot use credit amount ${amount}: must be an integer in 1..${MAX_CREDIT_AMOUNT}`);
  }
}
