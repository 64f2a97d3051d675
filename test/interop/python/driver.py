"""Interop driver for the Python atSDK (PyPI `atsdk`), run by test/interop/interop.test.ts.

Calls only what the SDK offers its users (AtClient, AtRootConnection, AuthUtil, OnboardingUtil, KeysUtil,
the key classes and the monitor queue) against Inlay's directory and atServers. `python driver.py PHASE`
reads a JSON context on stdin and prints one line per step:

    interop-step<TAB>name<TAB>ok|fail|unsupported<TAB>detail

Everything else the SDK prints (it logs to stdout) is ignored by the test. The dev CA is trusted through
SSL_CERT_FILE (ssl.create_default_context honours it); HOME is the run's own, so ~/.atsign/keys is too.
"""
import base64
import json
import os
import queue
import sys
import threading
import time
import traceback
from importlib.metadata import version

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.serialization import load_der_public_key

# The names the SDK's packages export (at_python's own onboarding example imports the same ones).
from at_client.atclient import AtClient
from at_client.common import AtSign
from at_client.common.keys import PublicKey, SelfKey, SharedKey
from at_client.connections import Address, AtEventType, AtRootConnection, AtSecondaryConnection
from at_client.util import AuthUtil, KeysUtil, OnboardingUtil

# Longest wait for notifications a monitor should see, unless the context gives monitorWaitSeconds (the
# test's own timeout for the run is longer).
MONITOR_WAIT_SECONDS = 20
NAMESPACE = "interop"


class Unsupported(Exception):
    """The SDK offers no way to do this step."""


def emit(name, status, detail=""):
    line = " ".join(str(detail).split())
    print(f"interop-step\t{name}\t{status}\t{line}", flush=True)


def step(name, fn):
    """Runs one step; its return value is the detail of an ok line."""
    try:
        emit(name, "ok", fn() or "")
        return True
    except Unsupported as e:
        emit(name, "unsupported", str(e))
    except Exception as e:
        traceback.print_exc(file=sys.stderr)
        emit(name, "fail", f"{type(e).__name__}: {e}")
    return False


def expect_equal(what, got, want):
    if got != want:
        raise AssertionError(f"{what}: got {got!r}, expected {want!r}")


def verify_signature(value, signature_b64, public_key_b64):
    """SHA256withRSA over the value, as the atSDKs sign public data (the Python SDK does not verify on get)."""
    if not signature_b64:
        raise AssertionError("no dataSignature in the metadata")
    key = load_der_public_key(base64.b64decode(public_key_b64))
    key.verify(base64.b64decode(signature_b64), value.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())


def root_address(ctx):
    host, port = ctx["root"].rsplit(":", 1)
    return Address(host, int(port))


def open_client(ctx):
    return AtClient(AtSign(ctx["atSign"]), root_address=root_address(ctx))


def in_ns(key):
    return key.set_namespace(NAMESPACE)


# --- phase onboard: directory lookup, CRAM onboarding with the SDK's own utilities, PKAM ---------------------


def lookup(ctx):
    root = AtRootConnection.get_instance(host=root_address(ctx).host, port=root_address(ctx).port)
    address = root.find_secondary(AtSign(ctx["atSign"]))
    expect_equal("address", str(address), ctx["expectAddress"])
    return address


def onboard(ctx, address):
    me = AtSign(ctx["atSign"])
    conn = AtSecondaryConnection(address)
    conn.connect()
    AuthUtil.authenticate_with_cram(conn, me, ctx["cramSecret"])
    keys = {}
    OnboardingUtil.generate_pkam_keypair(keys)
    OnboardingUtil.generate_encryption_keypair(keys)
    OnboardingUtil.generate_self_encryption_key(keys)
    OnboardingUtil.store_pkam_public_key(conn, keys)
    OnboardingUtil.store_public_encryption_key(conn, me.without_prefix, keys)
    OnboardingUtil.delete_cram_key(conn)
    KeysUtil.save_keys(me.to_string(), keys)
    conn.disconnect()
    return "CRAM with AuthUtil, keys by OnboardingUtil, saved by KeysUtil.save_keys"


def pkam(ctx):
    if not open_client(ctx).is_authenticated():
        raise AssertionError("AtClient is not authenticated")
    return "AtClient authenticated with the keys it loaded from ~/.atsign/keys"


def phase_onboard(ctx):
    found = {}

    def found_address():
        found["address"] = lookup(ctx)
        return str(found["address"])

    if step("directory_lookup", found_address) and step("cram_onboard", lambda: onboard(ctx, found["address"])):
        step("pkam_auth", lambda: pkam(ctx))


def phase_onboard_second(ctx):
    """A second @sign run by this SDK, to receive the first one's notification with the SDK's monitor."""
    def onboard_second():
        onboard(ctx, lookup(ctx))
        pkam(ctx)
        return f"{ctx['atSign']} onboarded the same way"

    step("second_sdk_onboard", onboard_second)


def phase_receive_second(ctx):
    targets = [("monitor_sdk_from_sdk", f"hello.{NAMESPACE}", ctx["values"]["notifySdkToSdk"])]
    for name, fn in watch(open_client(ctx), targets):
        step(name, fn)


# --- phase exercise: data, scan, notify, monitor -----------------------------------------------------------


def phase_exercise(ctx):
    client = open_client(ctx)
    me, peer, v = AtSign(ctx["atSign"]), AtSign(ctx["peer"]), ctx["values"]

    def public_put_get():
        client.put(in_ns(PublicKey("card", me)), v["public"])
        back = in_ns(PublicKey("card", me))
        expect_equal("value", client.get(back), v["public"])
        verify_signature(v["public"], back.metadata.data_signature, client.keys[KeysUtil.encryption_public_key_name])
        return "stored, read back, dataSignature verified with my public key"

    def public_get_signed_by_peer():
        key = in_ns(PublicKey("card", peer))
        expect_equal("value", client.get(key), v["peerPublic"])
        verify_signature(v["peerPublic"], key.metadata.data_signature, client.get_public_encryption_key(peer))
        return f"read {key} through plookup; signature checked by the driver (atsdk does not verify on get)"

    def self_put_get():
        client.put(in_ns(SelfKey("secret", me)), v["self"])
        expect_equal("value", client.get(in_ns(SelfKey("secret", me))), v["self"])
        return "encrypted with the self-encryption key and a fresh ivNonce"

    def shared_put():
        client.put(in_ns(SharedKey("forpeer", me, peer)), v["sharedBySdk"])
        return f"wrote {in_ns(SharedKey('forpeer', me, peer))}"

    def shared_put_unflagged():
        # Metadata is the SDK's public key attribute; with is_encrypted False its update line carries ivNonce but
        # no isEncrypted, the shape of the C SDK's shared records (issue 12). The value is encrypted all the same.
        key = in_ns(SharedKey("unflagged", me, peer))
        key.metadata.is_encrypted = False
        client.put(key, v["unflaggedBySdk"])
        expect_equal("read back by the SDK", client.get(in_ns(SharedKey("unflagged", me, peer))), v["unflaggedBySdk"])
        return f"wrote {key} without isEncrypted and read it back"

    def shared_get():
        expect_equal("value", client.get(in_ns(SharedKey("frompeer", peer, me))), v["sharedByPeer"])
        return f"read frompeer.{NAMESPACE}{peer} via lookup:all and the shared_key {peer} wrote for me"

    def scan():
        keys = {str(k) for k in client.get_at_keys(f".*\\.{NAMESPACE}", False)}
        want = {f"public:card.{NAMESPACE}{me}", f"secret.{NAMESPACE}{me}", f"{peer}:forpeer.{NAMESPACE}{me}"}
        missing = want - keys
        if missing:
            raise AssertionError(f"scan lacks {sorted(missing)}; got {sorted(keys)}")
        return f"{len(keys)} keys, the three written above among them"

    def notify():
        notification_id = client.notify(in_ns(SharedKey("note", me, peer)), v["notifyBySdk"])
        return f"queued as {notification_id}"

    def notify_second():
        second = AtSign(ctx["second"])
        return f"queued as {client.notify(in_ns(SharedKey('hello', me, second)), v['notifySdkToSdk'])}"

    for name, fn in [
        ("public_put_get", public_put_get),
        ("public_get_signed_by_inlay", public_get_signed_by_peer),
        ("self_put_get", self_put_get),
        ("shared_put_sdk_to_inlay", shared_put),
        ("shared_put_sdk_unflagged", shared_put_unflagged),
        ("shared_get_inlay_to_sdk", shared_get),
        ("scan", scan),
        ("notify_sdk_to_inlay", notify),
        ("notify_sdk_to_sdk", notify_second),
    ]:
        step(name, fn)
    step("apkam_enroll", lambda: unsupported("atsdk 0.2.81 has no enrollment (APKAM) API"))
    watched = watch(client, [("monitor_notify_from_inlay", f"note.{NAMESPACE}", v["notifyByPeer"]),
                             ("monitor_shared_write_from_inlay", f"frompeer.{NAMESPACE}", v["sharedByPeer"])])
    for name, fn in watched:
        step(name, fn)


def unsupported(reason):
    raise Unsupported(reason)


def watch(client, targets, wait_seconds=MONITOR_WAIT_SECONDS):
    """Runs the SDK's monitor from epoch 0 until a notification came for every target (step, key part, value),
    or wait_seconds passed; returns one step function per target saying what arrived."""
    events = queue.Queue()
    client.queue = events
    threading.Thread(target=client.start_monitor, args=(f".*{NAMESPACE}",), daemon=True).start()
    arrived = {}
    deadline = time.monotonic() + wait_seconds
    while len(arrived) < len(targets) and time.monotonic() < deadline:
        try:
            event = events.get(timeout=max(0.05, deadline - time.monotonic()))
        except queue.Empty:
            break
        data = event.event_data or {}
        part = next((p for _, p, _ in targets if p in str(data.get("key", ""))), None)
        if part is not None and part not in arrived and event.event_type == AtEventType.UPDATE_NOTIFICATION:
            arrived[part] = opened(client, event)

    def check(part, want):
        def run():
            if part not in arrived:
                raise AssertionError(f"no notification for {part} in {wait_seconds}s")
            value, why = arrived[part]
            if why:
                raise AssertionError(f"the notification for {part} arrived but was not decrypted: {why}")
            expect_equal("decrypted value", value, want)
            return "received by AtClient's monitor and decrypted by handle_event"
        return run

    return [(name, check(part, want)) for name, part, want in targets]


def opened(client, event):
    """What AtClient.handle_event makes of an update notification: (decrypted value, None) or (None, why not).
    It puts its decrypted event on the queue it is given, synchronously, so a queue of its own tells."""
    if event.event_data.get("value") is None:
        return None, "it carries no value"
    out = queue.Queue()
    try:
        client.handle_event(out, event)
    except Exception as e:
        return None, f"handle_event raised {type(e).__name__}: {e}"
    try:
        return out.get_nowait().event_data.get("decryptedValue"), None
    except queue.Empty:
        return None, "handle_event could not decrypt it (it printed why)"


# --- store-and-forward phases -----------------------------------------------------------------------------


def phase_offline_send(ctx):
    client = open_client(ctx)
    me, peer = AtSign(ctx["atSign"]), AtSign(ctx["peer"])

    def notify():
        return f"queued as {client.notify(in_ns(SharedKey('offline', me, peer)), ctx['values']['offlineBySdk'])}"

    step("notify_while_inlay_down", notify)


def phase_offline_receive(ctx):
    client = open_client(ctx)
    targets = [("receive_after_sdk_server_down", f"away.{NAMESPACE}", ctx["values"]["awayByPeer"])]
    for name, fn in watch(client, targets, ctx.get("monitorWaitSeconds", MONITOR_WAIT_SECONDS)):
        step(name, fn)


PHASES = {
    "onboard": phase_onboard,
    "onboard_second": phase_onboard_second,
    "receive_second": phase_receive_second,
    "exercise": phase_exercise,
    "offline_send": phase_offline_send,
    "offline_receive": phase_offline_receive,
}


def main():
    print(f"interop-version\tatsdk\t{version('atsdk')}", flush=True)
    PHASES[sys.argv[1]](json.load(sys.stdin))
    sys.stdout.flush()
    # The SDK's monitor and heartbeat threads do not stop on their own; the steps are all printed.
    os._exit(0)


if __name__ == "__main__":
    main()
