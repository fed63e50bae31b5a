package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/cardportal/cardportal/network"
)

// wireConn is one keep-alive HTTP/1.1 connection that a load worker owns: it writes a
// request and reads the answer in its own goroutine. The server it measures shares
// this machine, so the generator's CPU is taken from the server's. net/http's
// Transport hands every request between three goroutines (the caller, the
// connection's writer and its reader), and on this VM those wake-ups cost the
// generator about 130 µs of CPU per request, most of it in the scheduler; one
// goroutine doing both costs a fraction of that. The server still sees a plain HTTP
// client, and the answer is parsed by net/http.
type wireConn struct {
	target  *url.URL
	timeout time.Duration
	c       net.Conn
	r       *bufio.Reader
	w       *bufio.Writer
}

func newWireConn(rawURL string, timeout time.Duration) (*wireConn, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("load: %q is not an http or https URL", rawURL)
	}
	return &wireConn{target: u, timeout: timeout}, nil
}

func (wc *wireConn) dial(ctx context.Context) error {
	host := wc.target.Host
	if wc.target.Port() == "" {
		port := "80"
		if wc.target.Scheme == "https" {
			port = "443"
		}
		host = net.JoinHostPort(wc.target.Hostname(), port)
	}
	d := &net.Dialer{Timeout: wc.timeout}
	var (
		c   net.Conn
		err error
	)
	if wc.target.Scheme == "https" {
		c, err = (&tls.Dialer{NetDialer: d, Config: &tls.Config{ServerName: wc.target.Hostname()}}).DialContext(ctx, "tcp", host)
	} else {
		c, err = d.DialContext(ctx, "tcp", host)
	}
	if err != nil {
		return err
	}
	wc.c, wc.r, wc.w = c, bufio.NewReader(c), bufio.NewWriter(c)
	return nil
}

// post sends body, signed for the network interface, to path and returns the
// status and the answer's body.
func (wc *wireConn) post(ctx context.Context, path string, secret, body []byte) (int, []byte, error) {
	ts := time.Now().Unix()
	nonce := rand.Text()
	return wc.do(ctx, "POST", path, []string{
		"Content-Type", "application/json",
		network.HeaderTimestamp, strconv.FormatInt(ts, 10),
		network.HeaderNonce, nonce,
		network.HeaderSignature, network.Sign(secret, ts, nonce, body),
	}, body)
}

// do sends a request with header, a list of name and value pairs, and body (nil for
// none), and returns the status and the answer's body. Any failure closes the
// connection; the next request dials again.
func (wc *wireConn) do(ctx context.Context, method, path string, header []string, body []byte) (int, []byte, error) {
	if len(header)%2 != 0 {
		return 0, nil, fmt.Errorf("load: header %q is not name and value pairs", header)
	}
	if wc.c == nil {
		if err := wc.dial(ctx); err != nil {
			return 0, nil, err
		}
	}
	status, b, keep, err := wc.roundTrip(method, path, header, body)
	if err != nil || !keep {
		wc.close()
	}
	return status, b, err
}

func (wc *wireConn) roundTrip(method, path string, header []string, body []byte) (status int, b []byte, keep bool, err error) {
	if err := wc.c.SetDeadline(time.Now().Add(wc.timeout)); err != nil {
		return 0, nil, false, err
	}
	w := wc.w
	w.WriteString(method)
	w.WriteString(" ")
	w.WriteString(path)
	w.WriteString(" HTTP/1.1\r\nHost: ")
	w.WriteString(wc.target.Host)
	for i := 0; i < len(header); i += 2 {
		w.WriteString("\r\n")
		w.WriteString(header[i])
		w.WriteString(": ")
		w.WriteString(header[i+1])
	}
	if body != nil {
		w.WriteString("\r\nContent-Length: ")
		w.WriteString(strconv.Itoa(len(body)))
	}
	w.WriteString("\r\n\r\n")
	w.Write(body)
	if err := w.Flush(); err != nil {
		return 0, nil, false, err
	}
	resp, err := http.ReadResponse(wc.r, nil)
	if err != nil {
		return 0, nil, false, err
	}
	b, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return 0, nil, false, err
	}
	return resp.StatusCode, b, !resp.Close, nil
}

func (wc *wireConn) close() {
	if wc.c != nil {
		wc.c.Close()
		wc.c = nil
	}
}
