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
