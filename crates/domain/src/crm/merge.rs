//! Contact resolution: which contact a set of identities belongs to, and
//! which contacts merge when one person turns out to be several.
//!
//! The store looks up the owner of each identity (followed to the surviving
//! contact); [`plan_contact_merge`] decides; the store moves the losers'
//! identities, leads and deals and marks them merged.

/// What to do with the contacts a set of identities points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContactResolution {
    /// No identities: the record has no contact.
    Anonymous,
    /// No identity is known yet: create a contact and attach them all.
    Create,
    /// Attach every identity to `winner`; each of `losers` merges into it.
    Use {
        /// The surviving contact: the oldest (smallest id) of the owners.
        winner: i64,
        /// The other owners, ascending, each once. Their identities, leads
        /// and deals move to the winner and their rows are marked merged.
        losers: Vec<i64>,
    },
}

/// Decides the contact of a record from the owner of each of its
/// identities (`None` for an identity nobody owns yet; owners already
/// followed to their surviving contact).
///
/// The oldest contact survives, so ids already handed out (reports, the
/// API, webhooks) keep pointing at the contact everything merges into.
pub fn plan_contact_merge(owners: &[Option<i64>]) -> ContactResolution {
    if owners.is_empty() {
        return ContactResolution::Anonymous;
    }
    let mut found: Vec<i64> = owners.iter().flatten().copied().collect();
    found.sort_unstable();
    found.dedup();
    match found.split_first() {
        Some((&winner, losers)) => ContactResolution::Use {
            winner,
            losers: losers.to_vec(),
        },
        None => ContactResolution::Create,
    }
}

/// The name to store on a contact that already exists: the incoming one
/// when the contact has none (a name is filled, never overwritten).
pub fn name_to_fill<'a>(stored: Option<&str>, incoming: Option<&'a str>) -> Option<&'a str> {
    match stored {
        Some(name) if !name.is_empty() => None,
        _ => incoming,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn no_identities_no_contact() {
        assert_eq!(plan_contact_merge(&[]), ContactResolution::Anonymous);
    }

    #[test]
    fn unknown_identities_create_a_contact() {
        assert_eq!(plan_contact_merge(&[None, None]), ContactResolution::Create);
    }

    #[test]
    fn one_owner_is_used() {
        assert_eq!(
            plan_contact_merge(&[None, Some(7), Some(7)]),
            ContactResolution::Use {
                winner: 7,
                losers: vec![]
            }
        );
    }

    #[test]
    fn the_oldest_contact_wins() {
        assert_eq!(
            plan_contact_merge(&[Some(9), None, Some(4), Some(12), Some(9)]),
            ContactResolution::Use {
                winner: 4,
                losers: vec![9, 12]
            }
        );
    }

    #[test]
    fn a_name_is_filled_not_overwritten() {
        assert_eq!(name_to_fill(None, Some("Ann")), Some("Ann"));
        assert_eq!(name_to_fill(Some(""), Some("Ann")), Some("Ann"));
        assert_eq!(name_to_fill(Some("Bob"), Some("Ann")), None);
        assert_eq!(name_to_fill(None, None), None);
    }

    proptest! {
        #[test]
        fn winner_is_the_minimum_and_losers_are_the_rest_once(
            owners in proptest::collection::vec(proptest::option::of(1i64..50), 0..12)
        ) {
            let known: std::collections::BTreeSet<i64> = owners.iter().flatten().copied().collect();
            match plan_contact_merge(&owners) {
                ContactResolution::Anonymous => prop_assert!(owners.is_empty()),
                ContactResolution::Create => {
                    prop_assert!(!owners.is_empty());
                    prop_assert!(known.is_empty());
                }
                ContactResolution::Use { winner, losers } => {
                    prop_assert_eq!(Some(&winner), known.iter().next());
                    prop_assert!(!losers.contains(&winner));
                    let mut all = vec![winner];
                    all.extend(&losers);
                    // Every owner appears exactly once, ascending.
                    prop_assert_eq!(all, known.into_iter().collect::<Vec<_>>());
                }
            }
        }

        #[test]
        fn owner_order_does_not_matter(
            mut owners in proptest::collection::vec(proptest::option::of(1i64..50), 0..12)
        ) {
            let before = plan_contact_merge(&owners);
            owners.reverse();
            prop_assert_eq!(before, plan_contact_merge(&owners));
        }
    }
}
