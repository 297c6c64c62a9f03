//! The demo's randomness: one reproducible stream per visitor (or per
//! dialog, call, ticket…) and the few ways the planners draw from it.

use chrono::Duration;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// A random stream for one visitor (`salt` separates a visitor's person
/// from its crawler).
pub(super) fn stream(seed: u64, index: u64, salt: u64) -> StdRng {
    fn mix(mut z: u64) -> u64 {
        // splitmix64: neighbouring indices get unrelated seeds.
        z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    StdRng::seed_from_u64(mix(
        mix(seed) ^ mix(index.wrapping_mul(4).wrapping_add(salt))
    ))
}

/// Picks from a weighted table.
pub(super) fn pick<'t, T>(rng: &mut StdRng, table: &'t [(T, u32)]) -> &'t T {
    let total: u32 = table.iter().map(|(_, w)| w).sum();
    let mut roll = rng.gen_range(0..total.max(1));
    for (item, weight) in table {
        if roll < *weight {
            return item;
        }
        roll -= weight;
    }
    &table[table.len() - 1].0
}

/// Picks one of a non-empty slice.
pub(super) fn one<'t, T>(rng: &mut StdRng, items: &'t [T]) -> &'t T {
    &items[rng.gen_range(0..items.len())]
}

/// Random seconds in `[lo, hi)`.
pub(super) fn secs(rng: &mut StdRng, lo: i64, hi: i64) -> Duration {
    Duration::seconds(rng.gen_range(lo..hi))
}
