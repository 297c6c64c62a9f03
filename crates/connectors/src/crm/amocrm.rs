//! amoCRM lead webhooks → [`DealUpdate`]s.
//!
//! # Format
//!
//! amoCRM POSTs `application/x-www-form-urlencoded` bodies built like PHP's
//! `http_build_query` (brackets usually percent-encoded):
//!
//! ```text
//! leads[status][0][id]=123
//! leads[status][0][name]=Order 123
//! leads[status][0][status_id]=142
//! leads[status][0][old_status_id]=21000
//! leads[status][0][pipeline_id]=3300
//! leads[status][0][price]=15000
//! leads[status][0][responsible_user_id]=777
//! leads[status][0][date_create]=1700000000
//! leads[status][0][last_modified]=1700000500
//! leads[status][0][custom_fields][0][id]=555
//! leads[status][0][custom_fields][0][name]=roistat
//! leads[status][0][custom_fields][0][values][0][value]=12345
//! account[subdomain]=shop
//! account[id]=99
//! ```
//!
//! The event kind is the second key: `add`, `update`, `status` or `delete`
//! ([`AmoEvent`]); one delivery may carry several kinds and several leads per
//! kind. Other kinds (`responsible`, `restore`, `note`, …) and other roots
//! (`contacts[…]`, `unsorted[…]`) are ignored. A `delete` entry is reported as
//! [`AmoEvent::Delete`] with only the `external_id` filled: the caller
//! decides what a deletion means for a stored deal.
//!
//! Status 142 is "won" and 143 "lost" in every amoCRM pipeline; other
//! statuses are open, and can be mapped to stages of the skvoz pipeline with
//! [`AmoCrmMapping::stages`]. amoCRM expects an answer within 2 s and retries
//! at +5 m, +15 m, +15 m, +1 h; it signs nothing (the secret lives in the
//! hook URL), so [`AmoCrmDeal::last_modified`] is what the caller uses to
//! drop repeated or out-of-order deliveries.
//!
//! # Unconfirmed, hence tolerant
//!
//! The field list above comes from amoCRM's public documentation and public
//! client code; everything else is *unconfirmed*. So: unknown keys are
//! ignored; a missing or unparsable optional field becomes `None` (values
//! stay strings until mapped); `created_at`/`updated_at` are accepted in
//! place of `date_create`/`last_modified`; custom fields are matched by
//! `name` or `code`, case-insensitively; a custom field value may be sent as
//! `values[0][value]` or as `values[0]`. Only a lead entry without an integer
//! `id` is an error, naming its path (`leads[status][0][id]`). Phone and
//! e-mail are normally contact fields, not lead fields, so they are often
//! absent from lead webhooks.
//!
//! The caller keeps the raw body next to what this module returns, so a
//! payload parsed wrongly today can be replayed once the mapping is fixed.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use skvoz_domain::crm::{DealStatus, DealUpdate};
use skvoz_domain::Money;

/// How amoCRM statuses map to skvoz (from the project's settings).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AmoCrmMapping {
    /// Status ids that mean "won" (amoCRM's built-in one is 142).
    pub won_status_ids: Vec<i64>,
    /// Status ids that mean "lost" (amoCRM's built-in one is 143).
    pub lost_status_ids: Vec<i64>,
    /// `status_id` → stage name in the skvoz pipeline (optional).
    pub stages: BTreeMap<i64, String>,
    /// Custom field names (case-insensitive) holding the visit code.
    pub visit_code_fields: Vec<String>,
    /// Custom field names (case-insensitive) holding the client's phone.
    pub phone_fields: Vec<String>,
    /// Custom field names (case-insensitive) holding the client's e-mail.
    pub email_fields: Vec<String>,
}

impl Default for AmoCrmMapping {
    fn default() -> Self {
        let strings = |names: &[&str]| names.iter().map(|n| (*n).to_owned()).collect();
        AmoCrmMapping {
            won_status_ids: vec![142],
            lost_status_ids: vec![143],
            stages: BTreeMap::new(),
            visit_code_fields: strings(&["roistat", "visit_code", "skvoz"]),
            phone_fields: strings(&["phone", "телефон"]),
            email_fields: strings(&["email", "e-mail", "почта"]),
        }
    }
}

/// What happened to a lead, from the webhook's `leads[<kind>]` key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AmoEvent {
    /// `leads[add]`: a lead was created.
    Add,
    /// `leads[update]`: a lead was edited.
    Update,
    /// `leads[status]`: a lead moved to another status.
    Status,
    /// `leads[delete]`: a lead was deleted; only its id is reported.
    Delete,
}

impl AmoEvent {
    /// The kind as it appears in the webhook key.
    pub fn as_str(self) -> &'static str {
        match self {
            AmoEvent::Add => "add",
            AmoEvent::Update => "update",
            AmoEvent::Status => "status",
            AmoEvent::Delete => "delete",
        }
    }

    fn parse(kind: &str) -> Option<AmoEvent> {
        Some(match kind {
            "add" => AmoEvent::Add,
            "update" => AmoEvent::Update,
            "status" => AmoEvent::Status,
            "delete" => AmoEvent::Delete,
            _ => return None,
        })
    }
}

/// One amoCRM webhook delivery.
#[derive(Debug, Clone, PartialEq)]
pub struct AmoCrmWebhook {
    /// `account[subdomain]`: the amoCRM account (`shop` for shop.amocrm.ru).
    pub account_subdomain: Option<String>,
    /// `account[id]`.
    pub account_id: Option<String>,
    /// The leads it carries, in delivery order (kind by kind, then by index).
    pub deals: Vec<AmoCrmDeal>,
}

/// One lead of a delivery, normalized.
#[derive(Debug, Clone, PartialEq)]
pub struct AmoCrmDeal {
    /// What happened to it.
    pub event: AmoEvent,
    /// The normalized deal (`external_id` = `amocrm:<id>`).
    pub update: DealUpdate,
    /// amoCRM's `status_id`, as sent.
    pub status_id: Option<i64>,
    /// amoCRM's `pipeline_id`, as sent.
    pub pipeline_id: Option<i64>,
    /// amoCRM's `last_modified` (unix seconds), for idempotency and ordering.
    pub last_modified: Option<i64>,
}

/// Why an amoCRM webhook body was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmoCrmError {
    /// The body is not UTF-8 text.
    #[error("amoCRM webhook body is not UTF-8")]
    NotUtf8,
    /// The body is empty or not `key=value&…` (JSON, plain text).
    #[error("amoCRM webhook body is not form-encoded")]
    NotFormEncoded,
    /// The body is form-encoded but has no `leads[…]` or `account[…]` key.
    #[error("amoCRM webhook body has no leads[...] or account[...] keys")]
    NothingRecognizable,
    /// A `leads…` key with unbalanced brackets.
    #[error("malformed key `{key}` in amoCRM webhook")]
    MalformedKey {
        /// The key as decoded.
        key: String,
    },
    /// A lead entry without an `id`.
    #[error("`{path}[id]` is missing in amoCRM webhook")]
    MissingId {
        /// The entry's path, e.g. `leads[status][0]`.
        path: String,
    },
    /// A lead entry whose `id` is not an integer.
    #[error("`{path}[id]` is not an integer in amoCRM webhook: `{value}`")]
    BadId {
        /// The entry's path, e.g. `leads[status][0]`.
        path: String,
        /// The value sent (cut to 64 characters).
        value: String,
    },
}

/// Parses one amoCRM webhook body into normalized deals.
///
/// Errors when the body is not a form-encoded amoCRM webhook, or when a lead
/// entry has no integer `id`; everything else is tolerated (see the module
/// docs).
pub fn parse_webhook(body: &[u8], mapping: &AmoCrmMapping) -> Result<AmoCrmWebhook, AmoCrmError> {
    let text = std::str::from_utf8(body).map_err(|_| AmoCrmError::NotUtf8)?;
    let text = text.trim();
    if text.is_empty() || text.starts_with('{') || !text.contains('=') {
        return Err(AmoCrmError::NotFormEncoded);
    }
    let tree = FormTree::parse(text.as_bytes())?;
    let leads = tree.get("leads");
    let account = tree.get("account");
    if leads.is_none() && account.is_none() {
        return Err(AmoCrmError::NothingRecognizable);
    }

    let mut deals = Vec::new();
    for (kind, entries) in leads.map(FormTree::children).unwrap_or_default() {
        let Some(event) = AmoEvent::parse(&kind.to_string()) else {
            continue;
        };
        for (index, entry) in entries.children() {
            let path = format!("leads[{kind}][{index}]");
            deals.push(map_lead(event, entry, &path, mapping)?);
        }
    }

    Ok(AmoCrmWebhook {
        account_subdomain: account.and_then(|a| a.text("subdomain")).map(str::to_owned),
        account_id: account.and_then(|a| a.text("id")).map(str::to_owned),
        deals,
    })
}

fn map_lead(
    event: AmoEvent,
    lead: &FormTree,
    path: &str,
    mapping: &AmoCrmMapping,
) -> Result<AmoCrmDeal, AmoCrmError> {
    let id = lead.text("id").ok_or_else(|| AmoCrmError::MissingId {
        path: path.to_owned(),
    })?;
    let id: i64 = id.parse().map_err(|_| AmoCrmError::BadId {
        path: path.to_owned(),
        value: id.chars().take(64).collect(),
    })?;
    let status_id = lead.integer("status_id");
    let pipeline_id = lead.integer("pipeline_id");
    let last_modified = lead
        .integer("last_modified")
        .or_else(|| lead.integer("updated_at"));
    let mut update = DealUpdate {
        external_id: format!("amocrm:{id}"),
        ..DealUpdate::default()
    };
    if event == AmoEvent::Delete {
        return Ok(AmoCrmDeal {
            event,
            update,
            status_id,
            pipeline_id,
            last_modified,
        });
    }

    update.status = status_id.map(|s| {
        if mapping.won_status_ids.contains(&s) {
            DealStatus::Won
        } else if mapping.lost_status_ids.contains(&s) {
            DealStatus::Lost
        } else {
            DealStatus::Open
        }
    });
    update.stage = status_id.and_then(|s| mapping.stages.get(&s)).cloned();
    update.revenue = lead.text("price").and_then(Money::parse);
    update.created_at = lead
        .integer("date_create")
        .or_else(|| lead.integer("created_at"))
        .and_then(unix_seconds);
    if matches!(update.status, Some(DealStatus::Won | DealStatus::Lost)) {
        update.closed_at = last_modified.and_then(unix_seconds);
    }
    update.product = lead.text("name").map(str::to_owned);
    update.crm_client_id = ["main_contact_id", "contact_id"]
        .iter()
        .filter_map(|key| lead.text(key))
        .find(|v| *v != "0")
        .map(|v| format!("amocrm:{v}"));

    let fields = CustomFields::of(lead);
    update.visit_code = fields
        .values_named(&mapping.visit_code_fields)
        .find_map(parse_visit_code);
    update.phone = fields
        .values_named(&mapping.phone_fields)
        .next()
        .map(str::to_owned);
    update.email = fields
        .values_named(&mapping.email_fields)
        .next()
        .map(str::to_owned);

    Ok(AmoCrmDeal {
        event,
        update,
        status_id,
        pipeline_id,
        last_modified,
    })
}

fn unix_seconds(secs: i64) -> Option<DateTime<Utc>> {
    if secs <= 0 {
        return None;
    }
    DateTime::from_timestamp(secs, 0)
}

/// The leading digits of a visit-code field (`"12345"`, `" 12345 "`,
/// `"12345_abc"` → 12345); `None` for values with no leading digits
/// (`"nocookie"`, `""`), zero, or numbers beyond `i64`. Shared with the
/// Bitrix24 connector, whose visit-code fields follow the same convention.
pub(crate) fn parse_visit_code(value: &str) -> Option<i64> {
    let value = value.trim();
    let end = value
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(value.len());
    value[..end].parse().ok().filter(|code| *code > 0)
}

/// A lead's `custom_fields[i]` entries, read as (name, code, values).
struct CustomFields<'a> {
    fields: Vec<(&'a FormTree, Option<String>, Option<String>)>,
}

impl<'a> CustomFields<'a> {
    fn of(lead: &'a FormTree) -> CustomFields<'a> {
        let fields = lead
            .get("custom_fields")
            .map(FormTree::children)
            .unwrap_or_default()
            .into_iter()
            .map(|(_, field)| {
                let lower = |key| field.text(key).map(str::to_lowercase);
                (field, lower("name"), lower("code"))
            })
            .collect();
        CustomFields { fields }
    }

    /// The non-empty values of the fields whose name or code is one of
    /// `names` (case-insensitive), first field first.
    fn values_named<'s>(&'s self, names: &'s [String]) -> impl Iterator<Item = &'a str> + 's {
        self.fields
            .iter()
            .filter(move |(_, name, code)| {
                names.iter().any(|wanted| {
                    let wanted = wanted.trim().to_lowercase();
                    name.as_deref() == Some(wanted.as_str())
                        || code.as_deref() == Some(wanted.as_str())
                })
            })
            .flat_map(|(field, _, _)| {
                field
                    .get("values")
                    .map(FormTree::children)
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|(_, value)| value.as_text().or_else(|| value.text("value")))
            })
    }
}

/// One bracket segment of a form key: a list index or a name. Indexes sort
/// numerically and before names, so `[10]` comes after `[2]`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Segment {
    Index(u64),
    Name(String),
}

impl Segment {
    fn new(text: &str) -> Segment {
        let canonical = text == "0" || !text.starts_with('0');
        match text.parse() {
            Ok(i) if canonical && text.bytes().all(|b| b.is_ascii_digit()) => Segment::Index(i),
            _ => Segment::Name(text.to_owned()),
        }
    }
}

impl std::fmt::Display for Segment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Segment::Index(i) => write!(f, "{i}"),
            Segment::Name(n) => f.write_str(n),
        }
    }
}

/// A form body decoded into a tree of PHP-style bracketed keys
/// (`a[b][0]=x` → `a` → `b` → `0` → `"x"`), values kept as strings.
///
/// Written here rather than taken from a crate: `serde_qs` (the maintained
/// one) deserializes into typed targets, where one unexpected value fails the
/// whole delivery and amoCRM's field set is unconfirmed, or into nested maps
/// that need a raised depth limit (custom field values sit seven brackets
/// deep) and still have to be walked by hand; and its errors cannot name the
/// lead entry. This tree is a few dozen lines over `form_urlencoded`.
#[derive(Debug, Clone, PartialEq)]
enum FormTree {
    Text(String),
    Map(BTreeMap<Segment, FormTree>),
}

impl FormTree {
    /// Decodes a form body. Later keys win over earlier ones, as in PHP.
    /// Keys with unbalanced brackets are an error under `leads` (the part
    /// this module reads) and ignored elsewhere.
    fn parse(body: &[u8]) -> Result<FormTree, AmoCrmError> {
        let mut root = FormTree::Map(BTreeMap::new());
        for (key, value) in form_urlencoded::parse(body) {
            match split_key(&key) {
                Some(path) => root.insert(&path, value.into_owned()),
                None if key.starts_with("leads") => {
                    return Err(AmoCrmError::MalformedKey {
                        key: key.chars().take(128).collect(),
                    });
                }
                None => {}
            }
        }
        Ok(root)
    }

    fn insert(&mut self, path: &[Segment], value: String) {
        let Some((head, rest)) = path.split_first() else {
            *self = FormTree::Text(value);
            return;
        };
        if let FormTree::Text(_) = self {
            *self = FormTree::Map(BTreeMap::new());
        }
        if let FormTree::Map(children) = self {
            children
                .entry(head.clone())
                .or_insert_with(|| FormTree::Map(BTreeMap::new()))
                .insert(rest, value);
        }
    }

    fn get(&self, name: &str) -> Option<&FormTree> {
        match self {
            FormTree::Map(children) => children.get(&Segment::new(name)),
            FormTree::Text(_) => None,
        }
    }

    /// The children in key order; none for a text node.
    fn children(&self) -> Vec<(&Segment, &FormTree)> {
        match self {
            FormTree::Map(children) => children.iter().collect(),
            FormTree::Text(_) => Vec::new(),
        }
    }

    /// The trimmed text of this node, if it is non-empty text.
    fn as_text(&self) -> Option<&str> {
        match self {
            FormTree::Text(t) => Some(t.trim()).filter(|t| !t.is_empty()),
            FormTree::Map(_) => None,
        }
    }

    /// The trimmed, non-empty text of a child.
    fn text(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(FormTree::as_text)
    }

    /// A child parsed as an integer; `None` when absent or not an integer.
    fn integer(&self, name: &str) -> Option<i64> {
        self.text(name).and_then(|t| t.parse().ok())
    }
}

/// Splits `leads[status][0][id]` into its segments; `None` when the root is
/// empty, a bracket is unbalanced, or text follows a closing bracket.
fn split_key(key: &str) -> Option<Vec<Segment>> {
    let (root, mut rest) = match key.find('[') {
        Some(i) => (&key[..i], &key[i..]),
        None => (key, ""),
    };
    if root.is_empty() || root.contains(']') {
        return None;
    }
    let mut path = vec![Segment::new(root)];
    while !rest.is_empty() {
        let inner = rest.strip_prefix('[')?;
        let close = inner.find(']')?;
        let segment = &inner[..close];
        if segment.contains('[') {
            return None;
        }
        path.push(Segment::new(segment));
        rest = &inner[close + 1..];
    }
    Some(path)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn seg(names: &[&str]) -> Vec<Segment> {
        names.iter().map(|n| Segment::new(n)).collect()
    }

    #[test]
    fn splits_bracketed_keys() {
        assert_eq!(
            split_key("leads[status][0][id]"),
            Some(seg(&["leads", "status", "0", "id"]))
        );
        assert_eq!(split_key("plain"), Some(seg(&["plain"])));
        assert_eq!(split_key("a[]"), Some(seg(&["a", ""])));
        for bad in ["leads[status", "leads]", "[a]", "a[b]c", "a[b[c]]", ""] {
            assert_eq!(split_key(bad), None, "{bad}");
        }
    }

    #[test]
    fn numeric_segments_sort_as_numbers() {
        let tree = FormTree::parse(b"a[10]=ten&a[2]=two&a[x]=name&a[02]=padded").unwrap();
        let order: Vec<String> = tree
            .get("a")
            .unwrap()
            .children()
            .into_iter()
            .map(|(k, _)| k.to_string())
            .collect();
        assert_eq!(order, ["2", "10", "02", "x"]);
    }

    #[test]
    fn decodes_percent_encoded_brackets_and_later_keys_win() {
        let tree = FormTree::parse(b"leads%5Badd%5D%5B0%5D%5Bname%5D=%D0%97+1&x=1&x[y]=2").unwrap();
        let name = tree
            .get("leads")
            .and_then(|l| l.get("add"))
            .and_then(|a| a.get("0"))
            .and_then(|e| e.text("name"));
        assert_eq!(name, Some("З 1"));
        assert_eq!(tree.get("x").and_then(|x| x.text("y")), Some("2"));
    }

    #[test]
    fn malformed_keys_fail_only_under_leads() {
        assert_eq!(
            FormTree::parse(b"leads[status][0=1"),
            Err(AmoCrmError::MalformedKey {
                key: "leads[status][0".into()
            })
        );
        assert!(FormTree::parse(b"other[x=1").is_ok());
    }

    #[test]
    fn visit_codes_take_leading_digits() {
        let cases = [
            ("12345", Some(12345)),
            (" 12345 ", Some(12345)),
            ("12345_ya", Some(12345)),
            ("nocookie", None),
            ("", None),
            ("0", None),
            ("99999999999999999999", None),
        ];
        for (input, expected) in cases {
            assert_eq!(parse_visit_code(input), expected, "{input:?}");
        }
    }
}
