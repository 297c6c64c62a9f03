//! What a new lead does to deals: join the contact's open deal (dedup),
//! open a new one (a repeat sale when the contact has bought before), or
//! nothing (support tickets are leads but not sales).

use super::{decide_lead, DealStatus, LeadDecision, LeadKind, StageEntry};
use chrono::{DateTime, Utc};

/// What the store knows when a new (not replayed) lead arrives, after its
/// contact was resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct LeadFacts {
    /// The lead's kind.
    pub kind: LeadKind,
    /// The project dedups leads into the contact's open deal.
    pub dedup: bool,
    /// The contact's newest open deal (`None` without a contact).
    pub open_deal: Option<i64>,
    /// The contact has a won deal created at or before the lead (`false`
    /// without a contact).
    pub has_won_deal: bool,
    /// The stage a new deal starts in.
    pub first_stage: String,
    /// When the lead happened.
    pub at: DateTime<Utc>,
}

/// A deal a lead opens.
#[derive(Debug, Clone, PartialEq)]
pub struct LeadOpensDeal {
    /// Its stage (the pipeline's first).
    pub stage: String,
    /// The contact had bought before: a repeat sale.
    pub is_repeat: bool,
    /// Its first stage-history row.
    pub history: StageEntry,
}

/// The lead's effect on deals.
#[derive(Debug, Clone, PartialEq)]
pub enum LeadDeal {
    /// It touches no deal (a support ticket).
    None,
    /// It joins this open deal as a duplicate.
    Join(i64),
    /// It opens a new deal.
    Open(LeadOpensDeal),
}

/// What recording a lead does.
#[derive(Debug, Clone, PartialEq)]
pub struct LeadPlan {
    /// Its effect on deals.
    pub deal: LeadDeal,
    /// It is a duplicate of the open deal it joins.
    pub duplicate: bool,
    /// It opened a deal for a contact who had bought before.
    pub repeat_sale: bool,
}

/// Decides what a new lead does to deals.
pub fn plan_lead(facts: &LeadFacts) -> LeadPlan {
    if !facts.kind.opens_deal() {
        // Support tickets are leads of their contact but open no deals.
        return LeadPlan {
            deal: LeadDeal::None,
            duplicate: false,
            repeat_sale: false,
        };
    }
    match decide_lead(facts.dedup, facts.open_deal) {
        LeadDecision::JoinOpenDeal(deal) => LeadPlan {
            deal: LeadDeal::Join(deal),
            duplicate: true,
            repeat_sale: false,
        },
        LeadDecision::OpenDeal => LeadPlan {
            deal: LeadDeal::Open(LeadOpensDeal {
                stage: facts.first_stage.clone(),
                is_repeat: facts.has_won_deal,
                history: StageEntry {
                    stage: facts.first_stage.clone(),
                    status: DealStatus::Open,
                    at: facts.at,
                },
            }),
            duplicate: false,
            repeat_sale: facts.has_won_deal,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn facts(kind: LeadKind, dedup: bool, open_deal: Option<i64>, won: bool) -> LeadFacts {
        LeadFacts {
            kind,
            dedup,
            open_deal,
            has_won_deal: won,
            first_stage: "new".into(),
            at: DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default(),
        }
    }

    #[test]
    fn a_first_form_opens_a_deal_in_the_first_stage() {
        let f = facts(LeadKind::Form, true, None, false);
        assert_eq!(
            plan_lead(&f),
            LeadPlan {
                deal: LeadDeal::Open(LeadOpensDeal {
                    stage: "new".into(),
                    is_repeat: false,
                    history: StageEntry {
                        stage: "new".into(),
                        status: DealStatus::Open,
                        at: f.at
                    },
                }),
                duplicate: false,
                repeat_sale: false,
            }
        );
    }

    #[test]
    fn dedup_joins_the_open_deal() {
        let plan = plan_lead(&facts(LeadKind::Call, true, Some(5), true));
        assert_eq!(plan.deal, LeadDeal::Join(5));
        assert!(plan.duplicate);
        assert!(!plan.repeat_sale);
    }

    #[test]
    fn without_dedup_a_second_deal_opens() {
        let plan = plan_lead(&facts(LeadKind::Chat, false, Some(5), false));
        assert!(matches!(plan.deal, LeadDeal::Open(_)));
        assert!(!plan.duplicate);
    }

    #[test]
    fn a_buyer_coming_back_is_a_repeat_sale() {
        let plan = plan_lead(&facts(LeadKind::Email, true, None, true));
        assert!(plan.repeat_sale);
        assert!(matches!(
            plan.deal,
            LeadDeal::Open(LeadOpensDeal {
                is_repeat: true,
                ..
            })
        ));
    }

    #[test]
    fn a_ticket_touches_no_deal() {
        let plan = plan_lead(&facts(LeadKind::Ticket, true, Some(5), true));
        assert_eq!(plan.deal, LeadDeal::None);
        assert!(!plan.duplicate && !plan.repeat_sale);
    }

    fn any_kind() -> impl Strategy<Value = LeadKind> {
        prop_oneof![
            Just(LeadKind::Form),
            Just(LeadKind::Call),
            Just(LeadKind::Chat),
            Just(LeadKind::Ticket),
            Just(LeadKind::Email),
        ]
    }

    proptest! {
        #[test]
        fn lead_plans_are_consistent(
            kind in any_kind(),
            dedup in any::<bool>(),
            open_deal in proptest::option::of(1i64..100),
            won in any::<bool>(),
        ) {
            let plan = plan_lead(&facts(kind, dedup, open_deal, won));
            // A ticket lead never opens or joins a deal.
            if kind == LeadKind::Ticket {
                prop_assert_eq!(&plan.deal, &LeadDeal::None);
            }
            // A duplicate is exactly a lead that joined a deal, and it
            // joins the contact's open deal, only with dedup on.
            prop_assert_eq!(plan.duplicate, matches!(plan.deal, LeadDeal::Join(_)));
            if let LeadDeal::Join(d) = plan.deal {
                prop_assert!(dedup);
                prop_assert_eq!(Some(d), open_deal);
            }
            // A repeat sale opened a deal for a contact who had bought.
            prop_assert_eq!(plan.repeat_sale, won && matches!(plan.deal, LeadDeal::Open(_)));
            if let LeadDeal::Open(open) = &plan.deal {
                prop_assert_eq!(open.is_repeat, won);
                prop_assert_eq!(&open.history.stage, &open.stage);
                prop_assert_eq!(open.history.status, DealStatus::Open);
            }
            // With dedup on and an open deal, no second deal opens.
            if dedup && open_deal.is_some() {
                prop_assert!(!matches!(plan.deal, LeadDeal::Open(_)));
            }
        }
    }
}
