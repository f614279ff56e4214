package kernel

import "testing"

// BenchmarkExecuteRoundTrip times one trivial cell through real sockets:
// execute_request sent until both its execute_reply and its idle status are
// back. The fake language answers at once, so this is the protocol half's
// own cost plus the Go client's.
func BenchmarkExecuteRoundTrip(b *testing.B) {
	k := startKernel(b, kernelConfig{})
	for b.Loop() {
		id := k.send(k.shell, "execute_request", map[string]any{"code": "6*7"})
		k.reply(k.shellIn, id)
		k.outputs(id)
	}
}
