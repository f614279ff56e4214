package cell

import (
	"go/scanner"
	"go/token"
	"regexp"
	"strings"
)

// Indent is the indentation IsComplete suggests per open bracket.
const Indent = "    "

// helpRequest matches `NAME?` and `NAME??` (e.g. `strings.Split?`).
var helpRequest = regexp.MustCompile(`^\s*[\p{L}_][\p{L}\p{N}_.]*\?\??\s*$`)

// IsComplete tells a frontend whether the cell is ready to run: "complete",
// "incomplete" (the user is still typing: an open brace, paren, bracket,
// raw string or comment, or a trailing operator), with the indent for the
// next line, or "invalid" (a syntax error before the end of the cell that
// more lines cannot fix). A blank cell, magic lines (starting with %) and
// help requests (`NAME?`) are complete.
func IsComplete(src string) (status, indent string) {
	defer func() {
		if r := recover(); r != nil {
			status, indent = "invalid", ""
		}
	}()
	// Leading magic lines are handled by the interpreter; what follows
	// them is Go.
	body := src
	for {
		trimmed := strings.TrimLeft(body, " \t\r\n")
		if !strings.HasPrefix(trimmed, "%") {
			body = trimmed
			break
		}
		nl := strings.IndexByte(trimmed, '\n')
		if nl < 0 {
			return "complete", ""
		}
		body = trimmed[nl+1:]
	}
	if strings.TrimSpace(body) == "" || helpRequest.MatchString(body) {
		return "complete", ""
	}
	end := len(strings.TrimRight(body, " \t\r\n"))

	// Brackets, and literals or comments left open.
	var s scanner.Scanner
	fset := token.NewFileSet()
	f := fset.AddFile("", -1, len(body))
	open := false
	bad := false
	s.Init(f, []byte(body), func(pos token.Position, msg string) {
		switch {
		case strings.Contains(msg, "raw string literal not terminated"), strings.Contains(msg, "comment not terminated"):
			open = true
		default:
			bad = true
		}
	}, 0)
	depth := 0
	for {
		_, t, _ := s.Scan()
		if t == token.EOF {
			break
		}
		switch t {
		case token.LPAREN, token.LBRACK, token.LBRACE:
			depth++
		case token.RPAREN, token.RBRACK, token.RBRACE:
			depth--
			if depth < 0 {
				return "invalid", ""
			}
		}
	}
	if open {
		return "incomplete", ""
	}
	if bad {
		return "invalid", ""
	}

	a := newAnalyzer(body, Scope{})
	err := a.split()
	if err != nil {
		e, ok := err.(*Error)
		if !ok {
			return "invalid", ""
		}
		atEnd := a.unclosed != nil && strings.HasSuffix(e.Msg, unclosedMsg)
		if !atEnd && (!ok || e.Line < 1 || e.Line > len(a.lines) || a.lines[e.Line-1]+e.Column-1 < end) {
			return "invalid", ""
		}
		return "incomplete", strings.Repeat(Indent, depth)
	}
	if depth > 0 {
		return "incomplete", strings.Repeat(Indent, depth)
	}
	return "complete", ""
}
