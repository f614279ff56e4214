package kernel

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-zeromq/zmq4"
	"github.com/graftml/graft/kernel/comm"
	"github.com/graftml/graft/kernel/wire"
)

func TestKernelInfo(t *testing.T) {
	k := startKernel(t, kernelConfig{})
	c := k.request("kernel_info_request", map[string]any{})
	want := map[string]any{
		"status": "ok", "protocol_version": "5.3", "implementation": "graft", "implementation_version": "0.1.0",
		"banner": "graft test kernel", "debugger": false,
		"help_links": []any{map[string]any{"text": "Go", "url": "https://go.dev/doc/"}},
		"language_info": map[string]any{
			"name": "go", "version": "1.26.8", "mimetype": "text/x-go", "file_extension": ".go",
			"pygments_lexer": "go", "codemirror_mode": "go",
		},
	}
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("kernel_info_reply =\n%v\nwant\n%v", c, want)
	}
	// The same answer on control.
	id := k.send(k.control, "kernel_info_request", map[string]any{})
	if got := content(t, k.reply(k.controlIn, id)); !reflect.DeepEqual(got, want) {
		t.Fatalf("kernel_info_reply on control = %v", got)
	}
}

func TestExecuteStreamsAndResult(t *testing.T) {
	k := startKernel(t, kernelConfig{})
	reply, outs := k.execute("print", nil)
	if reply["status"] != "ok" || reply["execution_count"] != 1.0 {
		t.Fatalf("reply = %v", reply)
	}
	if got := types(outs); !reflect.DeepEqual(got, []string{"execute_input", "stream", "stream"}) {
		t.Fatalf("outputs = %v", got)
	}
	if c := content(t, outs[0]); c["code"] != "print" || c["execution_count"] != 1.0 {
		t.Fatalf("execute_input = %v", c)
	}
	if c := content(t, outs[1]); c["name"] != "stdout" || c["text"] != "hello, world\n" {
		t.Fatalf("stdout = %v", c)
	}
	if c := content(t, outs[2]); c["name"] != "stderr" || c["text"] != "careful\n" {
		t.Fatalf("stderr = %v", c)
	}
	reply, outs = k.execute("6*7", nil)
	if reply["execution_count"] != 2.0 {
		t.Fatalf("second cell's count = %v", reply["execution_count"])
	}
	if got := types(outs); !reflect.DeepEqual(got, []string{"execute_input", "execute_result"}) {
		t.Fatalf("outputs = %v", got)
	}
	want := map[string]any{"execution_count": 2.0, "data": map[string]any{"text/plain": "42"}, "metadata": map[string]any{}}
	if c := content(t, outs[1]); !reflect.DeepEqual(c, want) {
		t.Fatalf("execute_result = %v, want %v", c, want)
	}
	if !reflect.DeepEqual(reply["payload"], []any{}) || !reflect.DeepEqual(reply["user_expressions"], map[string]any{}) {
		t.Fatalf("payload/user_expressions = %v / %v", reply["payload"], reply["user_expressions"])
	}
}

func TestExecuteErrorHasExactlyOneErrorOutput(t *testing.T) {
	k := startKernel(t, kernelConfig{})
	reply, outs := k.execute("boom", nil)
	want := map[string]any{
		"status": "error", "ename": "panic", "evalue": "boom", "traceback": []any{"panic: boom", "cell line 1"},
		"execution_count": 1.0, "payload": []any{}, "user_expressions": map[string]any{},
	}
	if !reflect.DeepEqual(reply, want) {
		t.Fatalf("reply = %v\nwant %v", reply, want)
	}
	if got := types(outs); !reflect.DeepEqual(got, []string{"execute_input", "error"}) {
		t.Fatalf("outputs = %v, want execute_input then one error", got)
	}
	wantErr := map[string]any{"ename": "panic", "evalue": "boom", "traceback": []any{"panic: boom", "cell line 1"}}
	if c := content(t, outs[1]); !reflect.DeepEqual(c, wantErr) {
		t.Fatalf("error output = %v", c)
	}
}

func TestLanguagePanicBecomesCellError(t *testing.T) {
	k := startKernel(t, kernelConfig{})
	reply, outs := k.execute("panic", nil)
	if reply["status"] != "error" || reply["evalue"] != "a bug in the language" {
		t.Fatalf("reply = %v", reply)
	}
	if got := types(outs); !reflect.DeepEqual(got, []string{"execute_input", "error"}) {
		t.Fatalf("outputs = %v", got)
	}
	if reply, _ := k.execute("6*7", nil); reply["status"] != "ok" {
		t.Fatalf("kernel unusable after a language panic: %v", reply)
	}
}

func TestDisplayUpdateAndBinaryData(t *testing.T) {
	k := startKernel(t, kernelConfig{})
	_, outs := k.execute("display", nil)
	if got := types(outs); !reflect.DeepEqual(got, []string{"execute_input", "display_data", "update_display_data", "display_data"}) {
		t.Fatalf("outputs = %v", got)
	}
	first := content(t, outs[1])
	wantFirst := map[string]any{
		"data":      map[string]any{"text/plain": "x", "text/html": "<b>x</b>"},
		"metadata":  map[string]any{},
		"transient": map[string]any{"display_id": "d1"},
	}
	if !reflect.DeepEqual(first, wantFirst) {
		t.Fatalf("display_data = %v, want %v", first, wantFirst)
	}
	update := content(t, outs[2])
	if !reflect.DeepEqual(update["transient"], map[string]any{"display_id": "d1"}) || !reflect.DeepEqual(update["data"], map[string]any{"text/plain": "y"}) {
		t.Fatalf("update_display_data = %v", update)
	}
	png := content(t, outs[3])["data"].(map[string]any)["image/png"]
	if png != base64.StdEncoding.EncodeToString(pngBytes) {
		t.Fatalf("image/png = %v, want base64 of the bytes", png)
	}
}

func TestClearOutputAndPager(t *testing.T) {
	k := startKernel(t, kernelConfig{})
	_, outs := k.execute("clear", nil)
	if got := types(outs); !reflect.DeepEqual(got, []string{"execute_input", "clear_output"}) || content(t, outs[1])["wait"] != true {
		t.Fatalf("outputs = %v", got)
	}
	reply, _ := k.execute("pager", nil)
	want := []any{map[string]any{"source": "page", "data": map[string]any{"text/plain": "func Println(a ...any)"}, "start": 0.0}}
	if !reflect.DeepEqual(reply["payload"], want) {
		t.Fatalf("payload = %v, want %v", reply["payload"], want)
	}
}

func TestSilentAndUserExpressions(t *testing.T) {
	k := startKernel(t, kernelConfig{})
	reply, outs := k.execute("print", map[string]any{"silent": true})
	if len(outs) != 0 {
		t.Fatalf("silent cell published %v", types(outs))
	}
	if reply["execution_count"] != 0.0 {
		t.Fatalf("silent cell counted: %v", reply["execution_count"])
	}
	reply, _ = k.execute("expr", map[string]any{"user_expressions": map[string]any{"a": "1", "b": "y"}})
	want := map[string]any{
		"a": map[string]any{"status": "ok", "data": map[string]any{"text/plain": "1"}, "metadata": map[string]any{}},
		"b": map[string]any{"status": "error", "ename": "undefined", "evalue": "y", "traceback": []any{}},
	}
	if !reflect.DeepEqual(reply["user_expressions"], want) {
		t.Fatalf("user_expressions = %v", reply["user_expressions"])
	}
	if reply["execution_count"] != 1.0 {
		t.Fatalf("count after a silent cell = %v, want 1", reply["execution_count"])
	}
}

func TestUnencodableReplyBecomesAnError(t *testing.T) {
	k := startKernel(t, kernelConfig{})
	reply, _ := k.execute("nan", map[string]any{"user_expressions": map[string]any{"x": "math.NaN()"}})
	if reply["status"] != "error" || reply["ename"] != "EncodingError" || !strings.Contains(reply["evalue"].(string), "NaN") {
		t.Fatalf("reply = %v", reply)
	}
	// HTML is sent as it is, not \u003c-escaped.
	_, outs := k.execute("display", nil)
	if raw := string(outs[1].Content); !strings.Contains(raw, `"<b>x</b>"`) {
		t.Fatalf("display_data content %s", raw)
	}
}

func TestStopOnErrorAbortsQueuedCells(t *testing.T) {
	k := startKernel(t, kernelConfig{})
	failing := k.send(k.shell, "execute_request", map[string]any{"code": "gated-fail", "stop_on_error": true})
	<-k.lang.started
	queued1 := k.send(k.shell, "execute_request", map[string]any{"code": "6*7"})
	info := k.send(k.shell, "kernel_info_request", map[string]any{})
	queued2 := k.send(k.shell, "execute_request", map[string]any{"code": "print"})
	// Release the failing cell only once all three are queued in the kernel.
	waitFor(t, "three queued requests", func() bool { return k.queued() == 3 })
	k.lang.gate <- struct{}{}
	if r := content(t, k.reply(k.shellIn, failing)); r["status"] != "error" {
		t.Fatalf("failing cell reply = %v", r)
	}
	for _, id := range []string{queued1, info, queued2} {
		r := k.reply(k.shellIn, id)
		c := content(t, r)
		if id == info {
			if r.Header.MsgType != "kernel_info_reply" || c["status"] != "ok" {
				t.Fatalf("kernel_info between aborted cells: %s %v", r.Header.MsgType, c)
			}
			continue
		}
		if c["status"] != "aborted" {
			t.Fatalf("queued cell reply = %v, want aborted", c)
		}
	}
	// A cell sent as soon as the error reply arrives (before the idle
	// status) is not aborted: only what was queued before the reply is.
	failing = k.send(k.shell, "execute_request", map[string]any{"code": "boom", "stop_on_error": true})
	if r := content(t, k.reply(k.shellIn, failing)); r["status"] != "error" {
		t.Fatalf("failing cell reply = %v", r)
	}
	after := k.send(k.shell, "execute_request", map[string]any{"code": "6*7"})
	if c := content(t, k.reply(k.shellIn, after)); c["status"] != "ok" {
		t.Fatalf("cell sent after the error reply: %v", c)
	}
	// Without stop_on_error, a failure aborts nothing.
	failing = k.send(k.shell, "execute_request", map[string]any{"code": "gated-fail", "stop_on_error": false})
	<-k.lang.started
	next := k.send(k.shell, "execute_request", map[string]any{"code": "6*7"})
	waitFor(t, "one queued request", func() bool { return k.queued() == 1 })
	k.lang.gate <- struct{}{}
	k.reply(k.shellIn, failing)
	if c := content(t, k.reply(k.shellIn, next)); c["status"] != "ok" {
		t.Fatalf("cell after a failure without stop_on_error: %v", c)
	}
}

func TestIsComplete(t *testing.T) {
	k := startKernel(t, kernelConfig{})
	for code, want := range map[string]map[string]any{
		"x := 1":       {"status": "complete"},
		"func f() {":   {"status": "incomplete", "indent": "\t"},
		"x := 1 }}":    {"status": "invalid"},
		"if true {\n}": {"status": "complete"},
	} {
		if got := k.request("is_complete_request", map[string]any{"code": code}); !reflect.DeepEqual(got, want) {
			t.Errorf("is_complete(%q) = %v, want %v", code, got, want)
		}
	}
	// A request that does not decode is still answered.
	if got := k.request("is_complete_request", map[string]any{"code": 5}); got["status"] != "unknown" {
		t.Errorf("is_complete with a bad request = %v", got)
	}
}

func TestCompleteAndInspect(t *testing.T) {
	k := startKernel(t, kernelConfig{})
	got := k.request("complete_request", map[string]any{"code": "x := fmt.Pr", "cursor_pos": 11})
	types := []any{}
	for _, m := range []string{"Print", "Printf", "Println"} {
		types = append(types, map[string]any{"start": 9.0, "end": 11.0, "text": m, "type": "function"})
	}
	want := map[string]any{
		"status": "ok", "matches": []any{"Print", "Printf", "Println"}, "cursor_start": 9.0, "cursor_end": 11.0,
		"metadata": map[string]any{"_jupyter_types_experimental": types},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("complete_reply = %v\nwant %v", got, want)
	}
	got = k.request("complete_request", map[string]any{"code": "zzz", "cursor_pos": 3})
	want = map[string]any{"status": "ok", "matches": []any{}, "cursor_start": 3.0, "cursor_end": 3.0, "metadata": map[string]any{}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("empty complete_reply = %v", got)
	}
	got = k.request("inspect_request", map[string]any{"code": "fmt.Println", "cursor_pos": 5, "detail_level": 0})
	want = map[string]any{"status": "ok", "found": true, "metadata": map[string]any{},
		"data": map[string]any{"text/plain": "func fmt.Println(a ...any) (n int, err error)"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("inspect_reply = %v", got)
	}
	got = k.request("inspect_request", map[string]any{"code": "nothing", "cursor_pos": 3})
	if got["found"] != false || !reflect.DeepEqual(got["data"], map[string]any{}) {
		t.Fatalf("inspect_reply for nothing = %v", got)
	}
}

func TestHistoryAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	k := startKernel(t, kernelConfig{historyDir: dir})
	k.execute("print", nil)
	k.execute("6*7", nil)
	k.execute("not stored", map[string]any{"store_history": false})
	tail := k.request("history_request", map[string]any{"output": true, "raw": true, "hist_access_type": "tail", "n": 5})
	want := []any{[]any{1.0, 1.0, []any{"print", nil}}, []any{1.0, 2.0, []any{"6*7", "42"}}}
	if !reflect.DeepEqual(tail["history"], want) {
		t.Fatalf("tail in the first session = %v, want %v", tail["history"], want)
	}
	k.shutdown(true)

	// A second kernel on the same directory is session 2 and sees session 1.
	k = startKernel(t, kernelConfig{historyDir: dir})
	k.execute("6*7", nil)
	tail = k.request("history_request", map[string]any{"output": false, "raw": true, "hist_access_type": "tail", "n": 2})
	want = []any{[]any{1.0, 2.0, "6*7"}, []any{2.0, 1.0, "6*7"}}
	if !reflect.DeepEqual(tail["history"], want) {
		t.Fatalf("tail after restart = %v, want %v", tail["history"], want)
	}
	rng := k.request("history_request", map[string]any{"output": false, "raw": true, "hist_access_type": "range", "session": 1, "start": 1, "stop": 2})
	if want := []any{[]any{1.0, 1.0, "print"}}; !reflect.DeepEqual(rng["history"], want) {
		t.Fatalf("range of session 1 = %v, want %v", rng["history"], want)
	}
	rng = k.request("history_request", map[string]any{"output": false, "raw": true, "hist_access_type": "range", "session": -1})
	if len(rng["history"].([]any)) != 2 {
		t.Fatalf("range of the previous session (-1) = %v, want its two cells", rng["history"])
	}
	search := k.request("history_request", map[string]any{"output": false, "raw": true, "hist_access_type": "search", "pattern": "6?7"})
	if want := []any{[]any{1.0, 2.0, "6*7"}, []any{2.0, 1.0, "6*7"}}; !reflect.DeepEqual(search["history"], want) {
		t.Fatalf("search = %v", search["history"])
	}
	search = k.request("history_request", map[string]any{"output": false, "raw": true, "hist_access_type": "search", "pattern": "*", "unique": true})
	if want := []any{[]any{1.0, 1.0, "print"}, []any{2.0, 1.0, "6*7"}}; !reflect.DeepEqual(search["history"], want) {
		t.Fatalf("unique search = %v", search["history"])
	}
}

func TestCommRoundTrip(t *testing.T) {
	k := startKernel(t, kernelConfig{})
	var closed map[string]any
	comm.RegisterTarget("echo", func(c *comm.Comm, data map[string]any) {
		c.Send(map[string]any{"opened_with": data["x"]})
		c.OnMessage(func(msg map[string]any) { c.Send(map[string]any{"echo": msg["v"]}) })
		c.OnClose(func(msg map[string]any) {
			closed = msg
			k.lang.outside.Stream("stdout", "closed\n")
		})
	})
	openID := k.send(k.shell, "comm_open", map[string]any{"comm_id": "c1", "target_name": "echo", "data": map[string]any{"x": 1}})
	outs := k.outputs(openID)
	if got := types(outs); !reflect.DeepEqual(got, []string{"comm_msg"}) {
		t.Fatalf("outputs of comm_open = %v", got)
	}
	if c := content(t, outs[0]); !reflect.DeepEqual(c, map[string]any{"comm_id": "c1", "data": map[string]any{"opened_with": 1.0}}) {
		t.Fatalf("comm_msg = %v", c)
	}
	info := k.request("comm_info_request", map[string]any{"target_name": "echo"})
	if !reflect.DeepEqual(info["comms"], map[string]any{"c1": map[string]any{"target_name": "echo"}}) {
		t.Fatalf("comm_info = %v", info)
	}
	if info := k.request("comm_info_request", map[string]any{"target_name": "other"}); !reflect.DeepEqual(info["comms"], map[string]any{}) {
		t.Fatalf("comm_info for another target = %v", info)
	}
	msgID := k.send(k.shell, "comm_msg", map[string]any{"comm_id": "c1", "data": map[string]any{"v": "hi"}})
	outs = k.outputs(msgID)
	if len(outs) != 1 || !reflect.DeepEqual(content(t, outs[0]), map[string]any{"comm_id": "c1", "data": map[string]any{"echo": "hi"}}) {
		t.Fatalf("echo = %v", types(outs))
	}
	closeID := k.send(k.shell, "comm_close", map[string]any{"comm_id": "c1", "data": map[string]any{"bye": true}})
	outs = k.outputs(closeID)
	if !reflect.DeepEqual(closed, map[string]any{"bye": true}) {
		t.Fatalf("OnClose saw %v", closed)
	}
	// What the callback printed went out under the comm_close.
	if len(outs) != 1 || !reflect.DeepEqual(content(t, outs[0]), map[string]any{"name": "stdout", "text": "closed\n"}) {
		t.Fatalf("outputs of comm_close = %v", types(outs))
	}
	if info := k.request("comm_info_request", map[string]any{}); !reflect.DeepEqual(info["comms"], map[string]any{}) {
		t.Fatalf("comm_info after close = %v", info)
	}

	// An unknown target is answered with comm_close.
	openID = k.send(k.shell, "comm_open", map[string]any{"comm_id": "c2", "target_name": "nobody", "data": map[string]any{}})
	outs = k.outputs(openID)
	if len(outs) != 1 || outs[0].Header.MsgType != "comm_close" || content(t, outs[0])["comm_id"] != "c2" {
		t.Fatalf("unknown target answered with %v", types(outs))
	}

	// A comm opened by a cell.
	_, outs = k.execute("comm-open plot", nil)
	if got := types(outs); !reflect.DeepEqual(got, []string{"execute_input", "comm_open", "comm_msg", "stream"}) {
		t.Fatalf("outputs = %v", got)
	}
	open := content(t, outs[1])
	id := content(t, outs[3])["text"]
	if open["target_name"] != "plot" || open["comm_id"] != id || !reflect.DeepEqual(open["data"], map[string]any{"n": 1.0}) {
		t.Fatalf("comm_open = %v (cell saw id %v)", open, id)
	}
}

func TestStdinRoundTrip(t *testing.T) {
	k := startKernel(t, kernelConfig{})
	id := k.send(k.shell, "execute_request", map[string]any{"code": "input", "allow_stdin": true})
	req := k.next(k.stdinIn, "input_request")
	if req.Header.MsgType != "input_request" || parentID(req) != id {
		t.Fatalf("got %s with parent %s", req.Header.MsgType, parentID(req))
	}
	if c := content(t, req); !reflect.DeepEqual(c, map[string]any{"prompt": "name? ", "password": false}) {
		t.Fatalf("input_request = %v", c)
	}
	// The reply names the input_request as its parent, as jupyter_client's does.
	h := wire.Header{MsgID: newUUID(), Session: k.session, Username: "test", Date: wire.Now(), MsgType: "input_reply", Version: "5.3"}
	f, err := k.signer.Encode(&wire.Message{Header: h, Parent: req.RawHeader, Content: json.RawMessage(`{"value":"Ada"}`)})
	if err != nil {
		t.Fatal(err)
	}
	if err := k.stdin.Send(zmq4.NewMsgFrom(f...)); err != nil {
		t.Fatal(err)
	}
	if r := content(t, k.reply(k.shellIn, id)); r["status"] != "ok" {
		t.Fatalf("reply = %v", r)
	}
	outs := k.outputs(id)
	if got := content(t, outs[len(outs)-1])["text"]; got != "got Ada" {
		t.Fatalf("cell printed %q", got)
	}

	// jupyter_client's input() sends the reply without a parent header.
	id = k.send(k.shell, "execute_request", map[string]any{"code": "input", "allow_stdin": true})
	k.next(k.stdinIn, "input_request")
	k.send(k.stdin, "input_reply", map[string]any{"value": "Grace"})
	k.reply(k.shellIn, id)
	outs = k.outputs(id)
	if got := content(t, outs[len(outs)-1])["text"]; got != "got Grace" {
		t.Fatalf("cell printed %q after a reply without parent", got)
	}
}

func TestStdinNotAllowed(t *testing.T) {
	k := startKernel(t, kernelConfig{})
	reply, _ := k.execute("input", map[string]any{"allow_stdin": false})
	if reply["status"] != "error" || reply["evalue"] != ErrStdinNotAllowed.Error() {
		t.Fatalf("reply = %v", reply)
	}
}

func TestInterruptMessage(t *testing.T) {
	k := startKernel(t, kernelConfig{})
	id := k.send(k.shell, "execute_request", map[string]any{"code": "block"})
	<-k.lang.started
	// The heartbeat and control keep answering while the cell runs.
	if err := k.hb.Send(zmq4.NewMsgString("ping")); err != nil {
		t.Fatal(err)
	}
	if pong, err := k.hb.Recv(); err != nil || string(pong.Frames[0]) != "ping" {
		t.Fatalf("heartbeat answered %v, %v", pong, err)
	}
	intr := k.send(k.control, "interrupt_request", map[string]any{})
	if r := k.reply(k.controlIn, intr); r.Header.MsgType != "interrupt_reply" || content(t, r)["status"] != "ok" {
		t.Fatalf("interrupt reply = %s %v", r.Header.MsgType, content(t, r))
	}
	if r := content(t, k.reply(k.shellIn, id)); r["status"] != "error" || r["ename"] != "Interrupted" {
		t.Fatalf("interrupted cell reply = %v", r)
	}
	if reply, _ := k.execute("6*7", nil); reply["status"] != "ok" {
		t.Fatalf("cell after the interrupt: %v", reply)
	}
}

func TestInterruptWhileWaitingForInput(t *testing.T) {
	k := startKernel(t, kernelConfig{})
	id := k.send(k.shell, "execute_request", map[string]any{"code": "input-block", "allow_stdin": true})
	<-k.lang.started
	if req := k.next(k.stdinIn, "input_request"); content(t, req)["password"] != true {
		t.Fatalf("input_request = %v", content(t, req))
	}
	intr := k.send(k.control, "interrupt_request", map[string]any{})
	k.reply(k.controlIn, intr)
	if r := content(t, k.reply(k.shellIn, id)); r["evalue"] != ErrInputInterrupted.Error() {
		t.Fatalf("reply = %v", r)
	}
}

func TestInterruptSIGINT(t *testing.T) {
	k := startKernel(t, kernelConfig{signals: true})
	id := k.send(k.shell, "execute_request", map[string]any{"code": "block"})
	<-k.lang.started
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if r := content(t, k.reply(k.shellIn, id)); r["ename"] != "Interrupted" {
		t.Fatalf("reply = %v", r)
	}
	if reply, _ := k.execute("6*7", nil); reply["status"] != "ok" {
		t.Fatalf("cell after SIGINT: %v", reply)
	}
}

func TestBadSignaturesAreDropped(t *testing.T) {
	k := startKernel(t, kernelConfig{})
	bad := []struct {
		name   string
		frames func() [][]byte
	}{
		{"wrong signature", func() [][]byte {
			f, _ := k.frames("execute_request", map[string]any{"code": "print"})
			f[1] = []byte(strings.Repeat("0", 64))
			return f
		}},
		{"missing signature", func() [][]byte {
			f, _ := k.frames("execute_request", map[string]any{"code": "print"})
			f[1] = nil
			return f
		}},
		{"signed with another key", func() [][]byte {
			f, _ := k.frames("execute_request", map[string]any{"code": "print"})
			f[1] = []byte(wire.NewSigner([]byte("not the key")).Sign(f[2], f[3], f[4], f[5]))
			return f
		}},
		{"tampered content", func() [][]byte {
			f, _ := k.frames("execute_request", map[string]any{"code": "print"})
			f[5] = []byte(`{"code":"boom"}`)
			return f
		}},
		{"garbage", func() [][]byte { return [][]byte{[]byte("garbage")} }},
	}
	for _, b := range bad {
		if err := k.shell.Send(zmq4.NewMsgFrom(b.frames()...)); err != nil {
			t.Fatal(err)
		}
		// Also on control: an unsigned shutdown must not stop the kernel.
		f, _ := k.frames("shutdown_request", map[string]any{"restart": false})
		f[1] = []byte(strings.Repeat("f", 64))
		k.control.Send(zmq4.NewMsgFrom(f...))
	}
	// The next reply on shell answers the good request that follows: the
	// bad ones were never acted on.
	reply, outs := k.execute("6*7", nil)
	if reply["execution_count"] != 1.0 {
		t.Fatalf("a dropped request was executed: count %v", reply["execution_count"])
	}
	if got := types(outs); !reflect.DeepEqual(got, []string{"execute_input", "execute_result"}) {
		t.Fatalf("outputs = %v", got)
	}
	// Likewise on control: the reply to a good request comes after the
	// forged shutdowns were dropped (and the kernel is still there).
	id := k.send(k.control, "kernel_info_request", map[string]any{})
	k.reply(k.controlIn, id)
	log := k.logBuf.String()
	if n := strings.Count(log, "dropping a message on shell"); n != len(bad) {
		t.Fatalf("log has %d drops on shell, want %d:\n%s", n, len(bad), log)
	}
	if n := strings.Count(log, "dropping a message on control"); n != len(bad) {
		t.Fatalf("log has %d drops on control, want %d:\n%s", n, len(bad), log)
	}
}

func TestUnknownRequestsAreLoggedOnce(t *testing.T) {
	k := startKernel(t, kernelConfig{})
	for range 3 {
		// Unanswered, but the kernel publishes busy and idle for each.
		k.outputs(k.send(k.shell, "usage_request", map[string]any{}))
	}
	if n := strings.Count(k.logBuf.String(), `unknown type "usage_request" on shell`); n != 1 {
		t.Fatalf("logged %d times:\n%s", n, k.logBuf.String())
	}
}

func TestShutdown(t *testing.T) {
	for _, restart := range []bool{false, true} {
		k := startKernel(t, kernelConfig{})
		if got := k.shutdown(restart); !reflect.DeepEqual(got, map[string]any{"status": "ok", "restart": restart}) {
			t.Fatalf("shutdown_reply = %v", got)
		}
	}
}

func TestShutdownInterruptsRunningCell(t *testing.T) {
	k := startKernel(t, kernelConfig{})
	k.send(k.shell, "execute_request", map[string]any{"code": "block"})
	<-k.lang.started
	k.shutdown(false)
}

func TestTCPTransport(t *testing.T) {
	info := ConnectionInfo{Transport: "tcp", IP: "127.0.0.1", Key: "k", SignatureScheme: "hmac-sha256"}
	info.ShellPort, info.ControlPort, info.StdinPort, info.IOPubPort, info.HBPort = freePorts(t)
	k := startKernel(t, kernelConfig{info: info})
	if reply, _ := k.execute("6*7", nil); reply["status"] != "ok" {
		t.Fatalf("reply = %v", reply)
	}
}

func TestUnsignedConnection(t *testing.T) {
	info := ipcInfo(t)
	info.Key, info.SignatureScheme = "", ""
	k := startKernel(t, kernelConfig{info: info})
	if reply, _ := k.execute("6*7", nil); reply["status"] != "ok" {
		t.Fatalf("reply = %v", reply)
	}
	if !strings.Contains(k.logBuf.String(), "no key") {
		t.Fatalf("no warning about the missing key in the log:\n%s", k.logBuf.String())
	}
}

// TestHugeFrameAnnouncementIsRefused: a local process that connects to the
// shell socket and announces a frame of a terabyte is disconnected, and the
// kernel goes on answering its real client.
func TestHugeFrameAnnouncementIsRefused(t *testing.T) {
	k := startKernel(t, kernelConfig{})
	conn, err := net.Dial("unix", k.info.IP+"-"+strconv.Itoa(k.info.ShellPort))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	greeting := make([]byte, 64)
	greeting[0], greeting[9], greeting[10], greeting[11] = 0xff, 0x7f, 3, 0 // signature, ZMTP 3.0
	copy(greeting[12:], "NULL")
	huge := []byte{flagLong, 0, 0, 1, 0, 0, 0, 0, 0} // 2^40 bytes
	conn.Write(append(greeting, huge...))

	if c := k.request("kernel_info_request", map[string]any{}); c["status"] != "ok" {
		t.Fatalf("kernel_info after the huge frame: %v", c)
	}
	conn.SetReadDeadline(time.Now().Add(waitLimit))
	if _, err := io.ReadAll(conn); err != nil {
		t.Errorf("the refused connection was not closed: %v", err)
	}
}
