/**
 * The gatekeeper's decision order on a real sqlite file: explicit lists from the most specific rule down, then
 * known @signs (inbound: admitted, contacted or allow-listed; outbound: admitted), then the most specific
 * unknown policy; no rules allow everything. Rules and admissions survive a reopen.
 */
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { admitSender, changeRule, closeGatekeeper, gateName, gateVerdict, noteContact, openGatekeeper } from "./gatekeeper.ts";

const dir = mkdtempSync(join(tmpdir(), "inlay-gate-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("gateName strips the recipient, public: and the owner", () => {
  expect(["@bob:phone.wavi@alice", "public:phone.wavi@alice", "phone.wavi", "phone.wavi@alice"].map(gateName)).toEqual(Array(4).fill("phone.wavi"));
});

test("decision order, and the state survives a reopen", () => {
  const path = join(dir, "g.sqlite");
  let g = openGatekeeper(path);
  expect(gateVerdict(g, "in", "@x", "a.chat", false)).toBe("allow");
  changeRule(g, { op: "unknown", direction: "in", namespace: "*", policy: "quarantine" });
  changeRule(g, { op: "unknown", direction: "in", namespace: "chat", policy: "deny" });
  changeRule(g, { op: "unknown", direction: "in", namespace: "open.chat", policy: "allow" });
  changeRule(g, { op: "deny", direction: "in", namespace: "*", atSigns: ["@known"] });
  changeRule(g, { op: "allow", direction: "in", namespace: "chat", atSigns: ["@known"] });
  changeRule(g, { op: "unknown", direction: "out", namespace: "*", policy: "deny" });
  noteContact(g, "@contact");
  admitSender(g, "@admitted", () => {});
  const table: [string, "in" | "out", string, string | null, boolean, string][] = [
    ["unknown, no namespace rule", "in", "@x", "a.photos", false, "quarantine"],
    ["unknown, text message", "in", "@x", null, false, "quarantine"],
    ["unknown, namespace rule", "in", "@x", "a.chat", false, "deny"],
    ["unknown, more specific rule", "in", "@x", "a.open.chat", false, "allow"],
    ["allow in chat beats deny in *", "in", "@known", "a.chat", false, "allow"],
    ["deny in * where chat is silent", "in", "@known", "a.photos", false, "deny"],
    ["contacted is known inbound", "in", "@contact", "a.chat", false, "allow"],
    ["allow-listed is known inbound", "in", "@x", "a.chat", true, "allow"],
    ["admitted is known", "in", "@admitted", "a.chat", false, "allow"],
    ["contacted is not known outbound", "out", "@contact", "a.chat", false, "deny"],
    ["admitted is known outbound", "out", "@admitted", "a.chat", false, "allow"],
  ];
  const run = () => table.map(([why, d, a, n, listed]) => [why, gateVerdict(g, d, a, n, listed)]);
  const want = table.map(([why, , , , , v]) => [why, v]);
  expect(run()).toEqual(want);
  closeGatekeeper(g);
  g = openGatekeeper(path);
  expect(run()).toEqual(want);
  // Forgetting the last entry of a rule with no policy removes the rule.
  changeRule(g, { op: "forget", direction: "in", namespace: "chat", atSigns: ["@known"] });
  expect(gateVerdict(g, "in", "@known", "a.chat", false)).toBe("deny");
  closeGatekeeper(g);
});

test("rule bounds are AT0022 and leave the rule as it was", () => {
  const g = openGatekeeper(join(dir, "b.sqlite"), { atSignsPerList: 2, rulesPerDirection: 1 });
  changeRule(g, { op: "allow", direction: "in", namespace: "chat", atSigns: ["@a", "@b"] });
  expect(() => changeRule(g, { op: "allow", direction: "in", namespace: "chat", atSigns: ["@c"] })).toThrow(/AT0022|at most 2/);
  expect(() => changeRule(g, { op: "unknown", direction: "in", namespace: "photos", policy: "deny" })).toThrow(/at most 1 rules/);
  expect(gateVerdict(g, "in", "@c", "x.chat", false)).toBe("allow");
  expect([...g.rules.in.get("chat")!.allow]).toEqual(["@a", "@b"]);
  closeGatekeeper(g);
});
