//! Looking for traces of personal data where nothing is supposed to be left: every byte of a
//! database (the SQLite file and its write-ahead log as they are on disk, or a PostgreSQL
//! database's data as `pg_dump` writes it, its binary columns decoded).

/// Everything a database holds, as bytes: for SQLite the raw file and its `-wal` (free pages and
/// old page images included), for PostgreSQL every row of every table (`pg_dump --data-only`), with
/// each `bytea` value (the raw mail, files) decoded from its hex form and added.
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
            let mut all = out.stdout.clone();
            all.extend(decoded_bytea(&out.stdout));
            all
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

/// The bytes of every `\\x…` hex value in a dump, one after the other.
fn decoded_bytea(dump: &[u8]) -> Vec<u8> {
    let hex = |b: u8| (b as char).to_digit(16).and_then(|d| u8::try_from(d).ok());
    let mut out = Vec::new();
    let mut i = 0;
    while i + 1 < dump.len() {
        if dump[i] == b'\\' && dump[i + 1] == b'x' {
            let mut j = i + 2;
            while let (Some(h), Some(l)) = (dump.get(j).copied().and_then(hex), dump.get(j + 1).copied().and_then(hex))
            {
                out.push(h << 4 | l);
                j += 2;
            }
            out.push(b'\n');
            i = j.max(i + 2);
        } else {
            i += 1;
        }
    }
    out
}
