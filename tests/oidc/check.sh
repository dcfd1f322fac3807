#!/usr/bin/env bash
# Checks OAuth2 mailbox login end to end without routedesk: starts the OpenID provider
# (scripts/oidc) and the mail rig (scripts/rig), using what already runs, then runs check.py
# (client credentials with curl, IMAP and SMTP XOAUTH2/OAUTHBEARER, the control API, token
# expiry, the authorization-code flow with PKCE).  Exits non-zero if a check fails.
# Usage: tests/oidc/check.sh
set -euo pipefail
cd "$(dirname "$0")/../.."

owns=0
scripts/oidc status >/dev/null 2>&1 || owns=1
scripts/oidc start
scripts/rig start
eval "$(scripts/rig env)"
eval "$(scripts/oidc env)"
export CHECK_OWNS_PROVIDER=$owns
python3 tests/oidc/check.py
