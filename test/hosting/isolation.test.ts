/**
 * Cross-tenant isolation in one hosting process (real TLS, real sqlite): from @ia's authenticated connection,
 * scan, lookup, sync, monitor, notify and enroll towards @ib's data on the same process reveal nothing of @ib;
 * notifications between hosted @signs keep their semantics (authenticated sender, queue, receipts); and the
 * proof relay of test/notify/s2s_proof_relay.test.ts fails between two tenants that share the host, the
 * certificate and the process.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { serviceTls } from "../../core/net/tls.ts";
import { apkamKeys, dataJson, enrollLine } from "../enroll/wire_enroll.ts";
import { startFakePeer, type FakePeer } from "../notify/fake_peer.ts";
import { connectRaw, eventually, notificationsIn, rawAsk, startMonitor, untilNotifications } from "../notify/helpers.ts";
import { cramAuth } from "../server_fixture.ts";
import { connectWire, type WireClient } from "../wire_client.ts";
import { startHostingFixture, type Created, type HostingFixture } from "./hosting_fixture.ts";

const IB_SECRET = "ib-private-value";
const IB_SHARED_WITH_IC = "ib-for-ic-only";
const PROOF_RE = /^data:proof:(_[0-9a-f-]+@[a-z]+):(\S+)$/;

let f: HostingFixture;
let ia: Created;
let ib: Created;
let ic: Created;
let a: WireClient;
let b: WireClient;
let c: WireClient;
let ibEnrollment: string;
const fakes: FakePeer[] = [];

beforeAll(async () => {
  f = await startHostingFixture();
  [ia, ib, ic] = [await f.create("@ia"), await f.create("@ib"), await f.create("@ic")];
  [a, b, c] = [await f.owner(ia), await f.owner(ib), await f.owner(ic)];
  for (const line of [`update:@ib:private.app@ib ${IB_SECRET}`, `update:@ic:forc.app@ib ${IB_SHARED_WITH_IC}`, "update:public:pub.app@ib hello-public"]) {
    expect(await b.send(line)).toMatch(/^data:\d+$/);
  }
  // A pending device enrollment of @ib, made with @ib's OTP on @ib's port.
  const otp = (await b.send("otp:get")).slice(5);
  const device = await connectWire(ib.port, f.stack.ca);
  const req = { appName: "ibapp", deviceName: "ibdevice", namespaces: { wavi: "r" }, otp, apkamPublicKey: (await apkamKeys).publicKey, encryptedAPKAMSymmetricKey: "a2V5" };
  const json = dataJson(await device.send(enrollLine("request", req)));
  expect(json.status).toBe("pending");
  ibEnrollment = json.enrollmentId as string;
  device.close();
});
afterAll(async () => {
  for (const p of fakes) p.stop();
  for (const w of [a, b, c]) w?.close();
  await f.stop();
});

/** No value @ib keeps for itself or for @ic, and no enrollment of @ib, appears in `answer`. */
const leaksNothing = (answer: string) => {
  expect(answer).not.toContain(IB_SECRET);
  expect(answer).not.toContain(IB_SHARED_WITH_IC);
  expect(answer).not.toContain(ibEnrollment);
};
/** ...nor the names of @ib's private keys (a listing: scan, sync). */
const listsNothing = (answer: string) => {
  expect(answer).toStartWith("data:");
  leaksNothing(answer);
  expect(answer).not.toContain("private.app@ib");
  expect(answer).not.toContain("forc.app@ib");
};

test("scan, llookup, lookup and sync on @ia see none of @ib's private data; @ib's public data comes through s2s", async () => {
  listsNothing(await a.send("scan"));
  listsNothing(await a.send("scan:showHidden:true .*"));
  listsNothing(await a.send("scan:@ib"));
  expect(await a.send("llookup:@ib:private.app@ib")).toStartWith("error:AT0015");
  expect(await a.send("llookup:@ic:forc.app@ib")).toStartWith("error:AT0015");
  const remote = await a.send("lookup:private.app@ib");
  expect(remote).toStartWith("error:");
  leaksNothing(remote);
  leaksNothing(await a.send("lookup:forc.app@ib"));
  listsNothing(await a.send("sync:from:-1"));
  expect(await a.send("plookup:pub.app@ib")).toBe("data:hello-public");
  // What @ib shared with @ic reaches @ic, over the same process: the isolation is not an outage.
  expect(await c.send("lookup:forc.app@ib")).toBe(`data:${IB_SHARED_WITH_IC}`);
});

test("@ia's credentials and enrollments do not reach @ib: CRAM with @ib's secret, enroll:list and approve", async () => {
  const x = await connectWire(ia.port, f.stack.ca);
  const answer = await cramAuth(x, "@ia", ib.cramSecret);
  expect(answer).toStartWith("error:AT0401");
  x.close();
  const y = await connectWire(ib.port, f.stack.ca);
  expect(await cramAuth(y, "@ib", ia.cramSecret)).toStartWith("error:AT0401");
  y.close();
  leaksNothing(await a.send("enroll:list"));
  expect(await a.send(enrollLine("approve", { enrollmentId: ibEnrollment, encryptedDefaultEncryptionPrivateKey: "ZW5j", encryptedDefaultSelfEncryptionKey: "c2VsZg==" }))).toStartWith("error:");
  const list = await b.send("enroll:list");
  expect(list).toContain(ibEnrollment);
  expect(JSON.stringify(dataJson(list))).toContain('"status":"pending"');
});

test("a notification between hosted @signs: authenticated sender, delivered once, receipt at the sender, no other monitor sees it", async () => {
  const monitorB = await f.owner(ib);
  const monitorA = await f.owner(ia);
  startMonitor(monitorB);
  startMonitor(monitorA);
  // @ic tries to speak for @ib towards @ia, then notifies @ib for real.
  expect(await c.send("notify:id:forged1:update:atSign:@ib:@ia:k.app@ib:x")).toStartWith("error:AT0009");
  expect(await c.send("notify:id:hosted-n1:update:@ib:note.app@ic:for-ib-only")).toBe("data:hosted-n1");
  const [n] = await untilNotifications(monitorB, 1);
  expect(n).toMatchObject({ id: "hosted-n1", from: "@ic", to: "@ib", key: "@ib:note.app@ic", value: "for-ib-only" });
  await eventually(async () => (await c.send("notify:status:hosted-n1")) === "data:delivered");
  expect(notificationsIn(await monitorB.until(() => true)).filter((x) => x.id === "hosted-n1")).toHaveLength(1);
  expect(await a.send("notify:list")).not.toContain("hosted-n1");
  expect(notificationsIn(await monitorA.until(() => true))).toEqual([]);
  monitorA.close();
  monitorB.close();
});

test("the proof relay between two tenants of one process: @ic's operator cannot become @ib at @ia", async () => {
  const tls = await serviceTls({ home: f.stack.home });
  const sharedCert = { key: tls.key, cert: tls.cert };
  const toA = await connectRaw(ia.port, f.stack.ca, sharedCert);
  const proof = await rawAsk(toA, "from:@ib");
  expect(proof).toMatch(PROOF_RE);
  const carol = await startFakePeer(f.stack, "@relaycarol", (line, conn) => {
    if (line.startsWith("lookup:all:publickey")) conn.answer("error:AT0015-publickey@relaycarol does not exist");
    else if (line === "from:@ib") conn.answer(proof); // @ia's proof, as if @relaycarol had issued it
  });
  fakes.push(carol);
  const ibPolOrClose = carol.nextLine((l) => l === "pol");
  const trigger = b.send("lookup:anything@relaycarol");
  expect(await ibPolOrClose).toBeNull();
  expect(await rawAsk(toA, "pol")).toStartWith("error:AT0401-");
  const read = await rawAsk(toA, "lookup:private.app@ia").catch(() => "closed");
  toA.close();
  expect(read).not.toStartWith("data:");
  expect(await trigger).toStartWith("error:AT0008-");
});
