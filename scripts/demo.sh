#!/usr/bin/env bash
# `make demo`: the main job on embedded defaults.
#
# Until the key server and the hosts exist, the demo shows the KMIP protocol
# tools on a shipped example: what a vCenter sends to create a VM key, and the
# answer, decoded from the wire (TTLV hex) to XML and JSON and encoded back.
set -euo pipefail
VMCRYPT=${1:-build/vmcrypt}
cd "$(dirname "$0")/.."
EXAMPLE=examples/kmip/vcenter-create.hex

echo "== vmcrypt kmip decode $EXAMPLE (TTLV -> KMIP XML)"
"$VMCRYPT" kmip decode "$EXAMPLE"
echo
echo "== vmcrypt kmip decode --to json (first message only)"
head -n 1 "$EXAMPLE" | "$VMCRYPT" kmip decode --to json - | head -n 40
echo "   ..."
echo
echo "== round trip: decode | encode gives the same bytes"
if "$VMCRYPT" kmip decode "$EXAMPLE" | "$VMCRYPT" kmip encode - | cmp -s - "$EXAMPLE"; then
  echo "   identical ($(wc -l < "$EXAMPLE") messages)"
else
  echo "   MISMATCH" >&2
  exit 1
fi
