-- Staff sign-in at the region's OpenID provider: accounts made at the first sign-in, password
-- accounts kept for emergencies, sign-ins under way, and what the provider's sign-out needs.

-- The provider's subject (`sub`) of an account made by sign-in at the provider; NULL for accounts
-- with a password. Such an account has no password.
ALTER TABLE users ADD COLUMN sso_subject TEXT;
CREATE UNIQUE INDEX users_sso_subject ON users (sso_subject);
-- May sign in with a password when `[web.oidc] password_login = false` (emergency access).
ALTER TABLE users ADD COLUMN break_glass BOOLEAN NOT NULL DEFAULT FALSE;

-- The ID token of a session begun at the provider (the hint its sign-out asks for).
ALTER TABLE sessions ADD COLUMN id_token TEXT;

-- A sign-in sent to the provider and not yet back: found by its `state`, bound to the browser that
-- began it, used once, gone after ten minutes.
CREATE TABLE sso_pending (
    state_hash   TEXT PRIMARY KEY,        -- SHA-256 of `state`
    browser_hash TEXT NOT NULL,           -- SHA-256 of the browser's `rd_sso` cookie
    nonce        TEXT NOT NULL,
    verifier     TEXT NOT NULL,           -- the PKCE code verifier
    next         TEXT NOT NULL,           -- where to go after signing in
    expires_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX sso_pending_expires ON sso_pending (expires_at);
