package kernel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"

	"github.com/graftml/graft/display"
	"github.com/graftml/graft/kernel/wire"
)

// executeRequest is the content of execute_request. Absent booleans take the
// protocol's defaults.
type executeRequest struct {
	Code            string            `json:"code"`
	Silent          bool              `json:"silent"`
	StoreHistory    *bool             `json:"store_history"`
	UserExpressions map[string]string `json:"user_expressions"`
	AllowStdin      *bool             `json:"allow_stdin"`
	StopOnError     *bool             `json:"stop_on_error"`
}

func orTrue(b *bool) bool { return b == nil || *b }

// execute runs one cell: execute_input, the cell's outputs while it runs,
// then one error output if it failed, and the execute_reply.
func (s *server) execute(m *wire.Message) error {
	var c executeRequest
	if err := decode(m, &c); err != nil {
		return err
	}
	req := ExecuteRequest{
		Code:            c.Code,
		Silent:          c.Silent,
		StoreHistory:    orTrue(c.StoreHistory) && !c.Silent,
		AllowStdin:      orTrue(c.AllowStdin),
		StopOnError:     orTrue(c.StopOnError),
		UserExpressions: c.UserExpressions,
	}
	started := nowDate()
	ctx, cancel := context.WithCancel(s.ctx)
	defer cancel()
	s.mu.Lock()
	if req.StoreHistory {
		s.count++
	}
	req.ExecutionCount = s.count
	s.running = cancel
	s.mu.Unlock()

	if !req.Silent {
		s.publish(m, "execute_input", map[string]any{"code": req.Code, "execution_count": req.ExecutionCount})
	}
	out := &cellOutput{s: s, req: m, ctx: ctx, silent: req.Silent, allowStdin: req.AllowStdin, count: req.ExecutionCount}
	res := s.runCell(ctx, req, out)

	s.mu.Lock()
	s.running = nil
	s.mu.Unlock()

	if req.StoreHistory {
		s.history.add(req.ExecutionCount, req.Code, out.resultText())
	}
	status := "ok"
	var content map[string]any
	var aborted []*wire.Message
	if e := res.Error; e != nil {
		status = "error"
		errOut := errorContent(e.Name, e.Value, e.Traceback)
		delete(errOut, "status")
		if !req.Silent {
			s.publish(m, "error", errOut)
		}
		content = errorContent(e.Name, e.Value, e.Traceback)
		if req.StopOnError {
			// What was sent before the frontend could see the error is
			// aborted; what it sends after is not.
			aborted = s.takeQueued()
		}
	} else {
		content = map[string]any{"status": "ok"}
	}
	content["execution_count"] = req.ExecutionCount
	content["payload"] = payload(res)
	content["user_expressions"] = userExpressions(res.UserExpressions)
	metadata := map[string]any{"started": started, "status": status, "dependencies_met": true, "engine": s.session}
	s.reply(s.shell, m, "execute_reply", metadata, content)
	s.abort(aborted)
	return nil
}

// runCell calls the language, turning a panic that escapes it into the
// cell's error instead of the end of the kernel. It runs on the shell loop's
// goroutine: control and the heartbeat have goroutines of their own.
func (s *server) runCell(ctx context.Context, req ExecuteRequest, out *cellOutput) (res Result) {
	defer func() {
		if r := recover(); r != nil {
			s.log.Printf("the language panicked running a cell: %v\n%s", r, debug.Stack())
			res = Result{Error: &CellError{
				Name:      "panic",
				Value:     fmt.Sprint(r),
				Traceback: []string{fmt.Sprintf("panic: %v (inside graft's interpreter; the kernel recovered)", r)},
			}}
		}
	}()
	return s.lang.Execute(ctx, req, out)
}

// payload turns a pager bundle into the execute_reply payload.
func payload(res Result) []any {
	if res.Pager == nil {
		return []any{}
	}
	data, _ := bundleJSON(*res.Pager)
	return []any{map[string]any{"source": "page", "data": data, "start": 0}}
}

func userExpressions(in map[string]ExpressionResult) map[string]any {
	out := make(map[string]any, len(in))
	for name, r := range in {
		if r.Error != nil {
			out[name] = errorContent(r.Error.Name, r.Error.Value, r.Error.Traceback)
			continue
		}
		data, metadata := bundleJSON(r.Value)
		out[name] = map[string]any{"status": "ok", "data": data, "metadata": metadata}
	}
	return out
}

// cellOutput is the Output of one running cell: everything it publishes
// names the cell's execute_request as its parent.
type cellOutput struct {
	s          *server
	req        *wire.Message
	ctx        context.Context
	silent     bool
	allowStdin bool
	count      int

	mu     sync.Mutex
	result *string // text/plain of the execute_result, for history
}

func (o *cellOutput) publish(msgType string, content any) {
	if !o.silent {
		o.s.publish(o.req, msgType, content)
	}
}

// Stream implements Output.
func (o *cellOutput) Stream(name, text string) {
	if text == "" {
		return
	}
	if name != "stderr" {
		name = "stdout"
	}
	o.publish("stream", map[string]string{"name": name, "text": text})
}

// Display implements Output.
func (o *cellOutput) Display(b display.Bundle, id string, update bool) {
	data, metadata := bundleJSON(b)
	transient := map[string]any{}
	if id != "" {
		transient["display_id"] = id
	}
	msgType := "display_data"
	if update {
		if id == "" {
			o.s.log.Printf("update_display_data without a display id: showing it as new output")
		} else {
			msgType = "update_display_data"
		}
	}
	o.publishBundle(msgType, map[string]any{"data": data, "metadata": metadata, "transient": transient})
}

// Result implements Output.
func (o *cellOutput) Result(b display.Bundle) {
	data, metadata := bundleJSON(b)
	text := b.Text()
	o.mu.Lock()
	o.result = &text
	o.mu.Unlock()
	o.publishBundle("execute_result", map[string]any{"execution_count": o.count, "data": data, "metadata": metadata})
}

// publishBundle publishes a display message; data that JSON cannot encode
// (NaN in application/json, say) is reported on stderr instead of lost
// silently.
func (o *cellOutput) publishBundle(msgType string, content map[string]any) {
	if o.silent {
		return
	}
	if err := o.s.publish(o.req, msgType, content); err != nil {
		o.Stream("stderr", fmt.Sprintf("graft: this output cannot be sent to the frontend: %v\n", err))
	}
}

// Clear implements Output.
func (o *cellOutput) Clear(wait bool) {
	o.publish("clear_output", map[string]bool{"wait": wait})
}

func (o *cellOutput) resultText() *string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.result
}

// ErrStdinNotAllowed is returned by Output.Input when the frontend sent the
// cell with allow_stdin false (nbconvert, for one, does).
var ErrStdinNotAllowed = errors.New("reading input: this frontend does not accept input requests (allow_stdin is false)")

// ErrInputInterrupted is returned by Output.Input when the cell is
// interrupted while it waits for the user.
var ErrInputInterrupted = errors.New("reading input: interrupted")

// Input implements Output: it sends input_request on the stdin socket to the
// frontend that sent the cell and waits for its input_reply.
func (o *cellOutput) Input(prompt string, password bool) (string, error) {
	if !o.allowStdin {
		return "", ErrStdinNotAllowed
	}
	s := o.s
	s.stdinMu.Lock()
	defer s.stdinMu.Unlock()
	// Forget a reply to an earlier, abandoned request.
	select {
	case <-s.stdinQ:
	default:
	}
	frames, h, err := s.encode(o.req.Identities, o.req, "input_request", nil, map[string]any{"prompt": prompt, "password": password})
	if err != nil {
		return "", err
	}
	// The send waits for the frontend's stdin connection; do it aside so an
	// interrupt still ends the wait.
	sent := make(chan error, 1)
	go func() { sent <- s.stdin.send(frames) }()
	for {
		select {
		case err := <-sent:
			if err != nil {
				return "", fmt.Errorf("sending input_request: %w", err)
			}
			sent = nil
		case r := <-s.stdinQ:
			// jupyter_client's input() sends its reply without a parent
			// header; a reply that names another request is stale.
			if p := parentID(r); p != "" && p != h.MsgID {
				s.log.Printf("ignoring an input_reply to %q, waiting for one to %q", parentID(r), h.MsgID)
				continue
			}
			var c struct {
				Value  string `json:"value"`
				Status string `json:"status"`
			}
			if err := json.Unmarshal(r.Content, &c); err != nil {
				return "", fmt.Errorf("bad input_reply: %w", err)
			}
			if c.Status != "" && c.Status != "ok" {
				return "", fmt.Errorf("reading input: the frontend answered with status %q", c.Status)
			}
			return c.Value, nil
		case <-o.ctx.Done():
			return "", ErrInputInterrupted
		}
	}
}

// parentID returns the msg_id of m's parent header.
func parentID(m *wire.Message) string {
	var h wire.Header
	json.Unmarshal(m.Parent, &h)
	return h.MsgID
}
