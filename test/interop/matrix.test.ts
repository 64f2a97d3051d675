/**
 * How the interop suite reads driver output and counts steps: the SDKs' own logging is ignored, a step not
 * reached fails, and the README section is replaced between its markers only.
 */
import { expect, test } from "bun:test";
import { parseDriverOutput } from "./driver_run.ts";
import { MATRIX_END, MATRIX_START, matrixIn, renderMatrix, withMatrix } from "./matrix.ts";
import { SDKS } from "./sdks.ts";
import { STEPS, verdict, type Outcome } from "./steps.ts";

test("driver output: step and version lines are read, the SDK's own stdout is not", () => {
  const out = [
    "Saving keys to /tmp/h/.atsign/keys/@sdk_key.atKeys",
    "interop-version\tatsdk\t0.2.81",
    "interop-step\tscan\tok\t4 keys",
    "Monitor started on @sdk",
    "interop-step\tnotify\tmaybe\tnot a status",
    "interop-step\tpkam_auth\tfail\tAtException: boom\twith a tab\r",
  ].join("\n");
  const { version, steps } = parseDriverOutput(out);
  expect(version).toBe("0.2.81");
  expect([...steps.keys()]).toEqual(["scan", "pkam_auth"]);
  expect(steps.get("pkam_auth")).toEqual({ status: "fail", detail: "AtException: boom with a tab" });
});

test("verdict: a step not reached counts as failed", () => {
  expect(verdict({ status: "ok", detail: "" })).toBe("ok");
  expect(verdict({ status: "fail", detail: "x" })).toBe("fail");
  expect(verdict(undefined)).toBe("fail");
  expect(verdict({ status: "unsupported", detail: "no API" })).toBe("unsupported");
});

test("matrix: rendered between its markers, and only that section of the README is replaced", () => {
  const steps = new Map<string, Outcome>(STEPS.map((s) => [s.id, { status: "ok", detail: "volatile detail 1234" }]));
  const matrix = renderMatrix(SDKS.map((sdk) => (sdk.install ? { sdk, version: "1.2.3", steps } : { sdk, absent: "not served" })));
  expect(matrix.startsWith(MATRIX_START) && matrix.endsWith(MATRIX_END)).toBe(true);
  expect(matrix).not.toContain("volatile");
  const readme = `# Title\n\nbefore\n${MATRIX_START}\nold\n${MATRIX_END}\nafter\n`;
  const updated = withMatrix(readme, matrix);
  expect(matrixIn(updated)).toBe(matrix);
  expect(updated.startsWith("# Title\n\nbefore\n") && updated.endsWith("\nafter\n")).toBe(true);
  expect(() => withMatrix("# no markers\n", matrix)).toThrow(/no line/);
});
