// Package displaytest records what code shows through package display, for
// tests: install a Recorder as the frontend and read back every output
// published, with its display id and whether it replaced an earlier one.
package displaytest

import (
	"sync"
	"testing"

	"github.com/graftml/graft/display"
)

// Recorder is a display.Frontend that keeps what is published. It is safe
// for use by several goroutines (live figures publish from their own).
type Recorder struct {
	mu      sync.Mutex
	bundles []display.Bundle
	ids     []string
	updates []bool
	clears  int
}

// Install makes a new Recorder the frontend for the rest of the test and
// restores the previous frontend when the test ends.
func Install(t testing.TB) *Recorder {
	r := &Recorder{}
	prev := display.SetFrontend(r)
	t.Cleanup(func() { display.SetFrontend(prev) })
	return r
}

// Publish implements display.Frontend.
func (r *Recorder) Publish(b display.Bundle, id string, update bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.bundles = append(r.bundles, b)
	r.ids = append(r.ids, id)
	r.updates = append(r.updates, update)
}

// Clear implements display.Frontend.
func (r *Recorder) Clear(bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.clears++
}

// Outputs returns copies of what was published so far, in order: the
// bundles, their display ids and their update flags.
func (r *Recorder) Outputs() (bundles []display.Bundle, ids []string, updates []bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]display.Bundle(nil), r.bundles...), append([]string(nil), r.ids...), append([]bool(nil), r.updates...)
}
