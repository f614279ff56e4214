package kernel

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"strconv"

	"github.com/graftml/graft/kernel/wire"
)

// ConnectionInfo is the content of the connection file Jupyter writes before
// it starts a kernel: where to bind the five sockets and the signing key.
type ConnectionInfo struct {
	Transport       string `json:"transport"` // "tcp" or "ipc"
	IP              string `json:"ip"`        // an address for tcp, a path prefix for ipc
	ShellPort       int    `json:"shell_port"`
	ControlPort     int    `json:"control_port"`
	StdinPort       int    `json:"stdin_port"`
	IOPubPort       int    `json:"iopub_port"`
	HBPort          int    `json:"hb_port"`
	Key             string `json:"key"`
	SignatureScheme string `json:"signature_scheme"`
	KernelName      string `json:"kernel_name,omitempty"`
}

// ReadConnectionFile reads and checks a connection file.
func ReadConnectionFile(path string) (ConnectionInfo, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return ConnectionInfo{}, fmt.Errorf("reading connection file: %w", err)
	}
	c, err := ParseConnectionInfo(data)
	if err != nil {
		return ConnectionInfo{}, fmt.Errorf("connection file %s: %w", path, err)
	}
	return c, nil
}

// ParseConnectionInfo parses and checks the JSON of a connection file. A
// missing transport means "tcp" and a missing ip "127.0.0.1", as in
// ipykernel; every port must be given; the signature scheme must be
// hmac-sha256 (or absent when the key is empty).
func ParseConnectionInfo(data []byte) (ConnectionInfo, error) {
	var c ConnectionInfo
	if err := json.Unmarshal(data, &c); err != nil {
		return c, fmt.Errorf("not a connection file: %w", err)
	}
	if c.Transport == "" {
		c.Transport = "tcp"
	}
	if c.IP == "" {
		c.IP = "127.0.0.1"
	}
	switch c.Transport {
	case "tcp":
		if c.IP != "*" && net.ParseIP(c.IP) == nil {
			return c, fmt.Errorf("ip %q is not an IP address", c.IP)
		}
	case "ipc":
	default:
		return c, fmt.Errorf("transport %q is not supported (want tcp or ipc)", c.Transport)
	}
	for _, p := range c.ports() {
		if p.port <= 0 || (c.Transport == "tcp" && p.port > 65535) {
			return c, fmt.Errorf("%s %d is not a port", p.name, p.port)
		}
	}
	switch c.SignatureScheme {
	case wire.Scheme:
	case "":
		if c.Key != "" {
			return c, fmt.Errorf("signature_scheme is missing but a key is given (want %q)", wire.Scheme)
		}
	default:
		return c, fmt.Errorf("signature_scheme %q is not supported (want %q)", c.SignatureScheme, wire.Scheme)
	}
	return c, nil
}

type namedPort struct {
	name string
	port int
}

func (c ConnectionInfo) ports() []namedPort {
	return []namedPort{
		{"shell_port", c.ShellPort}, {"control_port", c.ControlPort}, {"stdin_port", c.StdinPort},
		{"iopub_port", c.IOPubPort}, {"hb_port", c.HBPort},
	}
}

// Endpoint returns the ZeroMQ endpoint of port: tcp://IP:PORT, or for ipc
// the path IP-PORT, as Jupyter forms them.
func (c ConnectionInfo) Endpoint(port int) string {
	if c.Transport == "ipc" {
		return "ipc://" + c.IP + "-" + strconv.Itoa(port)
	}
	return "tcp://" + net.JoinHostPort(c.IP, strconv.Itoa(port))
}

// bindEndpoint is Endpoint through the kernel's own transports (see
// transport.go): the same address, with writes batched per message.
func (c ConnectionInfo) bindEndpoint(port int) string {
	if c.Transport == "ipc" {
		return ipcTransport + "://" + c.IP + "-" + strconv.Itoa(port)
	}
	return tcpTransport + "://" + net.JoinHostPort(c.IP, strconv.Itoa(port))
}
