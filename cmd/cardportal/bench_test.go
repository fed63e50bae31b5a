package main

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
)

// buildProgram builds the program for tests that run it as a child process, as the
// bench and load commands do with their own executable.
func buildProgram(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "cardportal")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestBenchCommand runs a short bench (issue 2's measurement) end to end: the
// figures are this machine's and not checked, but every phase must run, succeed
// and report.
func TestBenchCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the program")
	}
	bin := buildProgram(t)
	out, err := exec.CommandContext(t.Context(), bin, "bench", "-duration", "800ms", "-auth-concurrency", "4").CombinedOutput()
	if err != nil {
		t.Fatalf("bench: %v\n%s", err, out)
	}
	for _, line := range []struct{ name, re string }{
		{"ceiling", `ceiling: ([0-9.]+) hashes/s on \d+ cores`},
		{"logins", `logins: +([0-9.]+)/s .*\((\d+) ok, 0 errors\) \(\d+% of the hash ceiling`},
		{"CPU", `CPU: ([0-9.]+) ms per hash in the ceiling; per login ([0-9.]+) ms in the server, [0-9.]+ ms in this client`},
		{"storm RSS", `server peak RSS after the login storm: ([0-9.]+) MiB`},
		{"authenticated", `authenticated: +([0-9.]+)/s .*\((\d+) ok, 0 errors\)`},
	} {
		m := regexp.MustCompile(line.re).FindSubmatch(out)
		if m == nil {
			t.Errorf("no %s line matching %q in:\n%s", line.name, line.re, out)
			continue
		}
		for _, v := range m[1:] {
			if f, err := strconv.ParseFloat(string(v), 64); err != nil || f <= 0 {
				t.Errorf("%s: %q is not a positive figure in:\n%s", line.name, v, out)
			}
		}
	}
}
