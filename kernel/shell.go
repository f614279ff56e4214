package kernel

import (
	"encoding/json"
	"errors"
	"unicode/utf8"

	"github.com/graftml/graft/display"
	"github.com/graftml/graft/kernel/comm"
	"github.com/graftml/graft/kernel/wire"
)

// shellLoop handles shell requests one at a time, in the order they came.
func (s *server) shellLoop() {
	for {
		select {
		case <-s.ctx.Done():
			return
		case m := <-s.shellQ:
			s.handleShell(m)
		}
	}
}

// takeQueued removes and returns the shell requests received so far.
func (s *server) takeQueued() []*wire.Message {
	var q []*wire.Message
	for {
		select {
		case m := <-s.shellQ:
			q = append(q, m)
		default:
			return q
		}
	}
}

// abort answers the execute requests of queued (taken by takeQueued when a
// cell failed with stop_on_error) with "aborted" replies, as ipykernel does;
// the other requests among them are handled normally, in order.
func (s *server) abort(queued []*wire.Message) {
	for _, m := range queued {
		if m.Header.MsgType != "execute_request" {
			s.handleShell(m)
			continue
		}
		s.status(m, "busy")
		s.reply(s.shell, m, "execute_reply", map[string]any{"status": "aborted"},
			map[string]any{"status": "aborted", "execution_count": s.executionCount()})
		s.status(m, "idle")
	}
}

func (s *server) executionCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.count
}

// shellHandlers maps each shell message type to its handler. (It is filled
// in init: execute refers back to it through abort.)
var shellHandlers map[string]func(*server, *wire.Message) error

func init() {
	shellHandlers = map[string]func(*server, *wire.Message) error{
		"execute_request": (*server).execute,
		"kernel_info_request": func(s *server, m *wire.Message) error {
			s.reply(s.shell, m, "kernel_info_reply", nil, s.kinfo)
			return nil
		},
		"complete_request":    (*server).complete,
		"inspect_request":     (*server).inspect,
		"is_complete_request": (*server).isComplete,
		"history_request":     (*server).historyRequest,
		"comm_info_request":   (*server).commInfo,
		"comm_open":           (*server).commOpen,
		"comm_msg":            (*server).commMsg,
		"comm_close":          (*server).commClose,
		"connect_request":     (*server).connect,
		"shutdown_request":    func(s *server, m *wire.Message) error { s.shutdown(s.shell, m); return nil },
	}
}

// handleShell handles one shell request between busy and idle status
// messages that name it as their parent.
func (s *server) handleShell(m *wire.Message) {
	s.status(m, "busy")
	defer s.status(m, "idle")
	s.setParent(m)
	defer s.setParent(nil)
	defer s.recoverHandler(m)
	h := shellHandlers[m.Header.MsgType]
	if h == nil {
		s.unknown("shell", m.Header.MsgType)
		return
	}
	if err := h(s, m); err != nil {
		s.log.Printf("%s: %v", m.Header.MsgType, err)
		if replyType, ok := replyTypes[m.Header.MsgType]; ok {
			s.reply(s.shell, m, replyType, nil, errorContent("BadRequest", err.Error(), nil))
		}
	}
}

// replyTypes names the reply of each request that has one.
var replyTypes = map[string]string{
	"execute_request":     "execute_reply",
	"complete_request":    "complete_reply",
	"inspect_request":     "inspect_reply",
	"is_complete_request": "is_complete_reply",
	"history_request":     "history_reply",
	"comm_info_request":   "comm_info_reply",
}

func (s *server) setParent(m *wire.Message) {
	s.mu.Lock()
	s.parent = m
	s.mu.Unlock()
}

func (s *server) currentParent() *wire.Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.parent
}

// errorContent is the content of an error reply or error output.
func errorContent(name, value string, traceback []string) map[string]any {
	if traceback == nil {
		traceback = []string{}
	}
	return map[string]any{"status": "error", "ename": name, "evalue": value, "traceback": traceback}
}

// decode unmarshals a request's content, naming the request in the error.
func decode(m *wire.Message, v any) error {
	if err := json.Unmarshal(m.Content, v); err != nil {
		return errors.New("bad " + m.Header.MsgType + " content: " + err.Error())
	}
	return nil
}

// cursor returns pos clamped to the code's length in runes; nil means the
// end of the code.
func cursor(code string, pos *int) int {
	n := utf8.RuneCountInString(code)
	if pos == nil || *pos > n {
		return n
	}
	return max(*pos, 0)
}

type codeRequest struct {
	Code        string `json:"code"`
	CursorPos   *int   `json:"cursor_pos"`
	DetailLevel int    `json:"detail_level"`
}

func (s *server) complete(m *wire.Message) error {
	var req codeRequest
	if err := decode(m, &req); err != nil {
		return err
	}
	pos := cursor(req.Code, req.CursorPos)
	c := s.lang.Complete(req.Code, pos)
	matches := c.Matches
	if matches == nil {
		matches = []string{}
	}
	start, end := c.CursorStart, c.CursorEnd
	if len(matches) == 0 && start == 0 && end == 0 {
		start, end = pos, pos
	}
	metadata := map[string]any{}
	if len(c.Types) == len(matches) && len(matches) > 0 {
		types := make([]map[string]any, len(matches))
		for i, text := range matches {
			types[i] = map[string]any{"start": start, "end": end, "text": text, "type": c.Types[i]}
		}
		metadata["_jupyter_types_experimental"] = types
	}
	s.reply(s.shell, m, "complete_reply", nil, map[string]any{
		"status": "ok", "matches": matches, "cursor_start": start, "cursor_end": end, "metadata": metadata,
	})
	return nil
}

func (s *server) inspect(m *wire.Message) error {
	var req codeRequest
	if err := decode(m, &req); err != nil {
		return err
	}
	in := s.lang.Inspect(req.Code, cursor(req.Code, req.CursorPos), req.DetailLevel)
	data, metadata := map[string]any{}, map[string]any{}
	if in.Found {
		data, metadata = bundleJSON(in.Data)
	}
	s.reply(s.shell, m, "inspect_reply", nil, map[string]any{
		"status": "ok", "found": in.Found, "data": data, "metadata": metadata,
	})
	return nil
}

func (s *server) isComplete(m *wire.Message) error {
	var req codeRequest
	if err := decode(m, &req); err != nil {
		// is_complete must always be answered: frontends wait for it.
		s.reply(s.shell, m, "is_complete_reply", nil, map[string]any{"status": "unknown"})
		return nil
	}
	status, indent := s.lang.IsComplete(req.Code)
	switch status {
	case "complete", "invalid", "unknown":
		s.reply(s.shell, m, "is_complete_reply", nil, map[string]any{"status": status})
	case "incomplete":
		s.reply(s.shell, m, "is_complete_reply", nil, map[string]any{"status": status, "indent": indent})
	default:
		s.log.Printf("the language answered is_complete with %q; replying unknown", status)
		s.reply(s.shell, m, "is_complete_reply", nil, map[string]any{"status": "unknown"})
	}
	return nil
}

func (s *server) historyRequest(m *wire.Message) error {
	var req historyRequest
	if err := decode(m, &req); err != nil {
		return err
	}
	entries, err := s.history.query(req)
	if err != nil {
		return err
	}
	s.reply(s.shell, m, "history_reply", nil, map[string]any{
		"status": "ok", "history": historyReply(entries, req.Output),
	})
	return nil
}

func (s *server) connect(m *wire.Message) error {
	s.reply(s.shell, m, "connect_reply", nil, map[string]any{
		"status": "ok", "shell_port": s.info.ShellPort, "iopub_port": s.info.IOPubPort,
		"stdin_port": s.info.StdinPort, "hb_port": s.info.HBPort, "control_port": s.info.ControlPort,
	})
	return nil
}

// kernelInfo builds the content of kernel_info_reply from the language's
// description, with graft's defaults for what it leaves empty.
func kernelInfo(li LanguageInfo) map[string]any {
	or := func(v, def string) string {
		if v == "" {
			return def
		}
		return v
	}
	lang := map[string]any{
		"name":            or(li.Name, "go"),
		"version":         li.Version,
		"mimetype":        or(li.MIMEType, "text/x-go"),
		"file_extension":  or(li.FileExtension, ".go"),
		"pygments_lexer":  or(li.PygmentsLexer, "go"),
		"codemirror_mode": or(li.CodeMirrorMode, "go"),
	}
	if li.NBConvertExporter != "" {
		lang["nbconvert_exporter"] = li.NBConvertExporter
	}
	links := make([]map[string]string, len(li.HelpLinks))
	for i, l := range li.HelpLinks {
		links[i] = map[string]string{"text": l.Text, "url": l.URL}
	}
	return map[string]any{
		"status":                 "ok",
		"protocol_version":       wire.ProtocolVersion,
		"implementation":         or(li.Implementation, "graft"),
		"implementation_version": li.ImplementationVer,
		"language_info":          lang,
		"banner":                 li.Banner,
		"help_links":             links,
		"debugger":               false,
	}
}

// bundleJSON returns a bundle's data and metadata as they go on the wire:
// []byte values (PNG, JPEG) base64-encoded by encoding/json, everything else
// as it is; nil maps become empty objects.
func bundleJSON(b display.Bundle) (data, metadata map[string]any) {
	data, metadata = b.Data, b.Metadata
	if data == nil {
		data = map[string]any{}
	}
	if metadata == nil {
		metadata = map[string]any{}
	}
	return data, metadata
}

type commContent struct {
	CommID     string         `json:"comm_id"`
	TargetName string         `json:"target_name"`
	Data       map[string]any `json:"data"`
}

func (s *server) commInfo(m *wire.Message) error {
	var req struct {
		TargetName string `json:"target_name"`
	}
	if err := decode(m, &req); err != nil {
		return err
	}
	comms := map[string]any{}
	for id, target := range comm.Info(req.TargetName) {
		comms[id] = map[string]string{"target_name": target}
	}
	s.reply(s.shell, m, "comm_info_reply", nil, map[string]any{"status": "ok", "comms": comms})
	return nil
}

// OutsideCellOutput is implemented by a Language that can show output made
// outside Execute: by the comm callbacks the kernel runs for the frontend's
// comm_open, comm_msg and comm_close. The kernel calls WithOutput with an
// Output whose messages name that comm message as their parent; while f runs,
// the Language sends what cell code prints or displays to it. Without it,
// such output is the Language's to keep or drop.
type OutsideCellOutput interface {
	WithOutput(out Output, f func())
}

// withOutput runs a comm callback with output routed to the frontend under
// the comm message m, when the language can do that.
func (s *server) withOutput(m *wire.Message, f func()) {
	l, ok := s.lang.(OutsideCellOutput)
	if !ok {
		f()
		return
	}
	l.WithOutput(&cellOutput{s: s, req: m, ctx: s.ctx}, f)
}

func (s *server) commOpen(m *wire.Message) error {
	var c commContent
	if err := decode(m, &c); err != nil {
		return err
	}
	var err error
	s.withOutput(m, func() { err = comm.HandleOpen(c.CommID, c.TargetName, c.Data) })
	if err != nil {
		// As ipykernel: tell the frontend the comm is closed.
		s.log.Printf("comm_open %s: %v", c.CommID, err)
		s.publish(m, "comm_close", map[string]any{"comm_id": c.CommID, "data": map[string]any{}})
	}
	return nil
}

func (s *server) commMsg(m *wire.Message) error {
	var c commContent
	if err := decode(m, &c); err != nil {
		return err
	}
	var err error
	s.withOutput(m, func() { err = comm.HandleMessage(c.CommID, c.Data) })
	if err != nil {
		s.log.Printf("%v", err)
	}
	return nil
}

func (s *server) commClose(m *wire.Message) error {
	var c commContent
	if err := decode(m, &c); err != nil {
		return err
	}
	var err error
	s.withOutput(m, func() { err = comm.HandleClose(c.CommID, c.Data) })
	if err != nil {
		s.log.Printf("%v", err)
	}
	return nil
}

// commBridge is the comm.Transport the kernel installs: comm messages from
// kernel code go out on iopub with the shell request being handled as their
// parent.
type commBridge struct{ s *server }

// Open implements comm.Transport: a comm opened by kernel code.
func (b commBridge) Open(id, target string, data map[string]any) error {
	return b.s.publish(b.s.currentParent(), "comm_open", map[string]any{"comm_id": id, "target_name": target, "data": data, "metadata": map[string]any{}})
}

// Send implements comm.Transport.
func (b commBridge) Send(id string, data map[string]any) error {
	return b.s.publish(b.s.currentParent(), "comm_msg", map[string]any{"comm_id": id, "data": data})
}

// Close implements comm.Transport.
func (b commBridge) Close(id string, data map[string]any) error {
	return b.s.publish(b.s.currentParent(), "comm_close", map[string]any{"comm_id": id, "data": data})
}
