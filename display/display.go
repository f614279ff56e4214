// Package display is the seam between values and notebook frontends. A value
// shown in a notebook is turned into a Bundle (one output keyed by MIME type,
// text/plain always present); library code calls Show, Update and Clear freely.
// Inside a kernel the output goes to the frontend that the kernel installs with
// SetFrontend; outside one, Show prints the text/plain form to standard output,
// so a Go program or test that uses a graft package still sees something
// readable. The package depends on nothing but the standard library.
package display

import (
	"fmt"
	"io"
	"os"
	"reflect"
	"strconv"
	"sync"
	"sync/atomic"
)

// MIME types a Bundle commonly carries.
const (
	MIMEText     = "text/plain"
	MIMEHTML     = "text/html"
	MIMEMarkdown = "text/markdown"
	MIMESVG      = "image/svg+xml"
	MIMEPNG      = "image/png"
	MIMEJPEG     = "image/jpeg"
	MIMEJSON     = "application/json"
	MIMELaTeX    = "text/latex"
)

// Bundle is one output as Jupyter carries it: the same content in several MIME
// types (the frontend picks the richest it can render) and optional metadata per
// MIME type (for example image width and height). Binary data (PNG, JPEG) is
// kept as []byte here and base64-encoded by the kernel on the wire.
type Bundle struct {
	Data     map[string]any
	Metadata map[string]any
}

// Displayer is implemented by a value that knows how to show itself richly.
// Display must return a bundle with a text/plain entry; Render adds one when it
// is missing.
type Displayer interface {
	Display() Bundle
}

// Display returns the bundle itself, so a Bundle can be shown like any value.
func (b Bundle) Display() Bundle { return b }

// Text returns the bundle's text/plain entry, or "" when it has none.
func (b Bundle) Text() string {
	s, _ := b.Data[MIMEText].(string)
	return s
}

// NewBundle returns a bundle with one entry per pair of MIME type and data.
func NewBundle(text string, more ...any) Bundle {
	b := Bundle{Data: map[string]any{MIMEText: text}}
	for i := 0; i+1 < len(more); i += 2 {
		if mime, ok := more[i].(string); ok {
			b.Data[mime] = more[i+1]
		}
	}
	return b
}

// Frontend receives what cells display. The kernel installs one for the whole
// session and routes each call to the cell that is running.
type Frontend interface {
	// Publish shows b as a new output (update false) or replaces the output
	// that was shown with the same display id (update true). id is "" for an
	// output that will never be updated.
	Publish(b Bundle, id string, update bool)
	// Clear removes the cell's outputs; with wait it does so only when the next
	// output arrives, which avoids flicker in live updates.
	Clear(wait bool)
}

var (
	frontendMu sync.RWMutex
	frontend   Frontend
	displayIDs atomic.Uint64
	// stdout is where the text fallback goes outside a kernel.
	stdout io.Writer = os.Stdout
)

// SetFrontend installs f as the destination of Show, Update and Clear and
// returns the previous one; nil restores the plain-text fallback. Kernels and
// notebook runners call it, library code never needs to.
func SetFrontend(f Frontend) Frontend {
	frontendMu.Lock()
	defer frontendMu.Unlock()
	prev := frontend
	frontend = f
	return prev
}

// HasFrontend reports whether a frontend (a kernel or a notebook runner) is
// installed, that is whether Show and Update reach a notebook output that can
// be replaced in place, rather than printing text to standard output.
func HasFrontend() bool { return current() != nil }

func current() Frontend {
	frontendMu.RLock()
	defer frontendMu.RUnlock()
	return frontend
}

// Handle names one displayed output so that it can be replaced in place.
type Handle struct {
	id string
}

// ID returns the display id the frontend knows the output by.
func (h *Handle) ID() string { return h.id }

// Show displays v as a new output and returns a handle to update it. Values
// that implement Displayer show their rich form; anything else shows as text.
func Show(v any) *Handle {
	h := &Handle{id: newDisplayID()}
	publish(Render(v), h.id, false)
	return h
}

// Update replaces the output shown through h with v, in place.
func (h *Handle) Update(v any) {
	if h == nil {
		return
	}
	publish(Render(v), h.id, true)
}

// Clear removes the current cell's outputs. With wait true the frontend clears
// only when the next output arrives. Outside a kernel it does nothing.
func Clear(wait bool) {
	if f := current(); f != nil {
		f.Clear(wait)
	}
}

func publish(b Bundle, id string, update bool) {
	if f := current(); f != nil {
		f.Publish(b, id, update)
		return
	}
	fmt.Fprintln(stdout, b.Text())
}

func newDisplayID() string {
	return "graft-" + strconv.FormatInt(int64(os.Getpid()), 36) + "-" + strconv.FormatUint(displayIDs.Add(1), 36)
}

// Render turns any value into a bundle: a Displayer shows itself (with a
// text/plain entry added when it lacks one), an error shows its message, a
// string shows quoted, a func shows its type, and anything else shows as
// fmt's %v.
func Render(v any) Bundle {
	switch x := v.(type) {
	case nil:
		return NewBundle("<nil>")
	case Displayer:
		b := x.Display()
		if b.Data == nil {
			b.Data = map[string]any{}
		}
		if _, ok := b.Data[MIMEText].(string); !ok {
			b.Data[MIMEText] = fmt.Sprintf("<%T>", v)
		}
		return b
	case error:
		return NewBundle(x.Error())
	case string:
		return NewBundle(strconv.Quote(x))
	case fmt.Stringer:
		return NewBundle(x.String())
	}
	rv := reflect.ValueOf(v)
	switch {
	case rv.Kind() == reflect.Pointer && rv.IsNil():
		return NewBundle(fmt.Sprintf("(%T)(nil)", v))
	case rv.Kind() == reflect.Func:
		return NewBundle(fmt.Sprintf("<%T>", v)) // its type says more than its address
	}
	return NewBundle(fmt.Sprintf("%v", v))
}
