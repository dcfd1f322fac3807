#!/usr/bin/env python3
"""End-to-end check of OAuth2 mailbox login on the local rig, without routedesk.

Expects the rig (scripts/rig start) and the OpenID provider (scripts/oidc start) to run and their
`env` exports in the environment; tests/oidc/check.sh does all that.  Prints one line per check
and exits non-zero if any failed.
"""

import base64
import hashlib
import imaplib
import json
import os
import re
import secrets
import shutil
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar

ENV = os.environ
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
ISSUER = ENV["OIDC_ISSUER"]
TOKEN_URL = ENV["OIDC_TOKEN_URL"]
INTROSPECTION_URL = ENV["OIDC_INTROSPECTION_URL"]
CONTROL = ENV["OIDC_CONTROL_URL"]
MAIL_ID = ENV["OIDC_MAIL_CLIENT_ID"]
MAIL_SECRET = ENV["OIDC_MAIL_CLIENT_SECRET"]
MAIL_SCOPE = ENV["OIDC_MAIL_SCOPE"]
MAIL_RESOURCE = ENV["OIDC_MAIL_RESOURCE"]
MAILBOX = ENV["OIDC_MAILBOX"]
WEB_ID = ENV["OIDC_WEB_CLIENT_ID"]
WEB_SECRET = ENV["OIDC_WEB_CLIENT_SECRET"]
INTRO_ID = ENV["OIDC_INTROSPECT_CLIENT_ID"]
INTRO_SECRET = ENV["OIDC_INTROSPECT_CLIENT_SECRET"]
USER_PASSWORD = ENV["OIDC_USER_PASSWORD"]
HOST = ENV.get("RIG_IMAP_HOST", "127.0.0.1")
IMAP_PORT = int(ENV["RIG_IMAP_PORT"])
SMTP_PORT = int(ENV["RIG_SMTP_PORT"])
SUBMISSION_PORT = int(ENV["RIG_SUBMISSION_PORT"])
RIG_PASSWORD = ENV["RIG_PASSWORD"]
OWNS_PROVIDER = ENV.get("CHECK_OWNS_PROVIDER") == "1"
RUN = f"{os.getpid()}-{secrets.token_hex(3)}"

passed = 0
failed = 0


def check(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
        print(f"ok     {name}")
    else:
        failed += 1
        print(f"FAILED {name}{': ' + str(detail) if detail else ''}")
    sys.stdout.flush()
    return cond


def section(title):
    print(f"-- {title}")


# ------------------------------------------------------------------ HTTP


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def opener(jar=None):
    handlers = [NoRedirect()]
    if jar is not None:
        handlers.append(urllib.request.HTTPCookieProcessor(jar))
    return urllib.request.build_opener(*handlers)


def http(method, url, form=None, body=None, basic=None, headers=None, op=None):
    data = None
    hdrs = dict(headers or {})
    if form is not None:
        data = urllib.parse.urlencode(form).encode()
        hdrs["Content-Type"] = "application/x-www-form-urlencoded"
    elif body is not None:
        data = json.dumps(body).encode()
        hdrs["Content-Type"] = "application/json"
    if basic:
        hdrs["Authorization"] = "Basic " + base64.b64encode(f"{basic[0]}:{basic[1]}".encode()).decode()
    req = urllib.request.Request(url, data=data, headers=hdrs, method=method)
    try:
        resp = (op or opener()).open(req, timeout=10)
    except urllib.error.HTTPError as e:
        resp = e
    text = resp.read().decode("utf-8", "replace")
    return resp.status, resp.headers, text


def jdecode(text):
    try:
        return json.loads(text)
    except ValueError:
        return {}


def control(path, body=None):
    status, _, text = http("POST", CONTROL + path, body=body if body is not None else {})
    return status, jdecode(text)


def curl_token(client_id, secret, scope=MAIL_SCOPE, resource=None, in_body=False):
    """The client-credentials grant with curl, as a service would send it."""
    args = ["curl", "-sS", "-m", "10", "-w", "\n%{http_code}", "-d", "grant_type=client_credentials"]
    if in_body:
        args += ["--data-urlencode", f"client_id={client_id}", "--data-urlencode", f"client_secret={secret}"]
    else:
        args += ["-u", f"{client_id}:{secret}"]
    if scope:
        args += ["--data-urlencode", f"scope={scope}"]
    if resource:
        args += ["--data-urlencode", f"resource={resource}"]
    out = subprocess.run(args + [TOKEN_URL], capture_output=True, text=True, check=True).stdout
    text, _, code = out.rpartition("\n")
    return int(code), jdecode(text)


def introspect(token):
    status, _, text = http("POST", INTROSPECTION_URL, form={"token": token}, basic=(INTRO_ID, INTRO_SECRET))
    return status, jdecode(text)


def jwt_parts(token):
    h, p, _ = token.split(".")
    pad = lambda s: s + "=" * (-len(s) % 4)  # noqa: E731
    return json.loads(base64.urlsafe_b64decode(pad(h))), json.loads(base64.urlsafe_b64decode(pad(p)))


def jwt_signature_ok(token):
    """Verifies the JWT against the provider's JWKS with Node's crypto (RS256)."""
    script = r"""
const crypto = require('node:crypto');
const [jwksUrl, token] = process.argv.slice(1);
fetch(jwksUrl).then((r) => r.json()).then(({ keys }) => {
  const [h, p, s] = token.split('.');
  const { kid, alg } = JSON.parse(Buffer.from(h, 'base64url'));
  const jwk = keys.find((k) => k.kid === kid);
  const ok = alg === 'RS256' && jwk && crypto.verify('RSA-SHA256', Buffer.from(`${h}.${p}`),
    crypto.createPublicKey({ key: jwk, format: 'jwk' }), Buffer.from(s, 'base64url'));
  process.exit(ok ? 0 : 1);
}).catch(() => process.exit(2));
"""
    r = subprocess.run(["node", "-e", script, ENV["OIDC_JWKS_URL"], token], capture_output=True)
    return r.returncode == 0


# ------------------------------------------------------------------ IMAP / SMTP


def sasl_string(mech, user, token):
    if mech == "XOAUTH2":
        return f"user={user}\x01auth=Bearer {token}\x01\x01"
    return f"n,a={user},\x01auth=Bearer {token}\x01\x01"


def imap_auth(mech, user, token):
    """AUTHENTICATE without SASL-IR (imaplib).  Returns (ok, [continuation json], detail)."""
    M = imaplib.IMAP4(HOST, IMAP_PORT, timeout=15)
    conts = []

    def respond(challenge):
        if challenge:  # the server's error continuation; RFC 7628 wants an empty reply
            conts.append(jdecode(challenge.decode("utf-8", "replace")))
            return b""
        return sasl_string(mech, user, token).encode()

    try:
        typ, _ = M.authenticate(mech, respond)
        ok = typ == "OK"
        detail = typ
        if ok:
            typ, data = M.select("INBOX")
            ok = typ == "OK"
            detail = f"SELECT {typ} {data}"
    except imaplib.IMAP4.error as e:
        ok, detail = False, str(e)
    try:
        M.logout()
    except Exception:
        pass
    return ok, conts, detail


def imap_auth_sasl_ir(mech, user, token):
    """AUTHENTICATE with the initial response on the command line (SASL-IR), raw socket."""
    s = socket.create_connection((HOST, IMAP_PORT), timeout=15)
    f = s.makefile("rwb")
    f.readline()
    ir = base64.b64encode(sasl_string(mech, user, token).encode()).decode()
    f.write(f"a1 AUTHENTICATE {mech} {ir}\r\n".encode())
    f.flush()
    conts = []
    while True:
        line = f.readline().decode("utf-8", "replace").rstrip("\r\n")
        if line.startswith("+"):
            conts.append(jdecode(base64.b64decode(line[1:].strip() or "") .decode("utf-8", "replace")))
            f.write(b"\r\n")
            f.flush()
            continue
        if line.startswith("a1 "):
            break
        if not line:
            break
    f.write(b"a2 LOGOUT\r\n")
    f.flush()
    s.close()
    return line.startswith("a1 OK"), conts, line


def imap_password(user, password=RIG_PASSWORD):
    M = imaplib.IMAP4(HOST, IMAP_PORT, timeout=15)
    try:
        return M.login(user, password)[0] == "OK"
    except imaplib.IMAP4.error:
        return False
    finally:
        try:
            M.logout()
        except Exception:
            pass


def smtp_auth(mech, user, token, port=SUBMISSION_PORT):
    """SMTP AUTH with an initial response.  Returns (smtp or None, code, [continuation json])."""
    S = smtplib.SMTP(HOST, port, timeout=15)
    S.ehlo("check.oidc.test")
    conts = []

    def obj(challenge=None):
        if challenge is None:
            return sasl_string(mech, user, token)
        conts.append(jdecode(challenge.decode("utf-8", "replace")))
        return ""

    try:
        code, _ = S.auth(mech, obj, initial_response_ok=True)
    except smtplib.SMTPAuthenticationError as e:
        S.close()
        return None, e.smtp_code, conts
    return S, code, conts


def wait_delivered(user, subject, timeout=10.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        M = imaplib.IMAP4(HOST, IMAP_PORT, timeout=15)
        try:
            M.login(user, RIG_PASSWORD)
            M.select("INBOX", readonly=True)
            typ, data = M.search(None, "SUBJECT", f'"{subject}"')
            if typ == "OK" and data and data[0].split():
                return True
        except imaplib.IMAP4.error:
            pass
        finally:
            try:
                M.logout()
            except Exception:
                pass
        time.sleep(0.2)
    return False


# ------------------------------------------------------------------ checks


def provider_basics():
    section("provider: discovery, JWKS, client-credentials JWT")
    status, _, text = http("GET", ISSUER + "/.well-known/openid-configuration")
    conf = jdecode(text)
    check("discovery document", status == 200 and conf.get("issuer") == ISSUER, status)
    for k in ("authorization_endpoint", "token_endpoint", "jwks_uri", "introspection_endpoint",
              "end_session_endpoint", "userinfo_endpoint"):
        check(f"discovery has {k}", bool(conf.get(k)), conf.get(k))
    check("discovery: client_credentials grant", "client_credentials" in conf.get("grant_types_supported", []))
    check("discovery: PKCE S256", conf.get("code_challenge_methods_supported") == ["S256"])
    status, _, text = http("GET", ENV["OIDC_JWKS_URL"])
    keys = jdecode(text).get("keys", [])
    check("JWKS has an RS256 key without private parts", status == 200 and keys and all("d" not in k for k in keys), keys)

    code, tok = curl_token(MAIL_ID, MAIL_SECRET)
    at = tok.get("access_token", "")
    check("client credentials (curl, Basic) -> token", code == 200 and at, (code, tok))
    check("token response: Bearer, expires_in, scope .default",
          tok.get("token_type") == "Bearer" and tok.get("expires_in", 0) > 0 and tok.get("scope") == MAIL_SCOPE, tok)
    header, claims = jwt_parts(at)
    check("access token is a JWT (typ at+jwt, RS256)", header.get("typ") == "at+jwt" and header.get("alg") == "RS256", header)
    check("JWT aud is the mail resource", claims.get("aud") == MAIL_RESOURCE, claims)
    check("JWT client_id/sub/iss", claims.get("client_id") == MAIL_ID and claims.get("sub") == MAIL_ID
          and claims.get("iss") == ISSUER, claims)
    check("JWT roles IMAP.AccessAsApp, SMTP.SendAsApp", claims.get("roles") == ["IMAP.AccessAsApp", "SMTP.SendAsApp"], claims)
    check("JWT signature verifies against the JWKS", jwt_signature_ok(at))

    code, tok2 = curl_token(MAIL_ID, MAIL_SECRET, in_body=True)
    check("client credentials with the secret in the body", code == 200 and tok2.get("access_token"), (code, tok2))
    code, tok3 = curl_token(MAIL_ID, MAIL_SECRET, scope=None, resource=MAIL_RESOURCE)
    check("client credentials with resource= instead of scope", code == 200
          and jwt_parts(tok3.get("access_token", "a.e30.c"))[1].get("aud") == MAIL_RESOURCE, (code, tok3))
    code, bad = curl_token(MAIL_ID, "wrong-secret")
    check("wrong client secret -> 401 invalid_client", code == 401 and bad.get("error") == "invalid_client", (code, bad))

    status, intro = introspect(at)
    check("introspection: active, username = mailbox", status == 200 and intro.get("active") is True
          and intro.get("username") == MAILBOX and intro.get("client_id") == MAIL_ID, intro)
    status, intro = introspect("not-a-token")
    check("introspection of garbage: inactive", status == 200 and intro == {"active": False}, intro)
    status, _, text = http("POST", INTROSPECTION_URL, form={"token": at}, basic=(INTRO_ID, "wrong"))
    check("introspection with a wrong secret -> 401", status == 401, (status, text))
    return at


def imap_checks(at):
    section("IMAP (Dovecot oauth2 passdb)")
    for mech in ("XOAUTH2", "OAUTHBEARER"):
        ok, conts, detail = imap_auth(mech, MAILBOX, at)
        check(f"IMAP AUTHENTICATE {mech} as {MAILBOX} + SELECT", ok and not conts, (detail, conts))
        ok, conts, detail = imap_auth_sasl_ir(mech, MAILBOX, at)
        check(f"IMAP AUTHENTICATE {mech} with SASL-IR", ok, (detail, conts))
    expected = {"XOAUTH2": {"status": "401", "schemes": "bearer", "scope": "mail"},
                "OAUTHBEARER": {"status": "invalid_token"}}
    for mech in ("XOAUTH2", "OAUTHBEARER"):
        ok, conts, detail = imap_auth(mech, f"someone-else-{RUN}@routedesk.test", at)
        check(f"IMAP {mech} for another user fails with the JSON error continuation",
              not ok and conts == [expected[mech]], (detail, conts))
        ok, conts, detail = imap_auth(mech, MAILBOX, "garbage-token")
        check(f"IMAP {mech} with a garbage token fails with the JSON error continuation",
              not ok and conts == [expected[mech]], (detail, conts))
        ok, conts, detail = imap_auth(mech, MAILBOX, RIG_PASSWORD)
        check(f"IMAP {mech} with the rig password as token fails", not ok, detail)
    check("IMAP LOGIN with the shared rig password still works", imap_password(f"pw-{RUN}@routedesk.test"))
    check("IMAP LOGIN with a wrong password fails", not imap_password(f"pw-{RUN}@routedesk.test", "wrong"))
    check("IMAP LOGIN with a token as password fails", not imap_password(MAILBOX, at))


def smtp_checks(at):
    section("SMTP submission (Postfix -> Dovecot SASL)")
    S = smtplib.SMTP(HOST, SUBMISSION_PORT, timeout=15)
    S.ehlo("check")
    mechs = set((S.esmtp_features.get("auth") or "").split())
    S.quit()
    check("submission offers PLAIN LOGIN XOAUTH2 OAUTHBEARER", {"PLAIN", "LOGIN", "XOAUTH2", "OAUTHBEARER"} <= mechs, mechs)
    S = smtplib.SMTP(HOST, SMTP_PORT, timeout=15)
    S.ehlo("check")
    check(f"port {SMTP_PORT} stays without AUTH", "auth" not in S.esmtp_features, S.esmtp_features.get("auth"))
    S.quit()

    for mech in ("XOAUTH2", "OAUTHBEARER"):
        rcpt = f"oauth-{mech.lower()}-{RUN}@routedesk.test"
        subject = f"sent with {mech} {RUN}"
        S, code, conts = smtp_auth(mech, MAILBOX, at)
        check(f"SMTP AUTH {mech} as {MAILBOX}", S is not None and code == 235, (code, conts))
        if S is None:
            continue
        msg = f"From: {MAILBOX}\r\nTo: {rcpt}\r\nSubject: {subject}\r\n\r\nSent over OAuth2.\r\n"
        refused = S.sendmail(MAILBOX, [rcpt], msg)
        check(f"mail sent after {mech} accepted", refused == {}, refused)
        try:
            S.sendmail(f"other-{RUN}@routedesk.test", [rcpt], msg)
            check("sending as another address is refused", False, "accepted")
        except smtplib.SMTPRecipientsRefused as e:
            check("sending as another address is refused", "not owned" in str(e), e)
        S.quit()
        check(f"mail sent after {mech} is delivered", wait_delivered(rcpt, subject))

    expected = {"XOAUTH2": {"status": "401", "schemes": "bearer", "scope": "mail"},
                "OAUTHBEARER": {"status": "invalid_token"}}
    for mech in ("XOAUTH2", "OAUTHBEARER"):
        S, code, conts = smtp_auth(mech, f"someone-else-{RUN}@routedesk.test", at)
        check(f"SMTP {mech} for another user: 334 JSON error, then 535", S is None and code == 535
              and conts == [expected[mech]], (code, conts))
    S = smtplib.SMTP(HOST, SUBMISSION_PORT, timeout=15)
    S.ehlo("check")
    try:
        S.sendmail(MAILBOX, [f"x-{RUN}@routedesk.test"], "Subject: x\r\n\r\nx\r\n")
        check("submission without AUTH is refused", False, "accepted")
    except smtplib.SMTPRecipientsRefused as e:
        check("submission without AUTH is refused", True, e)
    S.close()
    S = smtplib.SMTP(HOST, SUBMISSION_PORT, timeout=15)
    S.ehlo("check")
    try:
        code, _ = S.login(f"pw-{RUN}@routedesk.test", RIG_PASSWORD)
        check("submission AUTH PLAIN with the rig password", code == 235, code)
    except smtplib.SMTPException as e:
        check("submission AUTH PLAIN with the rig password", False, e)
    S.close()


def control_checks(at):
    section("control API: disable / enable a client, revoke tokens")
    status, body = control(f"/clients/{MAIL_ID}/disable")
    check("disable routedesk-mail", status == 200 and body.get("disabled") is True, body)
    code, tok = curl_token(MAIL_ID, MAIL_SECRET)
    check("disabled client: token request refused (400 unauthorized_client)", code == 400
          and tok.get("error") == "unauthorized_client", (code, tok))
    status, intro = introspect(at)
    check("disabled client: its token introspects inactive", intro == {"active": False}, intro)
    ok, conts, detail = imap_auth("XOAUTH2", MAILBOX, at)
    check("disabled client: IMAP XOAUTH2 with the old token fails", not ok and conts, (detail, conts))
    S, code, _ = smtp_auth("XOAUTH2", MAILBOX, at)
    check("disabled client: SMTP XOAUTH2 with the old token fails", S is None and code == 535, code)
    status, body = control(f"/clients/{MAIL_ID}/enable")
    check("enable routedesk-mail", status == 200 and body.get("disabled") is False, body)
    code, tok = curl_token(MAIL_ID, MAIL_SECRET)
    fresh = tok.get("access_token", "")
    check("enabled again: new token issued", code == 200 and fresh, (code, tok))
    ok, conts, detail = imap_auth("XOAUTH2", MAILBOX, fresh)
    check("enabled again: IMAP XOAUTH2 with the new token works", ok, (detail, conts))

    status, body = control("/revoke")
    check("revoke all tokens", status == 200 and body.get("revoked", 0) >= 1, body)
    ok, conts, detail = imap_auth("OAUTHBEARER", MAILBOX, fresh)
    check("revoked token: IMAP OAUTHBEARER fails", not ok, detail)
    code, tok = curl_token(MAIL_ID, MAIL_SECRET)
    ok, conts, detail = imap_auth("OAUTHBEARER", MAILBOX, tok.get("access_token", ""))
    check("after revoke: a new token works", ok, (detail, conts))

    section("control API: a client of its own per test, short TTL")
    mailbox = f"ttl-{RUN}@routedesk.test"
    status, client = control("/clients", {"mailbox": mailbox, "token_ttl": 3})
    check("create a client for one mailbox with token_ttl 3 s", status == 201 and client.get("client_id"), client)
    code, tok = curl_token(client["client_id"], client["client_secret"])
    short = tok.get("access_token", "")
    check("its token lasts 3 s", code == 200 and tok.get("expires_in") == 3, tok)
    ok, conts, detail = imap_auth("XOAUTH2", mailbox, short)
    check("its token logs in to its own mailbox", ok, (detail, conts))
    ok, conts, detail = imap_auth("XOAUTH2", MAILBOX, short)
    check("its token does not log in to the helpdesk mailbox", not ok, detail)
    time.sleep(max(0.0, jwt_parts(short)[1]["exp"] - time.time()) + 1.2)
    ok, conts, detail = imap_auth("XOAUTH2", mailbox, short)
    check("after expiry: IMAP XOAUTH2 fails", not ok and conts, (detail, conts))
    S, code, _ = smtp_auth("OAUTHBEARER", mailbox, short)
    check("after expiry: SMTP OAUTHBEARER fails", S is None and code == 535, code)


def env_ttl_check():
    section("OIDC_TOKEN_TTL (a second provider on a free port)")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    state = tempfile.mkdtemp(prefix="oidc-ttl-")
    env = dict(ENV, OIDC_PORT=str(port), OIDC_STATE_DIR=state, OIDC_TOKEN_TTL="2")
    env.pop("OIDC_ISSUER", None)
    script = os.path.join(ROOT, "scripts", "oidc")
    r = subprocess.run([script, "start"], env=env, capture_output=True, text=True)
    if not check("second provider with OIDC_TOKEN_TTL=2 starts", r.returncode == 0, r.stderr.strip()):
        return
    try:
        base = f"http://127.0.0.1:{port}"
        status, _, text = http("POST", base + "/token", form={"grant_type": "client_credentials", "scope": MAIL_SCOPE},
                               basic=(MAIL_ID, MAIL_SECRET))
        tok = jdecode(text)
        _, claims = jwt_parts(tok.get("access_token", "a.e30.c"))
        check("token lifetime follows OIDC_TOKEN_TTL", tok.get("expires_in") == 2
              and claims.get("exp", 0) - claims.get("iat", 0) == 2, tok)
        status, _, text = http("POST", base + "/token/introspection", form={"token": tok.get("access_token", "")},
                               basic=(INTRO_ID, INTRO_SECRET))
        check("active before expiry", jdecode(text).get("active") is True, text)
        time.sleep(max(0.0, claims.get("exp", 0) - time.time()) + 1.2)
        status, _, text = http("POST", base + "/token/introspection", form={"token": tok.get("access_token", "")},
                               basic=(INTRO_ID, INTRO_SECRET))
        check("inactive after expiry", jdecode(text) == {"active": False}, text)
    finally:
        subprocess.run([script, "stop"], env=env, capture_output=True)
        shutil.rmtree(state, ignore_errors=True)


def auth_code_checks():
    section("authorization code + PKCE (staff sign-in)")
    jar = CookieJar()
    op = opener(jar)
    port = 40000 + secrets.randbelow(20000)  # any port: loopback redirect URIs match every port
    redirect = f"http://127.0.0.1:{port}/auth/callback"
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    base_q = {"client_id": WEB_ID, "response_type": "code", "scope": "openid email profile",
              "redirect_uri": redirect, "state": "st-" + RUN, "nonce": "n-" + RUN}

    status, hdrs, text = http("GET", ISSUER + "/auth?" + urllib.parse.urlencode(base_q), op=op)
    loc = hdrs.get("Location", "")
    check("authorization without PKCE is refused (error=invalid_request to the client)",
          status == 303 and loc.startswith(redirect) and "error=invalid_request" in loc and "PKCE" in loc,
          (status, loc))
    status, hdrs, text = http("GET", ISSUER + "/auth?" + urllib.parse.urlencode(dict(base_q, code_challenge=challenge,
                              code_challenge_method="S256", redirect_uri="http://127.0.0.1:1/elsewhere")), op=op)
    check("an unregistered redirect URI is refused", status == 400 and "redirect_uri" in text, (status, text[:200]))

    q = dict(base_q, code_challenge=challenge, code_challenge_method="S256", login_hint="admin@region.test")
    status, hdrs, _ = http("GET", ISSUER + "/auth?" + urllib.parse.urlencode(q), op=op)
    loc = urllib.parse.urljoin(ISSUER, hdrs.get("Location", ""))
    check("authorization redirects to the login page", status == 303 and "/interaction/" in loc, (status, loc))
    status, _, page = http("GET", loc, op=op)
    m = re.search(r'action="([^"]+)"', page)
    check("login page has a form with login and password fields",
          status == 200 and m and 'name="login"' in page and 'name="password"' in page, page[:200])
    if not m:
        return
    action = urllib.parse.urljoin(ISSUER, m.group(1))
    status, _, page = http("POST", action, form={"login": "admin@region.test", "password": "wrong"}, op=op)
    check("a wrong password is refused on the login page", status == 200 and 'id="error"' in page, status)
    status, hdrs, _ = http("POST", action, form={"login": "admin@region.test", "password": USER_PASSWORD}, op=op)
    hops = 0
    while status in (302, 303) and hops < 10:
        loc = urllib.parse.urljoin(ISSUER, hdrs.get("Location", ""))
        if loc.startswith(redirect):
            break
        status, hdrs, _ = http("GET", loc, op=op)
        hops += 1
    params = urllib.parse.parse_qs(urllib.parse.urlparse(loc).query)
    check("signed in and consented: code back at the callback (any loopback port)",
          loc.startswith(redirect) and "code" in params and params.get("state") == ["st-" + RUN], loc)
    if "code" not in params:
        return
    form = {"grant_type": "authorization_code", "code": params["code"][0], "redirect_uri": redirect}
    status, _, text = http("POST", ENV["OIDC_TOKEN_URL"], form=dict(form, code_verifier="wrong-" + verifier),
                           basic=(WEB_ID, WEB_SECRET))
    check("a wrong PKCE verifier is refused", status == 400 and jdecode(text).get("error") == "invalid_grant", text)

    # a code is single use, so sign in once more (the session now skips the login page)
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    q = dict(base_q, code_challenge=challenge, code_challenge_method="S256")
    status, hdrs, _ = http("GET", ISSUER + "/auth?" + urllib.parse.urlencode(q), op=op)
    hops = 0
    while status in (302, 303) and hops < 10:
        loc = urllib.parse.urljoin(ISSUER, hdrs.get("Location", ""))
        if loc.startswith(redirect):
            break
        status, hdrs, _ = http("GET", loc, op=op)
        hops += 1
    params = urllib.parse.parse_qs(urllib.parse.urlparse(loc).query)
    check("a second sign-in uses the session (no login page)", "code" in params, loc)
    form = {"grant_type": "authorization_code", "code": params.get("code", [""])[0], "redirect_uri": redirect,
            "code_verifier": verifier}
    status, _, text = http("POST", ENV["OIDC_TOKEN_URL"], form=form, basic=(WEB_ID, WEB_SECRET))
    tok = jdecode(text)
    check("code exchanged for tokens", status == 200 and tok.get("id_token") and tok.get("access_token"), text[:200])
    if not tok.get("id_token"):
        return
    _, idt = jwt_parts(tok["id_token"])
    check("ID token: iss, aud, nonce", idt.get("iss") == ISSUER and idt.get("aud") == WEB_ID
          and idt.get("nonce") == "n-" + RUN, idt)
    check("ID token: email, name, groups", idt.get("email") == "admin@region.test" and idt.get("name")
          and idt.get("groups") == ["rd-admins"], idt)
    check("ID token signature verifies against the JWKS", jwt_signature_ok(tok["id_token"]))
    status, _, text = http("GET", ENV["OIDC_USERINFO_URL"], headers={"Authorization": "Bearer " + tok["access_token"]})
    check("userinfo answers with the same groups", jdecode(text).get("groups") == ["rd-admins"], text)
    status, intro = introspect(tok["access_token"])
    check("a sign-in access token is not valid for the mailbox (audience)", intro == {"active": False}, intro)
    ok, conts, detail = imap_auth("XOAUTH2", "admin@region.test", tok["access_token"])
    check("... and IMAP refuses it", not ok, detail)

    # RP-initiated logout, then the next sign-in asks for the password again
    post_logout = f"http://127.0.0.1:{port}/"
    q = {"id_token_hint": tok["id_token"], "post_logout_redirect_uri": post_logout, "state": "bye"}
    status, _, page = http("GET", ENV["OIDC_END_SESSION_URL"] + "?" + urllib.parse.urlencode(q), op=op)
    m = re.search(r'<form[^>]*action="([^"]+)"', page)
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))
    check("end session shows the sign-out form", status == 200 and m and "xsrf" in fields, page[:200])
    if m:
        status, hdrs, _ = http("POST", urllib.parse.urljoin(ISSUER, m.group(1)), form=fields, op=op)
        loc = hdrs.get("Location", "")
        check("signed out and sent to the post-logout URI", status in (302, 303) and loc.startswith(post_logout)
              and "state=bye" in loc, (status, loc))
    status, hdrs, _ = http("GET", ISSUER + "/auth?" + urllib.parse.urlencode(q_fresh(base_q)), op=op)
    loc = urllib.parse.urljoin(ISSUER, hdrs.get("Location", ""))
    status, _, page = http("GET", loc, op=op) if "/interaction/" in loc else (0, None, "")
    check("after sign-out the login page comes back", status == 200 and 'name="password"' in page, loc)

    # another account: groups of a municipality
    groups = sign_in_groups("kari@gjovik.kommune.no", base_q)
    check("kari@gjovik.kommune.no has group rd-municipal-gjovik", groups == ["rd-municipal-gjovik"], groups)


def q_fresh(base_q):
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return dict(base_q, code_challenge=challenge, code_challenge_method="S256")


def sign_in_groups(email, base_q):
    op = opener(CookieJar())
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    q = dict(base_q, code_challenge=challenge, code_challenge_method="S256")
    status, hdrs, _ = http("GET", ISSUER + "/auth?" + urllib.parse.urlencode(q), op=op)
    status, _, page = http("GET", urllib.parse.urljoin(ISSUER, hdrs.get("Location", "")), op=op)
    m = re.search(r'action="([^"]+)"', page)
    if not m:
        return None
    status, hdrs, _ = http("POST", urllib.parse.urljoin(ISSUER, m.group(1)),
                           form={"login": email, "password": USER_PASSWORD}, op=op)
    loc = ""
    for _ in range(10):
        loc = urllib.parse.urljoin(ISSUER, hdrs.get("Location", ""))
        if loc.startswith(base_q["redirect_uri"]) or status not in (302, 303):
            break
        status, hdrs, _ = http("GET", loc, op=op)
    code = urllib.parse.parse_qs(urllib.parse.urlparse(loc).query).get("code", [""])[0]
    status, _, text = http("POST", ENV["OIDC_TOKEN_URL"], form={
        "grant_type": "authorization_code", "code": code, "redirect_uri": base_q["redirect_uri"],
        "code_verifier": verifier}, basic=(WEB_ID, WEB_SECRET))
    idt = jdecode(text).get("id_token")
    return jwt_parts(idt)[1].get("groups") if idt else None


def provider_down_check():
    section("provider down: OAuth fails closed, passwords still work")
    if not OWNS_PROVIDER:
        print("skip   (the provider was already running before this check; not stopping it)")
        return
    _, tok = curl_token(MAIL_ID, MAIL_SECRET)
    script = os.path.join(ROOT, "scripts", "oidc")
    subprocess.run([script, "stop"], capture_output=True, check=True)
    try:
        t0 = time.time()
        ok, conts, detail = imap_auth("XOAUTH2", MAILBOX, tok.get("access_token", ""))
        check("provider stopped: IMAP XOAUTH2 fails", not ok, detail)
        check("... quickly (no hang)", time.time() - t0 < 8, round(time.time() - t0, 2))
        S, code, _ = smtp_auth("XOAUTH2", MAILBOX, tok.get("access_token", ""))
        check("provider stopped: SMTP XOAUTH2 fails", S is None, code)
        check("provider stopped: IMAP LOGIN with a password works", imap_password(f"pw-{RUN}@routedesk.test"))
    finally:
        r = subprocess.run([script, "start"], capture_output=True, text=True)
        check("provider started again", r.returncode == 0, r.stderr)


def main():
    at = provider_basics()
    imap_checks(at)
    smtp_checks(at)
    auth_code_checks()
    control_checks(at)
    env_ttl_check()
    provider_down_check()
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
