package golang

import (
	"reflect"
	"testing"

	"github.com/graftml/graft/kernel/comm"
)

// TestCommCallbackOutput checks that what a comm callback defined in a cell
// prints or displays reaches the Output the kernel passes to WithOutput (the
// one under the frontend's comm message), not the next cell.
func TestCommCallbackOutput(t *testing.T) {
	in := newInterp(t)
	defer comm.Reset()
	mustExec(t, in, 1, `
comm.RegisterTarget("graft.test.print", func(c *comm.Comm, data map[string]any) {
	fmt.Println("opened with", data["x"])
	display.Show(display.HTML("<b>hi</b>"))
})`)

	callback := &fakeOutput{}
	var err error
	in.WithOutput(callback, func() { err = comm.HandleOpen("c1", "graft.test.print", map[string]any{"x": 7.0}) })
	if err != nil {
		t.Fatal(err)
	}
	if got := callback.stream("stdout"); got != "opened with 7\n" {
		t.Errorf("callback stdout %q, want %q", got, "opened with 7\n")
	}
	if got := callback.kinds(); !reflect.DeepEqual(got, []string{"stdout", "display"}) {
		t.Errorf("callback outputs %v, want [stdout display]", got)
	}

	next := mustExec(t, in, 2, `1`)
	if got := next.kinds(); !reflect.DeepEqual(got, []string{"result"}) {
		t.Errorf("the next cell got %v, want only its result", got)
	}
}
