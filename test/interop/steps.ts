/**
 * The steps of the interop suite, in matrix order: who performs each (the SDK's driver, or Inlay's client
 * checking what the SDK did), in which phase, and which are known to fail until the fixes of issue 12 §2 land.
 */

/** When a step runs: driver phases are `python driver.py <phase>`; `inlay` steps run in the test between them. */
export type Phase = "onboard" | "onboard_second" | "exercise" | "receive_second" | "offline_send" | "offline_receive" | "inlay";

export interface StepSpec {
  id: string;
  /** What the matrix says the step is. */
  label: string;
  phase: Phase;
}

export const STEPS: readonly StepSpec[] = [
  { id: "directory_lookup", label: "directory lookup of the SDK's @sign", phase: "onboard" },
  { id: "cram_onboard", label: "CRAM onboarding with the SDK's own onboarding", phase: "onboard" },
  { id: "pkam_auth", label: "PKAM authentication with the keys it saved", phase: "onboard" },
  { id: "second_sdk_onboard", label: "a second @sign onboarded by the SDK", phase: "onboard_second" },
  { id: "public_put_get", label: "public put and get (signature checked)", phase: "exercise" },
  { id: "public_get_signed_by_inlay", label: "SDK reads Inlay's public value (signature checked)", phase: "exercise" },
  { id: "public_read_by_inlay", label: "Inlay's client reads the SDK's public value (signature checked)", phase: "inlay" },
  { id: "self_put_get", label: "self put and get", phase: "exercise" },
  { id: "shared_put_sdk_to_inlay", label: "shared put by the SDK", phase: "exercise" },
  { id: "shared_put_sdk_read_by_inlay", label: "… read and decrypted by Inlay's client", phase: "inlay" },
  { id: "sdk_fresh_iv", label: "the SDK's shared value and notification carry a fresh ivNonce", phase: "inlay" },
  { id: "shared_put_sdk_unflagged", label: "shared put by the SDK without isEncrypted (as the C SDK writes)", phase: "exercise" },
  { id: "shared_put_unflagged_read_by_inlay", label: "… read and decrypted by Inlay's client", phase: "inlay" },
  { id: "shared_get_inlay_to_sdk", label: "shared put by Inlay's client, read by the SDK", phase: "exercise" },
  { id: "scan", label: "scan", phase: "exercise" },
  { id: "notify_sdk_to_inlay", label: "notify by the SDK to another @sign", phase: "exercise" },
  { id: "notify_received_by_inlay_monitor", label: "… received and decrypted by Inlay's monitor", phase: "inlay" },
  { id: "shared_write_sdk_notifies_inlay_monitor", label: "the SDK's shared put reaches Inlay's monitor with its value", phase: "inlay" },
  { id: "notify_sdk_to_sdk", label: "notify by the SDK to its second @sign", phase: "exercise" },
  { id: "monitor_sdk_from_sdk", label: "… received and decrypted by the SDK's monitor", phase: "receive_second" },
  { id: "monitor_notify_from_inlay", label: "notify by Inlay's client, received and decrypted by the SDK's monitor", phase: "exercise" },
  { id: "monitor_shared_write_from_inlay", label: "Inlay's shared put reaches the SDK's monitor with its value", phase: "exercise" },
  { id: "apkam_enroll", label: "APKAM enrollment", phase: "exercise" },
  { id: "notify_while_inlay_down", label: "SDK notifies while the recipient's atServer is down", phase: "offline_send" },
  { id: "store_forward_to_inlay_monitor", label: "… delivered once it is back on another port", phase: "inlay" },
  { id: "inlay_notify_while_sdk_down", label: "Inlay's client notifies the SDK's @sign while its atServer is down", phase: "inlay" },
  { id: "receive_after_sdk_server_down", label: "… received by the SDK's monitor once it is back on another port", phase: "offline_receive" },
];

export type Status = "ok" | "fail" | "unsupported";

/** What one step came to. */
export interface Outcome {
  status: Status;
  detail: string;
}

/** How a step counts in the suite: a step not reached counts as failed. */
export function verdict(o: Outcome | undefined): Status {
  return o?.status ?? "fail";
}
