import { expect, test } from "bun:test";
import { parseHostPort, requireHostPort } from "./host_port.ts";

test.each([
  ["localhost:64", { host: "localhost", port: 64 }],
  [" 127.0.0.1:6464 ", { host: "127.0.0.1", port: 6464 }],
  ["[::1]:22", { host: "::1", port: 22 }],
  ["relay-1.example.com:65535", { host: "relay-1.example.com", port: 65535 }],
])("parses %p", (text, expected) => {
  expect(parseHostPort(text)).toEqual(expected);
});

test.each(["", "host", ":64", "host:", "host:0", "host:65536", "::1:22", "a b:1", "host:12x", "host:-1"])("refuses %p", (text) => {
  expect(parseHostPort(text)).toBeNull();
});

test("port 0 only when asked; the error names the flag", () => {
  expect(parseHostPort("127.0.0.1:0", { allowPortZero: true })).toEqual({ host: "127.0.0.1", port: 0 });
  expect(() => requireHostPort("nope", "--directory")).toThrow('Invalid --directory "nope": expected HOST:PORT');
});
