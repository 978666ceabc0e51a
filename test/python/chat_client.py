"""One chat client for test/v2-clients-e2e.spec.ts, with python-socketio's sync client.

    /usr/bin/python3 chat_client.py '{"url": "http://127.0.0.1:1880", "transports": ["polling"]}'

Connects and reports on stdout, one JSON line each: {"connected": true, "sid": ..., "transport": ...}
(or {"connected": false, "error": ..., "connect_error": ...} and exit code 1 when refused), then
{"event": <name>, "args": [...]} for every event the server sends. Each line read from stdin (UTF-8,
without its newline) is emitted as a "chat" event, with the text as its one argument. At the end
of stdin it disconnects, reports {"disconnected": true} and exits 0. Every wait is bounded, and the
whole run by `timeout` seconds: then it reports {"timeout": true} and exits 2.

Config keys: url, path ("socket.io"), transports (default ["websocket"]; null: polling, then an
upgrade to WebSocket), wait (the connect wait, s), timeout (s).
"""
import json
import os
import sys
import threading

import socketio

config = json.loads(sys.argv[1])
TIMEOUT = config.get("timeout", 10)
# The handlers run on threads of their own: one lock keeps each line whole.
printing = threading.Lock()


def report(line):
    with printing:
        print(json.dumps(line), flush=True)


def give_up():
    report({"timeout": True})
    os._exit(2)


watchdog = threading.Timer(TIMEOUT, give_up)
watchdog.daemon = True
watchdog.start()

sio = socketio.Client(reconnection=False)
refusal = {}


@sio.event
def connect_error(data):
    refusal["data"] = data


@sio.on("*")
def any_event(event, *args):
    report({"event": event, "args": list(args)})


try:
    sio.connect(
        config["url"],
        transports=config.get("transports", ["websocket"]),
        socketio_path=config.get("path", "socket.io"),
        wait_timeout=config.get("wait", 5),
    )
except socketio.exceptions.ConnectionError as err:
    report({"connected": False, "error": str(err), "connect_error": refusal.get("data")})
    os._exit(1)
report({"connected": True, "sid": sio.sid, "transport": sio.transport()})

sys.stdin.reconfigure(encoding="utf-8")
for line in sys.stdin:
    sio.emit("chat", line.rstrip("\n"))
sio.disconnect()
report({"disconnected": True})
os._exit(0)
