package main

import (
	"bytes"
	"encoding/base64"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserStatements opens the demo year's statements in a real browser (SPEC
// AC3): the list has about twelve months, a statement shows its figures and
// transactions, its PDF downloads with the same figures in it (read back with
// pdftotext), and paperless can be switched on.
func TestBrowserStatements(t *testing.T) {
	pdftotext := pdfToText(t)
	ctx := browser(t)
	in := start(t, nil, append(fastArgs, "-data-dir", t.TempDir())...)
	var c benchCard
	for _, x := range in.cards {
		if x.basicBorn == "" {
			c = x
			break
		}
	}
	registerInBrowser(t, ctx, in, c, "browser.statements")
	run1(t, ctx, "dashboard", chromedp.WaitVisible(chromedp.CSS("#statement-balance")))
	run1(t, ctx, "statements", chromedp.Click(chromedp.CSS(`nav a[href="/statements"]`)), chromedp.WaitVisible(chromedp.CSS("#statements")))
	if n := eval[int](t, ctx, `document.querySelectorAll('#statements tr.stmt').length`); n < 10 || n > 13 {
		t.Errorf("%d statements listed, want about a year's", n)
	}
	run1(t, ctx, "open the newest", chromedp.Click(chromedp.CSS(`#statements tr.stmt a`)), chromedp.WaitVisible(chromedp.CSS("#stmt-pdf")))
	figures := eval[[]string](t, ctx, `[...document.querySelectorAll('.figures dd')].map(d => d.textContent.trim())`)
	descriptions := eval[[]string](t, ctx, `[...document.querySelectorAll('.tx-table .tx-text')].map(d => d.textContent.trim())`)
	if len(figures) != 7 || len(descriptions) == 0 {
		t.Fatalf("figures %q, %d transactions", figures, len(descriptions))
	}

	// The download, fetched by the page itself so it carries the browser's session.
	type file struct {
		Type, Disposition, Data string
	}
	got, err := chromedp.Run(ctx, chromedp.Evaluate[file](`(async () => {
		const r = await fetch(document.querySelector('#stmt-pdf').href);
		const b = new Uint8Array(await r.arrayBuffer());
		let s = '';
		for (const x of b) s += String.fromCharCode(x);
		return {Type: r.headers.get('content-type'), Disposition: r.headers.get('content-disposition'), Data: btoa(s)};
	})()`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("download: %v", err)
	}
	pdf, err := base64.StdEncoding.DecodeString(got.Data)
	if err != nil || got.Type != "application/pdf" || !strings.HasPrefix(got.Disposition, `attachment; filename="statement-`) || !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Fatalf("download: %q %q %v %.20q", got.Type, got.Disposition, err, pdf)
	}
	cmd := exec.Command(pdftotext, "-enc", "UTF-8", "-", "-")
	cmd.Stdin = bytes.NewReader(pdf)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	printed := spaces(string(out))
	for _, want := range append(append([]string{c.name}, figures...), descriptions...) {
		if !strings.Contains(printed, spaces(want)) {
			t.Errorf("the PDF lacks %q, which the page shows", want)
		}
	}

	run1(t, ctx, "paperless",
		chromedp.Navigate(in.url+"/statements"),
		chromedp.WaitVisible(chromedp.CSS("#paperless-toggle")),
		chromedp.Click(chromedp.CSS("#paperless-toggle")),
		chromedp.WaitVisible(chromedp.CSS(`.flash, [role="status"]`)),
	)
	if s := text(t, ctx, "#paperless-state"); !strings.Contains(s, "online only") {
		t.Errorf("after going paperless: %q", s)
	}
}

// pdfToText finds poppler's pdftotext, or skips the test (failing it in CI).
func pdfToText(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("pdftotext")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("pdftotext is required in CI: apt-get install poppler-utils")
		}
		t.Skip("pdftotext not installed")
	}
	return path
}

// spaces makes every kind of space a plain one, as pdftotext may write them.
func spaces(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '\u00a0' || r == '\u202f' || r == '\n' }), " ")
}
