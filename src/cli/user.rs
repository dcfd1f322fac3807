//! `routedesk user add|passwd|break-glass|disable|enable|token|email|list`: staff accounts from the
//! command line; `list` shows when each API token runs out, and which accounts sign in at the
//! OpenID provider (SSO) or are break-glass accounts.

use std::io::BufRead as _;

use anyhow::{Context as _, Result, bail};
use clap::Subcommand;

use crate::config::Config;
use crate::domain::Role;
use crate::store::Store;
use crate::web::auth;

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a staff account; the password is read from standard input (one line).
    Add {
        username: String,
        /// admin, helpdesk or municipal.
        #[arg(long)]
        role: String,
        /// For municipal users: the policy id of their municipality.
        #[arg(long)]
        municipality: Option<String>,
        /// Full name shown in the audit trail.
        #[arg(long)]
        name: Option<String>,
        /// An admin who may sign in with the password even when `[web.oidc] password_login =
        /// false` (emergency access while the OpenID provider is unreachable).
        #[arg(long)]
        break_glass: bool,
    },
    /// Set a new password (read from standard input); ends the user's sessions.
    Passwd {
        username: String,
    },
    /// Make an existing admin with a password a break-glass account (`--off`: no longer).
    BreakGlass {
        username: String,
        #[arg(long)]
        off: bool,
    },
    /// Disable an account; ends its sessions and API token.
    Disable {
        username: String,
    },
    Enable {
        username: String,
    },
    /// Make a new API token for the JSON API (printed once; only its hash is kept). It replaces the
    /// user's old token, stops working after `--days`, and is revoked by a new password.
    Token {
        username: String,
        /// Days the token works (1 to 365).
        #[arg(long, default_value_t = auth::API_TOKEN_DAYS, value_parser = clap::value_parser!(i64).range(1..=365))]
        days: i64,
    },
    /// Set the address routedesk mails a staff member at (e.g. a privacy coordinator's deadline
    /// warning); an empty address removes it.
    Email {
        username: String,
        address: String,
    },
    List,
}

fn read_password() -> Result<String> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).context("reading the password from standard input")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

pub async fn exec(config: Option<std::path::PathBuf>, cmd: UserCommand) -> Result<()> {
    let cfg = Config::load(config.as_deref())?;
    let store = Store::connect(&cfg.database_url).await?;
    match cmd {
        UserCommand::Add { username, role, municipality, name, break_glass } => {
            let Ok(role) = role.parse::<Role>() else {
                let roles: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
                bail!("role must be one of {}", roles.join(", "));
            };
            if break_glass && role != Role::Admin {
                bail!("a break-glass account is an admin (--role admin)");
            }
            let policy = crate::policy::Policy::load_or_default(cfg.policy.as_deref())?;
            match (role, &municipality) {
                (Role::Municipal, None) => bail!("a municipal user needs --municipality"),
                (Role::Municipal, Some(m)) if policy.municipality(m).is_none() => bail!("unknown municipality {m:?}"),
                (_, Some(_)) if role != Role::Municipal => bail!("only municipal users belong to a municipality"),
                _ => {}
            }
            let hash = crate::secret::hash_password(&read_password()?)?;
            store
                .create_user(&username, name.as_deref().unwrap_or(&username), role, municipality.as_deref(), &hash)
                .await?;
            if break_glass {
                store.set_break_glass(&username, true).await?;
            }
            println!("user {username} added ({role}{})", if break_glass { ", break-glass" } else { "" });
        }
        UserCommand::Passwd { username } => {
            if store.user_by_name(&username).await?.is_some_and(|u| u.sso_subject.is_some()) {
                bail!("{username} signs in at the OpenID provider (SSO) and has no password");
            }
            let hash = crate::secret::hash_password(&read_password()?)?;
            if !store.set_password(&username, &hash).await? {
                bail!("no user {username:?}");
            }
            println!("password of {username} changed");
        }
        UserCommand::BreakGlass { username, off } => {
            let Some(user) = store.user_by_name(&username).await? else { bail!("no user {username:?}") };
            if user.sso_subject.is_some() {
                bail!("{username} signs in at the OpenID provider (SSO) and has no password");
            }
            if !off && user.role != Role::Admin {
                bail!("a break-glass account is an admin ({username} is {})", user.role);
            }
            store.set_break_glass(&username, !off).await?;
            println!("{username} is {}a break-glass account", if off { "no longer " } else { "" });
        }
        UserCommand::Disable { username } => {
            if !store.set_disabled(&username, true).await? {
                bail!("no user {username:?}");
            }
            println!("user {username} disabled");
        }
        UserCommand::Enable { username } => {
            if !store.set_disabled(&username, false).await? {
                bail!("no user {username:?}");
            }
            println!("user {username} enabled");
        }
        UserCommand::Token { username, days } => {
            let token = crate::secret::random_token();
            let expires = time::OffsetDateTime::now_utc() + time::Duration::days(days);
            if !store.set_api_token(&username, &crate::secret::token_hash(&token), expires).await? {
                bail!("no user {username:?}");
            }
            eprintln!("token of {username}, valid until {} UTC:", crate::text::time::when(expires));
            println!("{token}");
        }
        UserCommand::Email { username, address } => {
            let address = address.trim();
            if !address.is_empty() && !crate::text::address::is_valid(address) {
                bail!("{address:?} is not an e-mail address");
            }
            if !store.set_user_email(&username, Some(address).filter(|a| !a.is_empty())).await? {
                bail!("no user {username}");
            }
            println!("address of {username} set");
        }
        UserCommand::List => {
            let now = time::OffsetDateTime::now_utc();
            for u in store.users().await? {
                let m = u.municipality.map(|m| format!(" ({m})")).unwrap_or_default();
                let token = match u.api_token_expires_at {
                    Some(at) if at > now => format!("\ttoken until {}", crate::text::time::when(at)),
                    Some(at) => format!("\ttoken EXPIRED {}", crate::text::time::when(at)),
                    None => String::new(),
                };
                let kind = match (&u.sso_subject, u.break_glass) {
                    (Some(_), _) => "\tSSO",
                    (None, true) => "\tBREAK-GLASS",
                    (None, false) => "",
                };
                println!(
                    "{}\t{}{m}\t{}{kind}{}{token}",
                    u.username,
                    u.role,
                    u.name,
                    if u.disabled { "\tDISABLED" } else { "" }
                );
            }
        }
    }
    store.close().await;
    Ok(())
}
