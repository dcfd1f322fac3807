//! Staff accounts, sign-in sessions and API tokens. Passwords are stored only as argon2id hashes,
//! session ids and API tokens only as SHA-256 hashes: the database never holds a usable secret.

use anyhow::{Context as _, Result};
use sqlx::Row as _;
use time::OffsetDateTime;

use super::Store;

row! {
    pub struct UserRow {
        pub id: i64,
        pub username: String,
        pub name: String,
        pub role: String,
        pub municipality: Option<String>,
        pub password_hash: String,
        pub disabled: bool,
        pub api_token_expires_at: Option<OffsetDateTime>,
        pub sso_subject: Option<String>,
        pub break_glass: bool,
    }
}

row! {
    pub struct SessionRow {
        pub id: i64,
        pub username: String,
        pub name: String,
        pub role: String,
        pub municipality: Option<String>,
        pub password_hash: String,
        pub disabled: bool,
        pub api_token_expires_at: Option<OffsetDateTime>,
        pub sso_subject: Option<String>,
        pub break_glass: bool,
        pub csrf: String,
        pub last_seen_at: Option<OffsetDateTime>,
    }
}

/// How long a session lives: from sign-in, and since it was last used.
#[derive(Debug, Clone, Copy)]
pub struct SessionLimits {
    pub absolute: time::Duration,
    pub idle: time::Duration,
    /// The last-seen time is written at most this often (not on every request).
    pub touch_every: time::Duration,
}

pub(super) const USER_COLUMNS: &str =
    "id, username, name, role, municipality, password_hash, disabled, api_token_expires_at, sso_subject, break_glass";

impl Store {
    pub async fn create_user(
        &self,
        username: &str,
        name: &str,
        role: &str,
        municipality: Option<&str>,
        hash: &str,
    ) -> Result<i64> {
        const SQL: &str = "INSERT INTO users (username, name, role, municipality, password_hash, disabled, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id";
        let row: Result<(i64,), sqlx::Error> =
            fetch!(self, SQL, fetch_one, username, name, role, municipality, hash, false, OffsetDateTime::now_utc());
        match row {
            Ok((id,)) => Ok(id),
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                anyhow::bail!("a user named {username:?} exists already")
            }
            Err(e) => Err(e).context("creating a user"),
        }
    }

    pub async fn user_by_name(&self, username: &str) -> Result<Option<UserRow>> {
        const SQL: &str = const_format::concatcp!("SELECT ", USER_COLUMNS, " FROM users WHERE username = $1");
        fetch!(self, SQL, fetch_optional, username).context("reading a user")
    }

    pub async fn users(&self) -> Result<Vec<UserRow>> {
        const SQL: &str = const_format::concatcp!("SELECT ", USER_COLUMNS, " FROM users ORDER BY username");
        fetch!(self, SQL, fetch_all).context("listing users")
    }

    /// `false` when there is no such user. A new password ends every session of the old one and
    /// revokes the API token.
    pub async fn set_password(&self, username: &str, hash: &str) -> Result<bool> {
        let n = execute!(
            self,
            "UPDATE users SET password_hash = $1, api_token = NULL, api_token_expires_at = NULL WHERE username = $2",
            hash,
            username
        )
        .context("setting a password")?;
        execute!(self, "DELETE FROM sessions WHERE user_id IN (SELECT id FROM users WHERE username = $1)", username)?;
        Ok(n > 0)
    }

    pub async fn set_disabled(&self, username: &str, disabled: bool) -> Result<bool> {
        let n = execute!(self, "UPDATE users SET disabled = $1 WHERE username = $2", disabled, username)
            .context("disabling a user")?;
        if disabled {
            execute!(
                self,
                "DELETE FROM sessions WHERE user_id IN (SELECT id FROM users WHERE username = $1)",
                username
            )?;
            execute!(
                self,
                "UPDATE users SET api_token = NULL, api_token_expires_at = NULL WHERE username = $1",
                username
            )?;
        }
        Ok(n > 0)
    }

    /// Gives the user a new API token (its hash), valid until `expires`; the old one stops working.
    pub async fn set_api_token(&self, username: &str, token_hash: &str, expires: OffsetDateTime) -> Result<bool> {
        let n = execute!(
            self,
            "UPDATE users SET api_token = $1, api_token_expires_at = $2 WHERE username = $3",
            token_hash,
            expires,
            username
        )
        .context("setting a token")?;
        Ok(n > 0)
    }

    /// The enabled user whose unexpired API token has this hash.
    pub async fn user_by_api_token(&self, token_hash: &str, now: OffsetDateTime) -> Result<Option<UserRow>> {
        const SQL: &str = const_format::concatcp!(
            "SELECT ",
            USER_COLUMNS,
            " FROM users WHERE api_token = $1 AND api_token_expires_at > $2 AND NOT disabled"
        );
        fetch!(self, SQL, fetch_optional, token_hash, now).context("reading a token")
    }

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
        execute!(
            self,
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
            fetch!(self, SQL, fetch_optional, id_hash, now, now - limits.idle).context("reading a session")?;
        let Some(r) = row else { return Ok(None) };
        if r.last_seen_at.is_none_or(|seen| now - seen >= limits.touch_every) {
            execute!(self, "UPDATE sessions SET last_seen_at = $1 WHERE id = $2", now, id_hash)
                .context("noting a session's use")?;
        }
        let user = UserRow {
            id: r.id,
            username: r.username,
            name: r.name,
            role: r.role,
            municipality: r.municipality,
            password_hash: r.password_hash,
            disabled: r.disabled,
            api_token_expires_at: r.api_token_expires_at,
            sso_subject: r.sso_subject,
            break_glass: r.break_glass,
        };
        Ok(Some((user, r.csrf)))
    }

    /// Removes sessions past their absolute end or idle longer than `idle`; how many.
    pub async fn delete_expired_sessions(&self, now: OffsetDateTime, idle: time::Duration) -> Result<u64> {
        execute!(self, "DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at <= $2", now, now - idle)
            .context("removing expired sessions")
    }

    pub async fn delete_session(&self, id_hash: &str) -> Result<()> {
        execute!(self, "DELETE FROM sessions WHERE id = $1", id_hash).context("ending a session")?;
        Ok(())
    }
}
