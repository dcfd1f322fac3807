fn main() -> std::process::ExitCode {
    limit_allocator_arenas();
    routedesk::cli::run()
}

/// glibc gives each thread that meets another in the allocator an arena of its own (up to eight
/// per core) and keeps what each arena freed for it: the service's runtime, blocking-pool and
/// SQLite threads took the 10,000 backlog's peak to 103 MB with the mail sent, against 90 MB with
/// four arenas at the same speed (docs/benchmarks.md §2b, "The allocator's arenas"). An operator's
/// own `MALLOC_ARENA_MAX` or `GLIBC_TUNABLES` setting is left alone.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn limit_allocator_arenas() {
    let set_outside = std::env::var_os("MALLOC_ARENA_MAX").is_some()
        || std::env::var("GLIBC_TUNABLES").is_ok_and(|t| t.contains("arena_max"));
    if !set_outside {
        // SAFETY: changes an allocator setting only; called first in `main`, before any thread.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 4);
        }
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn limit_allocator_arenas() {}
