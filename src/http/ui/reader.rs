//! `Reader`: who is asking, in what language, and which list they see.
use super::*;

/// Who is asking: a browser following a form (HTML pages and redirects), or
/// the script, which asks for JSON and gets only what changed; and whose
/// list it is. Visitors who are not signed in are sent to the login page
/// (the script gets the API's 401). Which list a page or form is about is
/// part of its view (`?list=ID`); `open` reads it, with the reader's role.
#[derive(Debug, Clone)]
pub struct Reader {
    pub clock: Clock,
    pub script: bool,
    /// Who acts.
    pub owner: Owner,
    /// What the page's forms carry to prove they are ours (accounts mode).
    pub csrf_token: Option<String>,
    pub username: Option<String>,
}

impl FromRequestParts<AppState> for Reader {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let script = parts
            .headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("application/json"));
        let Ok(caller) = Caller::from_request_parts(parts, state).await;
        let csrf_token = parts
            .extensions
            .get::<PageCsrfToken>()
            .and_then(|t| t.0.clone());
        let Some(owner) = caller.owner() else {
            return Err(match caller {
                _ if script => caller.refusal().into_response(),
                Caller::Unverified(_) => UiError(caller.refusal()).into_response(),
                _ => Redirect::to("/login").into_response(),
            });
        };
        Ok(Self {
            clock: Clock::from_headers(&parts.headers),
            script,
            owner,
            csrf_token,
            username: caller.username().map(str::to_owned),
        })
    }
}

impl Reader {
    /// The list `view` shows, as this reader sees it: their default list,
    /// or the one named if they can see it. Any other is 404, as a list
    /// that does not exist. Read on every request, so a member who is
    /// removed loses the list at once, on every instance.
    pub(super) async fn open(&self, state: &AppState, view: &View) -> UiResult<List> {
        let id = match view.list {
            Some(id) => id,
            None => state.store.default_list(self.owner).await?,
        };
        Ok(state.store.list(self.owner, id).await?)
    }

    /// The script reads errors as the API's JSON; a browser gets a page.
    pub(super) fn finish(&self, result: UiResult) -> Response {
        match result {
            Ok(response) => response,
            Err(UiError(err)) if self.script => err.into_response(),
            Err(err) => err.into_response(),
        }
    }
}

/// Refuses (403) a change to the tasks of a list the reader may only read.
pub(super) fn may_change_tasks(list: &List) -> UiResult<()> {
    Need::ChangeTasks.check(list.id, list.role)?;
    Ok(())
}
