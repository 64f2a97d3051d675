/**
 * The connections not yet trusted (not authenticated, not yet proven useful), bounded in total, per address and
 * per network prefix (/24, /64), so that strangers cannot fill every slot of a listener and one network cannot
 * take the strangers' whole share. A full scope never turns a newcomer away: admitting one names the oldest
 * member of the scope that is full (the same address, else the same prefix, else the prefix holding the most),
 * which the listener closes. So whoever floods churns its own connections, and a client from elsewhere always
 * gets a slot long enough to authenticate. A member that authenticates leaves the pool (`releaseStranger`).
 * Churn has a budget too: a prefix that has pushed out its own members `churnPerPrefix` times in a window gets
 * its newcomers refused instead, which the listener does before the TLS handshake (the costly part).
 */
import { canonicalAddress, networkPrefix } from "./address_prefix.ts";
import { countEvent, newWindowCounter, retryAfterMs, type WindowCounter } from "./window_counter.ts";

/** What the pool holds at most; every bound is at least 1. */
export interface StrangerBudget {
  /** Members in total. */
  total: number;
  /** Members from one address. */
  perAddress: number;
  /** Members from one /24 (IPv4) or /64 (IPv6). */
  perPrefix: number;
  /** Times a prefix may push out one of its own members per churn window before its newcomers are refused. */
  churnPerPrefix: number;
  /** Length of a churn window (ms). */
  churnWindowMs: number;
}

/** Prefixes whose churn is tracked at once (the window counter forgets the oldest). */
const CHURN_KEYS_MAX = 10_000;

interface Member {
  address: string;
  prefix: string;
}

/** A pool: its budget and its members by address and by prefix, each in arrival order (oldest first). */
export interface StrangerPool<T> {
  readonly budget: StrangerBudget;
  readonly members: Map<T, Member>;
  readonly byAddress: Map<string, Set<T>>;
  readonly byPrefix: Map<string, Set<T>>;
  readonly churn: WindowCounter;
}

/** What admitting a newcomer did: it is in (having pushed out `evicted`, if any), or it is refused. */
export type Admission<T> = { admitted: true; evicted: T | null } | { admitted: false };

export function newStrangerPool<T>(budget: StrangerBudget): StrangerPool<T> {
  for (const [name, v] of Object.entries(budget) as [string, number][]) {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`Cannot make a stranger pool: ${name} must be a whole number ≥ 1, not ${v}`);
  }
  const churn = newWindowCounter({ max: budget.churnPerPrefix, windowMs: budget.churnWindowMs, maxKeys: CHURN_KEYS_MAX });
  return { budget, members: new Map(), byAddress: new Map(), byPrefix: new Map(), churn };
}

/**
 * Adds `member` from `address`. When it is admitted, `evicted` is the member that must make room for it (already
 * out of the pool; the caller closes it); when not, the caller closes the newcomer.
 */
export function admitStranger<T>(pool: StrangerPool<T>, member: T, address: string, now = Date.now()): Admission<T> {
  const a = canonicalAddress(address);
  const p = networkPrefix(a);
  const evicted = pickEviction(pool, a, p);
  if (evicted !== null && pool.members.get(evicted)!.prefix === p) {
    if (retryAfterMs(pool.churn, p, now) > 0) return { admitted: false };
    countEvent(pool.churn, p, now);
  }
  if (evicted !== null) releaseStranger(pool, evicted);
  pool.members.set(member, { address: a, prefix: p });
  addTo(pool.byAddress, a, member);
  addTo(pool.byPrefix, p, member);
  return { admitted: true, evicted };
}

/** The oldest stranger of the heaviest prefix: who goes when a listener's total (all connections) is full. */
export function oldestOfHeaviest<T>(pool: StrangerPool<T>): T | null {
  let heaviest: Set<T> | undefined;
  for (const set of pool.byPrefix.values()) if (!heaviest || set.size > heaviest.size) heaviest = set;
  return heaviest ? first(heaviest) : null;
}

/** Takes `member` out of the pool (it authenticated, or closed). Returns whether it was in it. */
export function releaseStranger<T>(pool: StrangerPool<T>, member: T): boolean {
  const m = pool.members.get(member);
  if (!m) return false;
  pool.members.delete(member);
  removeFrom(pool.byAddress, m.address, member);
  removeFrom(pool.byPrefix, m.prefix, member);
  return true;
}

function pickEviction<T>(pool: StrangerPool<T>, address: string, prefix: string): T | null {
  const fromAddress = pool.byAddress.get(address);
  if (fromAddress && fromAddress.size >= pool.budget.perAddress) return first(fromAddress);
  const fromPrefix = pool.byPrefix.get(prefix);
  if (fromPrefix && fromPrefix.size >= pool.budget.perPrefix) return first(fromPrefix);
  return pool.members.size >= pool.budget.total ? oldestOfHeaviest(pool) : null;
}

const first = <T>(set: Set<T>): T | null => (set.size === 0 ? null : set.values().next().value!);

function addTo<T>(index: Map<string, Set<T>>, key: string, member: T): void {
  const set = index.get(key);
  if (set) set.add(member);
  else index.set(key, new Set([member]));
}

function removeFrom<T>(index: Map<string, Set<T>>, key: string, member: T): void {
  const set = index.get(key);
  if (!set) return;
  set.delete(member);
  if (set.size === 0) index.delete(key);
}
