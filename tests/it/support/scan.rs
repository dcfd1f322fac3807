//! Looking for traces of personal data where nothing is supposed to be left: every byte of a
//! database (the SQLite file and its write-ahead log as they are on disk, or a PostgreSQL
//! database's data as `pg_dump` writes it).

/// Everything a database holds, as bytes: for SQLite the raw file and its `-wal` (free pages and
/// old page images included), for PostgreSQL every row of every table (`pg_dump --data-only`).
pub fn database_bytes(url: &str) -> Vec<u8> {
    match routedesk::store::sqlite_path(url) {
        Some(path) => {
            let mut all = std::fs::read(&path).expect("the database file");
            if let Ok(wal) = std::fs::read(format!("{path}-wal")) {
                all.extend_from_slice(&wal);
            }
            all
        }
        None => {
            let out = std::process::Command::new("pg_dump")
                .args(["--data-only", "--no-owner", url])
                .output()
                .expect("pg_dump runs (PostgreSQL client installed)");
            assert!(out.status.success(), "pg_dump failed: {}", String::from_utf8_lossy(&out.stderr));
            out.stdout
        }
    }
}

/// Whether `hay` holds `needle`, ignoring ASCII case.
pub fn holds(hay: &[u8], needle: &str) -> bool {
    let n = needle.as_bytes();
    !n.is_empty() && hay.windows(n.len()).any(|w| w.eq_ignore_ascii_case(n))
}

/// The needles found in `hay`.
pub fn found<'a>(hay: &[u8], needles: &[&'a str]) -> Vec<&'a str> {
    needles.iter().copied().filter(|n| holds(hay, n)).collect()
}
