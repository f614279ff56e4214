// Package install writes graft's Jupyter kernelspec — kernel.json and the
// logos — into a directory where Jupyter looks for kernels: the user's
// Jupyter data directory, the current Python environment's (sys.prefix), or
// under any prefix. After it, `jupyter kernelspec list` shows the kernel and
// every frontend offers "Go (graft)". Beside the kernel it writes graft's
// notebook extension, which draws interactive figures in JupyterLab and the
// classic Notebook, from a bundle built into the binary.
package install

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"time"
)

// Defaults of the kernelspec.
const (
	DefaultName        = "graft"
	DefaultDisplayName = "Go (graft)"
	Language           = "go"
)

// Spec is the content of kernel.json.
type Spec struct {
	// Argv is the command Jupyter runs; {connection_file} is replaced by
	// the connection file's path.
	Argv        []string `json:"argv"`
	DisplayName string   `json:"display_name"`
	Language    string   `json:"language"`
	// InterruptMode "message" makes Jupyter send interrupt_request on the
	// control channel instead of SIGINT.
	InterruptMode string            `json:"interrupt_mode,omitempty"`
	Env           map[string]string `json:"env,omitempty"`
	Metadata      map[string]any    `json:"metadata,omitempty"`
}

// NewSpec returns the kernelspec that runs binary (an absolute path) as
// `binary kernel -f {connection_file}`.
func NewSpec(binary, displayName string) Spec {
	if displayName == "" {
		displayName = DefaultDisplayName
	}
	return Spec{
		Argv:          []string{binary, "kernel", "-f", "{connection_file}"},
		DisplayName:   displayName,
		Language:      Language,
		InterruptMode: "message",
	}
}

// validName matches the kernel names jupyter_client accepts.
var validName = regexp.MustCompile(`^[a-z0-9._-]+$`)

// ValidateName checks a kernelspec name: letters, digits, '.', '_' and '-'
// only (jupyter_client's rule); Jupyter treats names case-insensitively, so
// upper-case letters are refused rather than silently folded.
func ValidateName(name string) error {
	if name == "" {
		return errors.New("kernel name is empty")
	}
	if !validName.MatchString(name) {
		if validName.MatchString(strings.ToLower(name)) {
			return fmt.Errorf("kernel name %q has upper-case letters; Jupyter lists kernel names in lower case, use %q", name, strings.ToLower(name))
		}
		return fmt.Errorf("kernel name %q may hold only letters, digits, '.', '_' and '-'", name)
	}
	return nil
}

// Write writes the kernelspec into dir (created if needed): kernel.json and
// logo-32x32.png and logo-64x64.png. Files already there are replaced.
func Write(dir string, spec Spec) error {
	if len(spec.Argv) == 0 {
		return errors.New("kernelspec has an empty argv")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating kernelspec directory: %w", err)
	}
	raw, err := json.MarshalIndent(spec, "", " ")
	if err != nil {
		return err
	}
	files := []struct {
		name string
		data []byte
	}{
		{"kernel.json", append(raw, '\n')},
		{"logo-32x32.png", Logo(32)},
		{"logo-64x64.png", Logo(64)},
	}
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(dir, f.name), f.data, 0o644); err != nil {
			return fmt.Errorf("writing the kernelspec: %w", err)
		}
	}
	return nil
}

// KernelDir is the directory of kernel name under a Jupyter data directory.
func KernelDir(dataDir, name string) string {
	return filepath.Join(dataDir, "kernels", name)
}

// PrefixDataDir is the Jupyter data directory under an installation prefix:
// PREFIX/share/jupyter (what Jupyter searches for sys.prefix and for the
// prefixes in its system path).
func PrefixDataDir(prefix string) string {
	return filepath.Join(prefix, "share", "jupyter")
}

// UserDataDir returns the user's Jupyter data directory as jupyter_core
// computes it: $JUPYTER_DATA_DIR if set; on macOS ~/Library/Jupyter; on
// Windows %APPDATA%\jupyter; elsewhere $XDG_DATA_HOME/jupyter or
// ~/.local/share/jupyter.
func UserDataDir() (string, error) {
	return userDataDir(runtime.GOOS, os.Getenv, os.UserHomeDir)
}

func userDataDir(goos string, getenv func(string) string, home func() (string, error)) (string, error) {
	if d := getenv("JUPYTER_DATA_DIR"); d != "" {
		return d, nil
	}
	if goos == "windows" {
		if a := getenv("APPDATA"); a != "" {
			return filepath.Join(a, "jupyter"), nil
		}
	}
	if goos != "darwin" && goos != "windows" {
		if x := getenv("XDG_DATA_HOME"); x != "" {
			return filepath.Join(x, "jupyter"), nil
		}
	}
	h, err := home()
	if err != nil {
		return "", fmt.Errorf("finding the Jupyter data directory: %w (set JUPYTER_DATA_DIR)", err)
	}
	switch goos {
	case "darwin":
		return filepath.Join(h, "Library", "Jupyter"), nil
	case "windows":
		return filepath.Join(h, ".jupyter", "data"), nil
	}
	return filepath.Join(h, ".local", "share", "jupyter"), nil
}

// SysPrefix asks Python for sys.prefix, the environment whose Jupyter
// searches PREFIX/share/jupyter. It uses the interpreter that runs the
// `jupyter` command when one is on PATH (so the kernel lands where that
// Jupyter looks), otherwise python3 or python from PATH.
func SysPrefix(ctx context.Context) (string, error) {
	pythons := pythonCandidates()
	if len(pythons) == 0 {
		return "", errors.New("--sys-prefix needs Python to find sys.prefix, and there is no jupyter, python3 or python on PATH; use --user or --prefix DIR")
	}
	var errs []string
	for _, py := range pythons {
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		out, err := exec.CommandContext(ctx, py, "-c", "import sys; print(sys.prefix)").Output()
		cancel()
		prefix := strings.TrimSpace(string(out))
		if err == nil && prefix != "" {
			return prefix, nil
		}
		errs = append(errs, fmt.Sprintf("%s: %v", py, err))
	}
	return "", fmt.Errorf("--sys-prefix: no Python could report sys.prefix (%s); use --user or --prefix DIR", strings.Join(errs, "; "))
}

// pythonCandidates lists interpreters to ask, the one behind `jupyter` first.
func pythonCandidates() []string {
	var out []string
	seen := map[string]bool{}
	add := func(p string) {
		if p != "" && !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	if j, err := exec.LookPath("jupyter"); err == nil {
		add(shebangInterpreter(j))
	}
	for _, name := range []string{"python3", "python"} {
		if p, err := exec.LookPath(name); err == nil {
			add(p)
		}
	}
	return out
}

// shebangInterpreter returns the interpreter a script's #! line names (with
// `#!/usr/bin/env NAME` resolved on PATH), or "".
func shebangInterpreter(script string) string {
	f, err := os.Open(script)
	if err != nil {
		return ""
	}
	defer f.Close()
	line, err := bufio.NewReader(f).ReadString('\n')
	if err != nil && line == "" {
		return ""
	}
	rest, ok := strings.CutPrefix(strings.TrimSpace(line), "#!")
	if !ok {
		return ""
	}
	fields := strings.Fields(rest)
	if len(fields) == 0 {
		return ""
	}
	if filepath.Base(fields[0]) == "env" && len(fields) > 1 {
		p, err := exec.LookPath(fields[1])
		if err != nil {
			return ""
		}
		return p
	}
	if !strings.Contains(filepath.Base(fields[0]), "python") {
		return ""
	}
	return fields[0]
}

// CheckBinary checks that path can go into kernel.json: an absolute path
// to an executable file that will still be there, i.e. not the temporary
// binary of `go run`.
func CheckBinary(path string) error {
	if !filepath.IsAbs(path) {
		return fmt.Errorf("kernel binary %q is not an absolute path", path)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("kernel binary: %w", err)
	}
	if !fi.Mode().IsRegular() || runtime.GOOS != "windows" && fi.Mode().Perm()&0o111 == 0 {
		return fmt.Errorf("kernel binary %s is not an executable file", path)
	}
	if isGoRunBinary(path) {
		return fmt.Errorf("graft is running from a temporary `go run` build (%s), which Jupyter could not start later; install it first (go install ./cmd/graft) and run that binary's install", path)
	}
	return nil
}

// isGoRunBinary reports whether path is in a go-build temporary directory.
func isGoRunBinary(path string) bool {
	for _, part := range strings.Split(filepath.ToSlash(path), "/") {
		if strings.HasPrefix(part, "go-build") {
			return true
		}
	}
	return false
}

// Target says where Install puts the kernelspec.
type Target int

// Install targets, as `jupyter kernelspec install` names them.
const (
	TargetUser      Target = iota // the user's Jupyter data directory (--user)
	TargetSysPrefix               // sys.prefix of the Python running Jupyter (--sys-prefix)
	TargetPrefix                  // PREFIX/share/jupyter (--prefix PREFIX)
)

// Options configures Install.
type Options struct {
	Target Target
	// Prefix is the installation prefix for TargetPrefix.
	Prefix string
	// Name is the kernelspec name; "" means DefaultName.
	Name string
	// DisplayName is the name frontends show; "" means DefaultDisplayName.
	DisplayName string
	// Binary is the absolute path of the graft binary; "" means the
	// running executable.
	Binary string
	// NoExtension installs the kernelspec only, without the notebook
	// extension that draws graft's interactive figures.
	NoExtension bool
}

// Installed says where Install wrote.
type Installed struct {
	// KernelDir is the kernelspec's directory.
	KernelDir string
	// Extension is where the notebook extension went (nil with
	// Options.NoExtension).
	Extension *Extension
}

// Install writes the kernelspec, and the notebook extension unless
// opts.NoExtension, where opts says.
func Install(ctx context.Context, opts Options) (Installed, error) {
	name := opts.Name
	if name == "" {
		name = DefaultName
	}
	if err := ValidateName(name); err != nil {
		return Installed{}, err
	}
	binary := opts.Binary
	if binary == "" {
		exe, err := os.Executable()
		if err != nil {
			return Installed{}, fmt.Errorf("finding the graft binary: %w", err)
		}
		binary = exe
	}
	if err := CheckBinary(binary); err != nil {
		return Installed{}, err
	}
	dataDir, configDir, err := targetDirs(ctx, opts)
	if err != nil {
		return Installed{}, err
	}
	done := Installed{KernelDir: KernelDir(dataDir, name)}
	if err := Write(done.KernelDir, NewSpec(binary, opts.DisplayName)); err != nil {
		return Installed{}, err
	}
	if !opts.NoExtension {
		ext, err := WriteExtension(dataDir, configDir)
		if err != nil {
			return done, err
		}
		done.Extension = &ext
	}
	return done, nil
}

// targetDirs returns the Jupyter data and configuration directories of
// opts' target.
func targetDirs(ctx context.Context, opts Options) (dataDir, configDir string, err error) {
	switch opts.Target {
	case TargetUser:
		if dataDir, err = UserDataDir(); err != nil {
			return "", "", err
		}
		configDir, err = UserConfigDir()
		return dataDir, configDir, err
	case TargetSysPrefix:
		p, err := SysPrefix(ctx)
		if err != nil {
			return "", "", err
		}
		return PrefixDataDir(p), PrefixConfigDir(p), nil
	case TargetPrefix:
		if opts.Prefix == "" {
			return "", "", errors.New("--prefix needs a directory")
		}
		p, err := filepath.Abs(opts.Prefix)
		if err != nil {
			return "", "", err
		}
		return PrefixDataDir(p), PrefixConfigDir(p), nil
	}
	return "", "", fmt.Errorf("unknown install target %d", opts.Target)
}

// ReadSpec reads a kernel.json.
func ReadSpec(path string) (Spec, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return Spec{}, err
	}
	var s Spec
	if err := json.Unmarshal(raw, &s); err != nil {
		return Spec{}, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}
