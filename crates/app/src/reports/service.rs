//! The "problem channels" view: per channel, what customer service costs
//! next to what the channel sells — tickets per customer and per sale,
//! service cost and its share of revenue, CSAT, resolved share, and ROI
//! after service, so a channel that sells a lot but brings expensive
//! tickets shows it. Ranked by tickets per customer.
//!
//! Sales, revenue and ad cost come from the channel report (grouped by
//! channel, under the requested model); tickets count for the channel of
//! their contact's first visit (acquisition), `(none)` when unknown, so
//! the rows add up to the period's tickets and service cost. `products`
//! lists the products that bring tickets, most first.

use super::{render, Report, ReportParams, ReportService};
use crate::context::ProjectContext;
use crate::tickets::TicketService;
use crate::AppError;
use serde_json::{json, Value};
use skvoz_domain::metrics::ratio;
use skvoz_domain::support::{roi_after_service, service_cost_share, ServiceTotals};
use skvoz_domain::Money;
use std::collections::BTreeMap;
use std::sync::Arc;

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

fn opt(v: Option<f64>) -> Value {
    v.map_or(Value::Null, |x| render::json_number(round2(x)))
}

/// Columns of the view (CSV / table).
const COLUMNS: &[&str] = &[
    "channel",
    "tickets",
    "customers",
    "tickets_per_customer",
    "sales",
    "tickets_per_sale",
    "revenue",
    "cost",
    "service_cost",
    "service_cost_share",
    "csat",
    "resolved_share",
    "roi",
    "roi_after_service",
];

impl ReportService {
    /// `GET /api/v1/reports/service`.
    pub async fn service(
        &self,
        ctx: &Arc<ProjectContext>,
        params: &ReportParams,
        tickets: &TicketService,
    ) -> Result<Report, AppError> {
        let mut p = params.clone();
        p.group_by = Some("channel".into());
        p.compare_from = None;
        p.compare_to = None;
        let channels = self.channels(ctx, &p).await?;
        let period = super::period(&params.from, &params.to, ("from", "to"), ctx.tz)?;
        let from =
            chrono::DateTime::from_timestamp_millis(super::day_start_ms(ctx.tz, period.from))
                .unwrap_or_default();
        let to = chrono::DateTime::from_timestamp_millis(super::day_start_ms(
            ctx.tz,
            period.to + chrono::Duration::days(1),
        ))
        .unwrap_or_default();
        let (service, total) = tickets.service_by_channel(ctx, from, to).await?;
        // channel → (sales, revenue, cost) from the channel report.
        let mut sold: BTreeMap<String, (f64, f64, f64)> = BTreeMap::new();
        for row in channels.json["rows"].as_array().into_iter().flatten() {
            let name = row["channel"].as_str().unwrap_or_default().to_owned();
            let f = |k: &str| row[k].as_f64().unwrap_or(0.0);
            sold.insert(name, (f("sales"), f("revenue"), f("cost")));
        }
        let mut names: Vec<String> = sold.keys().cloned().collect();
        for s in &service {
            if !names.contains(&s.channel) {
                names.push(s.channel.clone());
            }
        }
        let mut rows: Vec<(f64, Value, Vec<String>)> = Vec::new();
        let line = |name: &str,
                    t: &ServiceTotals,
                    customers: u64,
                    (sales, revenue, cost): (f64, f64, f64)| {
            let money = |v: f64| Money((v * 100.0).round() as i64);
            let per_customer = ratio(t.tickets as f64, customers as f64);
            let values = json!({
                "channel": name,
                "tickets": t.tickets,
                "customers": customers,
                "tickets_per_customer": opt(per_customer),
                "sales": render::json_number(sales),
                "tickets_per_sale": opt(ratio(t.tickets as f64, sales)),
                "revenue": render::json_number(revenue),
                "cost": render::json_number(cost),
                "service_cost": render::json_number(t.service_cost.to_decimal()),
                "service_cost_share": opt(service_cost_share(t.service_cost, money(revenue))),
                "csat": opt(t.csat()),
                "resolved_share": opt(t.resolved_share()),
                "roi": opt(skvoz_domain::metrics::roi(revenue, cost)),
                "roi_after_service": opt(roi_after_service(money(revenue), money(cost), t.service_cost)),
            });
            let cells = COLUMNS
                .iter()
                .map(|c| match &values[*c] {
                    Value::String(s) => s.clone(),
                    Value::Null => String::new(),
                    v => v.to_string(),
                })
                .collect();
            (per_customer.unwrap_or(0.0), values, cells)
        };
        let mut all_customers = 0;
        for name in &names {
            let s = service.iter().find(|s| &s.channel == name);
            let t = s.map(|s| s.totals).unwrap_or_default();
            let customers = s.map_or(0, |s| s.customers);
            all_customers += customers;
            let r = line(
                name,
                &t,
                customers,
                sold.get(name).copied().unwrap_or_default(),
            );
            rows.push(r);
        }
        rows.sort_by(|a, b| {
            b.0.total_cmp(&a.0)
                .then(a.1["channel"].as_str().cmp(&b.1["channel"].as_str()))
        });
        let t = &channels.json["totals"];
        let f = |k: &str| t[k].as_f64().unwrap_or(0.0);
        let (_, mut totals, total_cells) = line(
            "(total)",
            &total,
            all_customers,
            (f("sales"), f("revenue"), f("cost")),
        );
        if let Value::Object(m) = &mut totals {
            m.remove("channel");
        }
        let mut lines: Vec<Vec<String>> = rows.iter().map(|r| r.2.clone()).collect();
        lines.push(total_cells);
        // Products that bring tickets (the ticket's product, else the
        // contact's latest purchase before it).
        let products: Vec<Value> = tickets
            .service_by_product(ctx, from, to)
            .await?
            .into_iter()
            .map(|p| {
                json!({
                    "product": p.product,
                    "tickets": p.totals.tickets,
                    "service_cost": render::json_number(p.totals.service_cost.to_decimal()),
                    "csat": opt(p.totals.csat()),
                    "resolved_share": opt(p.totals.resolved_share()),
                })
            })
            .collect();
        let json = json!({
            "from": period.from.to_string(),
            "to": period.to.to_string(),
            "model": channels.json["model"],
            "rows": rows.into_iter().map(|r| r.1).collect::<Vec<_>>(),
            "totals": totals,
            "products": products,
        });
        Ok(Report {
            json,
            header: COLUMNS.iter().map(|c| (*c).to_owned()).collect(),
            lines,
        })
    }
}
