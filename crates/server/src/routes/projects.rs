//! The caller's own project.

use crate::error::{ApiError, ApiResult};
use crate::extract::ApiProject;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;
use skvoz_domain::Project;
use utoipa::ToSchema;

/// A project as the API shows it.
#[derive(Serialize, ToSchema)]
pub struct ProjectView {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// The tracker key.
    pub public_key: String,
    /// Creation time (RFC 3339).
    pub created_at: String,
}

impl From<&Project> for ProjectView {
    fn from(p: &Project) -> Self {
        ProjectView {
            id: p.id.0,
            name: p.name.to_string(),
            public_key: p.public_key.clone(),
            created_at: p.created_at.to_rfc3339(),
        }
    }
}

/// The project the API key belongs to.
#[utoipa::path(get, path = "/api/v1/project", tag = "projects",
    security(("api_key" = [])),
    responses((status = 200, body = ProjectView), (status = 401), (status = 403)))]
pub async fn current(project: ApiProject) -> Json<ProjectView> {
    Json(ProjectView::from(&project.0))
}

/// A project by id: only the key's own project; any other id is 403 and
/// says nothing about whether it exists.
#[utoipa::path(get, path = "/api/v1/projects/{id}", tag = "projects",
    security(("api_key" = [])),
    params(("id" = i64, Path, description = "project id")),
    responses((status = 200, body = ProjectView), (status = 403)))]
pub async fn by_id(project: ApiProject, Path(id): Path<String>) -> ApiResult<Json<ProjectView>> {
    match id.parse::<i64>() {
        Ok(id) if id == project.0.id.0 => Ok(Json(ProjectView::from(&project.0))),
        _ => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "this API key does not grant access to that project",
        )),
    }
}
