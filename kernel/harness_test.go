package kernel

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-zeromq/zmq4"
	"github.com/graftml/graft/display"
	"github.com/graftml/graft/kernel/comm"
	"github.com/graftml/graft/kernel/wire"
)

// waitLimit bounds every wait for a message, so that a kernel that never
// answers fails the test instead of hanging it. It is a deadlock guard, not
// a timing assertion.
const waitLimit = 20 * time.Second

// fakeLang is a Language whose cells are keywords the tests use.
type fakeLang struct {
	started chan string   // receives the code of each cell that blocks
	gate    chan struct{} // "gated-fail" waits for it
	resets  int
	outside Output // set while a comm callback runs (OutsideCellOutput)
}

func newFakeLang() *fakeLang {
	return &fakeLang{started: make(chan string, 10), gate: make(chan struct{})}
}

func (f *fakeLang) Info() LanguageInfo {
	return LanguageInfo{
		Name: "go", Version: "1.26.8", MIMEType: "text/x-go", FileExtension: ".go",
		PygmentsLexer: "go", CodeMirrorMode: "go", ImplementationVer: "0.1.0",
		Banner:    "graft test kernel",
		HelpLinks: []HelpLink{{Text: "Go", URL: "https://go.dev/doc/"}},
	}
}

var pngBytes = []byte("\x89PNG\r\n\x1a\nfake")

func (f *fakeLang) Execute(ctx context.Context, req ExecuteRequest, out Output) Result {
	code := req.Code
	switch {
	case code == "print":
		out.Stream("stdout", "hello, world\n")
		out.Stream("stderr", "careful\n")
	case code == "6*7":
		out.Result(display.NewBundle("42"))
	case code == "boom":
		return Result{Error: &CellError{Name: "panic", Value: "boom", Traceback: []string{"panic: boom", "cell line 1"}}}
	case code == "display":
		out.Display(display.HTML("<b>x</b>").Display(), "d1", false)
		out.Display(display.NewBundle("y"), "d1", true)
		out.Display(display.PNG(pngBytes).Display(), "", false)
	case code == "clear":
		out.Clear(true)
	case code == "pager":
		b := display.NewBundle("func Println(a ...any)")
		return Result{Pager: &b}
	case code == "block":
		f.started <- code
		<-ctx.Done()
		return Result{Error: &CellError{Name: "Interrupted", Value: "interrupted by the user"}}
	case code == "gated-fail":
		f.started <- code
		<-f.gate
		return Result{Error: &CellError{Name: "panic", Value: "after gate"}}
	case code == "input":
		v, err := out.Input("name? ", false)
		if err != nil {
			return Result{Error: &CellError{Name: "InputError", Value: err.Error()}}
		}
		out.Stream("stdout", "got "+v)
	case code == "input-block":
		f.started <- code
		_, err := out.Input("wait: ", true)
		return Result{Error: &CellError{Name: "InputError", Value: err.Error()}}
	case code == "panic":
		panic("a bug in the language")
	case code == "nan":
		return Result{UserExpressions: map[string]ExpressionResult{
			"x": {Value: display.Bundle{Data: map[string]any{"text/plain": "NaN", "application/json": math.NaN()}}},
		}}
	case code == "expr":
		return Result{UserExpressions: map[string]ExpressionResult{
			"a": {Value: display.NewBundle("1")},
			"b": {Error: &CellError{Name: "undefined", Value: "y"}},
		}}
	case strings.HasPrefix(code, "comm-open "):
		c, err := comm.Open(strings.TrimPrefix(code, "comm-open "), map[string]any{"n": 1})
		if err != nil {
			return Result{Error: &CellError{Name: "CommError", Value: err.Error()}}
		}
		c.Send(map[string]any{"hello": "frontend"})
		out.Stream("stdout", c.ID())
	}
	return Result{}
}

func (f *fakeLang) Complete(code string, cursor int) Completion {
	if strings.HasSuffix(code[:cursor], "fmt.Pr") {
		return Completion{Matches: []string{"Print", "Printf", "Println"}, CursorStart: cursor - 2, CursorEnd: cursor,
			Types: []string{"function", "function", "function"}}
	}
	return Completion{}
}

func (f *fakeLang) Inspect(code string, cursor, detail int) Inspection {
	if strings.Contains(code, "Println") {
		return Inspection{Found: true, Data: display.NewBundle("func fmt.Println(a ...any) (n int, err error)")}
	}
	return Inspection{}
}

func (f *fakeLang) IsComplete(code string) (string, string) {
	switch {
	case strings.HasSuffix(code, "{"):
		return "incomplete", "\t"
	case strings.HasSuffix(code, "}}"):
		return "invalid", ""
	}
	return "complete", ""
}

func (f *fakeLang) Reset() error { f.resets++; return nil }

// WithOutput implements OutsideCellOutput: fakeOut is where the test's comm
// callbacks print while the kernel runs them.
func (f *fakeLang) WithOutput(out Output, run func()) {
	f.outside = out
	defer func() { f.outside = nil }()
	run()
}

// testKernel is a kernel served in this process and a client connected to
// it through real ZeroMQ sockets.
type testKernel struct {
	t      testing.TB
	server *server
	info   ConnectionInfo
	lang   *fakeLang
	logBuf *syncBuffer
	done   chan error // Serve's result
	cancel context.CancelFunc

	signer                *wire.Signer
	session               string
	shell, control, stdin zmq4.Socket
	iopub, hb             zmq4.Socket
	shellIn, controlIn    chan *wire.Message
	stdinIn, iopubIn      chan *wire.Message
	clientCtx             context.Context
	clientCancel          context.CancelFunc
}

// syncBuffer is a bytes.Buffer safe for the kernel's logger and the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// ipcInfo returns a connection over ipc in a fresh directory (no ports to
// collide with), signed with a key.
func ipcInfo(t testing.TB) ConnectionInfo {
	dir, err := os.MkdirTemp("", "gk")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return ConnectionInfo{
		Transport: "ipc", IP: filepath.Join(dir, "k"),
		ShellPort: 1, ControlPort: 2, StdinPort: 3, IOPubPort: 4, HBPort: 5,
		Key: "a0436f6c-1916-498b-8eb9-e81ab9368e84", SignatureScheme: "hmac-sha256",
	}
}

type kernelConfig struct {
	info       ConnectionInfo
	lang       *fakeLang
	historyDir string
	signals    bool
}

// startKernel serves a kernel with a fake language and connects a client.
func startKernel(t testing.TB, cfg kernelConfig) *testKernel {
	t.Helper()
	if cfg.info.Transport == "" {
		cfg.info = ipcInfo(t)
	}
	if cfg.lang == nil {
		cfg.lang = newFakeLang()
	}
	if cfg.historyDir == "" {
		cfg.historyDir = t.TempDir()
	}
	k := &testKernel{t: t, info: cfg.info, lang: cfg.lang, logBuf: &syncBuffer{}, done: make(chan error, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	k.cancel = cancel
	s, err := newServer(ctx, cfg.info, cfg.lang, Options{Log: k.logBuf, HistoryDir: cfg.historyDir, NoSignals: !cfg.signals})
	if err != nil {
		t.Fatal(err)
	}
	k.server = s
	if err := s.bind(); err != nil {
		t.Fatal(err)
	}
	go func() { k.done <- s.serve() }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-k.done:
		case <-time.After(waitLimit):
			t.Errorf("Serve did not return after its context was cancelled")
		}
		if t.Failed() {
			t.Logf("kernel log:\n%s", k.logBuf.String())
		}
	})
	k.connect()
	return k
}

// connect dials the kernel's sockets as jupyter_client does: DEALERs with
// one identity for shell, control and stdin, a SUB for iopub, a REQ for the
// heartbeat; then it waits until iopub delivers (a PUB drops what it sends
// before the subscription arrives).
func (k *testKernel) connect() {
	t := k.t
	k.signer = wire.NewSigner([]byte(k.info.Key))
	k.session = newUUID()
	k.clientCtx, k.clientCancel = context.WithCancel(context.Background())
	id := zmq4.WithID(zmq4.SocketIdentity(k.session))
	// A kernel started as a process may take a while to bind under load
	// (zmq4 gives up after 10 retries by default): keep dialing for as long
	// as the tests wait for anything.
	retry := zmq4.WithDialerRetry(10 * time.Millisecond)
	patience := zmq4.WithDialerMaxRetries(int(waitLimit / (10 * time.Millisecond)))
	k.shell = zmq4.NewDealer(k.clientCtx, id, retry, patience)
	k.control = zmq4.NewDealer(k.clientCtx, id, retry, patience)
	k.stdin = zmq4.NewDealer(k.clientCtx, id, retry, patience)
	k.iopub = zmq4.NewSub(k.clientCtx, retry, patience)
	k.hb = zmq4.NewReq(k.clientCtx, retry, patience)
	for _, d := range []struct {
		s    zmq4.Socket
		port int
	}{{k.shell, k.info.ShellPort}, {k.control, k.info.ControlPort}, {k.stdin, k.info.StdinPort}, {k.iopub, k.info.IOPubPort}, {k.hb, k.info.HBPort}} {
		if err := d.s.Dial(k.info.Endpoint(d.port)); err != nil {
			t.Fatal(err)
		}
	}
	if err := k.iopub.SetOption(zmq4.OptionSubscribe, ""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		k.clientCancel()
		for _, s := range []zmq4.Socket{k.shell, k.control, k.stdin, k.iopub, k.hb} {
			s.Close()
		}
	})
	k.shellIn, k.controlIn = k.reader(k.shell), k.reader(k.control)
	k.stdinIn, k.iopubIn = k.reader(k.stdin), k.reader(k.iopub)

	deadline := time.Now().Add(waitLimit)
	for {
		id := k.send(k.shell, "kernel_info_request", map[string]any{})
		k.reply(k.shellIn, id)
		select {
		case <-k.iopubIn:
			k.drainIOPub()
			return
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("iopub never delivered a message")
		}
	}
}

// drainIOPub reads iopub until the idle status of a kernel_info probe,
// leaving nothing from the handshake behind.
func (k *testKernel) drainIOPub() {
	for {
		select {
		case <-k.iopubIn:
		case <-time.After(50 * time.Millisecond):
			return
		}
	}
}

// reader decodes what a client socket receives into a channel.
func (k *testKernel) reader(s zmq4.Socket) chan *wire.Message {
	ch := make(chan *wire.Message, 1000)
	go func() {
		for {
			msg, err := s.Recv()
			if err != nil {
				if k.clientCtx.Err() != nil {
					return
				}
				continue
			}
			m, err := k.signer.Decode(msg.Frames)
			if err != nil {
				k.t.Errorf("the kernel sent a message that does not decode: %v", err)
				continue
			}
			select {
			case ch <- m:
			case <-k.clientCtx.Done():
				return
			}
		}
	}()
	return ch
}

// frames builds a signed request.
func (k *testKernel) frames(msgType string, content any) ([][]byte, string) {
	h := wire.Header{MsgID: newUUID(), Session: k.session, Username: "test", Date: wire.Now(), MsgType: msgType, Version: "5.3"}
	c, err := json.Marshal(content)
	if err != nil {
		k.t.Fatal(err)
	}
	f, err := k.signer.Encode(&wire.Message{Header: h, Content: c})
	if err != nil {
		k.t.Fatal(err)
	}
	return f, h.MsgID
}

// send sends a request and returns its msg_id.
func (k *testKernel) send(s zmq4.Socket, msgType string, content any) string {
	f, id := k.frames(msgType, content)
	if err := s.Send(zmq4.NewMsgFrom(f...)); err != nil {
		k.t.Fatal(err)
	}
	return id
}

// next returns the next message on ch.
func (k *testKernel) next(ch chan *wire.Message, what string) *wire.Message {
	k.t.Helper()
	select {
	case m := <-ch:
		return m
	case <-time.After(waitLimit):
		k.t.Fatalf("no %s from the kernel", what)
		return nil
	}
}

// reply returns the next message on ch, which must answer the request id.
func (k *testKernel) reply(ch chan *wire.Message, id string) *wire.Message {
	k.t.Helper()
	m := k.next(ch, "reply to "+id)
	if p := parentID(m); p != id {
		k.t.Fatalf("got %s answering %q, want the reply to %q", m.Header.MsgType, p, id)
	}
	return m
}

// outputs returns the iopub messages of request id after its busy status,
// up to its idle status (both excluded); iopub messages of other requests
// are skipped.
func (k *testKernel) outputs(id string) []*wire.Message {
	k.t.Helper()
	var out []*wire.Message
	busy := false
	for {
		m := k.next(k.iopubIn, "iopub message for "+id)
		if parentID(m) != id {
			continue
		}
		if m.Header.MsgType == "status" {
			state := content(k.t, m)["execution_state"]
			if state == "busy" {
				busy = true
				continue
			}
			if state == "idle" {
				if !busy {
					k.t.Fatalf("idle before busy for %s", id)
				}
				return out
			}
		}
		if !busy {
			k.t.Fatalf("%s before busy for %s", m.Header.MsgType, id)
		}
		out = append(out, m)
	}
}

// execute runs code and returns the reply and the outputs.
func (k *testKernel) execute(code string, extra map[string]any) (map[string]any, []*wire.Message) {
	k.t.Helper()
	c := map[string]any{"code": code, "silent": false, "store_history": true, "user_expressions": map[string]any{}, "allow_stdin": true, "stop_on_error": true}
	for key, v := range extra {
		c[key] = v
	}
	id := k.send(k.shell, "execute_request", c)
	reply := k.reply(k.shellIn, id)
	if reply.Header.MsgType != "execute_reply" {
		k.t.Fatalf("reply type %s", reply.Header.MsgType)
	}
	return content(k.t, reply), k.outputs(id)
}

// request sends a shell request and returns the content of its reply.
func (k *testKernel) request(msgType string, c any) map[string]any {
	k.t.Helper()
	id := k.send(k.shell, msgType, c)
	r := k.reply(k.shellIn, id)
	k.outputs(id)
	want := strings.TrimSuffix(msgType, "_request") + "_reply"
	if r.Header.MsgType != want {
		k.t.Fatalf("reply type %s, want %s", r.Header.MsgType, want)
	}
	return content(k.t, r)
}

func content(t testing.TB, m *wire.Message) map[string]any {
	t.Helper()
	var c map[string]any
	if err := json.Unmarshal(m.Content, &c); err != nil {
		t.Fatalf("%s content: %v", m.Header.MsgType, err)
	}
	return c
}

// types lists the message types of msgs.
func types(msgs []*wire.Message) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = m.Header.MsgType
	}
	return out
}

// requestShutdown sends shutdown_request on control and returns the content
// of its reply.
func (k *testKernel) requestShutdown(restart bool) map[string]any {
	k.t.Helper()
	id := k.send(k.control, "shutdown_request", map[string]any{"restart": restart})
	return content(k.t, k.reply(k.controlIn, id))
}

// shutdown asks the in-process kernel to shut down and waits for Serve to
// return.
func (k *testKernel) shutdown(restart bool) map[string]any {
	k.t.Helper()
	r := k.requestShutdown(restart)
	select {
	case err := <-k.done:
		if err != nil {
			k.t.Fatalf("Serve returned %v after shutdown_request", err)
		}
		k.done <- nil // for the cleanup
	case <-time.After(waitLimit):
		k.t.Fatal("Serve did not return after shutdown_request")
	}
	return r
}

// queued returns how many shell requests wait in the kernel's queue.
func (k *testKernel) queued() int { return len(k.server.shellQ) }

// waitFor waits until cond holds (a deadlock guard bounds the wait).
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// freePorts returns five TCP ports that were free a moment ago.
func freePorts(t testing.TB) (a, b, c, d, e int) {
	var ports [5]int
	var ls []net.Listener
	for i := range ports {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
		ports[i] = l.Addr().(*net.TCPAddr).Port
	}
	for _, l := range ls {
		l.Close()
	}
	return ports[0], ports[1], ports[2], ports[3], ports[4]
}
