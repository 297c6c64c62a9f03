//! A deal reported by a CRM, applied to what is stored: a late redelivery
//! is ignored, a deal a lead already opened for the contact is adopted, a
//! new one is created (with its stage history), and a partial update merges
//! into the stored fields.

use super::{DealStatus, StageEntry};
use crate::money::Money;
use chrono::{DateTime, Utc};

/// The fields of a stored deal an upsert reads and merges into.
#[derive(Debug, Clone, PartialEq)]
pub struct DealState {
    /// Its id.
    pub id: i64,
    /// Its contact.
    pub contact_id: Option<i64>,
    /// Its visit.
    pub visit_id: Option<i64>,
    /// Open, won or lost.
    pub status: DealStatus,
    /// Its stage.
    pub stage: String,
    /// Revenue.
    pub revenue: Money,
    /// Profit.
    pub profit: Option<Money>,
    /// Product or title.
    pub product: Option<String>,
    /// When it closed (as stored: millisecond precision).
    pub closed_at: Option<DateTime<Utc>>,
}

/// A deal already stored under the write's external id.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredDeal {
    /// Its fields.
    pub state: DealState,
    /// The newest modification time its source reported.
    pub source_updated_at: Option<DateTime<Utc>>,
}

/// A CRM's report of a deal, as the upsert rules read it (every field
/// `None` keeps the stored value).
#[derive(Debug, Clone, PartialEq)]
pub struct DealWriteFacts {
    /// Status after the write.
    pub status: Option<DealStatus>,
    /// Stage after the write.
    pub stage: Option<String>,
    /// The stage of a new deal without one (the pipeline's first).
    pub default_stage: String,
    /// Revenue.
    pub revenue: Option<Money>,
    /// Profit.
    pub profit: Option<Money>,
    /// Product or title.
    pub product: Option<String>,
    /// When the deal was created in the CRM.
    pub created_at: Option<DateTime<Utc>>,
    /// When it closed.
    pub closed_at: Option<DateTime<Utc>>,
    /// The visit the CRM names.
    pub visit_id: Option<i64>,
    /// The CRM's modification time.
    pub source_updated_at: Option<DateTime<Utc>>,
    /// When the change happened.
    pub at: DateTime<Utc>,
}

impl DealWriteFacts {
    /// When a deal created by this write was created: the CRM's time, else
    /// the time of the write. The store asks whether the contact had won a
    /// deal by then (a repeat sale).
    pub fn created_at_or_now(&self) -> DateTime<Utc> {
        self.created_at.unwrap_or(self.at)
    }
}

/// A deal to insert.
#[derive(Debug, Clone, PartialEq)]
pub struct NewDeal {
    /// Its contact.
    pub contact_id: Option<i64>,
    /// Its visit.
    pub visit_id: Option<i64>,
    /// Open, won or lost.
    pub status: DealStatus,
    /// Its stage.
    pub stage: String,
    /// The contact had bought before.
    pub is_repeat: bool,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it closed (a deal first seen closed).
    pub closed_at: Option<DateTime<Utc>>,
    /// Its stage-history rows, in insertion order.
    pub history: Vec<StageEntry>,
}

/// Which deal the write lands on.
#[derive(Debug, Clone, PartialEq)]
pub enum DealTarget {
    /// The deal stored under the external id.
    Existing(i64),
    /// The contact's open deal a lead opened: it takes the external id.
    Adopt(i64),
    /// A new deal.
    Create(NewDeal),
}

/// Every merged field of a deal, written when any of them changed.
#[derive(Debug, Clone, PartialEq)]
pub struct DealFields {
    /// Open, won or lost.
    pub status: DealStatus,
    /// Stage.
    pub stage: String,
    /// Revenue.
    pub revenue: Money,
    /// Profit.
    pub profit: Option<Money>,
    /// Product.
    pub product: Option<String>,
    /// Contact.
    pub contact_id: Option<i64>,
    /// Visit.
    pub visit_id: Option<i64>,
    /// When it closed.
    pub closed_at: Option<DateTime<Utc>>,
    /// The time of the write.
    pub updated_at: DateTime<Utc>,
}

/// The changes one write makes to a deal, in the order the store applies
/// them: the target (insert or adopt), the merged fields, the source time,
/// the stage-history row.
#[derive(Debug, Clone, PartialEq)]
pub struct DealChanges {
    /// The deal written.
    pub target: DealTarget,
    /// The merged fields, when any differs from the deal's.
    pub update: Option<DealFields>,
    /// The CRM's modification time to keep (the newest wins).
    pub source_updated_at: Option<DateTime<Utc>>,
    /// The history row of a stage (or status) change.
    pub stage_entry: Option<StageEntry>,
    /// The deal's contact after the write.
    pub contact_id: Option<i64>,
    /// Any field changed, or the deal is new.
    pub changed: bool,
    /// The stage or status changed.
    pub stage_changed: bool,
}

impl DealChanges {
    /// The deal was created by this write.
    pub fn created(&self) -> bool {
        matches!(self.target, DealTarget::Create(_))
    }

    /// The deal was adopted by this write.
    pub fn adopted(&self) -> bool {
        matches!(self.target, DealTarget::Adopt(_))
    }
}

/// What an upsert does.
#[derive(Debug, Clone, PartialEq)]
pub enum DealPlan {
    /// A late redelivery (older than the stored source time): nothing
    /// changes.
    Ignore {
        /// The stored deal.
        deal_id: i64,
        /// Its contact.
        contact_id: Option<i64>,
    },
    /// Apply these changes.
    Apply(Box<DealChanges>),
}

/// Decides a deal upsert.
///
/// `existing` is the deal stored under the external id; `open_internal` the
/// contact's newest open deal without an external id (a lead opened it;
/// looked up only when nothing is stored); `contact` the contact resolved
/// from the write's identities; `repeat` whether that contact had won a
/// deal by [`DealWriteFacts::created_at_or_now`] (asked only for a new deal).
pub fn plan_deal_upsert(
    existing: Option<&StoredDeal>,
    open_internal: Option<&DealState>,
    contact: Option<i64>,
    write: &DealWriteFacts,
    repeat: bool,
) -> DealPlan {
    let (deal, target) = match (existing, open_internal) {
        (Some(stored), _) => {
            // An update older than what we stored is a late redelivery.
            if let (Some(stored_at), Some(incoming)) =
                (stored.source_updated_at, write.source_updated_at)
            {
                if incoming.timestamp_millis() < stored_at.timestamp_millis() {
                    return DealPlan::Ignore {
                        deal_id: stored.state.id,
                        contact_id: stored.state.contact_id,
                    };
                }
            }
            (stored.state.clone(), DealTarget::Existing(stored.state.id))
        }
        // A lead may have opened a deal for this person already: the CRM's
        // deal is that deal, not a second one.
        (None, Some(open)) => (open.clone(), DealTarget::Adopt(open.id)),
        (None, None) => {
            let new = new_deal(contact, write, repeat);
            let state = DealState {
                id: 0,
                contact_id: new.contact_id,
                visit_id: new.visit_id,
                status: new.status,
                stage: new.stage.clone(),
                revenue: Money::ZERO,
                profit: None,
                product: None,
                closed_at: new.closed_at.map(stored_precision),
            };
            (state, DealTarget::Create(new))
        }
    };
    DealPlan::Apply(Box::new(merge(&deal, target, contact, write)))
}

/// A deal first seen in this write: every deal starts in the first stage;
/// a deal first seen already closed entered its final stage when it closed.
fn new_deal(contact: Option<i64>, write: &DealWriteFacts, repeat: bool) -> NewDeal {
    let created_at = write.created_at_or_now();
    let status = write.status.unwrap_or(DealStatus::Open);
    let stage = write
        .stage
        .clone()
        .unwrap_or_else(|| write.default_stage.clone());
    let closed_at = (status != DealStatus::Open).then(|| write.closed_at.unwrap_or(write.at));
    let mut history = Vec::with_capacity(2);
    match closed_at {
        Some(closed) => {
            if stage != write.default_stage {
                history.push(StageEntry {
                    stage: write.default_stage.clone(),
                    status: DealStatus::Open,
                    at: created_at.min(closed),
                });
            }
            history.push(StageEntry {
                stage: stage.clone(),
                status,
                at: closed,
            });
        }
        None => history.push(StageEntry {
            stage: stage.clone(),
            status,
            at: created_at,
        }),
    }
    NewDeal {
        contact_id: contact,
        visit_id: write.visit_id,
        status,
        stage,
        is_repeat: repeat,
        created_at,
        closed_at,
        history,
    }
}

/// Merges the write into the deal: a reported field replaces the stored
/// one, a missing one keeps it; the contact and visit are filled, never
/// replaced; a closed deal keeps its first close time.
fn merge(
    deal: &DealState,
    target: DealTarget,
    contact: Option<i64>,
    write: &DealWriteFacts,
) -> DealChanges {
    let status = write.status.unwrap_or(deal.status);
    let stage = write.stage.clone().unwrap_or_else(|| deal.stage.clone());
    let revenue = write.revenue.unwrap_or(deal.revenue);
    let profit = write.profit.or(deal.profit);
    let product = write.product.clone().or(deal.product.clone());
    let contact_id = deal.contact_id.or(contact);
    let visit_id = deal.visit_id.or(write.visit_id);
    let closed_at = match status {
        DealStatus::Open => None,
        _ => Some(write.closed_at.or(deal.closed_at).unwrap_or(write.at)),
    };
    let stage_changed = stage != deal.stage || status != deal.status;
    let changed = stage_changed
        || revenue != deal.revenue
        || profit != deal.profit
        || product != deal.product
        || contact_id != deal.contact_id
        || visit_id != deal.visit_id
        || closed_at != deal.closed_at;
    let stage_entry = stage_changed.then(|| StageEntry {
        stage: stage.clone(),
        status,
        at: closed_at
            .filter(|_| status != DealStatus::Open)
            .unwrap_or(write.at),
    });
    let created = matches!(target, DealTarget::Create(_));
    DealChanges {
        target,
        update: changed.then_some(DealFields {
            status,
            stage,
            revenue,
            profit,
            product,
            contact_id,
            visit_id,
            closed_at,
            updated_at: write.at,
        }),
        source_updated_at: write.source_updated_at,
        stage_entry,
        contact_id,
        changed: changed || created,
        stage_changed,
    }
}

/// A time as the store keeps it (milliseconds), so a freshly created deal
/// compares with the write exactly as the stored one will.
fn stored_precision(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(t.timestamp_millis()).unwrap_or(t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn t(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + secs, 0).unwrap_or_default()
    }

    fn write() -> DealWriteFacts {
        DealWriteFacts {
            status: None,
            stage: None,
            default_stage: "new".into(),
            revenue: None,
            profit: None,
            product: None,
            created_at: None,
            closed_at: None,
            visit_id: None,
            source_updated_at: None,
            at: t(100),
        }
    }

    fn state(id: i64) -> DealState {
        DealState {
            id,
            contact_id: Some(3),
            visit_id: None,
            status: DealStatus::Open,
            stage: "new".into(),
            revenue: Money::ZERO,
            profit: None,
            product: None,
            closed_at: None,
        }
    }

    fn apply(plan: DealPlan) -> DealChanges {
        match plan {
            DealPlan::Apply(c) => *c,
            DealPlan::Ignore { .. } => panic!("ignored"),
        }
    }

    #[test]
    fn a_late_redelivery_is_ignored() {
        let stored = StoredDeal {
            state: state(8),
            source_updated_at: Some(t(50)),
        };
        let w = DealWriteFacts {
            stage: Some("paid".into()),
            status: Some(DealStatus::Won),
            source_updated_at: Some(t(49)),
            ..write()
        };
        assert_eq!(
            plan_deal_upsert(Some(&stored), None, Some(3), &w, false),
            DealPlan::Ignore {
                deal_id: 8,
                contact_id: Some(3)
            }
        );
        // The same source time is not late.
        let same = DealWriteFacts {
            source_updated_at: Some(t(50)),
            ..w
        };
        assert!(matches!(
            plan_deal_upsert(Some(&stored), None, Some(3), &same, false),
            DealPlan::Apply(_)
        ));
    }

    #[test]
    fn a_new_open_deal_starts_in_the_default_stage() {
        let c = apply(plan_deal_upsert(None, None, Some(3), &write(), true));
        let DealTarget::Create(new) = &c.target else {
            panic!("not created")
        };
        assert_eq!(new.stage, "new");
        assert_eq!(new.status, DealStatus::Open);
        assert!(new.is_repeat);
        assert_eq!(new.created_at, t(100));
        assert_eq!(new.closed_at, None);
        assert_eq!(
            new.history,
            vec![StageEntry {
                stage: "new".into(),
                status: DealStatus::Open,
                at: t(100)
            }]
        );
        assert!(c.changed && !c.stage_changed && c.update.is_none());
        assert_eq!(c.contact_id, Some(3));
    }

    #[test]
    fn a_deal_first_seen_won_gets_a_synthetic_first_stage() {
        let w = DealWriteFacts {
            status: Some(DealStatus::Won),
            stage: Some("paid".into()),
            revenue: Some(Money(500)),
            created_at: Some(t(10)),
            closed_at: Some(t(40)),
            ..write()
        };
        let c = apply(plan_deal_upsert(None, None, None, &w, false));
        let DealTarget::Create(new) = &c.target else {
            panic!("not created")
        };
        assert_eq!(
            new.history,
            vec![
                StageEntry {
                    stage: "new".into(),
                    status: DealStatus::Open,
                    at: t(10)
                },
                StageEntry {
                    stage: "paid".into(),
                    status: DealStatus::Won,
                    at: t(40)
                },
            ]
        );
        assert_eq!(new.closed_at, Some(t(40)));
        // Revenue merges after the insert; the stage did not change again.
        let update = c.update.as_ref().map(|u| u.revenue);
        assert_eq!(update, Some(Money(500)));
        assert!(!c.stage_changed && c.stage_entry.is_none());
    }

    #[test]
    fn a_deal_first_seen_closed_in_the_default_stage_has_one_row() {
        let w = DealWriteFacts {
            status: Some(DealStatus::Lost),
            ..write()
        };
        let c = apply(plan_deal_upsert(None, None, None, &w, false));
        let DealTarget::Create(new) = &c.target else {
            panic!("not created")
        };
        // Closed without a close time: closed now.
        assert_eq!(
            new.history,
            vec![StageEntry {
                stage: "new".into(),
                status: DealStatus::Lost,
                at: t(100)
            }]
        );
    }

    #[test]
    fn the_open_lead_deal_is_adopted() {
        let open = state(4);
        let w = DealWriteFacts {
            stage: Some("meeting".into()),
            revenue: Some(Money(100)),
            ..write()
        };
        let c = apply(plan_deal_upsert(None, Some(&open), Some(3), &w, false));
        assert_eq!(c.target, DealTarget::Adopt(4));
        assert!(c.adopted() && !c.created());
        assert!(c.stage_changed && c.changed);
        assert_eq!(
            c.stage_entry,
            Some(StageEntry {
                stage: "meeting".into(),
                status: DealStatus::Open,
                at: t(100)
            })
        );
    }

    #[test]
    fn a_partial_update_keeps_the_rest_and_fills_the_contact() {
        let stored = StoredDeal {
            state: DealState {
                contact_id: None,
                product: Some("sofa".into()),
                revenue: Money(700),
                ..state(2)
            },
            source_updated_at: None,
        };
        let w = DealWriteFacts {
            profit: Some(Money(70)),
            visit_id: Some(11),
            ..write()
        };
        let c = apply(plan_deal_upsert(Some(&stored), None, Some(9), &w, false));
        let u = c.update.unwrap_or_else(|| panic!("no update"));
        assert_eq!(u.revenue, Money(700));
        assert_eq!(u.product.as_deref(), Some("sofa"));
        assert_eq!(u.profit, Some(Money(70)));
        assert_eq!(u.contact_id, Some(9));
        assert_eq!(u.visit_id, Some(11));
        assert!(!c.stage_changed);
    }

    #[test]
    fn closing_keeps_the_first_close_time_and_reopening_clears_it() {
        let closed = StoredDeal {
            state: DealState {
                status: DealStatus::Won,
                stage: "paid".into(),
                closed_at: Some(t(30)),
                ..state(2)
            },
            source_updated_at: None,
        };
        // A later "won" again keeps the close time: nothing changes.
        let again = DealWriteFacts {
            status: Some(DealStatus::Won),
            ..write()
        };
        let c = apply(plan_deal_upsert(
            Some(&closed),
            None,
            Some(3),
            &again,
            false,
        ));
        assert!(!c.changed && c.update.is_none());
        // Reopened: the close time goes, a history row at the write's time.
        let reopen = DealWriteFacts {
            status: Some(DealStatus::Open),
            stage: Some("new".into()),
            ..write()
        };
        let c = apply(plan_deal_upsert(
            Some(&closed),
            None,
            Some(3),
            &reopen,
            false,
        ));
        assert_eq!(c.update.as_ref().and_then(|u| u.closed_at), None);
        assert_eq!(c.stage_entry.map(|e| e.at), Some(t(100)));
        // Lost with a close time: the history row is at that time.
        let lost = DealWriteFacts {
            status: Some(DealStatus::Lost),
            closed_at: Some(t(60)),
            ..write()
        };
        let open = StoredDeal {
            state: state(2),
            source_updated_at: None,
        };
        let c = apply(plan_deal_upsert(Some(&open), None, Some(3), &lost, false));
        assert_eq!(c.stage_entry.map(|e| e.at), Some(t(60)));
    }

    fn any_status() -> impl Strategy<Value = DealStatus> {
        prop_oneof![
            Just(DealStatus::Open),
            Just(DealStatus::Won),
            Just(DealStatus::Lost)
        ]
    }

    fn any_stage() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("new".to_owned()),
            Just("meeting".to_owned()),
            Just("paid".to_owned())
        ]
    }

    prop_compose! {
        fn any_write()(
            status in proptest::option::of(any_status()),
            stage in proptest::option::of(any_stage()),
            revenue in proptest::option::of(0i64..1000),
            profit in proptest::option::of(0i64..100),
            product in proptest::option::of(Just("sofa".to_owned())),
            created in proptest::option::of(0i64..200),
            closed in proptest::option::of(0i64..200),
            visit in proptest::option::of(1i64..5),
            source in proptest::option::of(0i64..200),
            at in 0i64..200,
        ) -> DealWriteFacts {
            DealWriteFacts {
                status,
                stage,
                default_stage: "new".into(),
                revenue: revenue.map(Money),
                profit: profit.map(Money),
                product,
                created_at: created.map(t),
                closed_at: closed.map(t),
                visit_id: visit,
                source_updated_at: source.map(t),
                at: t(at),
            }
        }
    }

    prop_compose! {
        fn any_state()(
            id in 1i64..50,
            contact in proptest::option::of(1i64..5),
            visit in proptest::option::of(1i64..5),
            status in any_status(),
            stage in any_stage(),
            revenue in 0i64..1000,
            closed in 0i64..200,
        ) -> DealState {
            DealState {
                id,
                contact_id: contact,
                visit_id: visit,
                status,
                stage,
                revenue: Money(revenue),
                profit: None,
                product: None,
                closed_at: (status != DealStatus::Open).then(|| t(closed)),
            }
        }
    }

    proptest! {
        #[test]
        fn a_late_update_never_changes_anything(
            stored in any_state(),
            stored_at in 0i64..200,
            w in any_write(),
            contact in proptest::option::of(1i64..5),
        ) {
            let Some(incoming) = w.source_updated_at else { return Ok(()) };
            prop_assume!(incoming < t(stored_at));
            let s = StoredDeal { state: stored.clone(), source_updated_at: Some(t(stored_at)) };
            prop_assert_eq!(
                plan_deal_upsert(Some(&s), None, contact, &w, false),
                DealPlan::Ignore { deal_id: stored.id, contact_id: stored.contact_id }
            );
        }

        #[test]
        fn the_stored_or_adopted_deal_keeps_its_id(
            deal in any_state(),
            w in any_write(),
            contact in proptest::option::of(1i64..5),
            adopt in any::<bool>(),
        ) {
            let stored = StoredDeal { state: deal.clone(), source_updated_at: None };
            let plan = if adopt {
                plan_deal_upsert(None, Some(&deal), contact, &w, false)
            } else {
                plan_deal_upsert(Some(&stored), Some(&state(99)), contact, &w, false)
            };
            let c = apply(plan);
            let expected = if adopt { DealTarget::Adopt(deal.id) } else { DealTarget::Existing(deal.id) };
            prop_assert_eq!(&c.target, &expected);
            // A stored contact is never replaced.
            if deal.contact_id.is_some() {
                prop_assert_eq!(c.contact_id, deal.contact_id);
            }
        }

        #[test]
        fn merged_fields_are_consistent(
            deal in any_state(),
            w in any_write(),
            contact in proptest::option::of(1i64..5),
            exists in any::<bool>(),
            repeat in any::<bool>(),
        ) {
            let stored = StoredDeal { state: deal.clone(), source_updated_at: None };
            let c = apply(plan_deal_upsert(exists.then_some(&stored), None, contact, &w, repeat));
            if let Some(u) = &c.update {
                // Closed exactly when not open; a stage row exactly when
                // stage or status moved.
                prop_assert_eq!(u.closed_at.is_some(), u.status != DealStatus::Open);
                prop_assert_eq!(u.updated_at, w.at);
            }
            prop_assert_eq!(c.stage_entry.is_some(), c.stage_changed);
            // Nothing changes without an update, unless the deal is new.
            prop_assert_eq!(c.changed, c.update.is_some() || c.created());
            if c.stage_changed {
                prop_assert!(c.update.is_some());
            }
            if let DealTarget::Create(new) = &c.target {
                prop_assert!(!exists);
                prop_assert_eq!(new.is_repeat, repeat);
                // The history ends in the deal's stage and status, at its
                // close time when closed, and starts no later.
                let last = new.history.last().cloned();
                prop_assert_eq!(last.as_ref().map(|e| (&e.stage, e.status)), Some((&new.stage, new.status)));
                prop_assert_eq!(last.map(|e| e.at), Some(new.closed_at.unwrap_or(new.created_at)));
                prop_assert!(new.history.windows(2).all(|p| p[0].at <= p[1].at));
                prop_assert_eq!(new.history[0].stage.as_str(), if new.closed_at.is_some() { "new" } else { new.stage.as_str() });
                // A new deal's own fields never count as a stage change.
                prop_assert!(!c.stage_changed);
            }
        }

        #[test]
        fn writing_the_merged_deal_again_changes_nothing(
            deal in any_state(),
            w in any_write(),
            contact in proptest::option::of(1i64..5),
        ) {
            let stored = StoredDeal { state: deal.clone(), source_updated_at: None };
            let c = apply(plan_deal_upsert(Some(&stored), None, contact, &w, false));
            let after = match c.update {
                Some(u) => DealState {
                    id: deal.id,
                    contact_id: u.contact_id,
                    visit_id: u.visit_id,
                    status: u.status,
                    stage: u.stage,
                    revenue: u.revenue,
                    profit: u.profit,
                    product: u.product,
                    closed_at: u.closed_at,
                },
                None => deal,
            };
            let again = StoredDeal { state: after, source_updated_at: None };
            let c = apply(plan_deal_upsert(Some(&again), None, contact, &w, false));
            prop_assert!(!c.changed && !c.stage_changed);
        }
    }
}
