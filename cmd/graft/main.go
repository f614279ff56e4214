// Command graft is graft's one binary: the Jupyter kernel that frontends launch,
// the installer of its kernelspec, a headless notebook runner, and its version.
//
//	graft kernel -f CONNECTION_FILE
//	graft install [--user | --sys-prefix | --prefix DIR] [--name NAME]
//	graft run NOTEBOOK.ipynb [-o OUT.ipynb] [--html OUT.html] [--timeout D] [--allow-errors]
//	graft version
package main

import (
	"fmt"
	"os"
)

// command is one subcommand: its name, a one-line summary and what runs it.
type command struct {
	name, summary string
	run           func(args []string) error
}

func commands() []command {
	return []command{
		{"kernel", "run the Jupyter kernel (started by Jupyter with -f CONNECTION_FILE)", runKernel},
		{"install", "install the kernelspec so Jupyter frontends offer \"Go (graft)\"", runInstall},
		{"run", "execute a notebook headless and write its outputs", runNotebook},
		{"version", "print graft's version", runVersion},
	}
}

func main() {
	os.Exit(dispatch(os.Args[1:]))
}

func dispatch(args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage()
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands() {
		if c.name == args[0] {
			if err := c.run(args[1:]); err != nil {
				fmt.Fprintf(os.Stderr, "graft %s: %v\n", c.name, err)
				return 1
			}
			return 0
		}
	}
	fmt.Fprintf(os.Stderr, "graft: unknown command %q\n\n", args[0])
	usage()
	return 2
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: graft COMMAND [arguments]\n\ncommands:")
	for _, c := range commands() {
		fmt.Fprintf(os.Stderr, "  %-8s %s\n", c.name, c.summary)
	}
}
