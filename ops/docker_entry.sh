#!/bin/sh
# The image's entry point: `docker run inlay ENTRY [options]` runs the bundled ENTRY (/app/ENTRY.js). Only the
# entries the image ships are accepted, so a typo is a usage line and not a "module not found" trace.
set -eu
app="${INLAY_APP:-/app}"
entry="${1:-}"
case "$entry" in
  directory | server | relay | client)
    shift
    exec bun "$app/$entry.js" "$@"
    ;;
  healthcheck)
    shift
    exec bun "$app/ops/healthcheck.js" "$@"
    ;;
  *)
    echo "usage: docker run inlay directory|server|relay|client [options]   (each takes --help; got \"$entry\")" >&2
    exit 2
    ;;
esac
