//! The OpenAPI 3.1 description of the JSON API, derived from the code with
//! `utoipa` and served at `/api/openapi.json` (and as a page people read,
//! `http::reference`, at `/api/docs`).
//!
//! Where each part of the document comes from:
//! - the operations: the `#[utoipa::path]` attribute on each handler
//!   (`api::tasks`, `api::transfer`, `auth::tokens`, `ops`, [`document`]
//!   and `reference::page`), listed in [`ApiDoc`] below;
//! - parameters: `IntoParams` on the query structs of `api::query`, and on
//!   the `{id}` and `If-Match` of `api::tasks`;
//! - response schemas: `ToSchema` on the types the handlers serialize
//!   (`api::TaskView`, `export::ExportDocument`, `error::ErrorBody`, …).
//!   On these serialize-only types `#[serde(deny_unknown_fields)]` does
//!   nothing for serde; it is how the schema says that no other field is
//!   sent (`additionalProperties: false`);
//! - request body schemas: `ToSchema` on the types serde reads the bodies
//!   into (`api::body`), and the schemas their fields refer to
//!   (`crate::json::schema`, shared with the export file);
//! - shared responses and headers: [`responses`];
//! - [`reference()`], a `$ref` to a named schema: here, at the end of this
//!   file;
//! - the overview (`info.description`): `openapi/overview.md`.
//!
//! `tests/api/openapi.rs` holds the document to the running server in both
//! directions, so what derivation cannot see (statuses produced by
//! middleware, what the parsers accept) stays honest too.

pub mod responses;

use std::sync::LazyLock;

use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use utoipa::openapi::OpenApi as Document;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{Ref, Schema};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use self::responses::*;
use crate::http::api::TaskView;
use crate::http::api::body::CompleteAll;
use crate::http::error::ErrorBody;
use crate::http::{api, auth, ops, reference};
use crate::json::schema::{
    CalendarDay, OrderInput, PriorityInput, PriorityName, PriorityNumber, TimeOfDay, TitleText,
};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "todo-app",
        description = include_str!("openapi/overview.md")
    ),
    servers((url = "/", description = "The server that serves this document.")),
    tags(
        (name = "Tasks", description = "Create, list, change and delete tasks."),
        (name = "Lists",
            description = "Lists of tasks, and sharing them with other accounts as editors or viewers. `/api/todos` is the caller's default list; every list's tasks are at `/api/lists/{list_id}/todos`, with the same queries and answers."),
        (name = "Import and export",
            description = "Move every task to a file and back, for backups or to change databases."),
        (name = "Accounts",
            description = "Personal API tokens and the account itself (with `AUTH_MODE=accounts`; with `AUTH_MODE=none` these routes answer 404)."),
        (name = "Operations",
            description = "Health, readiness and version, for load balancers and operators."),
        (name = "Meta", description = "This description of the API.")
    ),
    paths(
        api::tasks::list,
        api::tasks::create,
        api::tasks::update_all,
        api::tasks::delete_many,
        api::tasks::get,
        api::tasks::update,
        api::tasks::delete,
        api::tasks::restore,
        api::lists::index,
        api::lists::create,
        api::lists::show,
        api::lists::update,
        api::lists::delete,
        api::lists::restore,
        api::tasks::list_in,
        api::tasks::create_in,
        api::tasks::update_all_in,
        api::tasks::delete_many_in,
        api::lists::members,
        api::lists::add_member,
        api::lists::update_member,
        api::lists::remove_member,
        api::agenda::today,
        api::agenda::upcoming,
        api::transfer::export,
        api::transfer::import,
        document,
        reference::page,
        ops::healthz,
        ops::readyz,
        ops::version,
        auth::tokens::list_tokens,
        auth::tokens::create_token,
        auth::tokens::revoke_token,
        auth::tokens::show_account,
        auth::tokens::delete_account
    ),
    components(
        schemas(
            TaskView,
            ErrorBody,
            TitleText,
            PriorityNumber,
            PriorityName,
            PriorityInput,
            CalendarDay,
            TimeOfDay,
            OrderInput,
            CompleteAll
        ),
        responses(
            BadRequest,
            NotFound,
            Forbidden,
            MethodNotAllowed,
            Conflict,
            PreconditionFailed,
            PayloadTooLarge,
            UnsupportedMediaType,
            ValidationFailed,
            Unavailable,
            Unauthorized,
            TooManyRequests
        )
    ),
    modifiers(&SharedParts),
    security(("bearerAuth" = []))
)]
pub struct ApiDoc;

/// What the derive cannot add: the shared headers and the security scheme.
struct SharedParts;

impl Modify for SharedParts {
    fn modify(&self, doc: &mut Document) {
        // Cargo.toml names no license; utoipa would say so with an empty one.
        doc.info.license = None;
        // The overview file ends with a newline, the description does not.
        if let Some(overview) = &mut doc.info.description {
            overview.truncate(overview.trim_end().len());
        }
        let components = doc.components.get_or_insert_with(Default::default);
        add_headers(components);
        let mut bearer = Http::new(HttpAuthScheme::Bearer);
        bearer.description = Some(
            "A personal API token (`todo_pat_…`), made on the settings page or with \
             `POST /api/tokens`. Needed for every task route when the server runs with \
             accounts (`AUTH_MODE=accounts`, the default); with `AUTH_MODE=none` the API is \
             open and tokens are not used."
                .to_owned(),
        );
        components.add_security_scheme("bearerAuth", SecurityScheme::Http(bearer));
    }
}

/// The document as served, built once.
pub fn json() -> &'static str {
    static JSON: LazyLock<String> = LazyLock::new(|| {
        ApiDoc::openapi()
            .to_pretty_json()
            .expect("the OpenAPI document serializes")
    });
    &JSON
}

#[utoipa::path(
    get,
    path = "/api/openapi.json",
    operation_id = "getOpenApi",
    tag = "Meta",
    summary = "This document",
    description = "The OpenAPI description of the API.",
    responses((status = 200, description = "This document.", body = inline(OpenApiShape))),
    security()
)]
pub async fn document() -> impl IntoResponse {
    ([(CONTENT_TYPE, "application/json")], json())
}

/// What `/api/openapi.json` promises about itself.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // only its schema is used
struct OpenApiShape {
    openapi: String,
    #[schema(value_type = Object)]
    info: (),
    #[schema(value_type = Object)]
    paths: (),
}

/// A `$ref` to `T`'s entry in `components/schemas`.
pub fn reference<T: utoipa::ToSchema>() -> RefOr<Schema> {
    Ref::from_schema_name(T::name()).into()
}
