package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/graftml/graft/install"
)

// executable finds the running graft binary; tests replace it, since a test
// binary lives in a temporary directory that install refuses.
var executable = os.Executable

const installUsage = `usage: graft install [--user | --sys-prefix | --prefix DIR] [--name NAME] [--display-name TEXT] [--no-extension]

Installs graft's Jupyter kernelspec (kernel.json naming this binary by its
absolute path, and logos) so that Jupyter frontends offer "Go (graft)", and
graft's notebook extension, which draws figures interactively (hover, zoom,
legend toggles, live training dashboards) in JupyterLab 3+ and the classic
Notebook: DATA/labextensions/graft-figure, DATA/nbextensions/graft-figure,
enabled by CONFIG/nbconfig/notebook.d/graft-figure.json (CONFIG is
$JUPYTER_CONFIG_DIR or ~/.jupyter for --user, PREFIX/etc/jupyter otherwise).
The extension is built into this binary: no pip or npm needed.

  --user          the user's Jupyter data directory (the default):
                  $JUPYTER_DATA_DIR, else ~/.local/share/jupyter
                  (~/Library/Jupyter on macOS), + /kernels/NAME
  --sys-prefix    sys.prefix/share/jupyter/kernels/NAME of the Python that
                  runs jupyter (for a virtual environment or conda env)
  --prefix DIR    DIR/share/jupyter/kernels/NAME
  --name NAME     the kernelspec name (default graft): lower-case letters,
                  digits, '.', '_', '-'
  --display-name  the name frontends show (default "Go (graft)")
  --no-extension  install the kernelspec only

Run it from an installed binary (go install ./cmd/graft), not from go run:
Jupyter starts the kernel later through the path written here. Installing
again replaces the kernelspec.`

// runInstall is `graft install`.
func runInstall(args []string) error {
	return installMain(args, os.Stdout, os.Stderr)
}

func installMain(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("graft install", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, installUsage) }
	user := fs.Bool("user", false, "install for the current user (default)")
	sysPrefix := fs.Bool("sys-prefix", false, "install into sys.prefix of the Python running jupyter")
	prefix := fs.String("prefix", "", "install under `DIR`/share/jupyter")
	name := fs.String("name", install.DefaultName, "kernelspec `name`")
	displayName := fs.String("display-name", install.DefaultDisplayName, "the `name` frontends show")
	noExtension := fs.Bool("no-extension", false, "install the kernelspec only")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q\n%s", fs.Args(), installUsage)
	}
	prefixSet := false
	fs.Visit(func(f *flag.Flag) { prefixSet = prefixSet || f.Name == "prefix" })
	chosen := 0
	for _, b := range []bool{*user, *sysPrefix, prefixSet} {
		if b {
			chosen++
		}
	}
	if chosen > 1 {
		return errors.New("choose one of --user, --sys-prefix and --prefix DIR")
	}
	opts := install.Options{Target: install.TargetUser, Name: *name, DisplayName: *displayName, NoExtension: *noExtension}
	switch {
	case *sysPrefix:
		opts.Target = install.TargetSysPrefix
	case prefixSet:
		if *prefix == "" {
			return errors.New("--prefix needs a directory")
		}
		opts.Target, opts.Prefix = install.TargetPrefix, *prefix
	}
	exe, err := executable()
	if err != nil {
		return fmt.Errorf("finding the graft binary: %w", err)
	}
	opts.Binary = exe
	done, err := install.Install(context.Background(), opts)
	if done.KernelDir != "" {
		fmt.Fprintf(stdout, "Installed kernelspec %s in %s\n", *name, done.KernelDir)
	}
	if err != nil {
		return err
	}
	if ext := done.Extension; ext != nil {
		fmt.Fprintf(stdout, "Installed the notebook extension %s for JupyterLab in %s\n", install.ExtensionName, ext.LabDir)
		fmt.Fprintf(stdout, "Installed the notebook extension %s for Notebook in %s, enabled by %s\n", install.ExtensionName, ext.NotebookDir, ext.NotebookConfig)
	}
	return nil
}
