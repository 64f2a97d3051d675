import { expect, test } from "bun:test";
import { dartDate, parseDartDate } from "./dart_date.ts";

test("dartDate() formats UTC with a space and milliseconds", () => {
  expect(dartDate(0)).toBe("1970-01-01 00:00:00.000Z");
  expect(dartDate(Date.UTC(2024, 9, 24, 10, 0, 0, 7))).toBe("2024-10-24 10:00:00.007Z");
});

test("parseDartDate() reads both separators and rejects other text", () => {
  expect(parseDartDate("2024-10-24 10:00:00.007Z")).toBe(Date.UTC(2024, 9, 24, 10, 0, 0, 7));
  expect(parseDartDate("2024-10-24T10:00:00Z")).toBe(Date.UTC(2024, 9, 24, 10, 0, 0));
  expect(parseDartDate("null")).toBeNull();
  expect(parseDartDate("2024-13-45 10:00:00.000Z")).toBeNull();
});

test("dartDate() never throws: times past Dart's range are written as its limit, big years as Dart writes them", () => {
  const poisoned = Date.now() + 8_640_000_000_000_000;
  expect(dartDate(poisoned)).toBe("275760-09-13 00:00:00.000Z");
  expect(dartDate(1e300)).toBe("275760-09-13 00:00:00.000Z");
  expect(dartDate(-1e300)).toBe("-271821-04-20 00:00:00.000Z");
  expect(dartDate(Number.NaN)).toBe("1970-01-01 00:00:00.000Z");
  expect(dartDate(Date.UTC(12345, 0, 1))).toBe("12345-01-01 00:00:00.000Z");
  expect(dartDate(Date.UTC(-1, 0, 1))).toBe("-0001-01-01 00:00:00.000Z");
});
