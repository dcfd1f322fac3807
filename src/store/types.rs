//! Domain values in the database: each stored as text, exactly its `Display` form, and read back
//! through `FromStr` (a value the program does not know is an error, never a default).

use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::{Database, Decode, Encode, Type};

use crate::domain::{
    Detail, Direction, IncidentState, IncidentStatus, OutboxKind, OutboxStatus, PrivacyStage, Role, TicketStatus,
    Verdict,
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
    TicketStatus,
    Direction,
    IncidentState,
    Role,
    Verdict,
    OutboxKind,
    OutboxStatus,
    PrivacyStage,
    IncidentStatus
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
