package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/graftml/graft/kernel"
	"github.com/graftml/graft/kernel/golang"
)

// runKernel is `graft kernel -f CONNECTION_FILE`, the command a kernelspec
// names: it serves Go cells to the frontend that wrote the connection file
// until the frontend shuts it down.
func runKernel(args []string) error {
	file, err := parseKernelArgs(args, os.Stderr)
	if err != nil {
		return err
	}
	// Read the connection file before the interpreter starts, so that a bad
	// file is reported at once.
	info, err := kernel.ReadConnectionFile(file)
	if err != nil {
		return err
	}
	lang, err := golang.New(golang.Options{Version: Version})
	if err != nil {
		return fmt.Errorf("starting the Go interpreter: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if os.Getenv("JPY_PARENT_PID") != "" {
		go exitWithParent(ctx, cancel)
	}
	return kernel.ServeConnection(ctx, info, lang, kernel.Options{})
}

// parseKernelArgs reads -f FILE (also --f=FILE, -f=FILE) and rejects
// anything else.
func parseKernelArgs(args []string, errOut io.Writer) (string, error) {
	fs := flag.NewFlagSet("graft kernel", flag.ContinueOnError)
	fs.SetOutput(errOut)
	file := fs.String("f", "", "the connection `file` Jupyter wrote for this kernel")
	fs.Usage = func() {
		fmt.Fprintln(errOut, "usage: graft kernel -f CONNECTION_FILE")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return "", err
	}
	if fs.NArg() > 0 {
		return "", fmt.Errorf("unexpected arguments %q (usage: graft kernel -f CONNECTION_FILE)", fs.Args())
	}
	if *file == "" {
		return "", errors.New("missing -f CONNECTION_FILE (Jupyter passes it; see `graft install`)")
	}
	return *file, nil
}

// exitWithParent cancels the kernel when the process that started it (the
// Jupyter server or client) has gone without shutting it down, as ipykernel
// does: an orphan is re-parented, so the parent pid changes.
func exitWithParent(ctx context.Context, cancel context.CancelFunc) {
	parent := os.Getppid()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if os.Getppid() != parent {
				fmt.Fprintln(os.Stderr, "graft kernel: the parent process exited; shutting down")
				cancel()
				return
			}
		}
	}
}
