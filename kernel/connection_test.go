package kernel

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseConnectionInfo(t *testing.T) {
	// As jupyter_client writes it.
	data := `{"shell_port": 53794, "iopub_port": 53795, "stdin_port": 53796, "control_port": 53797,
		"hb_port": 53798, "ip": "127.0.0.1", "key": "3ae43ba4-b5d1ab3f", "transport": "tcp",
		"signature_scheme": "hmac-sha256", "kernel_name": "graft"}`
	c, err := ParseConnectionInfo([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	want := ConnectionInfo{Transport: "tcp", IP: "127.0.0.1", ShellPort: 53794, ControlPort: 53797, StdinPort: 53796,
		IOPubPort: 53795, HBPort: 53798, Key: "3ae43ba4-b5d1ab3f", SignatureScheme: "hmac-sha256", KernelName: "graft"}
	if c != want {
		t.Fatalf("parsed %+v\nwant %+v", c, want)
	}
	if got := c.Endpoint(c.ShellPort); got != "tcp://127.0.0.1:53794" {
		t.Fatalf("endpoint %q", got)
	}
	c.IP = "::1"
	if got := c.Endpoint(5); got != "tcp://[::1]:5" {
		t.Fatalf("IPv6 endpoint %q", got)
	}
	ipc := ConnectionInfo{Transport: "ipc", IP: "/tmp/kernel-1"}
	if got := ipc.Endpoint(3); got != "ipc:///tmp/kernel-1-3" {
		t.Fatalf("ipc endpoint %q", got)
	}
}

func TestParseConnectionInfoDefaults(t *testing.T) {
	c, err := ParseConnectionInfo([]byte(`{"shell_port":1,"iopub_port":2,"stdin_port":3,"control_port":4,"hb_port":5}`))
	if err != nil {
		t.Fatal(err)
	}
	if c.Transport != "tcp" || c.IP != "127.0.0.1" || c.Key != "" {
		t.Fatalf("defaults: %+v", c)
	}
}

func TestParseConnectionInfoErrors(t *testing.T) {
	ports := `"shell_port":1,"iopub_port":2,"stdin_port":3,"control_port":4,"hb_port":5`
	cases := map[string]string{
		`[1]`:                               "not a connection file",
		`{"transport":"udp",` + ports + `}`: `transport "udp" is not supported`,
		`{"ip":"localhost",` + ports + `}`:  `ip "localhost" is not an IP address`,
		`{"shell_port":1}`:                  "control_port 0 is not a port",
		`{"hb_port":70000,"shell_port":1,"iopub_port":2,"stdin_port":3,"control_port":4}`: "hb_port 70000 is not a port",
		`{"key":"k","signature_scheme":"hmac-md5",` + ports + `}`:                         `signature_scheme "hmac-md5" is not supported`,
		`{"key":"k",` + ports + `}`: "signature_scheme is missing",
	}
	for data, want := range cases {
		_, err := ParseConnectionInfo([]byte(data))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseConnectionInfo(%s) error = %v, want one containing %q", data, err, want)
		}
	}
}

func TestReadConnectionFileNamesTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kernel-x.json")
	if err := os.WriteFile(path, []byte(`{"transport":"pgm"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := ReadConnectionFile(path)
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("error %v does not name %s", err, path)
	}
	if _, err := ReadConnectionFile(path + ".missing"); err == nil {
		t.Fatal("no error for a missing file")
	}
}
