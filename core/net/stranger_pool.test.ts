import { expect, test } from "bun:test";
import { admitStranger as admitOrRefuse, newStrangerPool, oldestOfHeaviest, releaseStranger, type StrangerPool } from "./stranger_pool.ts";

const churn = { churnPerPrefix: 100, churnWindowMs: 1_000 };
/** The evicted member, for tests where nobody is refused. */
function admitStranger<T>(pool: StrangerPool<T>, member: T, address: string): T | null {
  const r = admitOrRefuse(pool, member, address, 0);
  if (!r.admitted) throw new Error("refused");
  return r.evicted;
}

test("a newcomer from a full address replaces that address's oldest, not anyone else's", () => {
  const pool = newStrangerPool<string>({ total: 10, perAddress: 2, perPrefix: 10, ...churn });
  expect(admitStranger(pool, "a1", "10.0.0.1")).toBeNull();
  expect(admitStranger(pool, "b1", "10.0.1.1")).toBeNull();
  expect(admitStranger(pool, "a2", "::ffff:10.0.0.1")).toBeNull();
  expect(admitStranger(pool, "a3", "10.0.0.1")).toBe("a1");
  expect([...pool.members.keys()]).toEqual(["b1", "a2", "a3"]);
});

test("a full prefix gives up its own oldest; a full pool gives up the heaviest prefix's oldest", () => {
  const pool = newStrangerPool<string>({ total: 4, perAddress: 10, perPrefix: 3, ...churn });
  admitStranger(pool, "x1", "10.0.0.1");
  admitStranger(pool, "x2", "10.0.0.2");
  admitStranger(pool, "y1", "10.9.0.1");
  admitStranger(pool, "x3", "10.0.0.3");
  expect(admitStranger(pool, "x4", "10.0.0.4")).toBe("x1");
  // Full (4): the 10.0.0.0/24 prefix holds 3, so its oldest goes, not y1 from elsewhere.
  expect(admitStranger(pool, "z1", "10.7.0.1")).toBe("x2");
  expect(oldestOfHeaviest(pool)).toBe("x3");
  expect(releaseStranger(pool, "x3")).toBe(true);
  expect(releaseStranger(pool, "x3")).toBe(false);
  expect(pool.members.size).toBe(3);
});

test("IPv6 addresses share a /64 budget", () => {
  const pool = newStrangerPool<string>({ total: 10, perAddress: 10, perPrefix: 2, ...churn });
  admitStranger(pool, "a", "2001:db8:1:2::1");
  admitStranger(pool, "b", "2001:db8:1:2::ffff");
  expect(admitStranger(pool, "c", "2001:db8:1:2:0:0:0:7")).toBe("a");
  expect(admitStranger(pool, "d", "2001:db8:1:3::1")).toBeNull();
});

test("bounds below 1 are refused", () => {
  expect(() => newStrangerPool({ total: 0, perAddress: 1, perPrefix: 1, ...churn })).toThrow(/total/);
});

test("a prefix that keeps pushing out its own members has its newcomers refused until the window ends", () => {
  const pool = newStrangerPool<string>({ total: 10, perAddress: 1, perPrefix: 10, churnPerPrefix: 2, churnWindowMs: 1_000 });
  admitOrRefuse(pool, "a0", "10.0.0.1", 0);
  expect(admitOrRefuse(pool, "a1", "10.0.0.1", 0)).toEqual({ admitted: true, evicted: "a0" });
  expect(admitOrRefuse(pool, "a2", "10.0.0.1", 0)).toEqual({ admitted: true, evicted: "a1" });
  expect(admitOrRefuse(pool, "a3", "10.0.0.1", 10)).toEqual({ admitted: false });
  // Others are not affected, and the prefix gets its budget back in the next window.
  expect(admitOrRefuse(pool, "b0", "10.0.9.1", 10)).toEqual({ admitted: true, evicted: null });
  expect(admitOrRefuse(pool, "a4", "10.0.0.1", 1_000)).toEqual({ admitted: true, evicted: "a2" });
});
