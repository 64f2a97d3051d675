/**
 * The connections not yet trusted (not authenticated, not yet proven useful), bounded in total, per address and
 * per network prefix (/24, /64), so that strangers cannot fill every slot of a listener and one network cannot
 * take the strangers' whole share. A full scope never turns a newcomer away: admitting one names the oldest
 * member of the scope that is full (the same address, else the same prefix, else the prefix holding the most),
 * which the listener closes. So whoever floods churns its own connections, and a client from elsewhere always
 * gets a slot long enough to authenticate. A member that authenticates leaves the pool (`releaseStranger`).
 */
import { canonicalAddress, networkPrefix } from "./address_prefix.ts";

/** What the pool holds at most; every bound is at least 1. */
export interface StrangerBudget {
  /** Members in total. */
  total: number;
  /** Members from one address. */
  perAddress: number;
  /** Members from one /24 (IPv4) or /64 (IPv6). */
  perPrefix: number;
}

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
}

export function newStrangerPool<T>(budget: StrangerBudget): StrangerPool<T> {
  for (const [name, v] of Object.entries(budget)) {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`Cannot make a stranger pool: ${name} must be a whole number ≥ 1, not ${v}`);
  }
  return { budget, members: new Map(), byAddress: new Map(), byPrefix: new Map() };
}

/**
 * Adds `member` from `address`. Returns the member that must make room for it (already out of the pool; the
 * caller closes it), or null when there was room.
 */
export function admitStranger<T>(pool: StrangerPool<T>, member: T, address: string): T | null {
  const a = canonicalAddress(address);
  const p = networkPrefix(a);
  const evicted = pickEviction(pool, a, p);
  if (evicted !== null) releaseStranger(pool, evicted);
  pool.members.set(member, { address: a, prefix: p });
  addTo(pool.byAddress, a, member);
  addTo(pool.byPrefix, p, member);
  return evicted;
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
