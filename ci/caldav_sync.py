"""vdirsyncer with todoman (PyPI) against the real server: a two-way sync
between the app and a local folder, as a person using todoman does.

Run by ci/caldav.sh with the server's URL, a username, an app password and
an empty folder to work in, with vdirsyncer and todo on PATH:

    python ci/caldav_sync.py http://127.0.0.1:PORT USER TOKEN WORKDIR

Tasks added, completed, renamed and deleted on either side arrive on the
other; a task changed on both sides is reported as a conflict by
vdirsyncer, and neither side's change is lost. Prints one line per check
and exits non-zero when any failed.
"""

import json
import os
import pathlib
import subprocess
import sys

from caldav_checks import Checks

BASE, USER, TOKEN, WORK = sys.argv[1:5]
WORK = pathlib.Path(WORK)
checks = Checks(BASE, TOKEN)
check = checks.check
api = checks.api


def app_tasks():
    tasks = api("GET", "/api/todos")
    tasks = tasks.get("items", tasks) if isinstance(tasks, dict) else tasks
    return {t["title"]: t for t in tasks}


(WORK / "config" / "vdirsyncer").mkdir(parents=True)
(WORK / "config" / "todoman").mkdir(parents=True)
calendars = WORK / "calendars"
(WORK / "config" / "vdirsyncer" / "config").write_text(
    f"""[general]
status_path = "{WORK / 'status'}/"

[pair todo]
a = "todo_local"
b = "todo_remote"
collections = ["from b"]
conflict_resolution = null

[storage todo_local]
type = "filesystem"
path = "{calendars}/"
fileext = ".ics"

[storage todo_remote]
type = "caldav"
url = "{BASE}/"
username = "{USER}"
password.fetch = ["command", "cat", "{WORK / 'token'}"]
item_types = ["VTODO"]
"""
)
(WORK / "token").write_text(TOKEN)
(WORK / "config" / "todoman" / "config.py").write_text(
    f'path = "{calendars}/*"\ndate_format = "%Y-%m-%d"\ntime_format = "%H:%M"\n'
)
env = dict(os.environ, XDG_CONFIG_HOME=str(WORK / "config"))


def run(*command, stdin=None):
    done = subprocess.run(command, env=env, input=stdin, capture_output=True, text=True, timeout=120)
    return done.returncode, done.stdout + done.stderr


def sync():
    code, output = run("vdirsyncer", "sync")
    return code, output


def local_tasks():
    code, output = run("todo", "--porcelain", "list", "--status", "ANY")
    if code != 0:
        return {"error": output}
    return {t["summary"]: t for t in json.loads(output)}


api("POST", "/api/todos", {"title": "From the app"})
code, output = run("vdirsyncer", "discover", stdin="y\n" * 10)
check("vdirsyncer discovers the lists", code == 0, output)
code, output = sync()
check("a first sync succeeds", code == 0, output)
check("a task made in the app reaches todoman", "From the app" in local_tasks(), local_tasks())
default_list = str(app_tasks()["From the app"]["list_id"])

code, output = run("todo", "new", "--list", default_list, "From todoman")
check("todoman adds a task", code == 0, output)
local_id = local_tasks()["From the app"]["id"]
code, output = run("todo", "done", str(local_id))
check("todoman completes a task", code == 0, output)
code, output = sync()
check("the second sync succeeds", code == 0, output)
tasks = app_tasks()
check("a task added in todoman reaches the app", "From todoman" in tasks, list(tasks))
check("a task completed in todoman is completed in the app", tasks["From the app"]["completed"], tasks)

api("DELETE", f"/api/todos/{tasks['From todoman']['id']}")
api("PATCH", f"/api/todos/{tasks['From the app']['id']}", {"title": "Renamed in the app", "completed": False})
api("POST", "/api/todos", {"title": "Made later"})
code, output = sync()
check("the third sync succeeds", code == 0, output)
local = local_tasks()
check("a task deleted in the app leaves todoman", "From todoman" not in local, list(local))
check("a rename in the app reaches todoman", "Renamed in the app" in local, list(local))
check("reopening in the app reopens it in todoman", not local.get("Renamed in the app", {}).get("completed", True), local)
check("a task added later arrives", "Made later" in local, list(local))

code, output = run("todo", "delete", "--yes", str(local["Renamed in the app"]["id"]))
check("todoman deletes a task", code == 0, output)
code, output = sync()
check("the fourth sync succeeds", code == 0, output)
check("a task deleted in todoman leaves the app", "Renamed in the app" not in app_tasks(), list(app_tasks()))

# A conflict: the same task changed on both sides between two syncs.
later = app_tasks()["Made later"]
api("PATCH", f"/api/todos/{later['id']}", {"title": "Edited on the phone"})
file = next(f for f in (calendars / default_list).glob("*.ics") if "Made later" in f.read_text())
file.write_text(file.read_text().replace("SUMMARY:Made later", "SUMMARY:Edited on the laptop"))
code, output = sync()
check("a task changed on both sides is reported as a conflict", code != 0 and "conflict" in output.lower(), output)
check("the app keeps its side", "Edited on the phone" in app_tasks(), list(app_tasks()))
check("the folder keeps its side", "SUMMARY:Edited on the laptop" in file.read_text())

checks.finish("vdirsyncer and todoman")
