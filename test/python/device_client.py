"""A device for the device example (examples/06-devices.json), with python-socketio's client.

Shown in docs/devices.md and run by test/devices.spec.ts as it is written there.

    pip install "python-socketio[client]"
    # Debian, Raspberry Pi OS: apt install python3-socketio python3-requests python3-websocket
    NODE_RED=http://localhost:1880 DEVICE_ID=esp32-1 python3 device_client.py

It sends its telemetry every 10 s and prints what Node-RED answers and sends; Ctrl+C stops it.
"""
import json
import logging
import os
import sys
import time
from urllib.parse import urlencode

import socketio

NODE_RED = os.environ.get("NODE_RED", "http://localhost:1880")
TOKEN = os.environ.get("DEVICE_TOKEN", "device-secret")
DEVICE_ID = os.environ.get("DEVICE_ID", "python-1")

# One line per message: the handlers run on threads of their own, and logging keeps lines whole.
logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(message)s")
log = logging.getLogger("device")

sio = socketio.Client()  # reconnects by itself after a lost connection


@sio.event
def connect():
    log.info("connected as %s", sio.sid)


@sio.event
def connect_error(data):
    # The reason the middleware flow gave, e.g. {"message": "invalid token"}
    log.info("refused: %s", json.dumps(data))


@sio.event
def disconnect():
    log.info("disconnected")


@sio.on("welcome")
def welcome(data):
    log.info("welcome: %s", json.dumps(data))


@sio.on("command")
def command(data):
    log.info("command: %s", json.dumps(data))


# The token and the id go in the query string; the namespace is "/".
query = urlencode({"token": TOKEN, "id": DEVICE_ID})
try:
    sio.connect(f"{NODE_RED}?{query}", socketio_path="devices/socket.io", wait_timeout=5)
except socketio.exceptions.ConnectionError as err:
    raise SystemExit(f"could not connect: {err}")

while True:
    reading = {"temperature": 21.5, "uptime": round(time.monotonic())}
    try:
        # call() waits for the flow's acknowledgement; emit() would not ask for one.
        log.info("ack: %s", json.dumps(sio.call("telemetry", reading, timeout=5)))
    except (socketio.exceptions.TimeoutError, socketio.exceptions.BadNamespaceError):
        log.info("no ack: not connected")
    time.sleep(10)
