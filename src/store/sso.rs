//! Sign-in at the region's OpenID provider: accounts made and kept up to date from the provider's
//! answer, break-glass accounts, and sign-ins sent to the provider and not yet back.

use anyhow::{Context as _, Result};
use time::OffsetDateTime;

use super::Store;
use super::staff::{USER_COLUMNS, UserRow};

/// A sign-in under way: what the browser that began it must bring back.
#[derive(Debug, Clone)]
pub struct PendingSignIn {
    pub browser_hash: String,
    pub nonce: String,
    pub verifier: String,
    pub next: String,
}

/// Who the provider says signed in, and what routedesk makes of it.
#[derive(Debug, Clone, Copy)]
pub struct SsoAccount<'a> {
    pub subject: &'a str,
    pub username: &'a str,
    pub name: &'a str,
    pub role: &'a str,
    pub municipality: Option<&'a str>,
}

/// What became of an account at a sign-in.
#[derive(Debug)]
pub enum SsoUpsert {
    Created(UserRow),
    Updated(UserRow),
    /// Another account (with a password, or another subject) has the name.
    NameTaken,
}

impl Store {
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
        execute!(self, "DELETE FROM sso_pending WHERE expires_at <= $1", now).context("removing old sign-ins")?;
        let (open,): (i64,) =
            fetch!(self, "SELECT COUNT(*) FROM sso_pending", fetch_one).context("counting sign-ins under way")?;
        if open >= cap {
            return Ok(false);
        }
        execute!(
            self,
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
            fetch!(self, SQL, fetch_optional, state_hash).context("taking a sign-in")?;
        Ok(row.filter(|r| r.4 > now).map(|(browser_hash, nonce, verifier, next, _)| PendingSignIn {
            browser_hash,
            nonce,
            verifier,
            next,
        }))
    }

    pub async fn user_by_sso_subject(&self, subject: &str) -> Result<Option<UserRow>> {
        const SQL: &str = const_format::concatcp!("SELECT ", USER_COLUMNS, " FROM users WHERE sso_subject = $1");
        fetch!(self, SQL, fetch_optional, subject).context("reading a user")
    }

    /// Makes the account at its first sign-in (no password: it signs in at the provider only), or
    /// brings its name, role and municipality up to date with the provider's answer.
    pub async fn upsert_sso_user(&self, a: &SsoAccount<'_>, now: OffsetDateTime) -> Result<SsoUpsert> {
        if let Some(user) = self.user_by_sso_subject(a.subject).await? {
            let username = match self.user_by_name(a.username).await? {
                // A new address that another account has: the old name stays.
                Some(other) if other.id != user.id => user.username.clone(),
                _ => a.username.to_string(),
            };
            execute!(
                self,
                "UPDATE users SET username = $1, name = $2, role = $3, municipality = $4 WHERE id = $5",
                &username,
                a.name,
                a.role,
                a.municipality,
                user.id
            )
            .context("updating a user from the sign-in")?;
            let updated = self.user_by_sso_subject(a.subject).await?.context("the account just updated")?;
            return Ok(SsoUpsert::Updated(updated));
        }
        if self.user_by_name(a.username).await?.is_some() {
            return Ok(SsoUpsert::NameTaken);
        }
        const SQL: &str = "INSERT INTO users (username, name, role, municipality, password_hash, disabled, created_at, \
             sso_subject) VALUES ($1, $2, $3, $4, '', $5, $6, $7)";
        match execute!(self, SQL, a.username, a.name, a.role, a.municipality, false, now, a.subject) {
            Ok(_) => {}
            // Two first sign-ins at once: the other made it.
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => return Ok(SsoUpsert::NameTaken),
            Err(e) => return Err(e).context("creating a user from the sign-in"),
        }
        let created = self.user_by_sso_subject(a.subject).await?.context("the account just made")?;
        Ok(SsoUpsert::Created(created))
    }

    /// Ends every session of the user (e.g. when the provider no longer gives them a role).
    pub async fn end_sessions_of(&self, user_id: i64) -> Result<u64> {
        execute!(self, "DELETE FROM sessions WHERE user_id = $1", user_id).context("ending a user's sessions")
    }

    /// Ends the session; gives its ID token when it was begun at the provider.
    pub async fn end_session(&self, id_hash: &str) -> Result<Option<String>> {
        let row: Option<(Option<String>,)> =
            fetch!(self, "DELETE FROM sessions WHERE id = $1 RETURNING id_token", fetch_optional, id_hash)
                .context("ending a session")?;
        Ok(row.and_then(|r| r.0))
    }

    /// Marks a password account as one that may sign in with its password when sign-in is
    /// otherwise at the provider. `false` when there is no such password account.
    pub async fn set_break_glass(&self, username: &str, on: bool) -> Result<bool> {
        let n = execute!(
            self,
            "UPDATE users SET break_glass = $1 WHERE username = $2 AND sso_subject IS NULL",
            on,
            username
        )
        .context("marking a break-glass account")?;
        Ok(n > 0)
    }
}
