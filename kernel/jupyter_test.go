package kernel

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/graftml/graft/install"
	"github.com/graftml/graft/internal/kerneltest"
	"github.com/graftml/graft/internal/testenv"
)

// The tests in this file drive the real graft binary (built from ../cmd/graft)
// as Jupyter starts it: through kernelspecs in a temporary JUPYTER_PATH and
// Debian's jupyter_client, jupyter_kernel_test and pyzmq. Without them the
// tests skip and say what to install; under CI=true they fail instead.

func TestMain(m *testing.M) { kerneltest.Main(m) }

// Kernelspec names the integration tests install.
const (
	messageKernel = "graft-test"        // interrupt_mode "message"
	signalKernel  = "graft-test-signal" // no interrupt_mode: Jupyter sends SIGINT
)

// jupyterEnv writes the two kernelspecs for bin into a fresh JUPYTER_PATH
// and returns the environment for Python: its own Jupyter path, data (the
// kernel's history) and runtime directories.
func jupyterEnv(t *testing.T, bin string) []string {
	t.Helper()
	j := kerneltest.NewJupyter(t, bin)
	j.Add(t, messageKernel, install.NewSpec(bin, "Go (graft)"))
	signal := install.NewSpec(bin, "Go (graft, SIGINT)")
	signal.InterruptMode = ""
	j.Add(t, signalKernel, signal)
	return append(j.Env(),
		"GRAFT_KERNEL_NAME="+messageKernel,
		"GRAFT_SIGNAL_KERNEL_NAME="+signalKernel,
		"PYTHONUNBUFFERED=1",
	)
}

// runPython runs a script from testdata with the Jupyter environment and
// fails the test with the script's whole output when it fails; with -v the
// output is logged either way.
func runPython(t *testing.T, python string, env []string, script string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, python, append([]string{filepath.Join("testdata", script)}, args...)...)
	cmd.Env = env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", script, strings.Join(args, " "), err, indent(out.String()))
	}
	t.Logf("%s:\n%s", script, indent(out.String()))
}

func indent(s string) string {
	return "\t" + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n\t")
}

func requireJupyter(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds graft and starts Jupyter kernels; skipped with -short")
	}
	return testenv.RequirePython(t, "jupyter_client", "jupyter_kernel_test", "zmq")
}

// TestJupyterKernelSuite runs the standard kernel test suite with every
// sample filled (testdata/kernel_suite.py), so that nothing is skipped.
func TestJupyterKernelSuite(t *testing.T) {
	python := requireJupyter(t)
	runPython(t, python, jupyterEnv(t, kerneltest.Binary(t)), "kernel_suite.py")
}

// TestJupyterProtocol runs graft's own protocol tests through jupyter_client
// (testdata/protocol_tests.py): comms both ways, stdin, interrupt by message
// and by SIGINT on a `for {}` loop, restart, update_display_data, history
// across a restart, forged messages, clean shutdown.
func TestJupyterProtocol(t *testing.T) {
	python := requireJupyter(t)
	env := jupyterEnv(t, kerneltest.Binary(t))
	for _, class := range []string{
		"CommTests", "StdinTests", "InterruptByMessageTests", "InterruptBySignalTests",
		"DisplayTests", "RestartAndHistoryTests", "BadSignatureTests", "ShutdownTests",
	} {
		t.Run(class, func(t *testing.T) { runPython(t, python, env, "protocol_tests.py", class) })
	}
}

// TestSoak sends 10,000 trivial cells as fast as the kernel answers them
// and requires the kernel's memory to stay flat: after a warm-up of 1,000
// cells, the next 9,000 may add at most soakHeapMB to the live heap
// (measured by a cell, after a collection) and soakRSSMB to the process's
// resident memory.
func TestSoak(t *testing.T) {
	if testing.Short() {
		t.Skip("10,000 cells through the graft binary; skipped with -short")
	}
	bin := kerneltest.Binary(t)
	info := ipcInfo(t)
	conn := filepath.Join(t.TempDir(), "kernel.json")
	data, _ := json.Marshal(info)
	if err := os.WriteFile(conn, data, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "kernel", "-f", conn)
	cmd.Env = append(os.Environ(), "JUPYTER_DATA_DIR="+t.TempDir())
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("kernel stderr:\n%s", stderr.String())
		}
	})
	k := &testKernel{t: t, info: info}
	k.connect()

	// heap returns the kernel's live heap in bytes, measured by a cell.
	heap := func() int {
		reply, outs := k.execute(heapCell, nil)
		if reply["status"] != "ok" || len(outs) != 2 {
			t.Fatalf("heap cell: reply %v, outputs %v", reply, types(outs))
		}
		text := content(t, outs[1])["data"].(map[string]any)["text/plain"].(string)
		n, err := strconv.Atoi(text)
		if err != nil {
			t.Fatalf("heap cell showed %q", text)
		}
		return n
	}
	const warmup, total = 1000, 10000
	var heap0, rss0 int
	for i := 1; i <= total; i++ {
		reply, outs := k.execute("1", nil)
		if reply["status"] != "ok" || len(outs) != 2 {
			t.Fatalf("cell %d: reply %v, outputs %v", i, reply, types(outs))
		}
		if i == warmup {
			heap0, rss0 = heap(), rssKB(t, cmd.Process.Pid)*1024
		}
	}
	heap1, rss1 := heap(), rssKB(t, cmd.Process.Pid)*1024
	mb := func(b int) float64 { return float64(b) / (1 << 20) }
	t.Logf("after %d and %d cells: live heap %.1f → %.1f MB (%+.0f bytes a cell), RSS %.1f → %.1f MB",
		warmup, total, mb(heap0), mb(heap1), float64(heap1-heap0)/(total-warmup), mb(rss0), mb(rss1))
	if g := mb(heap1 - heap0); g > soakHeapMB {
		t.Errorf("the live heap grew %.1f MB over %d trivial cells (limit %d MB)", g, total-warmup, soakHeapMB)
	}
	if g := mb(rss1 - rss0); g > soakRSSMB {
		t.Errorf("resident memory grew %.1f MB over %d trivial cells (limit %d MB)", g, total-warmup, soakRSSMB)
	}
	k.requestShutdown(false)
	select {
	case err := <-exited:
		exited <- err // for the cleanup
		if err != nil {
			t.Fatalf("the kernel exited with %v after shutdown_request", err)
		}
	case <-time.After(waitLimit):
		t.Fatal("the kernel did not exit after shutdown_request")
	}
}

// heapCell shows the kernel's live heap after a collection.
const heapCell = "runtime.GC()\nvar ms runtime.MemStats\nruntime.ReadMemStats(&ms)\nms.HeapAlloc"

// Bounds on what 9,000 trivial cells may add. What legitimately grows is the
// history kept in memory (about 100 bytes a cell, capped at 20,000 cells) and
// what yaegi keeps of every evaluation (measured: about 250 bytes a cell);
// the resident size also follows the collector's heap goal, twice the live
// heap. A leak of a kilobyte a cell fails (a language half that once kept
// 9.5 kB a cell grew the resident size by 86 MB here).
const (
	soakHeapMB = 8
	soakRSSMB  = 24
)

// rssKB reads the resident set size of process pid from /proc.
func rssKB(t *testing.T, pid int) int {
	t.Helper()
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Skipf("cannot read the kernel's memory use: %v", err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")))
			if err != nil {
				t.Fatalf("VmRSS line %q: %v", line, err)
			}
			return kb
		}
	}
	t.Fatalf("no VmRSS in /proc/%d/status", pid)
	return 0
}

// TestJupyterConsole drives graft from jupyter console, the terminal
// frontend, with cells typed on its standard input.
func TestJupyterConsole(t *testing.T) {
	python := requireJupyter(t)
	testenv.RequirePython(t, "jupyter_console")
	env := jupyterEnv(t, kerneltest.Binary(t))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, python, "-m", "jupyter_console", "--kernel", messageKernel, "--simple-prompt")
	cmd.Env = env
	cmd.Stdin = strings.NewReader("x := 6\nx * 7\nfmt.Println(\"hi from\", \"graft\")\npanic(\"boom\")\nx\n")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("jupyter console: %v\n%s", err, out)
	}
	for _, want := range []string{"Type %help for magics", "Out[2]: 42", "hi from graft", "panic: boom", "Out[5]: 6"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("console output lacks %q:\n%s", want, out)
		}
	}
}
