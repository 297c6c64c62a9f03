//! Offline visits: a visit that no browser made, recorded so that a
//! conversion without a site visit (a call to a static number printed in a
//! newspaper) is attributed by the reports like any other — through a
//! visit with its source, medium, campaign and channel.

use super::{write_error, TrackingService};
use crate::context::ProjectContext;
use crate::AppError;
use chrono::{DateTime, Utc};
use skvoz_domain::traffic::{Device, DeviceType, TrafficSource};
use skvoz_store::{Hit, IngestWrite, Visit, VisitProgress};
use std::sync::Arc;

impl TrackingService {
    /// Records a one-hit visit with a given source at `at` (the hit is the
    /// event `event`, the landing e.g. `tel:+74951234567`), committed before
    /// it returns. The channel comes from the project's channel rules.
    pub async fn record_offline_visit(
        &self,
        ctx: &ProjectContext,
        source: TrafficSource,
        landing: String,
        event: &str,
        at: DateTime<Utc>,
    ) -> Result<Visit, AppError> {
        let project = ctx.project.id;
        let (id, code) = loop {
            if let Some(numbers) = self.inner.numbering.take(project) {
                break numbers;
            }
            // Spent; other visits may take the last of the new block before
            // this one does, hence the loop.
            self.ensure_numbers(project, ctx.scope).await?;
        };
        let visit = Visit {
            id,
            code,
            vid: format!("offline-{id}"),
            started_at: at,
            last_at: at,
            hits: 1,
            channel: ctx.channels.classify(&source, &landing).to_owned(),
            source,
            landing: landing.clone(),
            referrer: None,
            device: Device {
                os: "unknown".into(),
                browser: "unknown".into(),
                device_type: DeviceType::Other,
                is_bot: false,
            },
            screen: None,
            lang: None,
            tz: None,
            country: None,
            region: None,
            city: None,
            ga_cid: None,
            ym_uid: None,
        };
        let record = IngestWrite::Hit {
            scope: ctx.scope,
            visit_id: id,
            new_visit: Some(Arc::new(visit.clone())),
            progress: VisitProgress::of(&visit),
            hit: Hit {
                visit_id: id,
                at,
                url: landing,
                title: None,
                event: Some(event.to_owned()),
                props: None,
            },
            links: Vec::new(),
        };
        self.inner.writer.write(record).await.map_err(write_error)?;
        Ok(visit)
    }
}
