"""The Python `caldav` library (PyPI) against the real server.

Run by ci/caldav.sh with the server's URL, a username, an app password (an
API token) and the account password:

    python ci/caldav_clients.py http://127.0.0.1:PORT USER TOKEN PASSWORD

Discovery from the bare address, the account password refused, MKCALENDAR,
PUT/GET/DELETE of tasks, calendar-query searches, sync tokens with changes
and tombstones, a change made through the JSON API seen over CalDAV, and
deleting a calendar. Prints one line per check and exits non-zero when
any failed.
"""

import datetime
import sys

import caldav
from caldav.lib import error

from caldav_checks import Checks

BASE, USER, TOKEN, PASSWORD = sys.argv[1:5]
checks = Checks(BASE, TOKEN)
check = checks.check
api = checks.api


def titles(calendar, **search):
    return sorted(str(t.icalendar_component.get("summary")) for t in calendar.todos(**search))


client = caldav.DAVClient(url=BASE, username=USER, password=TOKEN)
principal = client.principal()
calendars = principal.calendars()
names = [c.get_display_name() for c in calendars]
check("discovery from the bare address finds the default list", "Tasks" in names, names)

try:
    caldav.DAVClient(url=BASE, username=USER, password=PASSWORD).principal()
    check("the account password is refused", False, "it was accepted")
except error.AuthorizationError:
    check("the account password is refused", True)

errands = principal.make_calendar(name="Errands", supported_calendar_component_set=["VTODO"])
check("MKCALENDAR makes a list the API shows", "Errands" in [l["name"] for l in api("GET", "/api/lists")])
check(
    "a calendar holds tasks only",
    errands.get_supported_components() == ["VTODO"],
    errands.get_supported_components(),
)

milk = errands.save_todo(summary="Buy milk", priority=1, due=datetime.date(2030, 1, 2))
errands.save_todo(summary="Call Bo")
check("tasks saved are listed", titles(errands) == ["Buy milk", "Call Bo"], titles(errands))
list_id = next(l["id"] for l in api("GET", "/api/lists") if l["name"] == "Errands")
tasks = api("GET", f"/api/lists/{list_id}/todos")
tasks = tasks.get("items", tasks) if isinstance(tasks, dict) else tasks
by_title = {t["title"]: t for t in tasks}
check(
    "PRIORITY 1 and DUE reach the task",
    by_title.get("Buy milk", {}).get("priority") == 5 and by_title["Buy milk"].get("due") == "2030-01-02",
    by_title.get("Buy milk"),
)

synced = errands.objects_by_sync_token(load_objects=True)
check("an initial sync gives every task", len(list(synced)) == 2, len(list(synced)))
first_token = synced.sync_token

found = errands.search(todo=True, summary="milk")
check("a calendar-query text-match finds one task", len(found) == 1, len(found))
again = errands.todo_by_uid(milk.icalendar_component["uid"])
check("a task is found by its UID", str(again.icalendar_component["summary"]) == "Buy milk")

milk.complete()
check("a completed task leaves the open ones", titles(errands) == ["Call Bo"], titles(errands))
check(
    "and is there with the completed ones",
    titles(errands, include_completed=True) == ["Buy milk", "Call Bo"],
    titles(errands, include_completed=True),
)
check("completing it over CalDAV completes it in the API", api("GET", f"/api/todos/{by_title['Buy milk']['id']}")["completed"])

# A change through the JSON API, and a deletion, seen by a sync.
api("PATCH", f"/api/todos/{by_title['Call Bo']['id']}", {"title": "Call Bo back"})
gone = errands.save_todo(summary="Short-lived")
gone.delete()
updated, deleted = synced.sync()
updated_titles = sorted(str(o.icalendar_component.get("summary")) for o in updated)
check("a sync brings the API's edit and the completion", updated_titles == ["Buy milk", "Call Bo back"], updated_titles)
check("the sync token moved", synced.sync_token != first_token)
api("DELETE", f"/api/todos/{by_title['Buy milk']['id']}")
updated, deleted = synced.sync()
check("a task deleted in the API is a tombstone in the next sync", len(deleted) == 1 and not updated, (updated, deleted))
check("and is gone from the calendar", titles(errands, include_completed=True) == ["Call Bo back"])

errands.delete()
check("deleting the calendar deletes the list", "Errands" not in [l["name"] for l in api("GET", "/api/lists")])

checks.finish("caldav library")
