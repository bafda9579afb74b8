//! `GET /api/export` and `POST /api/import`: a user's whole list as one
//! file, in the format of `crate::export`.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::HeaderValue;
use axum::http::header::CONTENT_DISPOSITION;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use super::query::{self, ImportParams};
use crate::export::{ExportFile, ReadError, export_of, parse_export_bytes};
use crate::http::AppState;
use crate::http::auth::ApiOwner;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::JsonBytes;
use crate::http::openapi::responses::*;

#[utoipa::path(
    get,
    path = "/api/export",
    operation_id = "exportTasks",
    tag = "Import and export",
    summary = "Export every task",
    description = "Returns every task as an export document, for a backup or to move to \
                   another database with `POST /api/import`.",
    responses(
        (status = 200, response = inline(Export)),
        (status = 503, response = Unavailable),
        (status = 401, response = Unauthorized),
    )
)]
pub async fn export(
    State(state): State<AppState>,
    ApiOwner(owner): ApiOwner,
) -> ApiResult<Response> {
    let document = export_of(&state.store, owner).await?;
    let mut response = Json(document).into_response();
    response.headers_mut().insert(
        CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"todo-export.json\""),
    );
    Ok(response)
}

#[utoipa::path(
    post,
    path = "/api/import",
    operation_id = "importTasks",
    tag = "Import and export",
    summary = "Import an export document",
    description = "Stores every task of an export document, keeping ids, order and timestamps. \
                   The whole document is checked before anything is written, and it is stored \
                   all or nothing. Into a database that already holds tasks, only with \
                   `replace=true`, which deletes them first.",
    params(ImportParams),
    request_body(
        content = ExportFile,
        description = "A document from `GET /api/export` or `todo-app export`."
    ),
    responses(
        (status = 200, description = "The tasks are stored.", body = Imported),
        (status = 400, response = BadRequest),
        (status = 409, response = Conflict),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = ValidationFailed),
        (status = 503, response = Unavailable),
        (status = 401, response = Unauthorized),
    )
)]
pub async fn import(
    State(state): State<AppState>,
    ApiOwner(owner): ApiOwner,
    params: Result<Query<ImportParams>, QueryRejection>,
    JsonBytes(body): JsonBytes,
) -> ApiResult<Json<Imported>> {
    let replace = query::accept(params)?.replace()?;
    let import = parse_export_bytes(&body).map_err(|e| match e {
        ReadError::NotJson(e) => {
            ApiError::BadRequest(format!("the request body is not valid JSON: {e}"))
        }
        ReadError::Invalid(e) => e.into(),
    })?;
    // The file can be large; what matters from here on is what was parsed.
    drop(body);
    let list = state.store.default_list(owner).await?;
    let imported = state.store.import(list, owner, &import, replace).await?;
    Ok(Json(Imported { imported }))
}

/// What `POST /api/import` answers.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Imported {
    /// How many tasks the import stored.
    #[schema(minimum = 0)]
    imported: u64,
}
