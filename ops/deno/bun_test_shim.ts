/**
 * Runs our `bun:test` files under Deno: deno.json maps the `bun:test` specifier here. It covers the subset of
 * bun:test that the portable modules' tests use (describe/test/each/hooks and the common matchers), on top of
 * Deno.test, so one test file serves both runtimes.
 */
import { AssertionError } from "node:assert";
import { isDeepStrictEqual } from "node:util";

declare const Deno: {
  test(def: { name: string; fn: () => unknown; sanitizeOps?: boolean; sanitizeResources?: boolean }): void;
};

type Fn = () => unknown;
type Hooks = { beforeAll: Fn[]; afterAll: Fn[]; beforeEach: Fn[]; afterEach: Fn[] };
const scopes: { name: string; hooks: Hooks }[] = [{ name: "", hooks: { beforeAll: [], afterAll: [], beforeEach: [], afterEach: [] } }];
const current = () => scopes[scopes.length - 1]!;

const beforeAllDone = new Set<Fn>();
const fileAfterAll: Fn[] = [];

function register(name: string, fn: Fn): void {
  const chain = [...scopes];
  const title = [...chain.map((s) => s.name).filter(Boolean), name].join(" > ");
  Deno.test({
    name: title,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      for (const s of chain) for (const h of s.hooks.beforeAll) if (!beforeAllDone.has(h)) { beforeAllDone.add(h); await h(); }
      for (const s of chain) for (const h of s.hooks.beforeEach) await h();
      try {
        await fn();
      } finally {
        for (const s of [...chain].reverse()) for (const h of s.hooks.afterEach) await h();
      }
    },
  });
}

function format(name: string, args: unknown[]): string {
  let i = 0;
  return name.replace(/%[psdio#j]/g, () => {
    const v = args[i++];
    return typeof v === "string" ? v : JSON.stringify(v);
  });
}

function each(rows: unknown[]) {
  return (name: string, fn: (...args: any[]) => unknown) => {
    for (const row of rows) {
      const args = Array.isArray(row) ? row : [row];
      register(format(name, args), () => fn(...args));
    }
  };
}

type TestFn = ((name: string, fn: Fn, timeout?: number) => void) & {
  each: typeof each;
  skip: (name: string, fn: Fn) => void;
  concurrent: TestFn;
  serial: TestFn;
  if: (cond: boolean) => (name: string, fn: Fn) => void;
  skipIf: (cond: boolean) => (name: string, fn: Fn) => void;
};
const testImpl = ((name: string, fn: Fn) => register(name, fn)) as TestFn;
testImpl.each = each;
testImpl.skip = () => {};
testImpl.concurrent = testImpl;
testImpl.serial = testImpl;
testImpl.if = (cond) => (cond ? testImpl : () => {});
testImpl.skipIf = (cond) => (cond ? () => {} : testImpl);
export const test = testImpl;
export const it = testImpl;

export function describe(name: string, fn: () => void): void {
  scopes.push({ name, hooks: { beforeAll: [], afterAll: [], beforeEach: [], afterEach: [] } });
  try {
    fn();
  } finally {
    const done = scopes.pop()!;
    // Run this scope's afterAll hooks in a final test so resources close once the scope's tests are over.
    if (done.hooks.afterAll.length) {
      Deno.test({ name: `${name} (afterAll)`, sanitizeOps: false, sanitizeResources: false, async fn() { for (const h of done.hooks.afterAll) await h(); } });
    }
  }
}

export const beforeAll = (fn: Fn) => current().hooks.beforeAll.push(fn);
export const beforeEach = (fn: Fn) => current().hooks.beforeEach.push(fn);
export const afterEach = (fn: Fn) => current().hooks.afterEach.push(fn);
export function afterAll(fn: Fn): void {
  if (scopes.length > 1) {
    current().hooks.afterAll.push(fn);
    return;
  }
  // File level: register one closing test after the module has registered all of its tests.
  if (fileAfterAll.push(fn) === 1) {
    queueMicrotask(() =>
      Deno.test({ name: "(afterAll)", sanitizeOps: false, sanitizeResources: false, async fn() { for (const h of fileAfterAll) await h(); } }),
    );
  }
}

/** bun:test's toEqual ignores properties whose value is undefined; so do we. */
function strip(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(strip);
  if (v && typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype) {
    return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined).map(([k, x]) => [k, strip(x)]));
  }
  if (v && typeof v === "object" && Object.getPrototypeOf(v) === null) return strip({ ...(v as object) });
  return v;
}

/** Marks an asymmetric matcher such as `expect.objectContaining(...)`. */
const ASYMMETRIC = Symbol("asymmetric");
type Asymmetric = { [ASYMMETRIC]: (actual: unknown) => boolean };
const isAsymmetric = (v: unknown): v is Asymmetric => typeof v === "object" && v !== null && ASYMMETRIC in v;

/** bun:test equality: undefined properties ignored, byte arrays by content, asymmetric matchers honoured. */
function equal(actual: unknown, expected: unknown): boolean {
  if (isAsymmetric(expected)) return expected[ASYMMETRIC](actual);
  if (actual instanceof Uint8Array && expected instanceof Uint8Array) {
    return actual.byteLength === expected.byteLength && actual.every((x, i) => x === expected[i]);
  }
  if (Array.isArray(expected)) {
    return Array.isArray(actual) && actual.length === expected.length && expected.every((e, i) => equal(actual[i], e));
  }
  if (expected && typeof expected === "object" && [Object.prototype, null].includes(Object.getPrototypeOf(expected))) {
    if (!actual || typeof actual !== "object") return false;
    const a = strip(actual) as Record<string, unknown>, e = strip(expected) as Record<string, unknown>;
    const keys = Object.keys(e);
    return keys.length === Object.keys(a).length && keys.every((k) => equal(a[k], e[k]));
  }
  return isDeepStrictEqual(strip(actual), strip(expected));
}

function matchesError(err: unknown, expected?: unknown): boolean {
  if (expected === undefined) return true;
  if (isAsymmetric(expected)) return expected[ASYMMETRIC](err);
  const msg = err instanceof Error ? err.message : String(err);
  if (typeof expected === "string") return msg.includes(expected);
  if (expected instanceof RegExp) return expected.test(msg);
  if (typeof expected === "function") return err instanceof (expected as new (...a: any[]) => unknown);
  if (expected instanceof Error) return msg === expected.message;
  return false;
}

function subset(actual: unknown, expected: unknown): boolean {
  if (expected && typeof expected === "object" && !Array.isArray(expected)) {
    if (!actual || typeof actual !== "object") return false;
    return Object.entries(expected).every(([k, v]) => subset((actual as Record<string, unknown>)[k], v));
  }
  return equal(actual, expected);
}

function matchers(actual: unknown, negate: boolean) {
  const check = (ok: boolean, what: string) => {
    if (ok === negate) throw new AssertionError({ message: `expected ${fmt(actual)} ${negate ? "not " : ""}${what}` });
  };
  const throws = (expected?: unknown) => {
    if (typeof actual !== "function") throw new TypeError("toThrow needs a function");
    let threw = false, err: unknown;
    try { (actual as Fn)(); } catch (e) { threw = true; err = e; }
    check(threw && matchesError(err, expected), `to throw ${fmt(expected)}${threw ? ` (got ${fmt(err)})` : ""}`);
  };
  return {
    toBe: (e: unknown) => check(Object.is(actual, e), `to be ${fmt(e)}`),
    toEqual: (e: unknown) => check(equal(actual, e), `to equal ${fmt(e)}`),
    toStrictEqual: (e: unknown) => check(isDeepStrictEqual(actual, e), `to strictly equal ${fmt(e)}`),
    toMatchObject: (e: unknown) => check(subset(actual, e), `to match ${fmt(e)}`),
    toBeUndefined: () => check(actual === undefined, "to be undefined"),
    toBeDefined: () => check(actual !== undefined, "to be defined"),
    toBeNull: () => check(actual === null, "to be null"),
    toBeTruthy: () => check(!!actual, "to be truthy"),
    toBeFalsy: () => check(!actual, "to be falsy"),
    toBeString: () => check(typeof actual === "string", "to be a string"),
    toBeNaN: () => check(Number.isNaN(actual), "to be NaN"),
    toBeGreaterThan: (n: number) => check((actual as number) > n, `to be > ${n}`),
    toBeGreaterThanOrEqual: (n: number) => check((actual as number) >= n, `to be >= ${n}`),
    toBeLessThan: (n: number) => check((actual as number) < n, `to be < ${n}`),
    toBeLessThanOrEqual: (n: number) => check((actual as number) <= n, `to be <= ${n}`),
    toHaveLength: (n: number) => check((actual as { length: number }).length === n, `to have length ${n}`),
    toContain: (e: unknown) => check((actual as { includes(x: unknown): boolean }).includes(e), `to contain ${fmt(e)}`),
    toContainEqual: (e: unknown) => check((actual as unknown[]).some((x) => equal(x, e)), `to contain ${fmt(e)}`),
    toHaveProperty: (k: string) => check(actual != null && k in (actual as object), `to have property ${k}`),
    toMatch: (e: RegExp | string) => check(typeof e === "string" ? String(actual).includes(e) : e.test(String(actual)), `to match ${e}`),
    toBeInstanceOf: (c: new (...a: any[]) => unknown) => check(actual instanceof c, `to be an instance of ${c.name}`),
    toThrow: throws,
    toThrowError: throws,
  };
}

function fmt(v: unknown): string {
  if (v instanceof Error) return `${v.name}: ${v.message}`;
  try { return JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? `${x}n` : x))?.slice(0, 200) ?? String(v); } catch { return String(v); }
}

async function settle(p: unknown): Promise<{ ok: boolean; value: unknown }> {
  try { return { ok: true, value: await p }; } catch (e) { return { ok: false, value: e }; }
}

expect.objectContaining = (expected: object): Asymmetric => ({ [ASYMMETRIC]: (actual) => subset(actual, expected) });
expect.any = (ctor: new (...a: any[]) => unknown): Asymmetric => ({ [ASYMMETRIC]: (actual) => actual instanceof ctor || (ctor as unknown) === String && typeof actual === "string" || (ctor as unknown) === Number && typeof actual === "number" });

export function expect(actual: unknown) {
  const base = matchers(actual, false);
  return {
    ...base,
    not: matchers(actual, true),
    // rejects.toThrow(x) matches the error like toThrow; any other matcher applies to the rejection value.
    rejects: new Proxy({}, {
      get: (_t, name: string) => async (...args: unknown[]) => {
        const r = await settle(actual);
        if (r.ok) throw new AssertionError({ message: `expected a rejection, got ${fmt(r.value)}` });
        if (name === "toThrow" || name === "toThrowError") {
          if (!matchesError(r.value, args[0])) throw new AssertionError({ message: `expected a rejection matching ${fmt(args[0])}, got ${fmt(r.value)}` });
          return;
        }
        return (matchers(r.value, false) as Record<string, (...a: unknown[]) => unknown>)[name]!(...args);
      },
    }),
    resolves: new Proxy({}, {
      get: (_t, name: string) => async (...args: unknown[]) => {
        const r = await settle(actual);
        if (!r.ok) throw new AssertionError({ message: `expected resolution, got ${fmt(r.value)}` });
        return (matchers(r.value, false) as Record<string, (...a: unknown[]) => unknown>)[name]!(...args);
      },
    }),
  };
}
