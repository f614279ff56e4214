// Package comm lets Go code in a notebook talk to the frontend over Jupyter
// comms: named, bidirectional channels carrying JSON objects (the mechanism
// ipywidgets and other interactive extensions are built on).
//
// Either side may open a comm. The frontend opens one on a target that Go code
// registered with RegisterTarget; Go code opens one on a frontend target with
// Open. Both ends then Send messages, receive them through OnMessage and end
// the comm with Close.
//
//	comm.RegisterTarget("echo", func(c *comm.Comm, data map[string]any) {
//		c.OnMessage(func(msg map[string]any) { c.Send(msg) })
//	})
//
// The package depends on nothing but the standard library. The kernel installs
// a Transport with SetTransport and passes incoming comm messages to
// HandleOpen, HandleMessage and HandleClose; outside a kernel, Open and Send
// return ErrNoKernel.
package comm

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"sync"
)

// Transport carries comm messages from the kernel to the frontend. The kernel
// installs one with SetTransport.
type Transport interface {
	// Open announces a comm opened by the kernel (comm_open).
	Open(id, target string, data map[string]any) error
	// Send sends a message on an open comm (comm_msg).
	Send(id string, data map[string]any) error
	// Close tells the frontend the comm is closed (comm_close).
	Close(id string, data map[string]any) error
}

// Comm is one open comm channel.
type Comm struct {
	id, target string

	mu      sync.Mutex
	onMsg   func(data map[string]any)
	onClose func(data map[string]any)
	closed  bool
}

// Errors returned by this package.
var (
	// ErrNoKernel: no kernel has installed a transport (the code does not
	// run in a notebook).
	ErrNoKernel = errors.New("comm: not running in a kernel: there is no frontend to talk to")
	// ErrClosed: the comm was closed by either side.
	ErrClosed = errors.New("comm: the comm is closed")
	// ErrUnknownTarget: a comm was opened on a target nobody registered.
	ErrUnknownTarget = errors.New("comm: unknown target")
	// ErrUnknownComm: a message names a comm id that is not open.
	ErrUnknownComm = errors.New("comm: unknown comm id")
)

var state struct {
	sync.Mutex
	transport Transport
	targets   map[string]func(*Comm, map[string]any)
	comms     map[string]*Comm
}

// SetTransport installs t as the way to the frontend and returns the previous
// transport; nil removes it. Kernels call it; cells never need to.
func SetTransport(t Transport) Transport {
	state.Lock()
	defer state.Unlock()
	prev := state.transport
	state.transport = t
	return prev
}

func currentTransport() Transport {
	state.Lock()
	defer state.Unlock()
	return state.transport
}

// RegisterTarget makes name a target the frontend can open comms on: each
// comm_open for it calls open with the new comm and the message's data.
// Registering a name again replaces its function; a nil open unregisters it.
func RegisterTarget(name string, open func(c *Comm, data map[string]any)) {
	state.Lock()
	defer state.Unlock()
	if open == nil {
		delete(state.targets, name)
		return
	}
	if state.targets == nil {
		state.targets = map[string]func(*Comm, map[string]any){}
	}
	state.targets[name] = open
}

// Targets returns the names of the registered targets, sorted.
func Targets() []string {
	state.Lock()
	defer state.Unlock()
	names := make([]string, 0, len(state.targets))
	for n := range state.targets {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Open opens a comm from the kernel side on the frontend's target, sending
// data with the comm_open message.
func Open(target string, data map[string]any) (*Comm, error) {
	t := currentTransport()
	if t == nil {
		return nil, ErrNoKernel
	}
	c := &Comm{id: newID(), target: target}
	add(c)
	if err := t.Open(c.id, target, orEmpty(data)); err != nil {
		remove(c.id)
		return nil, fmt.Errorf("comm: opening a comm on target %q: %w", target, err)
	}
	return c, nil
}

// ID returns the comm's id, unique across the session.
func (c *Comm) ID() string { return c.id }

// Target returns the name of the target the comm was opened on.
func (c *Comm) Target() string { return c.target }

// Closed reports whether the comm has been closed by either side.
func (c *Comm) Closed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// Send sends data to the frontend's end of the comm.
func (c *Comm) Send(data map[string]any) error {
	if c.Closed() {
		return fmt.Errorf("%w: sending on comm %s (target %q)", ErrClosed, c.id, c.target)
	}
	t := currentTransport()
	if t == nil {
		return ErrNoKernel
	}
	return t.Send(c.id, orEmpty(data))
}

// OnMessage sets the function called with the data of each message the
// frontend sends on this comm; nil ignores messages.
func (c *Comm) OnMessage(f func(data map[string]any)) {
	c.mu.Lock()
	c.onMsg = f
	c.mu.Unlock()
}

// OnClose sets the function called when the frontend closes the comm, with
// the data of its comm_close message.
func (c *Comm) OnClose(f func(data map[string]any)) {
	c.mu.Lock()
	c.onClose = f
	c.mu.Unlock()
}

// Close closes the comm, sending data with the comm_close message. Closing a
// closed comm does nothing.
func (c *Comm) Close(data map[string]any) error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	c.mu.Unlock()
	remove(c.id)
	t := currentTransport()
	if t == nil {
		return ErrNoKernel
	}
	return t.Close(c.id, orEmpty(data))
}

// HandleOpen is called by the kernel for a comm_open from the frontend. It
// creates the comm and calls the target's open function; it returns an error
// wrapping ErrUnknownTarget when no such target is registered (the kernel
// then answers with comm_close).
func HandleOpen(id, target string, data map[string]any) error {
	state.Lock()
	open := state.targets[target]
	_, dup := state.comms[id]
	state.Unlock()
	if open == nil {
		return fmt.Errorf("%w %q (registered: %q)", ErrUnknownTarget, target, Targets())
	}
	if dup {
		return fmt.Errorf("comm: comm id %s is already open", id)
	}
	c := &Comm{id: id, target: target}
	add(c)
	open(c, orEmpty(data))
	return nil
}

// HandleMessage is called by the kernel for a comm_msg from the frontend; it
// calls the comm's OnMessage function.
func HandleMessage(id string, data map[string]any) error {
	c := lookup(id)
	if c == nil {
		return fmt.Errorf("%w %s in comm_msg", ErrUnknownComm, id)
	}
	c.mu.Lock()
	f := c.onMsg
	c.mu.Unlock()
	if f != nil {
		f(orEmpty(data))
	}
	return nil
}

// HandleClose is called by the kernel for a comm_close from the frontend; it
// marks the comm closed and calls its OnClose function.
func HandleClose(id string, data map[string]any) error {
	c := lookup(id)
	if c == nil {
		return fmt.Errorf("%w %s in comm_close", ErrUnknownComm, id)
	}
	remove(id)
	c.mu.Lock()
	c.closed = true
	f := c.onClose
	c.mu.Unlock()
	if f != nil {
		f(orEmpty(data))
	}
	return nil
}

// Info returns the open comms as id → target name, only those on target when
// it is not empty (the content of comm_info_reply).
func Info(target string) map[string]string {
	state.Lock()
	defer state.Unlock()
	out := map[string]string{}
	for id, c := range state.comms {
		if target == "" || c.target == target {
			out[id] = c.target
		}
	}
	return out
}

// Reset forgets every open comm and registered target, as a restarted kernel
// would; it sends nothing.
func Reset() {
	state.Lock()
	defer state.Unlock()
	for _, c := range state.comms {
		c.mu.Lock()
		c.closed = true
		c.mu.Unlock()
	}
	state.comms = nil
	state.targets = nil
}

func add(c *Comm) {
	state.Lock()
	defer state.Unlock()
	if state.comms == nil {
		state.comms = map[string]*Comm{}
	}
	state.comms[c.id] = c
}

func remove(id string) {
	state.Lock()
	defer state.Unlock()
	delete(state.comms, id)
}

func lookup(id string) *Comm {
	state.Lock()
	defer state.Unlock()
	return state.comms[id]
}

func orEmpty(data map[string]any) map[string]any {
	if data == nil {
		return map[string]any{}
	}
	return data
}

// newID returns a random comm id: 32 hex digits, as ipykernel's uuid4().hex.
func newID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("comm: reading random bytes for a comm id: " + err.Error())
	}
	return hex.EncodeToString(b[:])
}
