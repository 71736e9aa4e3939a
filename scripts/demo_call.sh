#!/usr/bin/env bash
# Place one simulated call once the stack is up, so a new user finds a finished call in the
# admin. honcho stops every process when one exits, so this one stays idle afterwards.
set -uo pipefail
for _ in $(seq 1 60); do
  curl -fsS http://127.0.0.1:8000/healthz >/dev/null 2>&1 && break
  sleep 1
done
sleep 3  # let the voice pool's first workers finish warming up
.venv/bin/python manage.py simulate_call --template order-confirmation --merchant acme --persona cod-confirm \
  || echo "demo call failed; see the voice and web logs above"
echo "Demo call done: see it at http://127.0.0.1:8000/admin/calls/call/"
case "${BREEZE_PROVIDER_SANDBOX:-}" in
  1|true|yes|on|TRUE|True|YES|ON)
    # One lead per phone provider, dialled through its real adapter against the sandbox.
    .venv/bin/python manage.py push_sandbox_leads \
      || echo "sandbox leads failed; see the sandbox and worker logs above"
    ;;
esac
exec sleep infinity
