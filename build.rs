// `sqlx::migrate!` embeds the migration files at build time: a new file must rebuild the crate,
// or the binary would run without it.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
