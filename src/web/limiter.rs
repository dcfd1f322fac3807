//! Sign-in throttling (GCRA buckets from `governor`), checked before any password is hashed.
//!
//! Every attempt takes a cell from three kinds of bucket:
//! - one per (name, address) pair: 5 at once, then one a minute, and after 15 one every ten
//!   minutes — a guesser at one address is slowed more and more, never locked out for good;
//! - one per name across addresses (30 at once, then one every 20 s): many addresses against
//!   one account;
//! - one per address across names (50 at once, then one every 6 s): one address spraying many
//!   names.
//!
//! A pair that signed in successfully is remembered for 30 days and then skips the per-name and
//! per-address buckets, so strangers guessing a colleague's name cannot keep the colleague out:
//! after five wrong guesses from elsewhere the rightful user still signs in from their own
//! address. A successful sign-in also starts the pair's own count afresh (a new bucket). Names are keyed trimmed and lower-cased (spaces or capitals give no fresh tries), and
//! as hashes, so a long name costs no memory. Each bucket map holds at most `max_keys` keys: when
//! full, stale keys are dropped, and if it is still full new pairs wait. A semaphore caps how many
//! passwords are hashed at once.

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock, Reference as _};
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::DashMapStateStore;
use governor::{Quota, RateLimiter};
use sha2::{Digest as _, Sha256};
use tokio::sync::{Semaphore, SemaphorePermit};

type Key = [u8; 16];
type Buckets<K, C> = RateLimiter<K, DashMapStateStore<K>, C, NoOpMiddleware<<C as Clock>::Instant>>;

/// How long a successful (name, address) pair is remembered.
const KNOWN_FOR: Duration = Duration::from_secs(30 * 24 * 3600);

/// Sizes of the limiter; the defaults suit a helpdesk of a region.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// Keys each bucket map (and the memory of good pairs) may hold.
    pub max_keys: usize,
    /// Passwords hashed at once (argon2 takes 19 MiB and tens of milliseconds each).
    pub hashing_at_once: usize,
    /// How long an attempt waits for a hashing slot before it is told to come back.
    pub hashing_wait: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Settings { max_keys: 10_000, hashing_at_once: 4, hashing_wait: Duration::from_secs(2) }
    }
}

const fn nonzero(n: u32) -> NonZeroU32 {
    match NonZeroU32::new(n) {
        Some(n) => n,
        None => NonZeroU32::MIN,
    }
}

pub struct LoginLimiter<C: Clock = DefaultClock> {
    clock: C,
    settings: Settings,
    pair_fast: Buckets<Key, C>,
    pair_slow: Buckets<Key, C>,
    name: Buckets<Key, C>,
    address: Buckets<IpAddr, C>,
    /// Pairs that signed in: when last, and how often (which names the pair's current bucket).
    known: Mutex<HashMap<Key, (C::Instant, u64)>>,
    hashing: Semaphore,
}

impl Default for LoginLimiter {
    fn default() -> Self {
        LoginLimiter::new(DefaultClock::default(), Settings::default())
    }
}

/// The name as the limiter counts it: trimmed and lower-cased.
pub fn normalise(name: &str) -> String {
    name.trim().to_lowercase()
}

/// A short fingerprint of a sign-in name for logs: a mistyped name is sometimes a password, so the
/// name itself is never written down, yet repeated attempts on one name can be told apart.
pub fn fingerprint(name: &str) -> String {
    Sha256::digest(normalise(name).as_bytes()).iter().take(6).map(|b| format!("{b:02x}")).collect()
}

fn key(parts: &[&[u8]]) -> Key {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_be_bytes());
        h.update(p);
    }
    let mut out = [0u8; 16];
    out.copy_from_slice(&h.finalize()[..16]);
    out
}

fn pair_key(name: &str, address: IpAddr) -> Key {
    key(&[b"pair", normalise(name).as_bytes(), address.to_string().as_bytes()])
}

/// The bucket of a pair after its `generation`-th successful sign-in.
fn bucket_key(pair: &Key, generation: u64) -> Key {
    key(&[b"bucket", pair, &generation.to_be_bytes()])
}

impl<C: Clock + Clone> LoginLimiter<C> {
    pub fn new(clock: C, settings: Settings) -> Self {
        LoginLimiter {
            pair_fast: RateLimiter::dashmap_with_clock(
                Quota::per_minute(nonzero(1)).allow_burst(nonzero(5)),
                clock.clone(),
            ),
            pair_slow: RateLimiter::dashmap_with_clock(
                Quota::per_hour(nonzero(6)).allow_burst(nonzero(15)),
                clock.clone(),
            ),
            name: RateLimiter::dashmap_with_clock(
                Quota::per_minute(nonzero(3)).allow_burst(nonzero(30)),
                clock.clone(),
            ),
            address: RateLimiter::dashmap_with_clock(
                Quota::per_minute(nonzero(10)).allow_burst(nonzero(50)),
                clock.clone(),
            ),
            known: Mutex::new(HashMap::new()),
            hashing: Semaphore::new(settings.hashing_at_once),
            clock,
            settings,
        }
    }

    /// Takes one attempt for `name` from `address`: `Err` tells how long to wait first.
    pub fn admit(&self, name: &str, address: IpAddr) -> Result<(), Duration> {
        let (known, generation) = self.known(&pair_key(name, address));
        let pair = bucket_key(&pair_key(name, address), generation);
        if !known {
            self.check(&self.address, &address)?;
            self.check(&self.name, &key(&[b"name", normalise(name).as_bytes()]))?;
        }
        for buckets in [&self.pair_fast, &self.pair_slow] {
            if known {
                // A known pair is never turned away for room: at most `max_keys` of them exist.
                buckets.check_key(&pair).map_err(|n| n.wait_time_from(self.clock.now()))?;
            } else {
                self.check(buckets, &pair)?;
            }
        }
        Ok(())
    }

    /// One cell from `key`'s bucket, if the map has room for the key.
    fn check<K: std::hash::Hash + Eq + Clone>(&self, buckets: &Buckets<K, C>, key: &K) -> Result<(), Duration> {
        if buckets.len() >= self.settings.max_keys {
            buckets.retain_recent();
            buckets.shrink_to_fit();
            if buckets.len() >= self.settings.max_keys {
                // Full of live keys: somebody is probing at scale. New keys wait until some expire.
                return Err(Duration::from_secs(60));
            }
        }
        buckets.check_key(key).map_err(|n| n.wait_time_from(self.clock.now()))
    }

    /// Whether the pair signed in within `KNOWN_FOR`, and the generation of its bucket.
    fn known(&self, pair: &Key) -> (bool, u64) {
        let known = self.known.lock().unwrap_or_else(|p| p.into_inner());
        match known.get(pair) {
            Some((at, generation)) => (Duration::from(self.clock.now().duration_since(*at)) < KNOWN_FOR, *generation),
            None => (false, 0),
        }
    }

    /// The right password was given for `name` from `address`: remember the pair, and start its
    /// count afresh.
    pub fn succeeded(&self, name: &str, address: IpAddr) {
        let now = self.clock.now();
        let mut known = self.known.lock().unwrap_or_else(|p| p.into_inner());
        if known.len() >= self.settings.max_keys {
            known.retain(|_, (at, _)| Duration::from(now.duration_since(*at)) < KNOWN_FOR);
        }
        let pair = pair_key(name, address);
        if known.len() < self.settings.max_keys || known.contains_key(&pair) {
            let generation = known.get(&pair).map_or(1, |(_, g)| g + 1);
            known.insert(pair, (now, generation));
        }
    }

    /// A slot to hash a password in; `None` when all are taken for longer than a short wait.
    pub async fn hashing_slot(&self) -> Option<SemaphorePermit<'_>> {
        tokio::time::timeout(self.settings.hashing_wait, self.hashing.acquire()).await.ok()?.ok()
    }

    /// Keys held across all buckets and the memory of good pairs (for tests and metrics).
    pub fn keys(&self) -> usize {
        let known = self.known.lock().unwrap_or_else(|p| p.into_inner()).len();
        self.pair_fast.len() + self.pair_slow.len() + self.name.len() + self.address.len() + known
    }
}

#[cfg(test)]
mod tests {
    use governor::clock::FakeRelativeClock;

    use super::*;

    const A: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1));
    const B: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(198, 51, 100, 7));

    fn limiter() -> (LoginLimiter<FakeRelativeClock>, FakeRelativeClock) {
        let clock = FakeRelativeClock::default();
        (LoginLimiter::new(clock.clone(), Settings::default()), clock)
    }

    #[test]
    fn a_guesser_is_slowed_more_and_more_and_recovers_with_time() {
        let (l, clock) = limiter();
        for _ in 0..5 {
            assert_eq!(l.admit("kari", A), Ok(()));
        }
        let wait = l.admit("kari", A).expect_err("the sixth try at once waits");
        assert!(wait > Duration::ZERO && wait <= Duration::from_secs(60), "{wait:?}");
        clock.advance(Duration::from_secs(60));
        assert_eq!(l.admit("kari", A), Ok(()), "a minute later one more try");
        assert!(l.admit("kari", A).is_err());
        // A steady guesser: one try a minute until the slow bucket is empty, then ten minutes.
        for _ in 0..10 {
            clock.advance(Duration::from_secs(60));
            let _ = l.admit("kari", A);
        }
        clock.advance(Duration::from_secs(60));
        let wait = l.admit("kari", A).expect_err("the delay has grown");
        assert!(wait > Duration::from_secs(60), "{wait:?}");
        // And it all recovers: after a quiet while the pair is fresh again.
        clock.advance(Duration::from_secs(3 * 3600));
        for _ in 0..5 {
            assert_eq!(l.admit("kari", A), Ok(()));
        }
    }

    #[test]
    fn the_rightful_user_signs_in_from_another_address_while_a_guesser_waits() {
        let (l, _) = limiter();
        for _ in 0..5 {
            l.admit("kari", A).expect("guess");
        }
        assert!(l.admit("kari", A).is_err(), "A waits");
        assert_eq!(l.admit("kari", B), Ok(()), "B, the rightful user, does not");
    }

    #[test]
    fn a_successful_sign_in_starts_the_pairs_count_afresh() {
        let (l, _) = limiter();
        for _ in 0..20 {
            assert_eq!(l.admit("kari", A), Ok(()), "the rightful user signing in again and again");
            l.succeeded("kari", A);
        }
        for _ in 0..5 {
            l.admit("kari", A).expect("wrong passwords after that count from zero");
        }
        assert!(l.admit("kari", A).is_err());
    }

    #[test]
    fn spaces_and_capitals_give_no_fresh_tries() {
        let (l, _) = limiter();
        for name in ["kari", " kari", "KARI ", "\tKari\n", "kArI"] {
            l.admit(name, A).expect("five tries");
        }
        for name in ["kari", "  KARI  ", "Kari"] {
            assert!(l.admit(name, A).is_err(), "{name:?} shares the bucket");
        }
        assert_eq!(fingerprint(" KARI "), fingerprint("kari"));
        assert_eq!(fingerprint("kari").len(), 12);
    }

    #[test]
    fn many_addresses_against_one_name_are_throttled_but_a_known_address_is_not() {
        let (l, _) = limiter();
        l.admit("kari", B).expect("the rightful user");
        l.succeeded("kari", B);
        let refused = (0..100u32)
            .filter(|i| l.admit("kari", IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + i))).is_err())
            .count();
        assert!(refused >= 100 - 30, "at most 30 at once for one name ({refused} refused)");
        assert_eq!(l.admit("kari", B), Ok(()), "the rightful user's own address still gets in");
    }

    #[test]
    fn one_address_spraying_names_is_throttled() {
        let (l, _) = limiter();
        let allowed = (0..200).filter(|i| l.admit(&format!("user{i}"), A).is_ok()).count();
        assert_eq!(allowed, 50);
        assert_eq!(l.admit("kari", B), Ok(()), "other addresses are unaffected");
    }

    #[test]
    fn probing_ten_thousand_names_keeps_memory_bounded() {
        let clock = FakeRelativeClock::default();
        let settings = Settings { max_keys: 1_000, ..Settings::default() };
        let l = LoginLimiter::new(clock.clone(), settings);
        for i in 0..10_000u32 {
            let _ = l.admit(&format!("probe-{i}"), IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + i)));
        }
        assert!(l.keys() <= 4 * settings.max_keys, "{} keys", l.keys());
        // Once the probes are stale, they are dropped and new names get in again.
        clock.advance(Duration::from_secs(3 * 3600));
        assert_eq!(l.admit("kari", A), Ok(()));
        assert!(l.keys() <= 4 * settings.max_keys);
    }

    #[test]
    fn the_default_limiter_caps_ten_thousand_names_at_its_key_limit() {
        let (l, _) = limiter();
        for i in 0..20_000u32 {
            let _ = l.admit(&format!("probe-{i}"), IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + i)));
        }
        assert!(l.keys() <= 4 * Settings::default().max_keys, "{} keys", l.keys());
    }

    #[tokio::test]
    async fn password_hashing_is_capped() {
        let settings = Settings { hashing_at_once: 2, hashing_wait: Duration::from_millis(20), ..Settings::default() };
        let l = LoginLimiter::new(FakeRelativeClock::default(), settings);
        let a = l.hashing_slot().await.expect("one");
        let _b = l.hashing_slot().await.expect("two");
        assert!(l.hashing_slot().await.is_none(), "a third waits, then is told to come back");
        drop(a);
        assert!(l.hashing_slot().await.is_some(), "a slot freed is taken");
    }
}
