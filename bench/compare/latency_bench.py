"""Kernel latency driver of graft's bench/compare tool (run by it; not by hand).

Usage: /usr/bin/python3 latency_bench.py KERNEL_NAME CODE CELLS STARTS

Starts the kernel KERNEL_NAME (found on JUPYTER_PATH) STARTS times through
jupyter_client's KernelManager and measures, for each start, the time from
start_kernel() to the first kernel_info_reply. On the last start it then runs
CELLS executions of CODE (after a few untimed ones) and measures each round
trip: from sending execute_request to having both the execute_reply and the
idle status of that request. It prints one JSON line:
{"start_ms": [...], "roundtrip_ms": [...]}.

Messages are built and read with pyzmq and hmac directly rather than with
jupyter_client's Session, so that the client's own overhead stays small and
is the same for every kernel.
"""

import datetime
import hashlib
import hmac
import json
import re
import sys
import time
import uuid

import zmq
from jupyter_client.manager import KernelManager

MSG_TYPE = re.compile(rb'"msg_type":\s*"([^"]*)"')
MSG_ID = re.compile(rb'"msg_id":\s*"([^"]*)"')
WARMUP = 20
WAIT_S = 60


class Client:
    def __init__(self, km):
        info = km.get_connection_info()
        key = info["key"]
        self.key = key if isinstance(key, bytes) else key.encode()
        self.session = uuid.uuid4().hex
        self.ctx = zmq.Context()
        ident = self.session.encode()

        def sock(kind, port, *opts):
            s = self.ctx.socket(kind)
            s.setsockopt(zmq.LINGER, 0)
            # Reconnect fast: the kernel may not have bound its ports yet.
            s.setsockopt(zmq.RECONNECT_IVL, 2)
            for k, v in opts:
                s.setsockopt(k, v)
            s.connect("%s://%s:%d" % (info["transport"], info["ip"], port))
            return s

        self.shell = sock(zmq.DEALER, info["shell_port"], (zmq.IDENTITY, ident))
        self.control = sock(zmq.DEALER, info["control_port"], (zmq.IDENTITY, ident))
        self.iopub = sock(zmq.SUB, info["iopub_port"], (zmq.SUBSCRIBE, b""))
        self.poller = zmq.Poller()
        self.poller.register(self.shell, zmq.POLLIN)
        self.poller.register(self.iopub, zmq.POLLIN)

    def close(self):
        for s in (self.shell, self.control, self.iopub):
            s.close()
        self.ctx.term()

    def send(self, sock, msg_type, content):
        msg_id = uuid.uuid4().hex
        header = json.dumps({
            "msg_id": msg_id, "session": self.session, "username": "bench",
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(),
            "msg_type": msg_type, "version": "5.3",
        }).encode()
        parts = [header, b"{}", b"{}", json.dumps(content).encode()]
        mac = hmac.new(self.key, digestmod=hashlib.sha256)
        for p in parts:
            mac.update(p)
        sock.send_multipart([b"<IDS|MSG>", mac.hexdigest().encode()] + parts)
        return msg_id

    @staticmethod
    def parse(frames):
        """Returns a message's type, its parent's msg_id and its content
        frame, reading the two fields with a regular expression instead of
        decoding the JSON: the client's cost must stay small."""
        i = frames.index(b"<IDS|MSG>")
        t = MSG_TYPE.search(frames[i + 2])
        p = MSG_ID.search(frames[i + 3])
        return (t.group(1).decode() if t else None), (p.group(1).decode() if p else None), frames[i + 5]

    def wait(self, sock, parent_id, msg_type):
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            if sock.poll(1000):
                t, pid, _ = self.parse(sock.recv_multipart())
                if t == msg_type and pid == parent_id:
                    return
        raise SystemExit("no %s from the kernel within %d s" % (msg_type, WAIT_S))

    def wait_iopub_ready(self):
        """A SUB misses what is published before its subscription arrives:
        ask for kernel_info until its status messages come through."""
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            msg_id = self.send(self.shell, "kernel_info_request", {})
            self.wait(self.shell, msg_id, "kernel_info_reply")
            if self.iopub.poll(100):
                while self.iopub.poll(50):
                    self.iopub.recv_multipart()
                return
        raise SystemExit("iopub never delivered")

    def execute(self, code):
        msg_id = self.send(self.shell, "execute_request", {
            "code": code, "silent": False, "store_history": True,
            "user_expressions": {}, "allow_stdin": False, "stop_on_error": True,
        })
        got_reply = got_idle = False
        poller = self.poller
        deadline = time.monotonic() + WAIT_S
        while not (got_reply and got_idle):
            if time.monotonic() > deadline:
                raise SystemExit("execute_request timed out")
            for s, _ in poller.poll(1000):
                t, pid, content = self.parse(s.recv_multipart())
                if pid != msg_id:
                    continue
                if s is self.shell and t == "execute_reply":
                    status = json.loads(content)["status"]
                    if status != "ok":
                        raise SystemExit("cell %r failed: %s" % (code, content.decode()))
                    got_reply = True
                elif t == "status" and b'"idle"' in content:
                    got_idle = True

    def shutdown(self):
        msg_id = self.send(self.control, "shutdown_request", {"restart": False})
        self.wait(self.control, msg_id, "shutdown_reply")


def one_start(name):
    km = KernelManager(kernel_name=name)
    t0 = time.perf_counter()
    km.start_kernel()
    c = Client(km)
    msg_id = c.send(c.shell, "kernel_info_request", {})
    c.wait(c.shell, msg_id, "kernel_info_reply")
    return km, c, (time.perf_counter() - t0) * 1e3


def stop(km, c):
    c.shutdown()
    c.close()
    km.shutdown_kernel(now=False)


def main():
    name, code, cells, starts = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    start_ms = []
    for i in range(starts):
        km, c, ms = one_start(name)
        start_ms.append(ms)
        if i < starts - 1:
            stop(km, c)
    c.wait_iopub_ready()
    for _ in range(WARMUP):
        c.execute(code)
    rt = []
    for _ in range(cells):
        t0 = time.perf_counter()
        c.execute(code)
        rt.append((time.perf_counter() - t0) * 1e3)
    stop(km, c)
    print(json.dumps({"start_ms": start_ms, "roundtrip_ms": rt}))


if __name__ == "__main__":
    main()
