"""One device of the device example (examples/06-devices.json), for test/devices.spec.ts.

    /usr/bin/python3 device_probe.py '{"url": "http://127.0.0.1:1880", "query": {"token": "...", "id": "..."}}'

Connects with python-socketio's sync client and reports each step as one JSON line on stdout:
{"connected": false, "error": ..., "connect_error": ...} when refused; else {"connected": true, ...},
then {"ready": true, "welcome": ..., "ack": ...} once welcomed and its telemetry acknowledged (the
test then sends the commands), then {"done": true, "commands": [...]} once it has `expect` commands
(and `grace` seconds more, to see any it should not get) or the time is up. Every wait is bounded,
and the whole run by `timeout` seconds.

Config keys: url, path ("devices/socket.io"), query (token, id), transports (null: polling, then
an upgrade to WebSocket), origin ("python": what the libraries send by themselves, i.e. none on
polling and "http://<host>:<port>" on WebSocket; null: no Origin at all; else that Origin on both,
as arduinoWebSockets sends "file://"), wait (the connect wait, s), expect, grace, timeout.
"""
import json
import os
import sys
import threading
import time
from urllib.parse import urlencode

import socketio
import websocket  # websocket-client: python-engineio's WebSocket transport

config = json.loads(sys.argv[1])
ORIGIN = config.get("origin", "python")
DEADLINE = time.monotonic() + config.get("timeout", 10)


def report(line):
    print(json.dumps(line), flush=True)


def left():
    return max(0.0, DEADLINE - time.monotonic())


def give_up():
    report({"timeout": True})
    os._exit(2)


watchdog = threading.Timer(config.get("timeout", 10) + 2, give_up)
watchdog.daemon = True
watchdog.start()

# websocket-client adds "Origin: http://<host>:<port>" to every handshake unless told otherwise, and
# python-engineio passes it no option for that: set the Origin a device sends (or none) here.
real_create_connection = websocket.create_connection


def create_connection(url, **options):
    if ORIGIN != "python":
        header = options.pop("header", None) or {}
        options["header"] = {k: v for k, v in header.items() if k.lower() != "origin"}
        if ORIGIN is None:
            options["suppress_origin"] = True
        else:
            options["origin"] = ORIGIN
    return real_create_connection(url, **options)


websocket.create_connection = create_connection

sio = socketio.Client(reconnection=False)
state = {"welcome": None, "connect_error": None, "commands": []}
welcomed = threading.Event()
all_commands = threading.Event()
if config.get("expect", 0) == 0:
    all_commands.set()


@sio.event
def connect_error(data):
    state["connect_error"] = data


@sio.on("welcome")
def on_welcome(data):
    state["welcome"] = data
    welcomed.set()


@sio.on("command")
def on_command(data):
    state["commands"].append(data)
    if len(state["commands"]) >= config.get("expect", 0):
        all_commands.set()


headers = {"Origin": ORIGIN} if ORIGIN not in (None, "python") else {}
url = config["url"] + "?" + urlencode(config.get("query", {}))
try:
    sio.connect(
        url,
        headers=headers,
        transports=config.get("transports"),
        socketio_path=config.get("path", "devices/socket.io"),
        wait_timeout=config.get("wait", 5),
    )
except socketio.exceptions.ConnectionError as err:
    report({"connected": False, "error": str(err), "connect_error": state["connect_error"]})
    sys.exit(0)
report({"connected": True, "sid": sio.sid, "transport": sio.transport()})

welcomed.wait(timeout=min(5, left()))
ack = None
try:
    ack = sio.call("telemetry", config.get("telemetry", {"temperature": 21.5}), timeout=min(5, left()))
except socketio.exceptions.TimeoutError:
    pass
report({"ready": True, "welcome": state["welcome"], "ack": ack, "transport": sio.transport()})

if all_commands.wait(timeout=left()):
    time.sleep(min(config.get("grace", 0.3), left()))
report({"done": True, "commands": state["commands"], "transport": sio.transport()})
sio.disconnect()
