//! Domain values in the database: each stored as text, exactly its `Display` form, and read back
//! through `FromStr` (a value the program does not know is an error, never a default).

use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::{Database, Decode, Encode, Type};

use crate::domain::{
    Class, Detail, Direction, IncidentState, IncidentStatus, IncidentStep, OutboxKind, OutboxStatus, PrivacyStage,
    Role, TicketStatus, Verdict,
};

macro_rules! text_column {
    ($($t:ty),* $(,)?) => {$(
        impl<DB: Database> Type<DB> for $t
        where
            str: Type<DB>,
        {
            fn type_info() -> DB::TypeInfo {
                <str as Type<DB>>::type_info()
            }
            fn compatible(ty: &DB::TypeInfo) -> bool {
                <str as Type<DB>>::compatible(ty)
            }
        }

        impl<'q, DB: Database> Encode<'q, DB> for $t
        where
            &'static str: Encode<'q, DB>,
        {
            fn encode_by_ref(&self, buf: &mut <DB as Database>::ArgumentBuffer) -> Result<IsNull, BoxDynError> {
                <&'static str as Encode<'q, DB>>::encode(self.as_str(), buf)
            }
        }

        impl<'r, DB: Database> Decode<'r, DB> for $t
        where
            &'r str: Decode<'r, DB>,
        {
            fn decode(value: <DB as Database>::ValueRef<'r>) -> Result<Self, BoxDynError> {
                Ok(<&'r str as Decode<'r, DB>>::decode(value)?.parse()?)
            }
        }
    )*};
}

text_column!(
    Class,
    TicketStatus,
    Direction,
    IncidentState,
    Role,
    Verdict,
    OutboxKind,
    OutboxStatus,
    PrivacyStage,
    IncidentStatus,
    IncidentStep,
);

/// A list kept in one column, comma-joined (`a,b`): a ticket's missing details, products and
/// route. Rows read it as a list (`#[sqlx(try_from = "CommaList")]`); [`join_list`] writes it.
pub struct CommaList(String);

impl<DB: Database> Type<DB> for CommaList
where
    String: Type<DB>,
{
    fn type_info() -> DB::TypeInfo {
        <String as Type<DB>>::type_info()
    }
    fn compatible(ty: &DB::TypeInfo) -> bool {
        <String as Type<DB>>::compatible(ty)
    }
}

impl<'r, DB: Database> Decode<'r, DB> for CommaList
where
    String: Decode<'r, DB>,
{
    fn decode(value: <DB as Database>::ValueRef<'r>) -> Result<Self, BoxDynError> {
        Ok(CommaList(<String as Decode<'r, DB>>::decode(value)?))
    }
}

impl From<CommaList> for Vec<String> {
    fn from(list: CommaList) -> Self {
        split_list(&list.0)
    }
}

/// Details the program no longer knows are left out.
impl From<CommaList> for Vec<Detail> {
    fn from(list: CommaList) -> Self {
        list.0.split(',').filter_map(Detail::parse).collect()
    }
}

/// A comma-joined list, as read into a `Vec`.
pub(super) fn split_list(joined: &str) -> Vec<String> {
    joined.split(',').filter(|p| !p.is_empty()).map(str::to_string).collect()
}

/// A list as its column keeps it.
pub(super) fn join_list<'a>(items: impl IntoIterator<Item = &'a str>) -> String {
    items.into_iter().collect::<Vec<_>>().join(",")
}

#[cfg(test)]
mod tests {
    use crate::domain::{IncidentState, IncidentStatus, OutboxStatus, PrivacyStage, TicketStatus};

    /// The state values the store's fixed SQL names: each must be a value of the column's enum.
    /// They are written out rather than bound so the partial indexes (`WHERE status = 'queued'`)
    /// are used; this keeps them in step with the enums.
    #[test]
    fn every_state_written_in_sql_is_a_known_value() {
        let known: Vec<&str> = [
            TicketStatus::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>(),
            OutboxStatus::ALL.iter().map(|v| v.as_str()).collect(),
            IncidentState::ALL.iter().map(|v| v.as_str()).collect(),
            IncidentStatus::ALL.iter().map(|v| v.as_str()).collect(),
            PrivacyStage::ALL.iter().map(|v| v.as_str()).collect(),
        ]
        .concat();
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/store");
        let mut seen = 0;
        for entry in std::fs::read_dir(&dir).expect("the store's sources") {
            let path = entry.expect("a source").path();
            let text = std::fs::read_to_string(&path).expect("readable");
            // The queries, not the tests (this one names what it looks for).
            let queries = text.split("#[cfg(test)]").next().unwrap_or_default();
            for literal in state_literals(queries) {
                seen += 1;
                assert!(known.contains(&literal), "{}: {literal:?} is no known state", path.display());
            }
        }
        assert!(seen >= 10, "the check found only {seen} state literals: the scan is broken");
    }

    /// The quoted values compared with (or assigned to) a `status`, `state` or `stage` column.
    fn state_literals(text: &str) -> Vec<&str> {
        let mut out = vec![];
        for column in ["status", "state", "stage"] {
            for (at, _) in text.match_indices(column) {
                let rest = text[at + column.len()..].trim_start();
                let Some(rest) = ["=", "<>", "THEN"].iter().find_map(|op| rest.strip_prefix(op)) else { continue };
                let rest = rest.trim_start();
                let rest = rest.strip_prefix("CASE WHEN status = ").unwrap_or(rest);
                if let Some(value) = rest.strip_prefix('\'').and_then(|r| r.split('\'').next()) {
                    out.push(value);
                }
            }
        }
        // A state set by a `CASE` (`THEN 'withdrawn'`).
        out.extend(text.match_indices("THEN '").filter_map(|(at, _)| text[at + 6..].split('\'').next()));
        out
    }
}
