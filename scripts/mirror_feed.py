"""Keep a mirror of the registry's public records exact: follow the change feed from where the
mirror stopped. Run it as often as you like: python mirror_feed.py https://registry.example.cn mirror.json"""

import json
import sys
import urllib.error
import urllib.request
from pathlib import Path


def get(url):
    try:
        with urllib.request.urlopen(url) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def sync(base, state_file, fetch=get):
    path = Path(state_file)
    # A snapshot of the data package (/data/) with its cursor is the quickest start; an empty
    # mirror with no cursor starts from the feed's beginning.
    state = json.loads(path.read_text()) if path.exists() else {"cursor": "", "records": {}}
    while True:
        after = f"&after={state['cursor']}" if state["cursor"] else ""
        status, page = fetch(f"{base}/api/v1/changes/?limit=1000{after}")
        if status == 410:
            sys.exit("The mirror is older than the changes the feed keeps: take a snapshot from /data/ and follow on from its cursor.")
        for change in page["changes"]:
            key = f"{change['kind']}/{change['key']}"
            if change["action"] == "deleted":
                state["records"].pop(key, None)
            else:
                state["records"][key] = change["record"]
        state["cursor"] = page["next"]
        if not page["has_more"]:
            break
    path.write_text(json.dumps(state, ensure_ascii=False))
    return state


if __name__ == "__main__":
    sync(sys.argv[1].rstrip("/"), sys.argv[2])
