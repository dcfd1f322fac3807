//! Staff accounts: password accounts, accounts made at sign-in at the region's OpenID provider,
//! break-glass accounts, API tokens. Passwords are stored only as argon2id hashes and API tokens
//! only as SHA-256 hashes: the database never holds a usable secret.

use anyhow::{Context as _, Result};
use time::OffsetDateTime;

use super::Store;
use super::Tx;
use crate::domain::Role;
use crate::text::address::EmailAddress;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub name: String,
    pub role: Role,
    pub municipality: Option<String>,
    pub password_hash: String,
    pub disabled: bool,
    pub api_token_expires_at: Option<OffsetDateTime>,
    pub sso_subject: Option<String>,
    pub break_glass: bool,
}

pub(super) const USER_COLUMNS: &str =
    "id, username, name, role, municipality, password_hash, disabled, api_token_expires_at, sso_subject, break_glass";

/// Who the provider says signed in, and what routedesk makes of it.
#[derive(Debug, Clone, Copy)]
pub struct SsoAccount<'a> {
    pub subject: &'a str,
    pub username: &'a str,
    pub name: &'a str,
    pub role: Role,
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
    pub async fn set_user_email(&self, username: &str, email: Option<&str>) -> Result<bool> {
        const SQL: &str = "UPDATE users SET email = $1 WHERE username = $2";
        let done =
            db!(self, p => sqlx::query(SQL).bind(email).bind(username).execute(p).await.map(|r| r.rows_affected()))
                .context("updating a user")?;
        Ok(done > 0)
    }

    pub async fn create_user(
        &self,
        username: &str,
        name: &str,
        role: Role,
        municipality: Option<&str>,
        hash: &str,
    ) -> Result<i64> {
        const SQL: &str = "INSERT INTO users (username, name, role, municipality, password_hash, disabled, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id";
        let row: Result<(i64,), sqlx::Error> =
            db!(self, fetch_one, SQL, username, name, role, municipality, hash, false, OffsetDateTime::now_utc());
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
        db!(self, fetch_optional, SQL, username).context("reading a user")
    }

    pub async fn users(&self) -> Result<Vec<UserRow>> {
        const SQL: &str = const_format::concatcp!("SELECT ", USER_COLUMNS, " FROM users ORDER BY username");
        db!(self, fetch_all, SQL).context("listing users")
    }

    /// Replaces user `id`'s password hash `old` by `new`, the same password hashed with stronger
    /// parameters: sessions and API token stay. `false` when the hash is no longer `old` (the
    /// password was changed meanwhile, and that change stands).
    pub async fn upgrade_password_hash(&self, id: i64, old: &str, new: &str) -> Result<bool> {
        const SQL: &str = "UPDATE users SET password_hash = $1 WHERE id = $2 AND password_hash = $3";
        let n = db!(self, execute, SQL, new, id, old).context("upgrading a password hash")?;
        Ok(n > 0)
    }

    /// `false` when there is no such user. A new password ends every session of the old one and
    /// revokes the API token.
    pub async fn set_password(&self, username: &str, hash: &str) -> Result<bool> {
        let n = db!(
            self,
            execute,
            "UPDATE users SET password_hash = $1, api_token = NULL, api_token_expires_at = NULL WHERE username = $2",
            hash,
            username
        )
        .context("setting a password")?;
        db!(
            self,
            execute,
            "DELETE FROM sessions WHERE user_id IN (SELECT id FROM users WHERE username = $1)",
            username
        )?;
        Ok(n > 0)
    }

    pub async fn set_disabled(&self, username: &str, disabled: bool) -> Result<bool> {
        let n = db!(self, execute, "UPDATE users SET disabled = $1 WHERE username = $2", disabled, username)
            .context("disabling a user")?;
        if disabled {
            db!(
                self,
                execute,
                "DELETE FROM sessions WHERE user_id IN (SELECT id FROM users WHERE username = $1)",
                username
            )?;
            db!(
                self,
                execute,
                "UPDATE users SET api_token = NULL, api_token_expires_at = NULL WHERE username = $1",
                username
            )?;
        }
        Ok(n > 0)
    }

    /// Gives the user a new API token (its hash), valid until `expires`; the old one stops working.
    pub async fn set_api_token(&self, username: &str, token_hash: &str, expires: OffsetDateTime) -> Result<bool> {
        let n = db!(
            self,
            execute,
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
        db!(self, fetch_optional, SQL, token_hash, now).context("reading a token")
    }

    pub async fn user_by_sso_subject(&self, subject: &str) -> Result<Option<UserRow>> {
        const SQL: &str = const_format::concatcp!("SELECT ", USER_COLUMNS, " FROM users WHERE sso_subject = $1");
        db!(self, fetch_optional, SQL, subject).context("reading a user")
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
            db!(
                self,
                execute,
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
        match db!(self, execute, SQL, a.username, a.name, a.role, a.municipality, false, now, a.subject) {
            Ok(_) => {}
            // Two first sign-ins at once: the other made it.
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => return Ok(SsoUpsert::NameTaken),
            Err(e) => return Err(e).context("creating a user from the sign-in"),
        }
        let created = self.user_by_sso_subject(a.subject).await?.context("the account just made")?;
        Ok(SsoUpsert::Created(created))
    }

    /// Marks a password account as one that may sign in with its password when sign-in is
    /// otherwise at the provider. `false` when there is no such password account.
    pub async fn set_break_glass(&self, username: &str, on: bool) -> Result<bool> {
        let n = db!(
            self,
            execute,
            "UPDATE users SET break_glass = $1 WHERE username = $2 AND sso_subject IS NULL",
            on,
            username
        )
        .context("marking a break-glass account")?;
        Ok(n > 0)
    }
}

impl Tx {
    /// Whether `address` belongs to an enabled staff account.
    pub async fn is_staff_address(&mut self, address: &EmailAddress) -> Result<bool> {
        const SQL: &str = "SELECT COUNT(*) FROM users WHERE LOWER(email) = $1 AND NOT disabled";
        let (n,): (i64,) = db!(self, c => sqlx::query_as(SQL).bind(address.as_str()).fetch_one(c).await)
            .context("looking up a staff address")?;
        Ok(n > 0)
    }

    /// A staff member's e-mail address, if recorded.
    pub async fn user_email(&mut self, username: &str) -> Result<Option<String>> {
        let row: Option<(Option<String>,)> =
            db!(self, c => sqlx::query_as("SELECT email FROM users WHERE username = $1")
            .bind(username).fetch_optional(c).await)
            .context("reading a user")?;
        Ok(row.and_then(|r| r.0))
    }
}
