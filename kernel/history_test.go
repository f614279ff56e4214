package kernel

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

func TestGlobMatch(t *testing.T) {
	cases := []struct {
		pattern, s string
		want       bool
	}{
		{"6*7", "6*7", true},
		{"6*7", "6 * 7", true},
		{"6*7", "67", true},
		{"6*7", "6*8", false},
		{"1?2*", "1+2", true},
		{"1?2*", "1+23", true},
		{"1?2*", "12", false},
		{"*fmt.Print*", "x := 1\nfmt.Println(x)", true},
		{"a/b*", "a/b/c", true}, // * crosses slashes, unlike path.Match
		{"[abc]x", "bx", true},
		{"[abc]x", "dx", false},
		{"[^abc]x", "dx", true},
		{"[a-c]*", "cat", true},
		{"[]]", "]", true},
		{"[unclosed", "[unclosed", true},
		{"Foo", "foo", false}, // case-sensitive, as SQLite GLOB
		{"*", "", true},
		{"?", "", false},
		{"é?", "éa", true},
		{"**a", "bba", true},
	}
	for _, c := range cases {
		if got := globMatch(c.pattern, c.s); got != c.want {
			t.Errorf("globMatch(%q, %q) = %v, want %v", c.pattern, c.s, got, c.want)
		}
	}
}

func quietHistory(t *testing.T, dir string) (*history, *[]string) {
	var warnings []string
	h := openHistory(dir, func(f string, a ...any) { warnings = append(warnings, fmt.Sprintf(f, a...)) })
	t.Cleanup(h.close)
	<-h.ready
	return h, &warnings
}

func lines(entries []historyEntry) []string {
	out := make([]string, len(entries))
	for i, e := range entries {
		out[i] = fmt.Sprintf("%d/%d %s", e.Session, e.Line, e.Input)
	}
	return out
}

func intp(n int) *int { return &n }

func TestHistoryQueries(t *testing.T) {
	dir := t.TempDir()
	h, _ := quietHistory(t, dir)
	for i, code := range []string{"a := 1", "b := 2", "a + b", "a := 1"} {
		h.add(i+1, code, nil)
	}
	h.close()
	h, warnings := quietHistory(t, dir)
	if h.session != 2 {
		t.Fatalf("second session numbered %d", h.session)
	}
	h.add(1, "c := 3", nil)
	cases := []struct {
		req  historyRequest
		want []string
	}{
		{historyRequest{HistAccessType: "tail", N: intp(2)}, []string{"1/4 a := 1", "2/1 c := 3"}},
		{historyRequest{HistAccessType: "tail", N: intp(100)}, []string{"1/1 a := 1", "1/2 b := 2", "1/3 a + b", "1/4 a := 1", "2/1 c := 3"}},
		{historyRequest{HistAccessType: "range", Session: 1, Start: 2, Stop: 4}, []string{"1/2 b := 2", "1/3 a + b"}},
		{historyRequest{HistAccessType: "range", Session: 1, Start: 3}, []string{"1/3 a + b", "1/4 a := 1"}},
		{historyRequest{HistAccessType: "range", Session: 0}, []string{"2/1 c := 3"}},
		{historyRequest{HistAccessType: "range", Session: -1, Start: 4}, []string{"1/4 a := 1"}},
		{historyRequest{HistAccessType: "search", Pattern: "a*"}, []string{"1/1 a := 1", "1/3 a + b", "1/4 a := 1"}},
		{historyRequest{HistAccessType: "search", Pattern: "a*", Unique: true}, []string{"1/3 a + b", "1/4 a := 1"}},
		{historyRequest{HistAccessType: "search", Pattern: "a*", N: intp(1)}, []string{"1/4 a := 1"}},
		{historyRequest{HistAccessType: "search", Pattern: "zzz"}, []string{}},
	}
	for _, c := range cases {
		got, err := h.query(c.req)
		if err != nil {
			t.Fatal(err)
		}
		if g := lines(got); !reflect.DeepEqual(g, c.want) {
			t.Errorf("query %+v = %q, want %q", c.req, g, c.want)
		}
	}
	if _, err := h.query(historyRequest{HistAccessType: "all"}); err == nil || !strings.Contains(err.Error(), `"all"`) {
		t.Errorf("unknown access type: %v", err)
	}
	if len(*warnings) != 0 {
		t.Errorf("warnings: %q", *warnings)
	}
}

func TestHistorySkipsMalformedLinesAndCompacts(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("not json\n{\"session\":3,\"line\":1,\"input\":\"x\"}\n\n{\"session\":0}\n")
	for i := range 2*maxHistory + 10 {
		fmt.Fprintf(&b, "{\"session\":4,\"line\":%d,\"input\":\"c%d\"}\n", i+1, i+1)
	}
	if err := os.WriteFile(filepath.Join(dir, historyFile), []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	h, warnings := quietHistory(t, dir)
	if h.session != 5 {
		t.Fatalf("session %d, want 5 (one after the highest)", h.session)
	}
	if len(*warnings) != 1 || !strings.Contains((*warnings)[0], "skipped 2 malformed lines") {
		t.Fatalf("warnings = %q", *warnings)
	}
	if len(h.entries) != maxHistory {
		t.Fatalf("%d entries kept, want %d", len(h.entries), maxHistory)
	}
	if last := h.entries[len(h.entries)-1]; last.Input != fmt.Sprintf("c%d", 2*maxHistory+10) {
		t.Fatalf("last entry %+v", last)
	}
	data, err := os.ReadFile(filepath.Join(dir, historyFile))
	if err != nil {
		t.Fatal(err)
	}
	// The compacted file: the kept entries and the new session's start.
	if n := strings.Count(string(data), "\n"); n != maxHistory+1 {
		t.Fatalf("compacted file has %d lines, want %d", n, maxHistory+1)
	}
}

func TestHistoryUnwritableDirectoryStaysInMemory(t *testing.T) {
	file := filepath.Join(t.TempDir(), "a-file")
	os.WriteFile(file, nil, 0o600)
	h, warnings := quietHistory(t, filepath.Join(file, "sub"))
	h.add(1, "x", nil)
	got, _ := h.query(historyRequest{HistAccessType: "tail", N: intp(5)})
	if !reflect.DeepEqual(lines(got), []string{"1/1 x"}) {
		t.Fatalf("in-memory history = %q", lines(got))
	}
	if w := strings.Join(*warnings, "\n"); !strings.Contains(w, "history kept in memory only: mkdir") {
		t.Fatalf("warnings = %q", *warnings)
	}
}

func TestDefaultHistoryDir(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the default tested here is Linux's")
	}
	t.Setenv("JUPYTER_DATA_DIR", "/data/jupyter")
	if d, _ := defaultHistoryDir(); d != filepath.Join("/data/jupyter", "graft") {
		t.Fatalf("with JUPYTER_DATA_DIR: %s", d)
	}
	t.Setenv("JUPYTER_DATA_DIR", "")
	t.Setenv("XDG_DATA_HOME", "")
	t.Setenv("HOME", "/home/ada")
	if d, _ := defaultHistoryDir(); d != "/home/ada/.local/share/jupyter/graft" {
		t.Fatalf("default: %s", d)
	}
}
