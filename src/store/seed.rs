//! Synthetic tickets in bulk, for measuring the web view at scale (`routedesk bench-seed`): a
//! realistic spread of municipalities, classes, statuses, reporters and fault texts over four years,
//! written many rows per statement. Values come from the lists below, never from input.

use anyhow::{Context as _, Result};
use sqlx::AssertSqlSafe;

use super::Db;
use super::Store;

const MUNICIPALITIES: &[&str] = &["gjovik", "ostre-toten", "vestre-toten", "sondre-land", "nordre-land"];
const DOMAINS: &[&str] = &[
    "gjovik.kommune.no",
    "ostre-toten.kommune.no",
    "vestre-toten.kommune.no",
    "sondre-land.kommune.no",
    "nordre-land.kommune.no",
];
const FIRST: &[&str] = &[
    "Randi", "Ola", "Kari", "Per", "Anne", "Geir", "Tor", "Hilde", "Lars", "Ingrid", "Nils", "Marit", "Knut", "Silje",
    "Arne", "Eva", "Jon", "Liv", "Odd", "Berit", "Svein", "Turid", "Bjørn", "Grete", "Rune", "Åse",
];
const LAST: &[&str] = &[
    "Kristiansen",
    "Hansen",
    "Johansen",
    "Olsen",
    "Larsen",
    "Berg",
    "Moen",
    "Haugen",
    "Bakken",
    "Rohne",
    "Eng",
    "Dahl",
    "Lien",
    "Strand",
    "Nygård",
    "Solberg",
    "Raddum",
    "Lunde",
    "Holm",
    "Sæther",
];
const THINGS: &[&str] = &[
    "Visma lønn",
    "Visma.net Payroll",
    "Enterprise",
    "attestering",
    "A-melding",
    "feriepenger",
    "bilag",
    "hovedbok",
    "reiseregning",
    "timeregistrering",
    "fakturaflyt",
    "Citrix",
    "skriver",
    "VPN",
    "Outlook",
    "lønnsslipp",
    "skattetrekk",
    "budsjett",
    "leverandørfaktura",
    "rapport",
];
const PROBLEMS: &[&str] = &[
    "henger",
    "gir feilmelding",
    "får ikke logget inn",
    "er veldig treg",
    "viser feil beløp",
    "mangler linjer",
    "krasjer ved lagring",
    "kan ikke skrives ut",
    "åpner ikke",
    "gir tom skjerm",
    "blir avvist",
    "regner feil",
    "låser seg",
    "finner ikke ansatt",
];
const SENTENCES: &[&str] = &[
    "Jeg får en feilmelding når jeg prøver å lagre.",
    "Dette har skjedd siden i morges.",
    "Flere på kontoret har samme problem.",
    "Skjermbilde er vedlagt.",
    "Det haster fordi lønnskjøringen er i morgen.",
    "Vi har prøvd å logge ut og inn igjen uten hell.",
    "Beløpet stemmer ikke med det som står i oversikten.",
    "Programmet slutter å svare etter noen minutter.",
    "Jeg har startet maskinen på nytt.",
    "Rapporten viser tall fra forrige periode.",
    "Attestanten får ikke opp fakturaen i innboksen.",
    "Utskriften kommer ikke ut på skriveren i andre etasje.",
    "Det gjelder alle ansatte i hjemmetjenesten.",
    "Feilen kom etter oppdateringen i helgen.",
    "Kan dere se på dette så snart som mulig?",
];
const STATUSES: &[(&str, u32)] = &[("resolved", 82), ("routed", 10), ("awaiting-info", 5), ("triage", 3)];
const CLASSES: &[(&str, u32)] = &[("application", 55), ("operations", 25), ("access", 15), ("unclassified", 5)];

fn pick<'a>(rng: &mut fastrand::Rng, list: &[&'a str]) -> &'a str {
    list[rng.usize(..list.len())]
}

fn weighted<'a>(rng: &mut fastrand::Rng, list: &[(&'a str, u32)]) -> &'a str {
    let mut r = rng.u32(..list.iter().map(|(_, w)| w).sum::<u32>());
    for (v, w) in list {
        if r < *w {
            return v;
        }
        r -= w;
    }
    list[0].0
}

/// An SQL string literal (the values are our own, but quoted properly all the same).
fn lit(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

impl Store {
    /// Adds `n` synthetic tickets, oldest first, spread evenly over the four years before 2026-11-01;
    /// calls `progress` with the count so far.
    pub async fn seed_tickets(&self, n: u64, progress: impl Fn(u64)) -> Result<()> {
        const ROWS: u64 = 500;
        const SPAN_SECS: i64 = 4 * 365 * 24 * 3600;
        let end = time::macros::datetime!(2026-11-01 00:00 UTC);
        let start = end - time::Duration::seconds(SPAN_SECS);
        let mut rng = fastrand::Rng::with_seed(20_260_518);
        let mut per_year = std::collections::BTreeMap::<i32, i64>::new();
        let mut done = 0;
        while done < n {
            let mut values = Vec::with_capacity(ROWS as usize);
            for i in done..(done + ROWS).min(n) {
                let offset = i64::try_from(i).unwrap_or(i64::MAX).saturating_mul(SPAN_SECS)
                    / i64::try_from(n).unwrap_or(i64::MAX);
                let at = start + time::Duration::seconds(offset);
                let seq = per_year.entry(at.year()).or_default();
                *seq += 1;
                let m = rng.usize(..MUNICIPALITIES.len());
                let (first, last) = (pick(&mut rng, FIRST), pick(&mut rng, LAST));
                let reporter = format!("{}.{}@{}", first.to_lowercase(), last.to_lowercase(), DOMAINS[m])
                    .replace('æ', "ae")
                    .replace('ø', "o")
                    .replace('å', "a");
                let subject = format!("{} {}", pick(&mut rng, THINGS), pick(&mut rng, PROBLEMS));
                let body = (0..rng.usize(3..7)).map(|_| pick(&mut rng, SENTENCES)).collect::<Vec<_>>().join(" ")
                    + &format!(
                        " Ansattnr {}. Mvh {first} {last}, tlf 61 {:02} {:02} {:02}",
                        rng.u32(10_000..99_999),
                        rng.u8(10..99),
                        rng.u8(10..99),
                        rng.u8(10..99)
                    );
                let when = at.format(&time::format_description::well_known::Rfc3339).context("formatting a time")?;
                values.push(format!(
                    "({}, {}, {}, 0.8, {}, {}, {}, '', {}, {}, {}, {}, '', 'synthetic', {}, {}, {})",
                    lit(&crate::domain::ticket_number::format(at.year(), *seq)),
                    lit(weighted(&mut rng, STATUSES)),
                    lit(weighted(&mut rng, CLASSES)),
                    lit(MUNICIPALITIES[m]),
                    if rng.u32(..100) < 3 { "TRUE" } else { "FALSE" },
                    if rng.u32(..1000) < 5 { "TRUE" } else { "FALSE" },
                    lit(&subject),
                    lit(&reporter),
                    lit(&format!("{first} {last}")),
                    lit(&format!("hhd@{}", DOMAINS[m])),
                    lit(&when),
                    lit(&when),
                    lit(&body),
                ));
            }
            let sql = format!(
                "INSERT INTO tickets (number, status, class, confidence, municipality, urgent, privacy, missing, \
                 subject, reporter, reporter_name, route_to, route_cc, reasons, created_at, updated_at, body) VALUES {}",
                values.join(", ")
            );
            self.run_raw(sql).await.context("adding synthetic tickets")?;
            done = (done + ROWS).min(n);
            progress(done);
        }
        // New tickets continue the numbering; the planner learns the new sizes.
        let greatest = if self.backend() == super::Backend::Sqlite { "MAX" } else { "GREATEST" };
        for (year, seq) in per_year {
            self.run_raw(format!(
                "INSERT INTO counters (name, value) VALUES ('ticket-{year}', {seq}) \
                 ON CONFLICT (name) DO UPDATE SET value = {greatest}(counters.value, {seq})"
            ))
            .await?;
        }
        // Four years of tickets in a live database would have been vacuumed many times over: on
        // PostgreSQL that also moves the full-text index's pending entries into the index proper,
        // which every search otherwise reads one by one (seconds under load after a bulk load).
        let tidy = if self.backend() == super::Backend::Postgres { "VACUUM ANALYZE" } else { "ANALYZE" };
        self.run_raw(tidy.into()).await
    }

    async fn run_raw(&self, sql: String) -> Result<()> {
        let sql = AssertSqlSafe(sql);
        match &self.db {
            Db::Sqlite(p) => sqlx::raw_sql(sql).execute(p).await.map(drop),
            Db::Postgres(p) => sqlx::raw_sql(sql).execute(p).await.map(drop),
        }
        .context("running SQL")
    }
}
