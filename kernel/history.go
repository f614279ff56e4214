package kernel

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
)

// historyFile is the name of the history file in the history directory.
const historyFile = "history.jsonl"

// Bounds on the history kept: maxHistory entries are kept in memory and
// answer history requests; the file is rewritten with only those when it has
// grown past twice as many lines.
const maxHistory = 10000

// historyEntry is one executed cell, also one line of the history file. A
// line with Start set and no Input marks the beginning of a session.
type historyEntry struct {
	Session int     `json:"session"`
	Line    int     `json:"line,omitempty"`
	Input   string  `json:"input,omitempty"`
	Output  *string `json:"output,omitempty"` // text/plain of Out[n], if any
	Start   string  `json:"start,omitempty"`  // date the session started
}

// history stores executed cells across kernel restarts in a JSON-lines file.
// Every kernel start is a new session, numbered one more than the highest in
// the file; a cell is (session, line) with line its execution count.
type history struct {
	ready   chan struct{} // closed once the file is loaded
	mu      sync.Mutex
	path    string
	file    *os.File // nil when the file could not be opened: memory only
	session int
	entries []historyEntry
	lines   int // lines in the file
	warn    func(format string, args ...any)
}

// defaultHistoryDir returns graft's directory in the user's Jupyter data
// directory: $JUPYTER_DATA_DIR, else the platform's default (on Linux
// $XDG_DATA_HOME/jupyter or ~/.local/share/jupyter), plus "graft".
func defaultHistoryDir() (string, error) {
	if d := os.Getenv("JUPYTER_DATA_DIR"); d != "" {
		return filepath.Join(d, "graft"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("finding the Jupyter data directory: %w", err)
	}
	switch runtime.GOOS {
	case "darwin":
		return filepath.Join(home, "Library", "Jupyter", "graft"), nil
	case "windows":
		if d := os.Getenv("APPDATA"); d != "" {
			return filepath.Join(d, "jupyter", "graft"), nil
		}
	}
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "jupyter", "graft"), nil
	}
	return filepath.Join(home, ".local", "share", "jupyter", "graft"), nil
}

// openHistory loads the history in dir and starts a new session. It returns
// at once and loads in the background (a long history must not delay the
// kernel's start); every method waits for the load. Problems with the file
// are reported through warn and leave a history that lives in memory only:
// losing history must never stop the kernel.
func openHistory(dir string, warn func(format string, args ...any)) *history {
	h := &history{warn: warn, session: 1, ready: make(chan struct{})}
	go func() {
		defer close(h.ready)
		h.open(dir)
	}()
	return h
}

func (h *history) open(dir string) {
	if dir == "" {
		d, err := defaultHistoryDir()
		if err != nil {
			h.warn("history kept in memory only: %v", err)
			return
		}
		dir = d
	}
	h.path = filepath.Join(dir, historyFile)
	if err := h.load(); err != nil {
		h.warn("reading history: %v", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		h.warn("history kept in memory only: %v", err)
		return
	}
	if h.lines > 2*maxHistory {
		if err := h.compact(); err != nil {
			h.warn("compacting history file %s: %v", h.path, err)
		}
	}
	f, err := os.OpenFile(h.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		h.warn("history kept in memory only: %v", err)
		return
	}
	h.file = f
	h.write(historyEntry{Session: h.session, Start: nowDate()})
}

// lock waits for the load, then locks h.
func (h *history) lock() {
	<-h.ready
	h.mu.Lock()
}

// load reads the file, keeping the last maxHistory entries, and sets the
// new session's number.
func (h *history) load() error {
	data, err := os.ReadFile(h.path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	last, bad := 0, 0
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, len(data)+1)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		h.lines++
		var e historyEntry
		if err := json.Unmarshal(line, &e); err != nil || e.Session <= 0 {
			bad++
			continue
		}
		last = max(last, e.Session)
		if e.Start == "" {
			h.entries = append(h.entries, e)
		}
	}
	h.trim()
	h.session = last + 1
	if bad > 0 {
		return fmt.Errorf("%s: skipped %d malformed lines", h.path, bad)
	}
	return sc.Err()
}

// compact rewrites the file with the entries in memory only, through a
// temporary file renamed over it.
func (h *history) compact() error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	for _, e := range h.entries {
		if err := enc.Encode(e); err != nil {
			return err
		}
	}
	tmp := h.path + ".tmp"
	if err := os.WriteFile(tmp, buf.Bytes(), 0o600); err != nil {
		return err
	}
	if err := os.Rename(tmp, h.path); err != nil {
		os.Remove(tmp)
		return err
	}
	h.lines = len(h.entries)
	return nil
}

func (h *history) trim() {
	if len(h.entries) > 2*maxHistory {
		h.entries = append([]historyEntry(nil), h.entries[len(h.entries)-maxHistory:]...)
	}
}

// write appends one line to the file; h is locked or still loading.
func (h *history) write(e historyEntry) {
	if h.file == nil {
		return
	}
	data, err := json.Marshal(e)
	if err == nil {
		_, err = h.file.Write(append(data, '\n'))
	}
	if err != nil {
		h.warn("writing history to %s: %v", h.path, err)
		return
	}
	h.lines++
}

// add records cell number line of the current session.
func (h *history) add(line int, input string, output *string) {
	h.lock()
	defer h.mu.Unlock()
	e := historyEntry{Session: h.session, Line: line, Input: input, Output: output}
	h.entries = append(h.entries, e)
	h.trim()
	h.write(e)
}

// close closes the file; later additions stay in memory.
func (h *history) close() {
	h.lock()
	defer h.mu.Unlock()
	if h.file != nil {
		h.file.Close()
		h.file = nil
	}
}

// historyRequest is the content of history_request.
type historyRequest struct {
	Output         bool   `json:"output"`
	Raw            bool   `json:"raw"`
	HistAccessType string `json:"hist_access_type"`
	Session        int    `json:"session"`
	Start          int    `json:"start"`
	Stop           int    `json:"stop"`
	N              *int   `json:"n"`
	Pattern        string `json:"pattern"`
	Unique         bool   `json:"unique"`
}

// query answers a history request with entries oldest first:
//
//   - tail: the last n cells (10 when n is absent) of all sessions;
//   - range: cells start ≤ line < stop of one session (stop ≤ 0: to the end;
//     session ≤ 0 counts back from the current one, 0 being the current);
//   - search: cells whose input matches the glob pattern (* any run of
//     characters, ? one, [abc] a class, as SQLite's GLOB), the last n if n
//     is given, each input once when unique.
func (h *history) query(r historyRequest) ([]historyEntry, error) {
	h.lock()
	defer h.mu.Unlock()
	n := -1
	if r.N != nil && *r.N > 0 {
		n = *r.N
	}
	var out []historyEntry
	switch r.HistAccessType {
	case "tail":
		if n < 0 {
			n = 10
		}
		out = lastN(h.entries, n)
	case "range":
		session := r.Session
		if session <= 0 {
			session += h.session
		}
		for _, e := range h.entries {
			if e.Session == session && e.Line >= r.Start && (r.Stop <= 0 || e.Line < r.Stop) {
				out = append(out, e)
			}
		}
	case "search":
		seen := map[string]bool{}
		for i := len(h.entries) - 1; i >= 0 && (n < 0 || len(out) < n); i-- {
			e := h.entries[i]
			if !globMatch(r.Pattern, e.Input) || (r.Unique && seen[e.Input]) {
				continue
			}
			seen[e.Input] = true
			out = append(out, e)
		}
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
	default:
		return nil, fmt.Errorf("hist_access_type %q is not one of tail, range, search", r.HistAccessType)
	}
	return out, nil
}

func lastN(e []historyEntry, n int) []historyEntry {
	if n >= len(e) {
		return append([]historyEntry(nil), e...)
	}
	return append([]historyEntry(nil), e[len(e)-n:]...)
}

// historyReply turns entries into the history list of history_reply:
// [session, line, input] or, with output, [session, line, [input, output]].
func historyReply(entries []historyEntry, output bool) []any {
	list := make([]any, len(entries))
	for i, e := range entries {
		if output {
			var out any
			if e.Output != nil {
				out = *e.Output
			}
			list[i] = []any{e.Session, e.Line, []any{e.Input, out}}
		} else {
			list[i] = []any{e.Session, e.Line, e.Input}
		}
	}
	return list
}

// globMatch reports whether s matches pattern with SQLite GLOB rules: * any
// run of characters (including none), ? exactly one character, [...] one
// character of a class ([^...] negated, a-z ranges); case-sensitive.
func globMatch(pattern, s string) bool {
	p, t := []rune(pattern), []rune(s)
	// Iterative matching with backtracking to the last star.
	pi, ti, star, mark := 0, 0, -1, 0
	for ti < len(t) {
		if pi < len(p) {
			switch p[pi] {
			case '*':
				star, mark = pi, ti
				pi++
				continue
			case '?':
				pi++
				ti++
				continue
			case '[':
				if end, ok := matchClass(p, pi, t[ti]); end > 0 {
					if ok {
						pi = end
						ti++
						continue
					}
				} else if t[ti] == '[' { // an unclosed [ matches itself
					pi++
					ti++
					continue
				}
			default:
				if p[pi] == t[ti] {
					pi++
					ti++
					continue
				}
			}
		}
		if star < 0 {
			return false
		}
		pi, mark = star+1, mark+1
		ti = mark
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

// matchClass matches c against the class starting at p[start] == '['. It
// returns the index after the closing ] (0 when the class is not closed) and
// whether c is in the class.
func matchClass(p []rune, start int, c rune) (end int, ok bool) {
	i := start + 1
	negate := i < len(p) && p[i] == '^'
	if negate {
		i++
	}
	first := true
	for ; i < len(p); i++ {
		if p[i] == ']' && !first {
			return i + 1, ok != negate
		}
		first = false
		lo := p[i]
		hi := lo
		if i+2 < len(p) && p[i+1] == '-' && p[i+2] != ']' {
			hi = p[i+2]
			i += 2
		}
		if lo <= c && c <= hi {
			ok = true
		}
	}
	return 0, false
}
