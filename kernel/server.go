package kernel

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-zeromq/zmq4"
	"github.com/graftml/graft/kernel/comm"
	"github.com/graftml/graft/kernel/wire"
)

// Options configure Serve. The zero value is what `graft kernel` uses.
type Options struct {
	// Log receives the kernel's log lines (dropped messages, unknown
	// requests, history problems); nil means standard error, which Jupyter
	// shows in the terminal it runs in.
	Log io.Writer
	// HistoryDir is the directory holding history.jsonl; "" means "graft"
	// in the user's Jupyter data directory ($JUPYTER_DATA_DIR, else
	// ~/.local/share/jupyter on Linux).
	HistoryDir string
	// NoSignals leaves SIGINT alone. By default SIGINT interrupts the
	// running cell, which is how Jupyter interrupts a kernel whose
	// kernelspec has no interrupt_mode "message".
	NoSignals bool
}

// Serve runs a kernel for the frontend described by connectionFile until
// the frontend asks it to shut down (Serve then returns nil) or ctx ends
// (Serve returns ctx's error). Cells run in lang. Comms (package comm) and
// SIGINT are process-wide, so a process serves one kernel at a time.
func Serve(ctx context.Context, connectionFile string, lang Language, opts Options) error {
	info, err := ReadConnectionFile(connectionFile)
	if err != nil {
		return err
	}
	return ServeConnection(ctx, info, lang, opts)
}

// ServeConnection is Serve with the connection already read.
func ServeConnection(ctx context.Context, info ConnectionInfo, lang Language, opts Options) error {
	s, err := newServer(ctx, info, lang, opts)
	if err != nil {
		return err
	}
	if err := s.bind(); err != nil {
		s.cancel()
		return err
	}
	return s.serve()
}

// socket is one of the kernel's ZeroMQ sockets with a lock that keeps the
// frames of concurrent sends apart.
type socket struct {
	name string
	mu   sync.Mutex
	zmq4.Socket
}

func (k *socket) send(frames [][]byte) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.Socket.Send(zmq4.NewMsgFrom(frames...))
}

// server is one running kernel.
type server struct {
	ctx    context.Context
	cancel context.CancelFunc
	info   ConnectionInfo
	lang   Language
	log    *log.Logger
	signer *wire.Signer
	opts   Options

	session  string // this kernel's session id, also its message id prefix
	user     string
	msgCount atomic.Uint64
	kinfo    map[string]any // kernel_info_reply content

	shell, control, stdin, iopub, hb *socket

	shellQ  chan *wire.Message
	stdinQ  chan *wire.Message
	stdinMu sync.Mutex // one input_request at a time

	history *history

	mu       sync.Mutex
	count    int                // execution count of the last stored cell
	running  context.CancelFunc // cancels the running cell; nil when idle
	parent   *wire.Message      // the shell request being handled
	stopped  chan struct{}      // closed by shutdown_request
	stopOnce sync.Once

	unknownSeen sync.Map // "socket msg_type" of unknown requests already logged
}

func newServer(ctx context.Context, info ConnectionInfo, lang Language, opts Options) (*server, error) {
	if lang == nil {
		return nil, errors.New("kernel: no Language to run cells in")
	}
	w := opts.Log
	if w == nil {
		w = os.Stderr
	}
	ctx, cancel := context.WithCancel(ctx)
	s := &server{
		ctx: ctx, cancel: cancel, info: info, lang: lang, opts: opts,
		log:     log.New(w, "graft kernel: ", log.LstdFlags),
		signer:  wire.NewSigner([]byte(info.Key)),
		session: newUUID(),
		user:    username(),
		shellQ:  make(chan *wire.Message, 1024),
		stdinQ:  make(chan *wire.Message, 1),
		stopped: make(chan struct{}),
	}
	if !s.signer.Signs() {
		s.log.Printf("warning: the connection file has no key: messages are not signed or checked")
	}
	s.kinfo = kernelInfo(lang.Info())
	return s, nil
}

func username() string {
	for _, v := range []string{"USER", "USERNAME", "LOGNAME"} {
		if u := os.Getenv(v); u != "" {
			return u
		}
	}
	return "graft"
}

// newUUID returns a random version-4 UUID in its usual text form.
func newUUID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("kernel: reading random bytes: " + err.Error())
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func nowDate() string { return wire.Now() }

// bind creates and binds the five sockets, exactly at the transport and
// address of the connection file.
func (s *server) bind() error {
	zlog := log.New(s.log.Writer(), "graft kernel: zmq4: ", log.LstdFlags)
	id := zmq4.WithID(zmq4.SocketIdentity(s.session))
	mk := []struct {
		dst  **socket
		name string
		port int
		new  func(context.Context, ...zmq4.Option) zmq4.Socket
	}{
		{&s.shell, "shell", s.info.ShellPort, zmq4.NewRouter},
		{&s.control, "control", s.info.ControlPort, zmq4.NewRouter},
		{&s.stdin, "stdin", s.info.StdinPort, zmq4.NewRouter},
		{&s.iopub, "iopub", s.info.IOPubPort, zmq4.NewPub},
		{&s.hb, "heartbeat", s.info.HBPort, zmq4.NewRep},
	}
	for _, m := range mk {
		sock := m.new(s.ctx, id, zmq4.WithLogger(zlog))
		ep := s.info.bindEndpoint(m.port)
		if err := sock.Listen(ep); err != nil {
			sock.Close()
			s.closeSockets()
			return fmt.Errorf("binding the %s socket to %s: %w", m.name, ep, err)
		}
		*m.dst = &socket{name: m.name, Socket: sock}
	}
	// PUB queues without bound by default; a subscriber that stops reading
	// must not grow the kernel's memory forever.
	if err := s.iopub.SetOption(zmq4.OptionHWM, 100000); err != nil {
		s.log.Printf("setting the iopub high-water mark: %v", err)
	}
	return nil
}

func (s *server) closeSockets() {
	for _, k := range []*socket{s.shell, s.control, s.stdin, s.iopub, s.hb} {
		if k != nil {
			k.Close()
		}
	}
	if s.info.Transport == "ipc" {
		// zmq4 removes the socket files of "ipc://" endpoints only.
		for _, p := range s.info.ports() {
			os.Remove(s.info.IP + "-" + strconv.Itoa(p.port))
		}
	}
}

// serve serves on the bound sockets until shutdown or until the context
// ends.
func (s *server) serve() error {
	defer s.cancel()
	// Jupyter interrupts with SIGINT unless the kernelspec asks for
	// messages; Go's default would be to exit.
	var sigs chan os.Signal
	if !s.opts.NoSignals {
		sigs = make(chan os.Signal, 1)
		signal.Notify(sigs, os.Interrupt)
		defer signal.Stop(sigs)
	}
	s.history = openHistory(s.opts.HistoryDir, s.log.Printf)
	prevTransport := comm.SetTransport(commBridge{s})

	var wg sync.WaitGroup
	start := func(f func()) {
		wg.Add(1)
		go func() { defer wg.Done(); f() }()
	}
	start(s.heartbeat)
	start(func() { s.readLoop(s.shell, s.queueShell) })
	start(func() { s.readLoop(s.control, s.handleControl) })
	start(func() { s.readLoop(s.stdin, s.handleStdin) })
	shellDone := make(chan struct{})
	go func() { defer close(shellDone); s.shellLoop() }()
	if sigs != nil {
		start(func() {
			for {
				select {
				case <-s.ctx.Done():
					return
				case <-sigs:
					s.log.Printf("SIGINT: interrupting the running cell")
					s.interrupt()
				}
			}
		})
	}
	s.publish(nil, "status", statusContent{"starting"})

	var err error
	select {
	case <-s.stopped:
	case <-s.ctx.Done():
		err = context.Cause(s.ctx)
	}
	s.interrupt()
	s.cancel()
	// The shell loop finishes once the running cell returns; a cell that
	// ignores its interrupt must not keep the kernel from exiting.
	select {
	case <-shellDone:
	case <-time.After(2 * time.Second):
		s.log.Printf("shutting down while a cell is still running")
	}
	s.closeSockets()
	wg.Wait()
	comm.SetTransport(prevTransport)
	comm.Reset()
	s.history.close()
	return err
}

// queueShell queues a shell request for the shell loop.
func (s *server) queueShell(m *wire.Message) {
	select {
	case s.shellQ <- m:
	case <-s.ctx.Done():
	}
}

// readLoop receives messages on k, drops the ones that fail to decode or
// verify, and passes the others to handle.
func (s *server) readLoop(k *socket, handle func(*wire.Message)) {
	for {
		msg, err := k.Recv()
		if err != nil {
			if s.ctx.Err() != nil {
				return
			}
			s.log.Printf("receiving on %s: %v", k.name, err)
			continue
		}
		m, err := s.signer.Decode(msg.Frames)
		if err != nil {
			s.log.Printf("dropping a message on %s: %v", k.name, err)
			continue
		}
		handle(m)
	}
}

// heartbeat echoes every ping, in its own goroutine so that a busy kernel
// still shows as alive.
func (s *server) heartbeat() {
	for {
		msg, err := s.hb.Recv()
		if err != nil {
			if s.ctx.Err() != nil {
				return
			}
			continue
		}
		if err := s.hb.send(msg.Frames); err != nil && s.ctx.Err() == nil {
			s.log.Printf("heartbeat: %v", err)
		}
	}
}

// newHeader returns a header for a new message of msgType.
func (s *server) newHeader(msgType string) wire.Header {
	return wire.Header{
		MsgID:    s.session + "_" + strconv.Itoa(os.Getpid()) + "_" + strconv.FormatUint(s.msgCount.Add(1), 10),
		Session:  s.session,
		Username: s.user,
		Date:     nowDate(),
		MsgType:  msgType,
		Version:  wire.ProtocolVersion,
	}
}

// encode builds and signs a message with parent as its parent (nil: none).
func (s *server) encode(idents [][]byte, parent *wire.Message, msgType string, metadata, content any) ([][]byte, wire.Header, error) {
	h := s.newHeader(msgType)
	m := &wire.Message{Identities: idents, Header: h}
	if parent != nil {
		m.Parent = parent.RawHeader
	}
	var err error
	if m.Content, err = marshal(content); err != nil {
		return nil, h, fmt.Errorf("encoding %s: %w", msgType, err)
	}
	if metadata != nil {
		if m.Metadata, err = marshal(metadata); err != nil {
			return nil, h, fmt.Errorf("encoding %s metadata: %w", msgType, err)
		}
	}
	frames, err := s.signer.Encode(m)
	return frames, h, err
}

// marshal is json.Marshal without HTML escaping: outputs carry HTML, and
// "<b>" reads better (and is shorter) on the wire than "\u003cb\u003e".
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// publish sends a message on iopub. Errors are logged and returned.
func (s *server) publish(parent *wire.Message, msgType string, content any) error {
	topic := []byte("kernel." + s.session + "." + msgType)
	frames, _, err := s.encode([][]byte{topic}, parent, msgType, nil, content)
	if err == nil {
		err = s.iopub.send(frames)
	}
	if err != nil && s.ctx.Err() == nil {
		s.log.Printf("publishing %s: %v", msgType, err)
		return err
	}
	return nil
}

// reply answers req on socket k. A reply that cannot be encoded (a NaN in
// a user expression's value, say) becomes an error reply, so that the
// frontend is never left waiting.
func (s *server) reply(k *socket, req *wire.Message, msgType string, metadata, content any) {
	frames, _, err := s.encode(req.Identities, req, msgType, metadata, content)
	if err != nil {
		s.log.Printf("replying: %v", err)
		frames, _, err = s.encode(req.Identities, req, msgType, nil, errorContent("EncodingError", err.Error(), nil))
		if err != nil {
			s.log.Printf("replying: %v", err)
			return
		}
	}
	if err := k.send(frames); err != nil && s.ctx.Err() == nil {
		s.log.Printf("sending %s on %s: %v", msgType, k.name, err)
	}
}

type statusContent struct {
	ExecutionState string `json:"execution_state"`
}

func (s *server) status(parent *wire.Message, state string) {
	_ = s.publish(parent, "status", statusContent{state})
}

// interrupt cancels the running cell, if any (an input request it waits
// on ends with it).
func (s *server) interrupt() {
	s.mu.Lock()
	cancel := s.running
	s.mu.Unlock()
	if cancel != nil {
		cancel()
	}
}

// stop ends Serve after the current request.
func (s *server) stop() {
	s.stopOnce.Do(func() { close(s.stopped) })
}

// handleControl answers a control request; it runs on the control socket's
// reader goroutine, so it is answered while a cell runs.
func (s *server) handleControl(m *wire.Message) {
	s.status(m, "busy")
	defer s.status(m, "idle")
	defer s.recoverHandler(m)
	switch m.Header.MsgType {
	case "interrupt_request":
		s.interrupt()
		s.reply(s.control, m, "interrupt_reply", nil, okContent)
	case "shutdown_request":
		s.shutdown(s.control, m)
	case "kernel_info_request":
		s.reply(s.control, m, "kernel_info_reply", nil, s.kinfo)
	default:
		s.unknown("control", m.Header.MsgType)
	}
}

var okContent = map[string]string{"status": "ok"}

func (s *server) shutdown(k *socket, m *wire.Message) {
	var req struct {
		Restart bool `json:"restart"`
	}
	json.Unmarshal(m.Content, &req) // a malformed request still shuts down
	content := map[string]any{"status": "ok", "restart": req.Restart}
	s.reply(k, m, "shutdown_reply", nil, content)
	s.publish(m, "shutdown_reply", content)
	s.stop()
}

// unknown logs a request of a type the kernel does not handle, once per
// socket and type: some frontend extensions poll with requests graft does not
// know (usage_request, say), and the log must stay readable.
func (s *server) unknown(socket, msgType string) {
	if _, seen := s.unknownSeen.LoadOrStore(socket+" "+msgType, true); !seen {
		s.log.Printf("ignoring requests of unknown type %q on %s", msgType, socket)
	}
}

// recoverHandler keeps a panic in a handler (or in the Language or a comm
// callback it calls) from ending the kernel.
func (s *server) recoverHandler(m *wire.Message) {
	if r := recover(); r != nil {
		s.log.Printf("panic while handling %s: %v", m.Header.MsgType, r)
	}
}

// handleStdin passes input replies to the cell waiting for one.
func (s *server) handleStdin(m *wire.Message) {
	if m.Header.MsgType != "input_reply" {
		s.log.Printf("ignoring unexpected %q on stdin", m.Header.MsgType)
		return
	}
	select {
	case s.stdinQ <- m:
	default:
		s.log.Printf("dropping an input_reply nobody waits for")
	}
}
