//! The running service against the real rig: reports in over SMTP, routed mail and replies out over
//! SMTP, read back over IMAP; every test on SQLite and on PostgreSQL.

mod connect;
mod delivery;
mod headers;
mod outage;
mod routing;

/// Runs an `async fn(Db)` test once on SQLite and once on PostgreSQL (a test level: the second
/// skips without PostgreSQL, see `support::level`). A test that needs more says so in its body.
macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            use crate::support::Db;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name(Db::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                crate::support::level::needs!(Postgres);
                super::$name(Db::Postgres).await
            }
        }
    )*};
}
pub(crate) use on_both_databases;

pub const GJOVIK_CONTACTS: [&str; 3] =
    ["tor-espen.berg@gjovik.kommune.no", "hhd@gjovik.kommune.no", "geir-karsten.moen@gjovik.kommune.no"];
pub const HELPDESK: &str = "pureservice@gjovik.kommune.no";
