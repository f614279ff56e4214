package comm

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
)

// recorder is a Transport that records what the kernel would send.
type recorder struct{ sent []string }

func (r *recorder) Open(id, target string, data map[string]any) error {
	r.sent = append(r.sent, fmt.Sprintf("open %s %v", target, data))
	return nil
}

func (r *recorder) Send(id string, data map[string]any) error {
	r.sent = append(r.sent, fmt.Sprintf("msg %v", data))
	return nil
}

func (r *recorder) Close(id string, data map[string]any) error {
	r.sent = append(r.sent, fmt.Sprintf("close %v", data))
	return nil
}

func install(t *testing.T) *recorder {
	t.Helper()
	r := &recorder{}
	prev := SetTransport(r)
	t.Cleanup(func() { SetTransport(prev); Reset() })
	return r
}

func TestFrontendOpensRegisteredTarget(t *testing.T) {
	r := install(t)
	var got []string
	RegisterTarget("echo", func(c *Comm, data map[string]any) {
		got = append(got, fmt.Sprintf("opened %s with %v", c.Target(), data))
		c.OnMessage(func(msg map[string]any) {
			got = append(got, fmt.Sprintf("msg %v", msg))
			c.Send(map[string]any{"echo": msg["x"]})
		})
		c.OnClose(func(msg map[string]any) { got = append(got, fmt.Sprintf("closed %v", msg)) })
	})
	if err := HandleOpen("c1", "echo", map[string]any{"hello": 1}); err != nil {
		t.Fatal(err)
	}
	if info := Info(""); !reflect.DeepEqual(info, map[string]string{"c1": "echo"}) {
		t.Fatalf("Info = %v", info)
	}
	if err := HandleMessage("c1", map[string]any{"x": 2}); err != nil {
		t.Fatal(err)
	}
	if err := HandleClose("c1", nil); err != nil {
		t.Fatal(err)
	}
	wantGot := []string{"opened echo with map[hello:1]", "msg map[x:2]", "closed map[]"}
	if !reflect.DeepEqual(got, wantGot) {
		t.Fatalf("callbacks saw %q, want %q", got, wantGot)
	}
	if !reflect.DeepEqual(r.sent, []string{"msg map[echo:2]"}) {
		t.Fatalf("transport got %q", r.sent)
	}
	if len(Info("")) != 0 {
		t.Fatalf("closed comm still listed: %v", Info(""))
	}
	if err := HandleMessage("c1", nil); !errors.Is(err, ErrUnknownComm) {
		t.Fatalf("message on closed comm: %v, want ErrUnknownComm", err)
	}
}

func TestUnknownTarget(t *testing.T) {
	install(t)
	err := HandleOpen("c2", "nobody", nil)
	if !errors.Is(err, ErrUnknownTarget) {
		t.Fatalf("HandleOpen on unknown target: %v", err)
	}
	if len(Info("")) != 0 {
		t.Fatalf("comm on unknown target was kept: %v", Info(""))
	}
}

func TestKernelOpensComm(t *testing.T) {
	r := install(t)
	c, err := Open("frontend.plot", map[string]any{"w": 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.ID()) != 32 {
		t.Fatalf("id %q, want 32 hex digits", c.ID())
	}
	other, _ := Open("other", nil)
	if info := Info("frontend.plot"); !reflect.DeepEqual(info, map[string]string{c.ID(): "frontend.plot"}) {
		t.Fatalf("Info(target) = %v", info)
	}
	if len(Info("")) != 2 {
		t.Fatalf("Info() = %v, want two comms", Info(""))
	}
	c.Send(map[string]any{"v": 1})
	c.Close(map[string]any{"bye": true})
	c.Close(nil) // second close sends nothing
	if err := c.Send(nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("Send after Close: %v, want ErrClosed", err)
	}
	want := []string{"open frontend.plot map[w:3]", "open other map[]", "msg map[v:1]", "close map[bye:true]"}
	if !reflect.DeepEqual(r.sent, want) {
		t.Fatalf("transport got %q, want %q", r.sent, want)
	}
	if other.ID() == c.ID() {
		t.Fatal("two comms share an id")
	}
}

func TestOutsideKernel(t *testing.T) {
	prev := SetTransport(nil)
	defer SetTransport(prev)
	if _, err := Open("x", nil); !errors.Is(err, ErrNoKernel) {
		t.Fatalf("Open outside a kernel: %v, want ErrNoKernel", err)
	}
}

func TestRegisterTargetReplacesAndRemoves(t *testing.T) {
	install(t)
	calls := ""
	RegisterTarget("t", func(*Comm, map[string]any) { calls += "a" })
	RegisterTarget("t", func(*Comm, map[string]any) { calls += "b" })
	if !reflect.DeepEqual(Targets(), []string{"t"}) {
		t.Fatalf("Targets = %v", Targets())
	}
	HandleOpen("1", "t", nil)
	RegisterTarget("t", nil)
	if err := HandleOpen("2", "t", nil); !errors.Is(err, ErrUnknownTarget) {
		t.Fatalf("open after unregistering: %v", err)
	}
	if calls != "b" {
		t.Fatalf("calls = %q, want %q", calls, "b")
	}
}
