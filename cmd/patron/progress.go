package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// progress prints a one-line status that rewrites itself on a terminal.
// It prints nothing when quiet (--json) or when stderr is not a terminal
// (a pipe, a file, CI), so long jobs stay quiet in scripts.
type progress struct {
	mu      sync.Mutex
	w       io.Writer
	enabled bool
	start   time.Time
	last    time.Time
	width   int
}

// newProgress returns a progress line on a's stderr, enabled only on a terminal.
func (a *app) newProgress(quiet bool) *progress {
	return &progress{w: a.stderr, enabled: !quiet && isTerminal(a.stderr), start: time.Now()}
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// Printf replaces the status line, at most ten times a second.
func (p *progress) Printf(format string, args ...any) {
	if p == nil || !p.enabled {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if now.Sub(p.last) < 100*time.Millisecond {
		return
	}
	p.last = now
	line := fmt.Sprintf(format, args...)
	line = fmt.Sprintf("%s  [%s]", line, now.Sub(p.start).Round(100*time.Millisecond))
	pad := p.width - len(line)
	if pad < 0 {
		pad = 0
	}
	p.width = len(line)
	fmt.Fprintf(p.w, "\r%s%*s", line, pad, "")
}

// Done clears the status line.
func (p *progress) Done() {
	if p == nil || !p.enabled {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.width > 0 {
		fmt.Fprintf(p.w, "\r%*s\r", p.width, "")
		p.width = 0
	}
}
