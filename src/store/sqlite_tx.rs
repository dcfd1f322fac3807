//! SQLite write transactions, run by hand.

use anyhow::{Context as _, Result};
use sqlx::Sqlite;
use sqlx::pool::PoolConnection;

/// An SQLite write transaction run by hand (`BEGIN IMMEDIATE` … `COMMIT`): when COMMIT fails (a
/// full disk), sqlx's own transaction type would hand a connection still inside the transaction
/// back to the pool, and every later `BEGIN` on it would fail. Here a transaction that is not
/// cleanly ended takes its connection out of the pool instead; SQLite rolls it back on close.
pub struct SqliteTx {
    conn: Option<PoolConnection<Sqlite>>,
}

impl SqliteTx {
    pub async fn begin(pool: &sqlx::SqlitePool) -> Result<SqliteTx> {
        let mut conn = pool.acquire().await.context("getting a database connection")?;
        sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await.context("starting a transaction")?;
        Ok(SqliteTx { conn: Some(conn) })
    }

    pub(super) async fn end(mut self, statement: &'static str) -> Result<()> {
        let Some(mut conn) = self.conn.take() else { return Ok(()) };
        match sqlx::query(statement).execute(&mut *conn).await {
            Ok(_) => Ok(()),
            Err(e) => {
                if statement == "COMMIT" {
                    let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
                }
                // Whatever state it is in, this connection does not go back to the pool.
                drop(conn.detach());
                Err(e).context(if statement == "COMMIT" { "committing" } else { "rolling back" })
            }
        }
    }
}

impl std::ops::Deref for SqliteTx {
    type Target = PoolConnection<Sqlite>;
    fn deref(&self) -> &Self::Target {
        self.conn.as_ref().expect("an open transaction has its connection")
    }
}

impl std::ops::DerefMut for SqliteTx {
    fn deref_mut(&mut self) -> &mut Self::Target {
        self.conn.as_mut().expect("an open transaction has its connection")
    }
}

impl Drop for SqliteTx {
    fn drop(&mut self) {
        // Dropped without COMMIT or ROLLBACK (an error on the way): close the connection, which
        // rolls the transaction back, rather than return it to the pool mid-transaction.
        if let Some(conn) = self.conn.take() {
            drop(conn.detach());
        }
    }
}
