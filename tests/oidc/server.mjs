// An OpenID Connect provider (panva's oidc-provider) on loopback for routedesk's OAuth2 tests:
// Microsoft 365 style client-credentials tokens for the helpdesk mailbox (IMAP/SMTP XOAUTH2 and
// OAUTHBEARER through Dovecot's oauth2 passdb), an authorization-code client with PKCE for staff
// sign-in, RFC 7662 introspection for Dovecot and a /_test control API.  Started by scripts/oidc;
// tests/oidc/README.md describes it.  Test accounts and secrets only: never a production server.

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';

import Provider, { errors } from 'oidc-provider';

// ------------------------------------------------------------------ settings

const env = (name, fallback) => {
  const v = process.env[name];
  return v === undefined || v === '' ? fallback : v;
};
const list = (s) => s.split(',').map((x) => x.trim()).filter(Boolean);
const seconds = (name, fallback) => {
  const v = env(name, String(fallback));
  if (!/^[0-9]+$/.test(v) || Number(v) < 1) {
    throw new Error(`${name} must be a whole number of seconds >= 1: ${v}`);
  }
  return Number(v);
};

const HOST = env('OIDC_HOST', '127.0.0.1');
const PORT = Number(env('OIDC_PORT', '9400'));
const ISSUER = env('OIDC_ISSUER', `http://${HOST}:${PORT}`);
const STATE_DIR = env('OIDC_STATE_DIR', '/tmp/routedesk-oidc');
const TOKEN_TTL = seconds('OIDC_TOKEN_TTL', 3600);

// The resource (audience) and the scope of the mailbox tokens, as at Microsoft.
const MAIL_RESOURCE = env('OIDC_MAIL_RESOURCE', 'https://outlook.office365.com');
const MAIL_SCOPE = `${MAIL_RESOURCE}/.default`;
const MAIL_ROLES = ['IMAP.AccessAsApp', 'SMTP.SendAsApp'];

const MAIL_CLIENT_ID = env('OIDC_MAIL_CLIENT_ID', 'routedesk-mail');
const MAIL_CLIENT_SECRET = env('OIDC_MAIL_CLIENT_SECRET', 'mail-secret');
const MAILBOX = env('OIDC_MAILBOX', 'helpdesk@routedesk.test').toLowerCase();

const WEB_CLIENT_ID = env('OIDC_WEB_CLIENT_ID', 'routedesk-web');
const WEB_CLIENT_SECRET = env('OIDC_WEB_CLIENT_SECRET', 'web-secret');
const WEB_REDIRECT_URIS = list(env('OIDC_WEB_REDIRECT_URIS',
  'http://127.0.0.1/auth/callback,http://localhost/auth/callback'));
const WEB_POST_LOGOUT_URIS = list(env('OIDC_WEB_POST_LOGOUT_URIS',
  'http://127.0.0.1/,http://127.0.0.1/login,http://localhost/,http://localhost/login'));

const INTROSPECT_CLIENT_ID = env('OIDC_INTROSPECT_CLIENT_ID', 'dovecot');
const INTROSPECT_CLIENT_SECRET = env('OIDC_INTROSPECT_CLIENT_SECRET', 'dovecot-secret');

const USER_PASSWORD = env('OIDC_USER_PASSWORD', 'test-password');

// ------------------------------------------------------------------ accounts

const DEFAULT_USERS = [
  { email: 'admin@region.test', name: 'Anne Admin', groups: ['rd-admins'] },
  { email: 'helpdesk@region.test', name: 'Hege Helpdesk', groups: ['rd-helpdesk'] },
  { email: 'kari@gjovik.kommune.no', name: 'Kari Nordmann', groups: ['rd-municipal-gjovik'] },
  { email: 'ola@ostre-toten.kommune.no', name: 'Ola Nordmann', groups: ['rd-municipal-ostre-toten'] },
  { email: 'personvern@region.test', name: 'Per Personvern', groups: ['rd-privacy'] },
  { email: 'ingen@region.test', name: 'Ingrid Ingen', groups: [] },
];

function loadUsers() {
  const file = env('OIDC_USERS_FILE', '');
  const raw = file ? JSON.parse(fs.readFileSync(file, 'utf8')) : DEFAULT_USERS;
  const users = new Map();
  for (const u of raw) {
    const email = String(u.email).toLowerCase();
    // A stable, opaque subject per address (Microsoft's sub is opaque too).
    const h = crypto.createHash('sha256').update(`routedesk-oidc:${email}`).digest('hex');
    const sub = u.sub || `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
    users.set(email, {
      sub,
      email,
      name: u.name || email,
      password: u.password || USER_PASSWORD,
      groups: Array.isArray(u.groups) ? u.groups.map(String) : [],
    });
  }
  return users;
}
const USERS = loadUsers();
const USERS_BY_SUB = new Map([...USERS.values()].map((u) => [u.sub, u]));

// ------------------------------------------------------------------ keys (kept across restarts)

function loadState() {
  fs.mkdirSync(STATE_DIR, { recursive: true, mode: 0o700 });
  const file = path.join(STATE_DIR, 'keys.json');
  try {
    const state = JSON.parse(fs.readFileSync(file, 'utf8'));
    if (state.jwk?.kty === 'RSA' && Array.isArray(state.cookieKeys)) return state;
  } catch { /* first start */ }
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' });
  jwk.kid = crypto.createHash('sha256').update(jwk.n).digest('base64url').slice(0, 16);
  jwk.use = 'sig';
  jwk.alg = 'RS256';
  const state = { jwk, cookieKeys: [crypto.randomBytes(32).toString('base64url')] };
  const tmp = `${file}.${process.pid}`;
  fs.writeFileSync(tmp, JSON.stringify(state), { mode: 0o600 });
  fs.renameSync(tmp, file);
  return state;
}
const STATE = loadState();
const PUBLIC_KEY = crypto.createPublicKey({ key: STATE.jwk, format: 'jwk' });

// ------------------------------------------------------------------ test state

// Per client: mailbox (the IMAP/SMTP user its tokens may log in as), token TTL, disabled flag,
// and, for introspecting clients, the audiences they may see.
const clientState = new Map();
function stateOf(clientId) {
  if (!clientState.has(clientId)) clientState.set(clientId, { disabled: false });
  return clientState.get(clientId);
}
const isDisabled = (clientId) => clientState.get(clientId)?.disabled === true;
stateOf(MAIL_CLIENT_ID).mailbox = MAILBOX;
stateOf(INTROSPECT_CLIENT_ID).audiences = [MAIL_RESOURCE];

// Every access token issued by this process: jti -> { clientId, exp, revoked }.  JWT access
// tokens are not stored by oidc-provider, so introspection of a JWT needs this registry; a token
// this process did not issue (e.g. from before a restart) is inactive.
const issued = new Map();
function remember(token) {
  if (token?.jti) issued.set(token.jti, { clientId: token.clientId, exp: token.exp, revoked: false });
}
setInterval(() => {
  const now = Math.floor(Date.now() / 1000);
  for (const [jti, t] of issued) if (t.exp && t.exp + 60 < now) issued.delete(jti);
}, 60_000).unref();

// ------------------------------------------------------------------ storage

// oidc-provider's own memory adapter keeps at most 1000 entries (sessions, codes, grants,
// registered clients together) and evicts the oldest; this one keeps everything until it
// expires, for long test runs.  Nothing survives a restart.
const store = new Map(); // key -> { value, expiresAt }
const storeGet = (key) => {
  const e = store.get(key);
  if (!e) return undefined;
  if (e.expiresAt && e.expiresAt <= Date.now()) { store.delete(key); return undefined; }
  return e.value;
};
const storeSet = (key, value, expiresIn) => {
  store.set(key, { value, expiresAt: expiresIn ? Date.now() + expiresIn * 1000 : undefined });
};
setInterval(() => { for (const key of store.keys()) storeGet(key); }, 60_000).unref();

const GRANTABLE = new Set(['AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode',
  'BackchannelAuthenticationRequest']);

class MemoryStore {
  constructor(model) { this.model = model; }

  key(id) { return `${this.model}:${id}`; }

  async upsert(id, payload, expiresIn) {
    const key = this.key(id);
    if (this.model === 'Session') storeSet(`sessionUid:${payload.uid}`, id, expiresIn);
    if (GRANTABLE.has(this.model) && payload.grantId) {
      const grantKey = `grant:${payload.grantId}`;
      const keys = storeGet(grantKey) || [];
      keys.push(key);
      storeSet(grantKey, keys, expiresIn && Math.max(expiresIn, 24 * 3600));
    }
    if (payload.userCode) storeSet(`userCode:${payload.userCode}`, id, expiresIn);
    storeSet(key, payload, expiresIn);
  }

  async find(id) { return storeGet(this.key(id)); }

  async findByUid(uid) {
    const id = storeGet(`sessionUid:${uid}`);
    return id === undefined ? undefined : this.find(id);
  }

  async findByUserCode(userCode) {
    const id = storeGet(`userCode:${userCode}`);
    return id === undefined ? undefined : this.find(id);
  }

  async consume(id) {
    const value = storeGet(this.key(id));
    if (value) value.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id) { store.delete(this.key(id)); }

  async revokeByGrantId(grantId) {
    const grantKey = `grant:${grantId}`;
    for (const key of storeGet(grantKey) || []) store.delete(key);
    store.delete(grantKey);
  }
}

// ------------------------------------------------------------------ provider

const isLoopbackHttp = (uri) => {
  try {
    const u = new URL(uri);
    return u.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname);
  } catch { return false; }
};

const configuration = {
  adapter: MemoryStore,
  clients: [
    {
      client_id: MAIL_CLIENT_ID,
      client_secret: MAIL_CLIENT_SECRET,
      client_name: 'routedesk mailbox service',
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
    },
    {
      client_id: WEB_CLIENT_ID,
      client_secret: WEB_CLIENT_SECRET,
      client_name: 'routedesk staff sign-in',
      // "native" makes oidc-provider accept any port on loopback redirect URIs (RFC 8252 7.3),
      // so tests on ephemeral ports can use http://127.0.0.1/auth/callback.
      application_type: WEB_REDIRECT_URIS.concat(WEB_POST_LOGOUT_URIS).every(
        (u) => isLoopbackHttp(u) || u.startsWith('https://'),
      ) ? 'native' : 'web',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: WEB_REDIRECT_URIS,
      post_logout_redirect_uris: WEB_POST_LOGOUT_URIS,
      token_endpoint_auth_method: 'client_secret_basic',
    },
    {
      client_id: INTROSPECT_CLIENT_ID,
      client_secret: INTROSPECT_CLIENT_SECRET,
      client_name: 'Dovecot (token introspection)',
      grant_types: [],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  jwks: { keys: [STATE.jwk] },
  cookies: {
    keys: STATE.cookieKeys,
    long: { signed: true, httpOnly: true, sameSite: 'lax' },
    short: { signed: true, httpOnly: true, sameSite: 'lax' },
  },
  claims: {
    openid: ['sub', 'groups'],
    email: ['email', 'email_verified'],
    profile: ['name', 'preferred_username'],
  },
  // Put the scope-requested claims (email, name) into the ID token as Microsoft does.
  conformIdTokenClaims: false,
  scopes: ['openid', 'offline_access', 'email', 'profile'],
  responseTypes: ['code'],
  pkce: { methods: ['S256'], required: () => true },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: true, allowedPolicy: async () => true },
    revocation: { enabled: true },
    rpInitiatedLogout: { enabled: true, logoutSource, postLogoutSuccessSource },
    userinfo: { enabled: true },
    resourceIndicators: {
      enabled: true,
      // Microsoft's form: scope=https://outlook.office365.com/.default (no resource parameter).
      async defaultResource(ctx, client, oneOf) {
        if (oneOf) return oneOf[0];
        const scope = String(ctx.oidc.params?.scope || '');
        if (scope.split(' ').some((s) => s.startsWith(`${MAIL_RESOURCE}/`))) return MAIL_RESOURCE;
        return undefined;
      },
      async useGrantedResource() { return true; },
      async getResourceServerInfo(ctx, resourceIndicator) {
        if (resourceIndicator !== MAIL_RESOURCE) throw new errors.InvalidTarget();
        return {
          scope: MAIL_SCOPE,
          audience: MAIL_RESOURCE,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'RS256' } },
        };
      },
    },
  },
  async extraTokenClaims(ctx, token) {
    if (token.kind === 'ClientCredentials' && token.aud === MAIL_RESOURCE) return { roles: MAIL_ROLES };
    return undefined;
  },
  ttl: {
    AccessToken: (ctx, token, client) => clientState.get(client.clientId)?.token_ttl || TOKEN_TTL,
    ClientCredentials: (ctx, token, client) => clientState.get(client.clientId)?.token_ttl || TOKEN_TTL,
    AuthorizationCode: 60,
    IdToken: 3600,
    Interaction: 3600,
    Session: 8 * 3600,
    Grant: 8 * 3600,
    RefreshToken: 24 * 3600,
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(ctx, sub) {
    const user = USERS_BY_SUB.get(sub);
    if (!user) return undefined;
    return {
      accountId: sub,
      async claims() {
        return {
          sub,
          email: user.email,
          email_verified: true,
          name: user.name,
          preferred_username: user.email,
          groups: user.groups,
        };
      },
    };
  },
  renderError,
};

const provider = new Provider(ISSUER, configuration);

// Loopback post-logout redirect URIs match on any port, as the redirect URIs of a native
// client do (RFC 8252 7.3): tests listen on ephemeral ports.
const { postLogoutRedirectUriAllowed } = provider.Client.prototype;
provider.Client.prototype.postLogoutRedirectUriAllowed = function allowed(value) {
  if (postLogoutRedirectUriAllowed.call(this, value)) return true;
  if (this.applicationType !== 'native' || !isLoopbackHttp(value)) return false;
  const portless = (uri) => { const u = new URL(uri); u.port = ''; return u.href; };
  return this.postLogoutRedirectUris.some((allowedUri) => isLoopbackHttp(allowedUri)
    && portless(allowedUri) === portless(value));
};
for (const ev of ['client_credentials.issued', 'client_credentials.saved', 'access_token.issued', 'access_token.saved']) {
  provider.on(ev, remember);
}
for (const ev of ['server_error', 'grant.error', 'introspection.error']) {
  provider.on(ev, (ctx, err) => console.error(`${ev}: ${err?.message}${err?.error_description ? ` (${err.error_description})` : ''}`));
}

// The request body is read here for the token and introspection endpoints; oidc-provider then
// takes it from req.body.  Its one-time notice about that is expected.
const consoleWarn = console.warn;
console.warn = (...args) => {
  if (String(args[0]).includes('already parsed request body detected')) return;
  consoleWarn(...args);
};

// ------------------------------------------------------------------ html

const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({
  '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;',
}[c]));

function page(title, body) {
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font-family:sans-serif;max-width:24rem;margin:3rem auto}label{display:block;margin:.6rem 0}
input{width:100%;padding:.4rem;box-sizing:border-box}button{padding:.5rem 1rem;margin-top:.6rem}
.error{color:#b00020}</style></head>
<body><h1>${esc(title)}</h1>
${body}
</body></html>`;
}

async function logoutSource(ctx, form) {
  // Signs out at once (as Microsoft does); the button is there when scripts are off.
  const withLogout = form.replace('</form>', '<input type="hidden" name="logout" value="yes"/></form>');
  ctx.body = page('Sign out', `${withLogout}
<button id="signout" type="submit" form="op.logoutForm">Sign out</button>
<script>document.getElementById('op.logoutForm').submit()</script>`);
}

async function postLogoutSuccessSource(ctx) {
  ctx.body = page('Signed out', '<p id="signed-out">You are signed out.</p>');
}

async function renderError(ctx, out) {
  ctx.type = 'html';
  ctx.body = page('Sign-in error', `<p class="error" id="error">${esc(out.error)}</p>
<p id="error_description">${esc(out.error_description || '')}</p>`);
}

function loginPage(uid, client, { email = '', error = '' } = {}) {
  return page('Sign in', `<p>to <strong>${esc(client?.clientName || client?.clientId || '')}</strong></p>
${error ? `<p class="error" id="error">${esc(error)}</p>` : ''}
<form id="login-form" method="post" action="/interaction/${esc(uid)}/login" autocomplete="off">
<label>Email <input id="login" name="login" type="email" value="${esc(email)}" autofocus required></label>
<label>Password <input id="password" name="password" type="password" required></label>
<button id="submit" type="submit">Sign in</button>
</form>
<p><a id="abort" href="/interaction/${esc(uid)}/abort">Cancel</a></p>`);
}

// ------------------------------------------------------------------ helpers

async function readBody(req, limit = 64 * 1024) {
  const chunks = [];
  let n = 0;
  for await (const chunk of req) {
    n += chunk.length;
    if (n > limit) throw new Error('request body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function json(ctx, status, body) {
  ctx.status = status;
  ctx.type = 'application/json';
  ctx.set('Cache-Control', 'no-store');
  ctx.body = body;
}

// RFC 6749 2.3.1: client_id and client_secret, form-urlencoded, in a Basic header.
function basicCredentials(header) {
  const m = /^Basic\s+(\S+)$/i.exec(header || '');
  if (!m) return undefined;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  if (i < 0) return undefined;
  const dec = (s) => decodeURIComponent(s.replace(/\+/g, '%20'));
  try {
    return { id: dec(decoded.slice(0, i)), secret: dec(decoded.slice(i + 1)) };
  } catch { return undefined; }
}
const encForm = (s) => encodeURIComponent(s).replace(/%20/g, '+');

function looksLikeJwt(token) {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(token || '');
}

// Verifies a JWT access token this provider signed; returns its claims or undefined.
function verifyJwt(token) {
  const [h, p, s] = token.split('.');
  let header;
  let claims;
  try {
    header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8'));
    claims = JSON.parse(Buffer.from(p, 'base64url').toString('utf8'));
  } catch { return undefined; }
  if (header.alg !== 'RS256' || header.kid !== STATE.jwk.kid || header.typ !== 'at+jwt') return undefined;
  const ok = crypto.verify('RSA-SHA256', Buffer.from(`${h}.${p}`), PUBLIC_KEY, Buffer.from(s, 'base64url'));
  if (!ok || claims.iss !== ISSUER) return undefined;
  return claims;
}

const audiences = (aud) => (Array.isArray(aud) ? aud : aud ? [aud] : []);

// The introspection policy applied to every active token: issued here and not revoked, its
// client enabled, and an audience the introspecting client may see.  Adds `username`: the
// mailbox of a client-credentials client, or the e-mail address of a signed-in user.
function applyPolicy(caller, body, tokenValue, { mustBeKnown }) {
  const inactive = { active: false };
  const rec = issued.get(body.jti || tokenValue);
  if ((mustBeKnown && !rec) || rec?.revoked) return inactive;
  if (isDisabled(body.client_id)) return inactive;
  const allowed = clientState.get(caller)?.audiences;
  if (allowed && !audiences(body.aud).some((a) => allowed.includes(a))) return inactive;
  const user = body.sub && USERS_BY_SUB.get(body.sub);
  const username = user ? user.email : clientState.get(body.client_id)?.mailbox;
  return username ? { ...body, username } : body;
}

// ------------------------------------------------------------------ middleware

const routes = { token: '/token', introspection: '/token/introspection', authorization: '/auth' };

provider.use(async (ctx, next) => {
  const p = ctx.path;

  if (p.startsWith('/_test/')) return control(ctx);
  if (p.startsWith('/interaction/')) return interaction(ctx);

  if (p === routes.authorization && ctx.method === 'GET') {
    const id = ctx.query.client_id;
    if (typeof id === 'string' && isDisabled(id)) {
      ctx.status = 400;
      return renderError(ctx, { error: 'unauthorized_client', error_description: `client ${id} is disabled` });
    }
    return next();
  }

  if (ctx.method !== 'POST' || (p !== routes.token && p !== routes.introspection)
      || !ctx.is('application/x-www-form-urlencoded')) {
    return next();
  }

  // Read the form, and accept the client's secret either in a Basic header or in the body (as
  // Microsoft does) whichever method the client is registered with.
  const raw = await readBody(ctx.req);
  const params = new URLSearchParams(raw);
  const basic = basicCredentials(ctx.get('authorization'));
  const id = basic?.id ?? params.get('client_id') ?? undefined;
  const secret = basic?.secret ?? params.get('client_secret') ?? undefined;
  const client = id ? await provider.Client.find(id) : undefined;
  if (client && secret !== undefined) {
    const method = client.tokenEndpointAuthMethod;
    if (method === 'client_secret_basic' && !basic) {
      params.delete('client_id');
      params.delete('client_secret');
      ctx.req.headers.authorization = `Basic ${Buffer.from(`${encForm(id)}:${encForm(secret)}`).toString('base64')}`;
    } else if (method === 'client_secret_post' && basic) {
      delete ctx.req.headers.authorization;
      params.set('client_id', id);
      params.set('client_secret', secret);
    }
  }
  ctx.req.body = params.toString();

  if (p === routes.token) {
    if (id && isDisabled(id)) {
      return json(ctx, 400, { error: 'unauthorized_client', error_description: `client ${id} is disabled` });
    }
    return next();
  }

  // Introspection.  oidc-provider does not introspect JWT access tokens (RFC 9068 expects the
  // resource server to validate them itself), so those are answered here after the same client
  // authentication; opaque tokens go to oidc-provider and get the same policy afterwards.
  const token = params.get('token') || '';
  if (looksLikeJwt(token)) {
    if (!client || secret === undefined || !(await client.compareClientSecret(secret))) {
      ctx.set('WWW-Authenticate', `Basic realm="${ISSUER}"`);
      return json(ctx, 401, { error: 'invalid_client', error_description: 'client authentication failed' });
    }
    const claims = verifyJwt(token);
    const now = Math.floor(Date.now() / 1000);
    if (!claims || !(claims.exp > now)) return json(ctx, 200, { active: false });
    const body = {
      active: true,
      iss: claims.iss,
      sub: claims.sub,
      client_id: claims.client_id,
      aud: claims.aud,
      scope: claims.scope,
      exp: claims.exp,
      iat: claims.iat,
      jti: claims.jti,
      token_type: 'Bearer',
    };
    return json(ctx, 200, applyPolicy(client.clientId, body, token, { mustBeKnown: true }));
  }
  await next();
  if (ctx.status === 200 && ctx.body?.active === true && ctx.oidc?.client) {
    ctx.body = applyPolicy(ctx.oidc.client.clientId, ctx.body, token, { mustBeKnown: false });
  }
  return undefined;
});

// ------------------------------------------------------------------ interactions

async function interaction(ctx) {
  const m = /^\/interaction\/([A-Za-z0-9_-]+)(?:\/(login|abort))?$/.exec(ctx.path);
  if (!m) { ctx.status = 404; return undefined; }
  const [, uid, action] = m;
  ctx.set('Cache-Control', 'no-store');
  let details;
  try {
    details = await provider.interactionDetails(ctx.req, ctx.res);
  } catch (err) {
    ctx.status = 400;
    return renderError(ctx, { error: 'invalid_request', error_description: `interaction: ${err.message}` });
  }
  if (details.uid !== uid) {
    ctx.status = 400;
    return renderError(ctx, { error: 'invalid_request', error_description: 'interaction mismatch' });
  }
  const client = await provider.Client.find(details.params.client_id);
  const finish = async (result) => {
    const returnTo = await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: false });
    ctx.status = 303;
    ctx.redirect(returnTo);
  };

  if (action === 'abort') {
    return finish({ error: 'access_denied', error_description: 'the user cancelled the sign-in' });
  }

  if (details.prompt.name === 'login') {
    if (action === 'login' && ctx.method === 'POST') {
      const form = new URLSearchParams(await readBody(ctx.req));
      const email = String(form.get('login') || '').trim().toLowerCase();
      const user = USERS.get(email);
      const given = Buffer.from(String(form.get('password') || ''));
      const ok = user && given.length === Buffer.byteLength(user.password)
        && crypto.timingSafeEqual(given, Buffer.from(user.password));
      if (!ok) {
        ctx.status = 200;
        ctx.type = 'html';
        ctx.body = loginPage(uid, client, { email, error: 'Wrong email address or password.' });
        return undefined;
      }
      return finish({ login: { accountId: user.sub, remember: false } });
    }
    ctx.type = 'html';
    ctx.body = loginPage(uid, client, { email: details.params.login_hint || '' });
    return undefined;
  }

  if (details.prompt.name === 'consent') {
    // Consent is given in advance (as an administrator's consent is at Microsoft).
    const { prompt: { details: missing }, params, session } = details;
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    if (missing.missingResourceScopes) {
      for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes)) {
        grant.addResourceScope(indicator, scopes.join(' '));
      }
    }
    const grantId = await grant.save();
    return finish({ consent: details.grantId ? {} : { grantId } });
  }

  ctx.status = 400;
  return renderError(ctx, { error: 'invalid_request', error_description: `unknown prompt ${details.prompt.name}` });
}

// ------------------------------------------------------------------ control API (/_test)

async function control(ctx) {
  const method = ctx.method;
  const p = ctx.path.replace(/\/+$/, '');
  let body = {};
  if (method === 'POST' && ctx.is('application/json')) {
    try { body = JSON.parse((await readBody(ctx.req)) || '{}'); } catch {
      return json(ctx, 400, { error: 'invalid JSON' });
    }
  }

  if (method === 'GET' && (p === '/_test/health' || p === '/_test')) {
    return json(ctx, 200, { ok: true, issuer: ISSUER });
  }
  if (method === 'GET' && p === '/_test/state') {
    const now = Math.floor(Date.now() / 1000);
    const live = [...issued.values()].filter((t) => !t.revoked && t.exp > now).length;
    return json(ctx, 200, {
      issuer: ISSUER,
      token_ttl: TOKEN_TTL,
      clients: Object.fromEntries([...clientState].map(([id, s]) => [id, s])),
      live_tokens: live,
      users: [...USERS.values()].map(({ email, name, groups, sub }) => ({ email, name, groups, sub })),
    });
  }
  if (method === 'POST' && p === '/_test/revoke') {
    let n = 0;
    for (const t of issued.values()) if (!t.revoked) { t.revoked = true; n += 1; }
    return json(ctx, 200, { revoked: n });
  }
  if (method === 'POST' && p === '/_test/clients') {
    // A client-credentials client of its own for one test: its own mailbox, TTL and switch.
    const id = body.client_id || `mail-${crypto.randomBytes(6).toString('hex')}`;
    const secret = body.client_secret || crypto.randomBytes(18).toString('base64url');
    const mailbox = String(body.mailbox || '').toLowerCase();
    if (!/^[^@\s]+@[^@\s]+$/.test(mailbox)) return json(ctx, 400, { error: 'mailbox (an e-mail address) is required' });
    if (!/^[A-Za-z0-9._~-]{1,100}$/.test(id)) return json(ctx, 400, { error: 'bad client_id' });
    if ([MAIL_CLIENT_ID, WEB_CLIENT_ID, INTROSPECT_CLIENT_ID].includes(id)) return json(ctx, 409, { error: 'client_id is taken' });
    const ttl = body.token_ttl === undefined ? undefined : Number(body.token_ttl);
    if (ttl !== undefined && !(Number.isInteger(ttl) && ttl >= 1)) return json(ctx, 400, { error: 'token_ttl must be whole seconds >= 1' });
    const authMethod = body.token_endpoint_auth_method || 'client_secret_basic';
    if (!['client_secret_basic', 'client_secret_post'].includes(authMethod)) {
      return json(ctx, 400, { error: 'token_endpoint_auth_method must be client_secret_basic or client_secret_post' });
    }
    await new MemoryStore('Client').upsert(id, {
      client_id: id,
      client_secret: secret,
      client_name: `test mailbox client for ${mailbox}`,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: authMethod,
    });
    clientState.set(id, { disabled: false, mailbox, ...(ttl ? { token_ttl: ttl } : {}) });
    return json(ctx, 201, { client_id: id, client_secret: secret, mailbox, token_ttl: ttl || TOKEN_TTL });
  }
  const m = /^\/_test\/clients\/([^/]+)(?:\/(disable|enable|revoke))?$/.exec(p);
  if (m && method === 'POST') {
    const id = decodeURIComponent(m[1]);
    if (!(await provider.Client.find(id))) return json(ctx, 404, { error: `no client ${id}` });
    const s = stateOf(id);
    if (m[2] === 'disable') s.disabled = true;
    else if (m[2] === 'enable') s.disabled = false;
    else if (m[2] === 'revoke') {
      let n = 0;
      for (const t of issued.values()) if (t.clientId === id && !t.revoked) { t.revoked = true; n += 1; }
      return json(ctx, 200, { client_id: id, revoked: n });
    } else {
      // update: { mailbox?, token_ttl? }
      if (body.mailbox !== undefined) s.mailbox = String(body.mailbox).toLowerCase();
      if (body.token_ttl !== undefined) {
        const ttl = Number(body.token_ttl);
        if (!(Number.isInteger(ttl) && ttl >= 0)) return json(ctx, 400, { error: 'token_ttl must be whole seconds (0: the default)' });
        if (ttl) s.token_ttl = ttl; else delete s.token_ttl;
      }
    }
    return json(ctx, 200, { client_id: id, ...s });
  }
  if (m && method === 'GET') {
    const id = decodeURIComponent(m[1]);
    if (!(await provider.Client.find(id))) return json(ctx, 404, { error: `no client ${id}` });
    return json(ctx, 200, { client_id: id, ...stateOf(id) });
  }
  return json(ctx, 404, { error: 'unknown control request' });
}

// ------------------------------------------------------------------ start

const server = http.createServer(provider.callback());
server.on('error', (err) => {
  console.error(`cannot listen on ${HOST}:${PORT}: ${err.message}`);
  process.exit(1);
});
server.listen(PORT, HOST, () => {
  console.log(`routedesk oidc provider: issuer ${ISSUER}, listening on ${HOST}:${PORT}, token TTL ${TOKEN_TTL}s`);
});
for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => { server.close(); process.exit(0); });
}
