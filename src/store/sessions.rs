//! Sign-in sessions (their ids stored only as SHA-256 hashes) and sign-ins sent to the OpenID
//! provider and not yet back.

use anyhow::{Context as _, Result};
use time::OffsetDateTime;

use super::Store;
use super::staff::UserRow;

/// A session with its user.
#[derive(Debug, Clone, sqlx::FromRow)]
struct SessionRow {
    #[sqlx(flatten)]
    user: UserRow,
    csrf: String,
    last_seen_at: Option<OffsetDateTime>,
}

/// How long a session lives: from sign-in, and since it was last used.
#[derive(Debug, Clone, Copy)]
pub struct SessionLimits {
    pub absolute: time::Duration,
    pub idle: time::Duration,
    /// The last-seen time is written at most this often (not on every request).
    pub touch_every: time::Duration,
}

/// A sign-in under way: what the browser that began it must bring back.
#[derive(Debug, Clone)]
pub struct PendingSignIn {
    pub browser_hash: String,
    pub nonce: String,
    pub verifier: String,
    pub next: String,
}

impl Store {
    /// A new session; `id_token`: the ID token of a sign-in at the provider, for its sign-out.
    pub async fn create_session(
        &self,
        id_hash: &str,
        user_id: i64,
        csrf: &str,
        now: OffsetDateTime,
        expires: OffsetDateTime,
        id_token: Option<&str>,
    ) -> Result<()> {
        db!(
            self,
            execute,
            "INSERT INTO sessions (id, user_id, csrf, created_at, expires_at, last_seen_at, id_token) \
             VALUES ($1, $2, $3, $4, $5, $4, $6)",
            id_hash,
            user_id,
            csrf,
            now,
            expires,
            id_token
        )
        .context("creating a session")?;
        Ok(())
    }

    /// The signed-in user and the session's CSRF token, if the session is live (before its
    /// absolute end, used within the idle limit) and the user enabled. Notes the use, at most
    /// once per `touch_every`.
    pub async fn session(
        &self,
        id_hash: &str,
        now: OffsetDateTime,
        limits: SessionLimits,
    ) -> Result<Option<(UserRow, String)>> {
        const SQL: &str = "SELECT u.id, u.username, u.name, u.role, u.municipality, u.password_hash, u.disabled, \
             u.api_token_expires_at, u.sso_subject, u.break_glass, s.csrf, s.last_seen_at \
             FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.id = $1 AND s.expires_at > $2 AND s.last_seen_at > $3 AND NOT u.disabled";
        let row: Option<SessionRow> =
            db!(self, fetch_optional, SQL, id_hash, now, now - limits.idle).context("reading a session")?;
        let Some(r) = row else { return Ok(None) };
        if r.last_seen_at.is_none_or(|seen| now - seen >= limits.touch_every) {
            db!(self, execute, "UPDATE sessions SET last_seen_at = $1 WHERE id = $2", now, id_hash)
                .context("noting a session's use")?;
        }
        Ok(Some((r.user, r.csrf)))
    }

    /// Removes sessions past their absolute end or idle longer than `idle`; how many.
    pub async fn delete_expired_sessions(&self, now: OffsetDateTime, idle: time::Duration) -> Result<u64> {
        db!(self, execute, "DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at <= $2", now, now - idle)
            .context("removing expired sessions")
    }

    pub async fn delete_session(&self, id_hash: &str) -> Result<()> {
        db!(self, execute, "DELETE FROM sessions WHERE id = $1", id_hash).context("ending a session")?;
        Ok(())
    }

    /// Notes a sign-in sent to the provider; removes those that ran out. `false` (nothing noted)
    /// when `cap` sign-ins are under way already.
    pub async fn begin_sso(
        &self,
        state_hash: &str,
        pending: &PendingSignIn,
        now: OffsetDateTime,
        expires: OffsetDateTime,
        cap: i64,
    ) -> Result<bool> {
        db!(self, execute, "DELETE FROM sso_pending WHERE expires_at <= $1", now).context("removing old sign-ins")?;
        let (open,): (i64,) =
            db!(self, fetch_one, "SELECT COUNT(*) FROM sso_pending").context("counting sign-ins under way")?;
        if open >= cap {
            return Ok(false);
        }
        db!(
            self,
            execute,
            "INSERT INTO sso_pending (state_hash, browser_hash, nonce, verifier, next, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
            state_hash,
            &pending.browser_hash,
            &pending.nonce,
            &pending.verifier,
            &pending.next,
            expires
        )
        .context("noting a sign-in")?;
        Ok(true)
    }

    /// Takes the sign-in whose `state` has this hash, if it has not run out: it can be taken once.
    pub async fn take_sso(&self, state_hash: &str, now: OffsetDateTime) -> Result<Option<PendingSignIn>> {
        const SQL: &str = "DELETE FROM sso_pending WHERE state_hash = $1 \
             RETURNING browser_hash, nonce, verifier, next, expires_at";
        let row: Option<(String, String, String, String, OffsetDateTime)> =
            db!(self, fetch_optional, SQL, state_hash).context("taking a sign-in")?;
        Ok(row.filter(|r| r.4 > now).map(|(browser_hash, nonce, verifier, next, _)| PendingSignIn {
            browser_hash,
            nonce,
            verifier,
            next,
        }))
    }

    /// Ends every session of the user (e.g. when the provider no longer gives them a role).
    pub async fn end_sessions_of(&self, user_id: i64) -> Result<u64> {
        db!(self, execute, "DELETE FROM sessions WHERE user_id = $1", user_id).context("ending a user's sessions")
    }

    /// Ends the session; gives its ID token when it was begun at the provider.
    pub async fn end_session(&self, id_hash: &str) -> Result<Option<String>> {
        let row: Option<(Option<String>,)> =
            db!(self, fetch_optional, "DELETE FROM sessions WHERE id = $1 RETURNING id_token", id_hash)
                .context("ending a session")?;
        Ok(row.and_then(|r| r.0))
    }
}
