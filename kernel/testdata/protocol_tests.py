"""graft's own protocol tests through jupyter_client: comms, stdin, interrupts
in both modes, restart, live display updates, history across restarts and
messages with bad signatures.

Run by kernel/jupyter_test.go. $GRAFT_KERNEL_NAME names the kernelspec with
interrupt_mode "message", $GRAFT_SIGNAL_KERNEL_NAME one without it (Jupyter
then interrupts with SIGINT). Each test class starts its own kernel.
"""

import os
import queue
import sys
import time
import unittest
import uuid

from jupyter_client.manager import start_new_kernel
from jupyter_client.session import Session

TIMEOUT = 30  # a guard against hangs, not a performance bound
KERNEL = os.environ["GRAFT_KERNEL_NAME"]
SIGNAL_KERNEL = os.environ["GRAFT_SIGNAL_KERNEL_NAME"]


class KernelCase(unittest.TestCase):
    kernel_name = KERNEL

    @classmethod
    def setUpClass(cls):
        cls.km, cls.kc = start_new_kernel(kernel_name=cls.kernel_name, startup_timeout=TIMEOUT)

    @classmethod
    def tearDownClass(cls):
        cls.kc.stop_channels()
        cls.km.shutdown_kernel(now=False)

    def setUp(self):
        self.flush()

    def flush(self):
        for get in (self.kc.get_shell_msg, self.kc.get_iopub_msg, self.kc.get_stdin_msg):
            while True:
                try:
                    get(timeout=0.05)
                except queue.Empty:
                    break

    def iopub_until_idle(self, msg_id):
        """The iopub messages of request msg_id up to its idle status."""
        out = []
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            msg = self.kc.get_iopub_msg(timeout=TIMEOUT)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            if msg["msg_type"] == "status":
                if msg["content"]["execution_state"] == "idle":
                    return out
                continue
            out.append(msg)
        self.fail("no idle status for %s" % msg_id)

    def reply(self, msg_id, get=None):
        """The reply to msg_id, read with get (the shell channel's by
        default); replies to other requests are skipped."""
        get = get or self.kc.get_shell_msg
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            msg = get(timeout=TIMEOUT)
            if msg["parent_header"].get("msg_id") == msg_id:
                return msg
        self.fail("no reply to %s" % msg_id)

    def run_cell(self, code, **kw):
        """Executes code; returns the reply content and the output messages
        (without execute_input)."""
        msg_id = self.kc.execute(code, **kw)
        reply = self.reply(msg_id)
        outs = [m for m in self.iopub_until_idle(msg_id) if m["msg_type"] != "execute_input"]
        return reply["content"], outs

    def ok(self, code, **kw):
        reply, outs = self.run_cell(code, **kw)
        self.assertEqual(reply["status"], "ok", "cell %r failed: %s %s\n%s" % (
            code, reply.get("ename"), reply.get("evalue"), "\n".join(reply.get("traceback", []))))
        return outs

    def stdout(self, outs):
        return "".join(m["content"]["text"] for m in outs
                       if m["msg_type"] == "stream" and m["content"]["name"] == "stdout")

    def send_shell(self, msg_type, content):
        msg = self.kc.session.msg(msg_type, content)
        self.kc.shell_channel.send(msg)
        return msg["header"]["msg_id"]


class CommTests(KernelCase):
    def test_frontend_opens_comm_on_go_target(self):
        self.ok('''
import "github.com/graftml/graft/kernel/comm"

var closedWith any
comm.RegisterTarget("echo", func(c *comm.Comm, data map[string]any) {
	c.Send(map[string]any{"opened_with": data["x"]})
	c.OnMessage(func(m map[string]any) { c.Send(map[string]any{"echo": m["v"]}) })
	c.OnClose(func(m map[string]any) { closedWith = m["why"] })
})''')
        comm_id = uuid.uuid4().hex
        msg_id = self.send_shell("comm_open", {"comm_id": comm_id, "target_name": "echo", "data": {"x": 7}})
        outs = self.iopub_until_idle(msg_id)
        self.assertEqual([(m["msg_type"], m["content"]) for m in outs],
                         [("comm_msg", {"comm_id": comm_id, "data": {"opened_with": 7}})])

        info = self.reply(self.kc.comm_info(target_name="echo"))["content"]
        self.assertEqual(info["comms"], {comm_id: {"target_name": "echo"}})
        info = self.reply(self.kc.comm_info(target_name="other"))["content"]
        self.assertEqual(info["comms"], {})

        msg_id = self.send_shell("comm_msg", {"comm_id": comm_id, "data": {"v": "hi"}})
        outs = self.iopub_until_idle(msg_id)
        self.assertEqual([(m["msg_type"], m["content"]) for m in outs],
                         [("comm_msg", {"comm_id": comm_id, "data": {"echo": "hi"}})])

        self.iopub_until_idle(self.send_shell("comm_close", {"comm_id": comm_id, "data": {"why": "done"}}))
        info = self.reply(self.kc.comm_info())["content"]
        self.assertEqual(info["comms"], {})
        outs = self.ok("closedWith")
        self.assertEqual([m["content"]["data"]["text/plain"] for m in outs], ['"done"'])

    def test_callback_output_goes_under_the_comm_message(self):
        self.ok('''
import "github.com/graftml/graft/kernel/comm"

comm.RegisterTarget("printer", func(c *comm.Comm, data map[string]any) {
	c.OnMessage(func(m map[string]any) { fmt.Println("got", m["v"]) })
})''')
        comm_id = uuid.uuid4().hex
        self.iopub_until_idle(self.send_shell("comm_open", {"comm_id": comm_id, "target_name": "printer", "data": {}}))
        msg_id = self.send_shell("comm_msg", {"comm_id": comm_id, "data": {"v": 5}})
        outs = self.iopub_until_idle(msg_id)
        self.assertEqual([(m["msg_type"], m["content"]) for m in outs],
                         [("stream", {"name": "stdout", "text": "got 5\n"})])
        outs = self.ok("1")
        self.assertEqual([m["msg_type"] for m in outs], ["execute_result"])
        self.iopub_until_idle(self.send_shell("comm_close", {"comm_id": comm_id, "data": {}}))

    def test_unknown_target_is_closed(self):
        comm_id = uuid.uuid4().hex
        msg_id = self.send_shell("comm_open", {"comm_id": comm_id, "target_name": "nobody", "data": {}})
        outs = self.iopub_until_idle(msg_id)
        self.assertEqual([(m["msg_type"], m["content"]["comm_id"]) for m in outs], [("comm_close", comm_id)])

    def test_go_code_opens_comm(self):
        outs = self.ok('''
import "github.com/graftml/graft/kernel/comm"

c, err := comm.Open("frontend.plot", map[string]any{"w": 3})
if err != nil {
	panic(err)
}
c.Send(map[string]any{"step": 1})
fmt.Print(c.ID())''')
        opened = [m for m in outs if m["msg_type"] == "comm_open"]
        self.assertEqual(len(opened), 1, [m["msg_type"] for m in outs])
        content = opened[0]["content"]
        self.assertEqual((content["target_name"], content["data"]), ("frontend.plot", {"w": 3}))
        self.assertEqual(content["comm_id"], self.stdout(outs))
        sent = [m["content"] for m in outs if m["msg_type"] == "comm_msg"]
        self.assertEqual(sent, [{"comm_id": content["comm_id"], "data": {"step": 1}}])


class StdinTests(KernelCase):
    def test_scan_prompts_the_frontend(self):
        msg_id = self.kc.execute('var name string\nfmt.Scanln(&name)\nfmt.Println("hello,", name)', allow_stdin=True)
        req = self.kc.get_stdin_msg(timeout=TIMEOUT)
        self.assertEqual(req["msg_type"], "input_request")
        self.assertEqual(req["parent_header"]["msg_id"], msg_id)
        self.assertIs(req["content"]["password"], False)
        self.kc.input("Ada")
        reply = self.reply(msg_id)["content"]
        self.assertEqual(reply["status"], "ok", reply)
        self.assertIn("hello, Ada", self.stdout(self.iopub_until_idle(msg_id)))

    def test_disallowed_stdin_is_an_error(self):
        # Reading fails at once (no input_request, no hang) with an error
        # that says why.
        reply, outs = self.run_cell("var s string\nif _, err := fmt.Scanln(&s); err != nil {\n\tpanic(err)\n}", allow_stdin=False)
        self.assertEqual(reply["status"], "error")
        self.assertIn("allow_stdin", reply["evalue"])
        self.assertEqual([m["msg_type"] for m in outs], ["error"])


class InterruptByMessageTests(KernelCase):
    def interrupt_loop(self):
        msg_id = self.kc.execute("n := 0\nfor {\n\tn++\n}")
        # Wait until the cell runs (its execute_input), then interrupt.
        while True:
            m = self.kc.get_iopub_msg(timeout=TIMEOUT)
            if m["msg_type"] == "execute_input" and m["parent_header"]["msg_id"] == msg_id:
                break
        time.sleep(0.2)
        start = time.monotonic()
        self.km.interrupt_kernel()
        reply = self.reply(msg_id)["content"]
        took = time.monotonic() - start
        print("  interrupt (%s) stopped `for {}` in %.3f s" % (self.kernel_name, took), file=sys.stderr)
        self.assertEqual(reply["status"], "error")
        outs = self.iopub_until_idle(msg_id)
        self.assertEqual([m["msg_type"] for m in outs], ["error"])
        # The kernel stays usable and keeps its state.
        self.ok("x := 41")
        outs = self.ok("x + 1")
        self.assertEqual([m["content"]["data"]["text/plain"] for m in outs if m["msg_type"] == "execute_result"], ["42"])

    def test_interrupt_tight_loop(self):
        self.interrupt_loop()


class InterruptBySignalTests(InterruptByMessageTests):
    kernel_name = SIGNAL_KERNEL


class DisplayTests(KernelCase):
    def test_update_display_data(self):
        outs = self.ok('h := display.Show(display.HTML("<b>1</b>"))\nh.Update(display.HTML("<b>2</b>"))')
        kinds = [m["msg_type"] for m in outs]
        self.assertEqual(kinds, ["display_data", "update_display_data"])
        first, update = outs[0]["content"], outs[1]["content"]
        display_id = first["transient"]["display_id"]
        self.assertTrue(display_id)
        self.assertEqual(update["transient"], {"display_id": display_id})
        self.assertEqual(first["data"]["text/html"], "<b>1</b>")
        self.assertEqual(update["data"]["text/html"], "<b>2</b>")


class RestartAndHistoryTests(KernelCase):
    def test_restart_forgets_state_and_keeps_history(self):
        self.ok("restartMarker := 12345")
        before = self.reply(self.kc.history(hist_access_type="tail", n=1, output=False, raw=True))["content"]["history"]
        self.assertEqual(before[-1][2], "restartMarker := 12345")
        session = before[-1][0]

        self.km.restart_kernel(now=False)
        self.kc.wait_for_ready(timeout=TIMEOUT)
        self.flush()

        reply, outs = self.run_cell("restartMarker")
        self.assertEqual(reply["status"], "error", "state survived the restart")
        self.assertEqual(reply["execution_count"], 1)

        found = self.reply(self.kc.history(hist_access_type="search", pattern="restartMarker :=*",
                                           output=False, raw=True))["content"]["history"]
        self.assertIn([session, before[-1][1], "restartMarker := 12345"], found)
        tail = self.reply(self.kc.history(hist_access_type="tail", n=1, output=False, raw=True))["content"]["history"]
        self.assertGreater(tail[-1][0], session, "the restarted kernel must be a new session")


class BadSignatureTests(KernelCase):
    def test_bad_signatures_are_dropped(self):
        before = self.reply(self.kc.execute("1"))["content"]["execution_count"]
        forger = Session(key=b"not the key", session=self.kc.session.session)
        unsigned = Session(key=b"", session=self.kc.session.session)
        for s in (forger, unsigned):
            msg = s.msg("execute_request", {"code": 'panic("a forged cell ran")', "silent": False,
                                            "store_history": True, "user_expressions": {},
                                            "allow_stdin": False, "stop_on_error": True})
            s.send(self.kc.shell_channel.socket, msg)
        # The next reply on shell answers this good request: the forged ones
        # were dropped, never executed.
        good = self.kc.execute("1")
        msg = self.kc.get_shell_msg(timeout=TIMEOUT)
        self.assertEqual(msg["parent_header"]["msg_id"], good)
        self.assertEqual(msg["content"]["status"], "ok")
        self.assertEqual(msg["content"]["execution_count"], before + 1)


class ShutdownTests(KernelCase):
    @classmethod
    def tearDownClass(cls):
        cls.kc.stop_channels()

    def test_shutdown_exits_cleanly(self):
        proc = self.km.provisioner.process
        self.km.shutdown_kernel(now=False)
        self.assertFalse(self.km.is_alive())
        self.assertEqual(proc.wait(timeout=TIMEOUT), 0, "exit status of the kernel after shutdown_request")


if __name__ == "__main__":
    names = sys.argv[1:]
    loader = unittest.defaultTestLoader
    suite = loader.loadTestsFromNames(names, sys.modules[__name__]) if names else loader.loadTestsFromModule(sys.modules[__name__])
    result = unittest.TextTestRunner(stream=sys.stdout, verbosity=2).run(suite)
    sys.exit(0 if result.wasSuccessful() else 1)
