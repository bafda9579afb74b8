#!/usr/bin/env python3
"""An export document of N tasks for POST /api/import, as a real list has
them: varied titles, priorities, due dates and states (a third done).
The same seed every time, so two runs measure the same list.

    rehearsal/task_document.py 5000 > tasks.json
"""
import json
import random
import sys

random.seed(15)
words = "buy call fix write read plan book pay clean send check order water pick review".split()
things = "milk the car report invoice tickets garden letters tyres slides dentist groceries".split()
tasks = []
for i in range(1, int(sys.argv[1]) + 1):
    title = f"{random.choice(words)} {random.choice(things)} {i}"
    if i % 7 == 0:
        title += " before the meeting on Thursday"
    tasks.append({
        "id": i, "title": title, "priority": random.randint(1, 5),
        "completed": i % 3 == 0, "order": i,
        "due": f"2027-{random.randint(1, 12):02}-{random.randint(1, 28):02}" if i % 2 else None,
        "created_at": "2026-11-01T09:00:00Z", "updated_at": "2026-11-02T10:30:00Z",
    })
print(json.dumps({"format": "todo-app-export", "version": 1,
                  "exported_at": "2026-12-01T00:00:00Z", "tasks": tasks}))
