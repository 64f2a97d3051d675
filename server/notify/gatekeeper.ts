/**
 * The gatekeeper (Inlay's own; server/README.md "Gatekeeper"): the owner's rules per namespace and direction,
 * and the quarantine of notifications from @signs the owner does not know. One question for every exchange
 * with another @sign — allow, quarantine or deny — answered from memory; the rules, the known @signs and the
 * held notifications are written through to gatekeeper_store.ts.
 *
 * An @sign is known inbound when the owner admitted it, has sent it a notification, or the access lists'
 * allow list names it; outbound only when admitted (else any send would make its recipient known).
 */
import type { GateDirection, GatekeeperOperation, GateUnknownPolicy } from "../../core/verbs/command.ts";
import { AtProtocolError } from "../../core/wire/index.ts";
import { openGatekeeperStore, type GatekeeperStore } from "./gatekeeper_store.ts";
import type { NewNotification } from "./notification_store.ts";

/** Bounds of the gatekeeper's state (operators and tests may lower them). */
export interface GateLimits {
  /** Notifications held per unknown sender; over it the sender's oldest is dropped. */
  perSenderNotifications: number;
  /** Bytes (the stored notification as JSON) held per sender; one larger notification is dropped unheld. */
  perSenderBytes: number;
  /** Senders held at once; over it the oldest held notification anywhere is dropped. */
  maxSenders: number;
  /** Bytes held in all; over it the oldest held notification anywhere is dropped. */
  totalBytes: number;
  /** Known @signs remembered (admitted ones beyond it are refused, AT0022; contacted ones are not recorded). */
  knownAtSigns: number;
  /** Rules (namespaces with a rule) per direction. */
  rulesPerDirection: number;
  /** @signs on one rule's allow or deny list. */
  atSignsPerList: number;
}

/** Defaults: "a few notifications and bytes" per sender, a few MiB in all. */
export const DEFAULT_GATE_LIMITS: GateLimits = {
  perSenderNotifications: 10,
  perSenderBytes: 16 * 1024,
  maxSenders: 1_000,
  totalBytes: 4 * 1024 * 1024,
  knownAtSigns: 100_000,
  rulesPerDirection: 256,
  atSignsPerList: 1_000,
};

/** What the gate says about one exchange. */
export type GateVerdict = "allow" | "quarantine" | "deny";

/**
 * What the gate dropped, by reason: held notifications that left the quarantine other than by admission, and
 * queued outbound ones a rule made since denied (`deniedAtDelivery`).
 */
export type GateDropReason = "tooLarge" | "overSenderCap" | "overTotalCap" | "rejected" | "deniedAtDelivery";

interface Rule {
  unknown?: GateUnknownPolicy;
  allow: Set<string>;
  deny: Set<string>;
}

/** The gatekeeper's state: the store and what is read on every exchange. */
export interface Gatekeeper {
  readonly store: GatekeeperStore;
  readonly limits: GateLimits;
  readonly rules: Record<GateDirection, Map<string, Rule>>;
  /** Known @signs: true when admitted by the owner, false when only sent to. */
  readonly known: Map<string, boolean>;
  readonly senders: Map<string, { held: number; bytes: number }>;
  totalBytes: number;
  readonly dropped: Record<GateDropReason, number>;
  /** The counters changed since they were last written (they are written with the next write, or at close). */
  droppedUnsaved: boolean;
}

type RulesDoc = Record<GateDirection, Record<string, { unknown?: GateUnknownPolicy; allow: string[]; deny: string[] }>>;

/**
 * Opens the gatekeeper of one server (its file at `path`).
 * @example const gate = openGatekeeper(join(dataDir, "gatekeeper.sqlite"));
 */
export function openGatekeeper(path: string, limits: Partial<GateLimits> = {}): Gatekeeper {
  const store = openGatekeeperStore(path);
  const g: Gatekeeper = {
    store,
    limits: { ...DEFAULT_GATE_LIMITS, ...limits },
    rules: { in: new Map(), out: new Map() },
    known: new Map(store.known().map((k) => [k.atSign, k.admitted])),
    senders: new Map(),
    totalBytes: 0,
    dropped: { tooLarge: 0, overSenderCap: 0, overTotalCap: 0, rejected: 0, deniedAtDelivery: 0 },
    droppedUnsaved: false,
  };
  const doc = store.readRules();
  if (doc) {
    const parsed = JSON.parse(doc) as RulesDoc;
    for (const direction of ["in", "out"] as const) {
      for (const [ns, r] of Object.entries(parsed[direction] ?? {})) {
        g.rules[direction].set(ns, { unknown: r.unknown, allow: new Set(r.allow), deny: new Set(r.deny) });
      }
    }
  }
  for (const s of store.senders()) {
    g.senders.set(s.from, { held: s.held, bytes: s.bytes });
    g.totalBytes += s.bytes;
  }
  for (const [name, n] of Object.entries(store.counters())) if (name in g.dropped) g.dropped[name as GateDropReason] = n;
  return g;
}

/**
 * The bare name of a key the gate classifies: `@bob:phone.wavi@alice`, `public:phone.wavi@alice` and
 * `phone.wavi` all give `phone.wavi`.
 */
export function gateName(key: string): string {
  const bare = key.replace(/^(?:public:|@[^:@]+:)/, "");
  const at = bare.lastIndexOf("@");
  return at > 0 ? bare.slice(0, at) : bare;
}

/** The rules that bind `name`, most specific first: every dot-suffix namespace with a rule, then `*`. */
function ruleChain(rules: Map<string, Rule>, name: string | null): Rule[] {
  const chain: Rule[] = [];
  if (name !== null) {
    for (let i = name.indexOf("."); i >= 0; i = name.indexOf(".", i + 1)) {
      const r = rules.get(name.slice(i + 1));
      if (r) chain.push(r);
    }
  }
  const fallback = rules.get("*");
  if (fallback) chain.push(fallback);
  return chain;
}

/**
 * What the gate says about `atSign` exchanging `name` (null: a text message, which only `*` binds) in
 * `direction`. Explicit lists win from the most specific rule down; then a known @sign is allowed; then the
 * most specific rule's policy for unknown @signs; with no rule at all everything is allowed.
 * @example gateVerdict(gate, "in", "@dave", "invite.chat", false) // "quarantine" under unknown:in:*:quarantine
 */
export function gateVerdict(g: Gatekeeper, direction: GateDirection, atSign: string, name: string | null, allowListed: boolean): GateVerdict {
  const rules = g.rules[direction];
  if (rules.size === 0) return "allow";
  const chain = ruleChain(rules, name);
  for (const r of chain) {
    if (r.deny.has(atSign)) return "deny";
    if (r.allow.has(atSign)) return "allow";
  }
  const known = g.known.get(atSign);
  if (known === true || (direction === "in" && (known === false || allowListed))) return "allow";
  for (const r of chain) if (r.unknown) return r.unknown;
  return "allow";
}

/** Remembers that the owner sent `atSign` a notification (it is known inbound from then on). */
export function noteContact(g: Gatekeeper, atSign: string): void {
  if (g.known.has(atSign) || g.known.size >= g.limits.knownAtSigns) return;
  g.known.set(atSign, false);
  g.store.setKnown(atSign, false);
}

/**
 * Counts `n` drops in memory: a drop does no I/O. The counts are written with the gatekeeper's next write and
 * at close, so a crash may lose the counts (never a held notification) since the last one.
 */
export function countDrop(g: Gatekeeper, reason: GateDropReason, n = 1): void {
  g.dropped[reason] += n;
  g.droppedUnsaved = true;
}

function saveCounters(g: Gatekeeper): void {
  if (!g.droppedUnsaved) return;
  for (const [name, n] of Object.entries(g.dropped)) g.store.setCounter(name, n);
  g.droppedUnsaved = false;
}

/** Writes the counters and closes the file. */
export function closeGatekeeper(g: Gatekeeper): void {
  saveCounters(g);
  g.store.close();
}

function forgetHeld(g: Gatekeeper, from: string, bytes: number): void {
  const s = g.senders.get(from);
  if (!s) return;
  s.held--;
  s.bytes -= bytes;
  g.totalBytes -= bytes;
  if (s.held <= 0) g.senders.delete(from);
}

function dropOldest(g: Gatekeeper, reason: GateDropReason, from?: string): void {
  const old = g.store.oldest(from);
  if (!old) return;
  g.store.dropSeq(old.seq);
  forgetHeld(g, old.from, old.bytes);
  countDrop(g, reason);
}

/**
 * Holds `n` from an unknown sender, within the bounds: one over the per-sender bytes is dropped unheld;
 * otherwise the sender's oldest, then the oldest anywhere, give way. A repeated (id, sender) is held once.
 */
export function holdNotification(g: Gatekeeper, n: NewNotification): "held" | "duplicate" | "dropped" {
  const L = g.limits;
  // A value longer in characters than the cap is over it in bytes: dropped before it is even serialised.
  const body = (n.value?.length ?? 0) > L.perSenderBytes ? null : JSON.stringify(n);
  const bytes = body === null ? Infinity : Buffer.byteLength(body);
  if (body === null || bytes > L.perSenderBytes) {
    countDrop(g, "tooLarge");
    return "dropped";
  }
  return g.store.tx(() => {
    if (g.store.hold({ id: n.id, from: n.from, bytes, heldAt: n.createdAt, body }) === null) return "duplicate";
    const s = g.senders.get(n.from) ?? { held: 0, bytes: 0 };
    g.senders.set(n.from, s);
    s.held++;
    s.bytes += bytes;
    g.totalBytes += bytes;
    while (s.held > L.perSenderNotifications || s.bytes > L.perSenderBytes) dropOldest(g, "overSenderCap", n.from);
    while (g.senders.size > L.maxSenders || g.totalBytes > L.totalBytes) dropOldest(g, "overTotalCap");
    saveCounters(g);
    return "held";
  });
}

/**
 * Admits `atSign`: it becomes known, and its held notifications go to `release` oldest first (the caller's
 * store is unique per id, so an admission interrupted and repeated releases each once). Returns how many.
 */
export function admitSender(g: Gatekeeper, atSign: string, release: (n: NewNotification) => void): number {
  if (g.known.get(atSign) !== true && g.known.size >= g.limits.knownAtSigns) {
    throw new AtProtocolError("AT0022", `The gatekeeper remembers at most ${g.limits.knownAtSigns} admitted @signs`);
  }
  g.known.set(atSign, true);
  g.store.setKnown(atSign, true);
  const rows = g.store.heldOf(atSign);
  for (const r of rows) release(JSON.parse(r.body) as NewNotification);
  g.store.tx(() => dropSender(g, atSign));
  return rows.length;
}

/** Drops every held notification of `from`; returns how many. */
function dropSender(g: Gatekeeper, from: string): number {
  const s = g.senders.get(from);
  g.store.dropSender(from);
  if (!s) return 0;
  g.totalBytes -= s.bytes;
  g.senders.delete(from);
  return s.held;
}

/** Drops what `atSign` has in quarantine and its admission; returns how many notifications were dropped. */
export function rejectSender(g: Gatekeeper, atSign: string): number {
  return g.store.tx(() => {
    const n = dropSender(g, atSign);
    g.known.delete(atSign);
    g.store.forgetKnown(atSign);
    if (n > 0) countDrop(g, "rejected", n);
    saveCounters(g);
    return n;
  });
}

/** Applies an owner's rule change (`unknown`, `allow`, `deny`, `forget`); bounds are AT0022. */
export function changeRule(g: Gatekeeper, op: Extract<GatekeeperOperation, { direction: GateDirection }>): void {
  const rules = g.rules[op.direction];
  const rule = rules.get(op.namespace) ?? { allow: new Set<string>(), deny: new Set<string>() };
  if (!rules.has(op.namespace) && rules.size >= g.limits.rulesPerDirection) {
    throw new AtProtocolError("AT0022", `The gatekeeper holds at most ${g.limits.rulesPerDirection} rules per direction`);
  }
  const next: Rule = { unknown: rule.unknown, allow: new Set(rule.allow), deny: new Set(rule.deny) };
  if (op.op === "unknown") next.unknown = op.policy;
  else {
    for (const a of op.atSigns) {
      next.allow.delete(a);
      next.deny.delete(a);
      if (op.op !== "forget") next[op.op].add(a);
    }
  }
  if (next.allow.size > g.limits.atSignsPerList || next.deny.size > g.limits.atSignsPerList) {
    throw new AtProtocolError("AT0022", `A gatekeeper list holds at most ${g.limits.atSignsPerList} @signs`);
  }
  if (next.unknown === undefined && next.allow.size === 0 && next.deny.size === 0) rules.delete(op.namespace);
  else rules.set(op.namespace, next);
  g.store.writeRules(JSON.stringify(rulesDoc(g)));
}

function rulesDoc(g: Gatekeeper): RulesDoc {
  const doc: RulesDoc = { in: {}, out: {} };
  for (const direction of ["in", "out"] as const) {
    for (const [ns, r] of g.rules[direction]) {
      doc[direction][ns] = { ...(r.unknown ? { unknown: r.unknown } : {}), allow: [...r.allow], deny: [...r.deny] };
    }
  }
  return doc;
}

/** What `config:gatekeeper:show` answers: the rules and the admitted @signs. */
export function gateShow(g: Gatekeeper): { rules: RulesDoc; admitted: string[] } {
  return { rules: rulesDoc(g), admitted: [...g.known].filter(([, admitted]) => admitted).map(([a]) => a) };
}

/** What `config:gatekeeper:quarantine:list` answers: held per sender, totals and the drop counters. */
export function quarantineSummary(g: Gatekeeper): { senders: { atSign: string; held: number; bytes: number }[]; held: number; bytes: number; dropped: Record<GateDropReason, number> } {
  const senders = [...g.senders].map(([atSign, s]) => ({ atSign, held: s.held, bytes: s.bytes }));
  return { senders, held: senders.reduce((n, s) => n + s.held, 0), bytes: g.totalBytes, dropped: { ...g.dropped } };
}
