//! `GET /api/docs`: the OpenAPI document derived in `openapi.rs` as a page people
//! read, rendered here on the server: plain HTML with semantic headings, a
//! table of contents and no scripts, so it works without JavaScript and
//! with a screen reader, and needs nothing from another site. It wears the
//! app's stylesheet (light and dark), links back to the app, and its code
//! blocks, which scroll sideways, take focus so a keyboard can scroll them. It wears the
//! app's stylesheet (light and dark), links back to the app, and its code
//! blocks, which scroll sideways, take focus so a keyboard can scroll them.
//!
//! The page follows the document's own structure: its description, then
//! one section per tag with one subsection per operation (parameters,
//! request body, responses), then the schemas the operations refer to.

use std::fmt::Write;
use std::sync::LazyLock;

use axum::http::header::{CONTENT_SECURITY_POLICY, CONTENT_TYPE};
use axum::response::IntoResponse;
use serde_json::Value;

use super::openapi;
use super::ui::ASSETS;

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

#[utoipa::path(
    get,
    path = "/api/docs",
    operation_id = "getApiReference",
    tag = "Meta",
    summary = "API reference",
    description = "This document as a page to read: every operation with its parameters and \
                   responses, and the schemas. Plain HTML, no scripts.",
    responses((status = 200, description = "The reference page.", content_type = "text/html", body = String)),
    security()
)]
pub async fn page() -> impl IntoResponse {
    static PAGE: LazyLock<String> = LazyLock::new(|| {
        let doc: Value = serde_json::from_str(openapi::json()).unwrap_or_default();
        render(&doc)
    });
    // No script at all; the app's own stylesheet.
    const POLICY: &str = "default-src 'none'; style-src 'self'; img-src 'self'; \
                          base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
    (
        [
            (CONTENT_TYPE, "text/html; charset=utf-8"),
            (CONTENT_SECURITY_POLICY, POLICY),
        ],
        PAGE.as_str(),
    )
}

/// The whole page for `doc`.
pub fn render(doc: &Value) -> String {
    let title = doc["info"]["title"].as_str().unwrap_or("API");
    let version = doc["info"]["version"].as_str().unwrap_or_default();
    let assets = &*ASSETS;
    let mut html = String::new();
    let _ = write!(
        html,
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"color-scheme\" content=\"light dark\">\n\
         <title>{} API reference</title>\n\
         <link rel=\"icon\" href=\"{}\" type=\"image/svg+xml\">\n\
         <link rel=\"stylesheet\" href=\"{}\">\n</head>\n<body class=\"reference\">\n\
         <a class=\"skip-link\" href=\"#overview\">Skip to the reference</a>\n\
         <nav class=\"reference-bar\" aria-label=\"App\"><a href=\"/\">Back to your tasks</a>\
         <a href=\"/api/openapi.json\">openapi.json</a></nav>\n\
         <header><h1>{} <small>version {}</small></h1>\n\
         <p>The machine-readable document is <a href=\"/api/openapi.json\">/api/openapi.json</a>.</p>\n\
         </header>\n",
        escape(title),
        assets.icon,
        assets.css,
        escape(title),
        escape(version),
    );
    let tags = tags(doc);
    html.push_str("<nav aria-labelledby=\"contents\">\n<h2 id=\"contents\">Contents</h2>\n<ul>\n");
    html.push_str("<li><a href=\"#overview\">Overview</a></li>\n");
    for (name, _) in &tags {
        let _ = writeln!(
            html,
            "<li><a href=\"#{}\">{}</a>\n<ul>",
            tag_id(name),
            escape(name)
        );
        for (method, path, operation) in operations(doc, name) {
            let _ = writeln!(
                html,
                "<li><a href=\"#{}\"><code>{} {}</code></a> {}</li>",
                operation_id(method, path, operation),
                method.to_ascii_uppercase(),
                escape(path),
                escape(operation["summary"].as_str().unwrap_or_default()),
            );
        }
        html.push_str("</ul></li>\n");
    }
    html.push_str("<li><a href=\"#schemas\">Schemas</a></li>\n</ul>\n</nav>\n<main>\n");

    html.push_str("<section aria-labelledby=\"overview\">\n<h2 id=\"overview\">Overview</h2>\n");
    // The description's own `##` headings sit below the page's `h2`.
    html.push_str(&markdown(
        doc["info"]["description"].as_str().unwrap_or_default(),
        3,
    ));
    html.push_str("</section>\n");

    for (name, description) in &tags {
        let _ = writeln!(
            html,
            "<section aria-labelledby=\"{id}\">\n<h2 id=\"{id}\">{}</h2>",
            escape(name),
            id = tag_id(name),
        );
        html.push_str(&markdown(description, 3));
        for (method, path, operation) in operations(doc, name) {
            render_operation(&mut html, doc, method, path, operation);
        }
        html.push_str("</section>\n");
    }

    html.push_str("<section aria-labelledby=\"schemas\">\n<h2 id=\"schemas\">Schemas</h2>\n");
    if let Some(schemas) = doc["components"]["schemas"].as_object() {
        for (name, schema) in schemas {
            let _ = writeln!(
                html,
                "<section aria-labelledby=\"schema-{id}\">\n<h3 id=\"schema-{id}\">{}</h3>",
                escape(name),
                id = escape(name),
            );
            html.push_str(&markdown(
                schema["description"].as_str().unwrap_or_default(),
                4,
            ));
            let pretty = serde_json::to_string_pretty(schema).unwrap_or_default();
            // Focusable, so a keyboard can scroll what is wider than the page.
            let _ = writeln!(
                html,
                "<pre tabindex=\"0\" aria-label=\"{} schema\"><code>{}</code></pre>\n</section>",
                escape(name),
                escape(&pretty)
            );
        }
    }
    html.push_str("</section>\n</main>\n</body>\n</html>\n");
    html
}

fn render_operation(html: &mut String, doc: &Value, method: &str, path: &str, operation: &Value) {
    let id = operation_id(method, path, operation);
    let _ = writeln!(
        html,
        "<section aria-labelledby=\"{id}\">\n<h3 id=\"{id}\"><code>{} {}</code> {}</h3>",
        method.to_ascii_uppercase(),
        escape(path),
        escape(operation["summary"].as_str().unwrap_or_default()),
    );
    html.push_str(&markdown(
        operation["description"].as_str().unwrap_or_default(),
        4,
    ));
    if operation["security"].as_array().is_some_and(Vec::is_empty) {
        html.push_str("<p>No API token needed.</p>\n");
    }

    let parameters: Vec<&Value> = operation["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| resolve(doc, p))
        .collect();
    if !parameters.is_empty() {
        html.push_str(
            "<h4>Parameters</h4>\n<table>\n<thead><tr><th scope=\"col\">Name</th>\
             <th scope=\"col\">In</th><th scope=\"col\">Type</th>\
             <th scope=\"col\">Description</th></tr></thead>\n<tbody>\n",
        );
        for p in parameters {
            let required = if p["required"] == true {
                " (required)"
            } else {
                ""
            };
            let _ = writeln!(
                html,
                "<tr><th scope=\"row\"><code>{}</code>{required}</th><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(p["name"].as_str().unwrap_or_default()),
                escape(p["in"].as_str().unwrap_or_default()),
                schema_summary(&p["schema"]),
                inline(p["description"].as_str().unwrap_or_default()),
            );
        }
        html.push_str("</tbody>\n</table>\n");
    }

    let body = resolve(doc, &operation["requestBody"]);
    if let Some(content) = body["content"].as_object() {
        html.push_str("<h4>Request body</h4>\n");
        html.push_str(&markdown(
            body["description"].as_str().unwrap_or_default(),
            5,
        ));
        html.push_str("<ul>\n");
        for (media, spec) in content {
            let _ = writeln!(
                html,
                "<li><code>{}</code>: {}</li>",
                escape(media),
                schema_summary(&spec["schema"])
            );
        }
        html.push_str("</ul>\n");
    }

    if let Some(responses) = operation["responses"].as_object() {
        html.push_str("<h4>Responses</h4>\n<dl>\n");
        for (status, response) in responses {
            let response = resolve(doc, response);
            let _ = writeln!(html, "<dt>{}</dt>\n<dd>", escape(status));
            html.push_str(&markdown(
                response["description"].as_str().unwrap_or_default(),
                5,
            ));
            for (media, spec) in response["content"].as_object().into_iter().flatten() {
                let _ = writeln!(
                    html,
                    "<p><code>{}</code>: {}</p>",
                    escape(media),
                    schema_summary(&spec["schema"])
                );
            }
            html.push_str("</dd>\n");
        }
        html.push_str("</dl>\n");
    }
    html.push_str("</section>\n");
}

/// The tags in the document's order, with their descriptions.
fn tags(doc: &Value) -> Vec<(String, String)> {
    doc["tags"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| {
            (
                t["name"].as_str().unwrap_or_default().to_owned(),
                t["description"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// The operations filed under `tag`, in the document's order.
fn operations<'a>(doc: &'a Value, tag: &str) -> Vec<(&'static str, &'a str, &'a Value)> {
    let mut found = Vec::new();
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        for method in METHODS {
            let operation = &item[method];
            let tagged = operation["tags"]
                .as_array()
                .is_some_and(|tags| tags.iter().any(|t| t == tag));
            if tagged {
                found.push((method, path.as_str(), operation));
            }
        }
    }
    found
}

fn operation_id(method: &str, path: &str, operation: &Value) -> String {
    match operation["operationId"].as_str() {
        Some(id) => format!("op-{}", escape(id)),
        None => format!(
            "op-{method}-{}",
            escape(&path.replace(['/', '{', '}'], "-"))
        ),
    }
}

fn tag_id(name: &str) -> String {
    let slug: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    format!("tag-{slug}")
}

/// Follows a local `$ref` (`#/components/...`) to what it names.
fn resolve<'a>(doc: &'a Value, value: &'a Value) -> &'a Value {
    match value["$ref"].as_str().and_then(|r| r.strip_prefix('#')) {
        Some(pointer) => doc.pointer(pointer).unwrap_or(value),
        None => value,
    }
}

/// A schema in a few words: a link to a named one, else its type.
fn schema_summary(schema: &Value) -> String {
    if let Some(name) = schema["$ref"]
        .as_str()
        .and_then(|r| r.strip_prefix("#/components/schemas/"))
    {
        return format!("<a href=\"#schema-{0}\">{0}</a>", escape(name));
    }
    if schema["type"] == "array" {
        return format!("array of {}", schema_summary(&schema["items"]));
    }
    match &schema["type"] {
        Value::String(t) => {
            let mut summary = escape(t);
            if let Some(values) = schema["enum"].as_array() {
                let names: Vec<String> = values
                    .iter()
                    .map(|v| format!("<code>{}</code>", escape(&v.to_string())))
                    .collect();
                let _ = write!(summary, ", one of {}", names.join(", "));
            }
            summary
        }
        Value::Array(types) => types
            .iter()
            .map(|t| escape(t.as_str().unwrap_or_default()))
            .collect::<Vec<_>>()
            .join(" or "),
        _ if schema.is_object() => "JSON".to_owned(),
        _ => String::new(),
    }
}

/// The little Markdown the document's descriptions use: paragraphs, `##`
/// headings (shown at `heading` level), `- ` lists and `code`.
fn markdown(text: &str, heading: usize) -> String {
    let mut html = String::new();
    for block in text.split("\n\n").map(str::trim).filter(|b| !b.is_empty()) {
        let mut lines = block.lines().peekable();
        while let Some(line) = lines.next() {
            if let Some(title) = line.strip_prefix("## ") {
                let level = heading.min(6);
                let _ = writeln!(html, "<h{level}>{}</h{level}>", inline(title));
            } else if line.starts_with("- ") {
                html.push_str("<ul>\n");
                let mut item = line;
                loop {
                    let _ = writeln!(html, "<li>{}</li>", inline(&item[2..]));
                    match lines.peek() {
                        Some(next) if next.starts_with("- ") => item = lines.next().unwrap_or(""),
                        _ => break,
                    }
                }
                html.push_str("</ul>\n");
            } else {
                let mut paragraph = vec![line];
                while let Some(next) = lines.peek() {
                    if next.starts_with("## ") || next.starts_with("- ") {
                        break;
                    }
                    paragraph.push(lines.next().unwrap_or(""));
                }
                let _ = writeln!(html, "<p>{}</p>", inline(&paragraph.join(" ")));
            }
        }
    }
    html
}

/// Escapes `text` and shows its `backticked` parts as code.
fn inline(text: &str) -> String {
    text.split('`')
        .enumerate()
        .map(|(i, part)| {
            if i % 2 == 1 {
                format!("<code>{}</code>", escape(part))
            } else {
                escape(part)
            }
        })
        .collect()
}

fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_has_every_operation_and_escapes_text() {
        let doc: Value = serde_json::from_str(openapi::json()).unwrap();
        let page = render(&doc);
        assert!(page.starts_with("<!doctype html>"));
        for (path, item) in doc["paths"].as_object().unwrap() {
            for method in METHODS {
                if item.get(method).is_some() {
                    let heading = format!("<code>{} {}</code>", method.to_ascii_uppercase(), path);
                    assert!(page.contains(&heading), "{heading} is missing");
                }
            }
        }
        assert!(!page.contains("<script"));
        assert!(!page.contains("<style"));
        // Every block that may scroll can take focus, and the app is a link away.
        assert_eq!(
            page.matches("<pre ").count(),
            page.matches("<pre tabindex=\"0\"").count()
        );
        assert!(page.contains("<a href=\"/\">Back to your tasks</a>"));
        assert!(page.contains(&format!(
            "<link rel=\"stylesheet\" href=\"{}\">",
            ASSETS.css
        )));
        assert_eq!(inline("a `<b>` & c"), "a <code>&lt;b&gt;</code> &amp; c");
    }

    #[test]
    fn markdown_has_headings_lists_and_paragraphs() {
        let html = markdown("## Errors\nSome\ntext.\n\n- one\n- `two`", 3);
        assert_eq!(
            html,
            "<h3>Errors</h3>\n<p>Some text.</p>\n<ul>\n<li>one</li>\n<li><code>two</code></li>\n</ul>\n"
        );
    }
}
