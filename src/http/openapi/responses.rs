//! The responses and response headers the operations share, as
//! `components/responses` and `components/headers`.
//!
//! They are built here rather than with `#[utoipa::path(responses(...
//! headers(...)))]` because that form cannot refer to a shared header or
//! say that a header is always sent (OpenAPI's `required`), and the tests
//! check both against the server.

use serde_json::json;
use utoipa::ToResponse;
use utoipa::openapi::header::Header;
use utoipa::openapi::response::Response;
use utoipa::openapi::schema::{ObjectBuilder, SchemaFormat, Type};
use utoipa::openapi::{Components, ContentBuilder, RefOr, ResponseBuilder};
use utoipa::openapi::{extensions::Extensions, schema::Ref};

use crate::export::ExportFile;
use crate::http::api::TaskView;
use crate::http::error::ErrorBody;
use crate::http::openapi::reference;

/// Adds the shared headers to `components`.
pub fn add_headers(components: &mut Components) {
    let string = || ObjectBuilder::new().schema_type(Type::String);
    let headers = [
        (
            "ETag",
            "The task's version in quotes, for `If-Match` and `If-None-Match`.",
            true,
            string()
                .pattern(Some(r#"^"[0-9]+"$"#))
                .examples([json!("\"3\"")]),
        ),
        (
            "Location",
            "The absolute URL of the new task; the same as its `url`.",
            true,
            string().format(Some(SchemaFormat::Custom("uri".to_owned()))),
        ),
        (
            "Link",
            "Present only when more tasks follow: the URL of the next page with the same \
             filters, as `<URL>; rel=\"next\"`.",
            false,
            string()
                .pattern(Some(r#"^<[^>]+>; rel="next"$"#))
                .examples([json!(
                    "<https://todo.example.com/api/todos?limit=50&offset=50>; rel=\"next\""
                )]),
        ),
        (
            "RetryAfter",
            "Seconds to wait before retrying.",
            true,
            string().pattern(Some("^[0-9]+$")),
        ),
        (
            "ContentDisposition",
            "Asks browsers to save the document as `todo-export.json`.",
            true,
            string().examples([json!("attachment; filename=\"todo-export.json\"")]),
        ),
        (
            "WWWAuthenticate",
            "`Bearer`: this API takes personal API tokens.",
            true,
            string().enum_values(Some(["Bearer"])),
        ),
    ];
    for (name, description, required, schema) in headers {
        let mut header = Header::new(schema);
        header.description = Some(description.to_owned());
        if required {
            // OpenAPI's `required`, which utoipa's `Header` has no field for.
            header.extensions = Some(Extensions::from_iter([("required", true)]));
        }
        components.headers.insert(name.to_owned(), header.into());
    }
}

fn header(name: &str) -> Ref {
    Ref::new(format!("#/components/headers/{name}"))
}

fn json_body(
    schema: impl Into<RefOr<utoipa::openapi::schema::Schema>>,
) -> utoipa::openapi::Content {
    ContentBuilder::new().schema(Some(schema)).build()
}

/// Error responses: an [`ErrorBody`] (its `code` names the kind, as the
/// description says), with the headers `ApiError::into_response` adds for
/// that code.
macro_rules! error_responses {
    ($($name:ident: $code:literal, $description:literal $(, $header:literal = $component:literal)*;)*) => {
        $(
            #[doc = $description]
            pub struct $name;

            impl<'r> ToResponse<'r> for $name {
                fn response() -> (&'r str, RefOr<Response>) {
                    let response = ResponseBuilder::new()
                        .description(concat!($description, " `code`: `", $code, "`."))
                        .content("application/json", json_body(reference::<ErrorBody>()))
                        $(.header_ref($header, header($component)))*
                        .build();
                    (stringify!($name), response.into())
                }
            }
        )*
    };
}

error_responses! {
    BadRequest: "bad_request",
        "The request cannot be read: the body is not valid JSON or not a JSON object, the query string is malformed, or `If-Match` is not an ETag of this API.";
    NotFound: "not_found",
        "No task (or list) has this id that the caller can see. Ids that are not positive whole numbers get this answer too.";
    Forbidden: "forbidden",
        "The caller can see the list but its role does not allow this: a viewer changing tasks, or a member renaming, deleting or sharing a list. Nothing was changed.";
    MethodNotAllowed: "method_not_allowed",
        "The path exists but does not accept this method.";
    Conflict: "conflict",
        "The database already holds tasks; import with `replace=true` to overwrite them.";
    PreconditionFailed: "precondition_failed",
        "The task changed since the ETag in `If-Match` was issued. Nothing was changed; reload the task and try again.";
    PayloadTooLarge: "payload_too_large",
        "The body is larger than the server accepts.";
    UnsupportedMediaType: "unsupported_media_type",
        "The body was not sent as JSON; send it with `Content-Type: application/json`.";
    ValidationFailed: "validation_failed",
        "A value is not acceptable; `field` names it and `message` says why. Nothing was changed.";
    Unavailable: "unavailable",
        "The database is unreachable or too busy. Nothing was changed; retry after the number of seconds in `Retry-After`.",
        "Retry-After" = "RetryAfter";
    Unauthorized: "unauthorized",
        "No credentials, or an API token that is invalid, expired or revoked (with accounts on). Send `Authorization: Bearer <token>`.",
        "WWW-Authenticate" = "WWWAuthenticate";
    TooManyRequests: "too_many_requests",
        "Too many failed attempts from this address or for this username. Nothing was checked; retry after the number of seconds in `Retry-After`.",
        "Retry-After" = "RetryAfter";
}

/// Success responses that carry headers, used inline by one operation each.
macro_rules! success_responses {
    ($($name:ident: $description:literal $(, body = $body:expr)? $(, $header:literal = $component:literal)*;)*) => {
        $(
            #[doc = $description]
            pub struct $name;

            impl<'r> ToResponse<'r> for $name {
                fn response() -> (&'r str, RefOr<Response>) {
                    let response = ResponseBuilder::new()
                        .description($description)
                        $(.content("application/json", json_body($body)))?
                        $(.header_ref($header, header($component)))*
                        .build();
                    (stringify!($name), response.into())
                }
            }
        )*
    };
}

fn task() -> RefOr<utoipa::openapi::schema::Schema> {
    reference::<TaskView>()
}

success_responses! {
    TaskPage: "The tasks of this page.",
        body = utoipa::openapi::schema::ArrayBuilder::new().items(task()),
        "Link" = "Link";
    TaskCreated: "The new task.", body = task(),
        "Location" = "Location", "ETag" = "ETag";
    OneTask: "The task.", body = task(), "ETag" = "ETag";
    NotModified: "The task has not changed since the ETag in `If-None-Match`.", "ETag" = "ETag";
    ChangedTask: "The changed task.", body = task(), "ETag" = "ETag";
    Export: "The export document.",
        body = reference::<ExportFile>(),
        "Content-Disposition" = "ContentDisposition";
}
